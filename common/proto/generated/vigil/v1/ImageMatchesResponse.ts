// Original file: proto/vigil/v1/vigil.proto


export interface ImageMatchesResponse {
  'known'?: (boolean);
  'name'?: (string);
  'components'?: (number);
  'matches'?: (string)[];
}

export interface ImageMatchesResponse__Output {
  'known': (boolean);
  'name': (string);
  'components': (number);
  'matches': (string)[];
}
