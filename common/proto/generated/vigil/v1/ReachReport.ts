// Original file: proto/vigil/v1/vigil.proto

import type { ReachWatch as _vigil_v1_ReachWatch, ReachWatch__Output as _vigil_v1_ReachWatch__Output } from '../../vigil/v1/ReachWatch';
import type { PathAlias as _vigil_v1_PathAlias, PathAlias__Output as _vigil_v1_PathAlias__Output } from '../../vigil/v1/PathAlias';
import type { Long } from '@grpc/proto-loader';

export interface ReachReport {
  'id'?: (number | string | Long);
  'run'?: (string);
  'digest'?: (string);
  'name'?: (string);
  'watches'?: (_vigil_v1_ReachWatch)[];
  'aliases'?: (_vigil_v1_PathAlias)[];
  'aliases_known'?: (boolean);
}

export interface ReachReport__Output {
  'id': (string);
  'run': (string);
  'digest': (string);
  'name': (string);
  'watches': (_vigil_v1_ReachWatch__Output)[];
  'aliases': (_vigil_v1_PathAlias__Output)[];
  'aliases_known': (boolean);
}
