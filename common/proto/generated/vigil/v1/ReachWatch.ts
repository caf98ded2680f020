// Original file: proto/vigil/v1/vigil.proto

import type { ReachLoad as _vigil_v1_ReachLoad, ReachLoad__Output as _vigil_v1_ReachLoad__Output } from '../../vigil/v1/ReachLoad';
import type { Long } from '@grpc/proto-loader';

export interface ReachWatch {
  'container'?: (string);
  'workload'?: (string);
  'since_unix_nano'?: (number | string | Long);
  'until_unix_nano'?: (number | string | Long);
  'lost'?: (number | string | Long);
  'lost_at_unix_nano'?: (number | string | Long);
  'loads'?: (_vigil_v1_ReachLoad)[];
}

export interface ReachWatch__Output {
  'container': (string);
  'workload': (string);
  'since_unix_nano': (string);
  'until_unix_nano': (string);
  'lost': (string);
  'lost_at_unix_nano': (string);
  'loads': (_vigil_v1_ReachLoad__Output)[];
}
