// Original file: proto/vigil/v1/vigil.proto

import type { AlertRow as _vigil_v1_AlertRow, AlertRow__Output as _vigil_v1_AlertRow__Output } from '../../vigil/v1/AlertRow';

export interface ListAlertsResponse {
  'alerts'?: (_vigil_v1_AlertRow)[];
}

export interface ListAlertsResponse__Output {
  'alerts': (_vigil_v1_AlertRow__Output)[];
}
