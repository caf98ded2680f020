// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface ProveAlertRequest {
  'alert_id'?: (number | string | Long);
}

export interface ProveAlertRequest__Output {
  'alert_id': (string);
}
