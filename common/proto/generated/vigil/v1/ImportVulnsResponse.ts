// Original file: proto/vigil/v1/vigil.proto


export interface ImportVulnsResponse {
  'digest'?: (string);
  'findings'?: (number);
}

export interface ImportVulnsResponse__Output {
  'digest': (string);
  'findings': (number);
}
