// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface VexRevocation {
  'digest'?: (string);
  'vulnerability'?: (string);
  'component'?: (string);
  'not_affected_version'?: (number | string | Long);
  'revoked_version'?: (number | string | Long);
  'loaded_path'?: (string);
  'loaded_unix_nano'?: (number | string | Long);
  'revoked_unix_nano'?: (number | string | Long);
}

export interface VexRevocation__Output {
  'digest': (string);
  'vulnerability': (string);
  'component': (string);
  'not_affected_version': (string);
  'revoked_version': (string);
  'loaded_path': (string);
  'loaded_unix_nano': (string);
  'revoked_unix_nano': (string);
}
