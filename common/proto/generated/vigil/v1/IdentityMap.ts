// Original file: proto/vigil/v1/vigil.proto

import type { AddressEntry as _vigil_v1_AddressEntry, AddressEntry__Output as _vigil_v1_AddressEntry__Output } from '../../vigil/v1/AddressEntry';
import type { Long } from '@grpc/proto-loader';

export interface IdentityMap {
  'version'?: (number | string | Long);
  'entries'?: (_vigil_v1_AddressEntry)[];
  'chunk'?: (number);
  'chunks'?: (number);
  'delta'?: (boolean);
  'replaced_nodes'?: (string)[];
  'base_version'?: (number | string | Long);
}

export interface IdentityMap__Output {
  'version': (string);
  'entries': (_vigil_v1_AddressEntry__Output)[];
  'chunk': (number);
  'chunks': (number);
  'delta': (boolean);
  'replaced_nodes': (string)[];
  'base_version': (string);
}
