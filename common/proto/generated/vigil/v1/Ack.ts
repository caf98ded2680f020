// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface Ack {
  'boot_id'?: (string);
  'sequence'?: (number | string | Long);
}

export interface Ack__Output {
  'boot_id': (string);
  'sequence': (string);
}
