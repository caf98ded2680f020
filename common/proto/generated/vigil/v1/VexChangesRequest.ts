// Original file: proto/vigil/v1/vigil.proto


export interface VexChangesRequest {
  'image'?: (string);
}

export interface VexChangesRequest__Output {
  'image': (string);
}
