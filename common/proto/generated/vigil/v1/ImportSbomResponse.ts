// Original file: proto/vigil/v1/vigil.proto


export interface ImportSbomResponse {
  'digest'?: (string);
  'components'?: (number);
  'files'?: (number);
}

export interface ImportSbomResponse__Output {
  'digest': (string);
  'components': (number);
  'files': (number);
}
