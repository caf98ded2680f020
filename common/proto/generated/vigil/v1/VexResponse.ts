// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface VexResponse {
  'document'?: (string);
  'envelope'?: (string);
  'version'?: (number | string | Long);
  'issued'?: (boolean);
  'public_key'?: (string);
  'key_id'?: (string);
}

export interface VexResponse__Output {
  'document': (string);
  'envelope': (string);
  'version': (string);
  'issued': (boolean);
  'public_key': (string);
  'key_id': (string);
}
