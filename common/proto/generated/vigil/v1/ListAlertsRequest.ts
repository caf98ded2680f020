// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface ListAlertsRequest {
  'since'?: (string);
  'rule'?: (string);
  'workload'?: (string);
  'node'?: (string);
  'limit'?: (number);
  'after_id'?: (number | string | Long);
  'page_size'?: (number);
}

export interface ListAlertsRequest__Output {
  'since': (string);
  'rule': (string);
  'workload': (string);
  'node': (string);
  'limit': (number);
  'after_id': (string);
  'page_size': (number);
}
