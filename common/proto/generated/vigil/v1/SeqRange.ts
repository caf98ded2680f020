// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface SeqRange {
  'boot_id'?: (string);
  'first'?: (number | string | Long);
  'last'?: (number | string | Long);
}

export interface SeqRange__Output {
  'boot_id': (string);
  'first': (string);
  'last': (string);
}
