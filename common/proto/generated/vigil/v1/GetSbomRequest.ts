// Original file: proto/vigil/v1/vigil.proto


export interface GetSbomRequest {
  'image'?: (string);
}

export interface GetSbomRequest__Output {
  'image': (string);
}
