// Original file: proto/vigil/v1/vigil.proto

import type { AlertRow as _vigil_v1_AlertRow, AlertRow__Output as _vigil_v1_AlertRow__Output } from '../../vigil/v1/AlertRow';
import type { Long } from '@grpc/proto-loader';

export interface ListAlertsResponse {
  'alerts'?: (_vigil_v1_AlertRow)[];
  'next_after_id'?: (number | string | Long);
  'more'?: (boolean);
}

export interface ListAlertsResponse__Output {
  'alerts': (_vigil_v1_AlertRow__Output)[];
  'next_after_id': (string);
  'more': (boolean);
}
