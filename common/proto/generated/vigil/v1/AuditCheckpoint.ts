// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface AuditCheckpoint {
  'note'?: (string);
  'from_size'?: (number | string | Long);
  'consistency'?: (Buffer | Uint8Array | string)[];
}

export interface AuditCheckpoint__Output {
  'note': (string);
  'from_size': (string);
  'consistency': (Buffer)[];
}
