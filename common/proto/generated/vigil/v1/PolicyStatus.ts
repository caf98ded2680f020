// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface PolicyStatus {
  'version'?: (number | string | Long);
  'applied'?: (boolean);
  'error'?: (string);
}

export interface PolicyStatus__Output {
  'version': (string);
  'applied': (boolean);
  'error': (string);
}
