// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface ReachLoad {
  'path'?: (string);
  'first_unix_nano'?: (number | string | Long);
  'how'?: (string);
  'processes'?: (number);
}

export interface ReachLoad__Output {
  'path': (string);
  'first_unix_nano': (string);
  'how': (string);
  'processes': (number);
}
