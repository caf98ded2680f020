// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface PolicyBundle {
  'version'?: (number | string | Long);
  'payload'?: (Buffer | Uint8Array | string);
  'signature'?: (Buffer | Uint8Array | string);
  'key_id'?: (string);
  'chunk'?: (number);
  'chunks'?: (number);
  'total_bytes'?: (number | string | Long);
}

export interface PolicyBundle__Output {
  'version': (string);
  'payload': (Buffer);
  'signature': (Buffer);
  'key_id': (string);
  'chunk': (number);
  'chunks': (number);
  'total_bytes': (string);
}
