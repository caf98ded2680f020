// The gRPC contract, loaded from proto/vigil/v1/vigil.proto at run time by
// @grpc/proto-loader (protobufjs); types come from controlplane/generated
// (`npm run gen:proto`), never written by hand.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProtoGrpcType } from './generated/vigil';

let loaded: ProtoGrpcType | undefined;

export const PROTO_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, defaults: true, oneofs: true };

export function protoFile(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const p = path.join(dir, 'proto', 'vigil', 'v1', 'vigil.proto');
    if (fs.existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new Error(`proto/vigil/v1/vigil.proto not found above ${__dirname}`);
}

export function vigilProto(): ProtoGrpcType['vigil']['v1'] {
  if (!loaded) {
    const def = protoLoader.loadSync(protoFile(), PROTO_OPTIONS);
    loaded = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return loaded.vigil.v1;
}
