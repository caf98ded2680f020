// Original file: proto/vigil/v1/vigil.proto

import type { SbomComponent as _vigil_v1_SbomComponent, SbomComponent__Output as _vigil_v1_SbomComponent__Output } from '../../vigil/v1/SbomComponent';
import type { Long } from '@grpc/proto-loader';

export interface ImageInventory {
  'id'?: (number | string | Long);
  'digest'?: (string);
  'name'?: (string);
  'sha256'?: (string);
  'components'?: (_vigil_v1_SbomComponent)[];
  'set'?: (string);
  'part'?: (number);
  'parts'?: (number);
}

export interface ImageInventory__Output {
  'id': (string);
  'digest': (string);
  'name': (string);
  'sha256': (string);
  'components': (_vigil_v1_SbomComponent__Output)[];
  'set': (string);
  'part': (number);
  'parts': (number);
}
