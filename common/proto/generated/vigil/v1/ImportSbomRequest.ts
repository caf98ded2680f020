// Original file: proto/vigil/v1/vigil.proto

import type { SbomComponent as _vigil_v1_SbomComponent, SbomComponent__Output as _vigil_v1_SbomComponent__Output } from '../../vigil/v1/SbomComponent';

export interface ImportSbomRequest {
  'image'?: (string);
  'format'?: (string);
  'sha256'?: (string);
  'components'?: (_vigil_v1_SbomComponent)[];
}

export interface ImportSbomRequest__Output {
  'image': (string);
  'format': (string);
  'sha256': (string);
  'components': (_vigil_v1_SbomComponent__Output)[];
}
