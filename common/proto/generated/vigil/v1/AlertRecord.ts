// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface AlertRecord {
  'sequence'?: (number | string | Long);
  'time_unix_nano'?: (number | string | Long);
  'rule'?: (string);
  'priority'?: (string);
  'action'?: (string);
  'outcome'?: (string);
  'spiffe_id'?: (string);
  'json'?: (string);
  'boot_id'?: (string);
}

export interface AlertRecord__Output {
  'sequence': (string);
  'time_unix_nano': (string);
  'rule': (string);
  'priority': (string);
  'action': (string);
  'outcome': (string);
  'spiffe_id': (string);
  'json': (string);
  'boot_id': (string);
}
