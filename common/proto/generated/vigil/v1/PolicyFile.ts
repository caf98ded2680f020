// Original file: proto/vigil/v1/vigil.proto


export interface PolicyFile {
  'name'?: (string);
  'text'?: (string);
}

export interface PolicyFile__Output {
  'name': (string);
  'text': (string);
}
