// Original file: proto/vigil/v1/vigil.proto


export interface PathAlias {
  'link'?: (string);
  'target'?: (string);
}

export interface PathAlias__Output {
  'link': (string);
  'target': (string);
}
