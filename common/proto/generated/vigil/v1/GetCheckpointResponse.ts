// Original file: proto/vigil/v1/vigil.proto


export interface GetCheckpointResponse {
  'note'?: (string);
  'verifier_key'?: (string);
}

export interface GetCheckpointResponse__Output {
  'note': (string);
  'verifier_key': (string);
}
