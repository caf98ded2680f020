// The gRPC contract, loaded from proto/vigil/v1/vigil.proto at run time by
// @grpc/proto-loader (protobufjs); types come from common/proto/generated
// (`npm run gen:proto`), never written by hand.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoFile } from '../repo';
import type { ProtoGrpcType } from './generated/vigil';

let loaded: ProtoGrpcType | undefined;

export const PROTO_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, defaults: true, oneofs: true };

export function vigilProto(): ProtoGrpcType['vigil']['v1'] {
  if (!loaded) {
    const def = protoLoader.loadSync(protoFile(), PROTO_OPTIONS);
    loaded = grpc.loadPackageDefinition(def) as unknown as ProtoGrpcType;
  }
  return loaded.vigil.v1;
}
