// Original file: proto/vigil/v1/vigil.proto


export interface ListAdvisoriesResponse {
  'advisories'?: (string)[];
  'matches'?: (string)[];
}

export interface ListAdvisoriesResponse__Output {
  'advisories': (string)[];
  'matches': (string)[];
}
