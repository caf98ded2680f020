// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface QuarantineResponse {
  'policy_version'?: (number | string | Long);
  'workloads'?: (string)[];
  'quarantines'?: (string)[];
}

export interface QuarantineResponse__Output {
  'policy_version': (string);
  'workloads': (string)[];
  'quarantines': (string)[];
}
