// Original file: proto/vigil/v1/vigil.proto


export interface QuarantineRequest {
  'digest'?: (string);
  'allow'?: (string)[];
  'reason'?: (string);
  'lift'?: (boolean);
  'workloads'?: (string)[];
  'list'?: (boolean);
}

export interface QuarantineRequest__Output {
  'digest': (string);
  'allow': (string)[];
  'reason': (string);
  'lift': (boolean);
  'workloads': (string)[];
  'list': (boolean);
}
