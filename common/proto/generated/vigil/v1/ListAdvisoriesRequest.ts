// Original file: proto/vigil/v1/vigil.proto


export interface ListAdvisoriesRequest {
  'digest'?: (string);
}

export interface ListAdvisoriesRequest__Output {
  'digest': (string);
}
