// Original file: proto/vigil/v1/vigil.proto


export interface ImageMatchesRequest {
  'digest'?: (string);
}

export interface ImageMatchesRequest__Output {
  'digest': (string);
}
