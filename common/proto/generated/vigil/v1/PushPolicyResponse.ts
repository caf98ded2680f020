// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface PushPolicyResponse {
  'version'?: (number | string | Long);
  'agents_notified'?: (number);
}

export interface PushPolicyResponse__Output {
  'version': (string);
  'agents_notified': (number);
}
