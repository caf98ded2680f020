// Original file: proto/vigil/v1/vigil.proto


export interface ImportAdvisoriesResponse {
  'added'?: (number);
  'updated'?: (number);
  'unchanged'?: (number);
  'matches'?: (number);
  'errors'?: (string)[];
}

export interface ImportAdvisoriesResponse__Output {
  'added': (number);
  'updated': (number);
  'unchanged': (number);
  'matches': (number);
  'errors': (string)[];
}
