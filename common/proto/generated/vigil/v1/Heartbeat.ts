// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  'unix_nano'?: (number | string | Long);
}

export interface Heartbeat__Output {
  'unix_nano': (string);
}
