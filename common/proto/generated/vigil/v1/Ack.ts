// Original file: proto/vigil/v1/vigil.proto

import type { SeqRange as _vigil_v1_SeqRange, SeqRange__Output as _vigil_v1_SeqRange__Output } from '../../vigil/v1/SeqRange';
import type { Long } from '@grpc/proto-loader';

export interface Ack {
  'boot_id'?: (string);
  'sequence'?: (number | string | Long);
  'stored'?: (_vigil_v1_SeqRange)[];
  'refused'?: (_vigil_v1_SeqRange)[];
  'refused_reason'?: (string);
}

export interface Ack__Output {
  'boot_id': (string);
  'sequence': (string);
  'stored': (_vigil_v1_SeqRange__Output)[];
  'refused': (_vigil_v1_SeqRange__Output)[];
  'refused_reason': (string);
}
