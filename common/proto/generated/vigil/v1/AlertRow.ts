// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface AlertRow {
  'id'?: (number | string | Long);
  'node'?: (string);
  'boot_id'?: (string);
  'sequence'?: (number | string | Long);
  'json'?: (string);
}

export interface AlertRow__Output {
  'id': (string);
  'node': (string);
  'boot_id': (string);
  'sequence': (string);
  'json': (string);
}
