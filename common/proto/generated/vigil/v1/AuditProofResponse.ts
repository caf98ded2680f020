// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface AuditProofResponse {
  'entries'?: (number | string | Long);
  'head'?: (string);
  'intact'?: (boolean);
  'problem'?: (string);
}

export interface AuditProofResponse__Output {
  'entries': (string);
  'head': (string);
  'intact': (boolean);
  'problem': (string);
}
