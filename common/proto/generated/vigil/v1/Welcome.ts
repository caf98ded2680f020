// Original file: proto/vigil/v1/vigil.proto

import type { Long } from '@grpc/proto-loader';

export interface Welcome {
  'stored_sequence'?: (number | string | Long);
  'policy_version'?: (number | string | Long);
  'max_batch_alerts'?: (number);
  'max_message_bytes'?: (number);
}

export interface Welcome__Output {
  'stored_sequence': (string);
  'policy_version': (string);
  'max_batch_alerts': (number);
  'max_message_bytes': (number);
}
