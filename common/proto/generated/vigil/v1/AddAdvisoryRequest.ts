// Original file: proto/vigil/v1/vigil.proto


export interface AddAdvisoryRequest {
  'id'?: (string);
  'purl'?: (string);
  'affected'?: (string);
  'severity'?: (string);
  'summary'?: (string);
  'fixed'?: (string);
}

export interface AddAdvisoryRequest__Output {
  'id': (string);
  'purl': (string);
  'affected': (string);
  'severity': (string);
  'summary': (string);
  'fixed': (string);
}
