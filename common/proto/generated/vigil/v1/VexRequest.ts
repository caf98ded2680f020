// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface VexRequest {
  'image'?: (string);
  'min_window_ms'?: (number | string | Long);
  'dsse'?: (boolean);
}

export interface VexRequest__Output {
  'image': (string);
  'min_window_ms': (string);
  'dsse': (boolean);
}
