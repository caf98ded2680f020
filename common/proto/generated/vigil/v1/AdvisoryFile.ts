// Original file: proto/vigil/v1/vigil.proto


export interface AdvisoryFile {
  'name'?: (string);
  'text'?: (string);
}

export interface AdvisoryFile__Output {
  'name': (string);
  'text': (string);
}
