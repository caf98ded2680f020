// Original file: proto/vigil/v1/vigil.proto

import type { AlertRow as _vigil_v1_AlertRow, AlertRow__Output as _vigil_v1_AlertRow__Output } from '../../vigil/v1/AlertRow';
import type { Long } from '@grpc/proto-loader';

export interface ProveAlertResponse {
  'leaf_index'?: (number | string | Long);
  'leaf'?: (string);
  'checkpoint'?: (string);
  'proof'?: (Buffer | Uint8Array | string)[];
  'alert'?: (_vigil_v1_AlertRow | null);
  'verifier_key'?: (string);
}

export interface ProveAlertResponse__Output {
  'leaf_index': (string);
  'leaf': (string);
  'checkpoint': (string);
  'proof': (Buffer)[];
  'alert': (_vigil_v1_AlertRow__Output | null);
  'verifier_key': (string);
}
