// Original file: proto/vigil/v1/vigil.proto


export interface AddressEntry {
  'cidr'?: (string);
  'spiffe_id'?: (string);
  'node'?: (string);
}

export interface AddressEntry__Output {
  'cidr': (string);
  'spiffe_id': (string);
  'node': (string);
}
