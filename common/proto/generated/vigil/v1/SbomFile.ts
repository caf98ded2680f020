// Original file: proto/vigil/v1/vigil.proto


export interface SbomFile {
  'path'?: (string);
  'source'?: (string);
}

export interface SbomFile__Output {
  'path': (string);
  'source': (string);
}
