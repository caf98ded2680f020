// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface ReachAck {
  'id'?: (number | string | Long);
  'error'?: (string);
}

export interface ReachAck__Output {
  'id': (string);
  'error': (string);
}
