// Original file: proto/vigil/v1/vigil.proto

import type { AlertRecord as _vigil_v1_AlertRecord, AlertRecord__Output as _vigil_v1_AlertRecord__Output } from '../../vigil/v1/AlertRecord';

export interface AlertBatch {
  'alerts'?: (_vigil_v1_AlertRecord)[];
}

export interface AlertBatch__Output {
  'alerts': (_vigil_v1_AlertRecord__Output)[];
}
