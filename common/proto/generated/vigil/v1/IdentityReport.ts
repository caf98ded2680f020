// Original file: proto/vigil/v1/vigil.proto

import type { AddressEntry as _vigil_v1_AddressEntry, AddressEntry__Output as _vigil_v1_AddressEntry__Output } from '../../vigil/v1/AddressEntry';

export interface IdentityReport {
  'entries'?: (_vigil_v1_AddressEntry)[];
}

export interface IdentityReport__Output {
  'entries': (_vigil_v1_AddressEntry__Output)[];
}
