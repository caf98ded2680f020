// Original file: proto/vigil/v1/vigil.proto

import type { VexRevocation as _vigil_v1_VexRevocation, VexRevocation__Output as _vigil_v1_VexRevocation__Output } from '../../vigil/v1/VexRevocation';

export interface VexChangesResponse {
  'revocations'?: (_vigil_v1_VexRevocation)[];
}

export interface VexChangesResponse__Output {
  'revocations': (_vigil_v1_VexRevocation__Output)[];
}
