// Original file: proto/vigil/v1/vigil.proto


export interface VulnFinding {
  'id'?: (string);
  'aliases'?: (string)[];
  'description'?: (string);
  'severity'?: (string);
  'purl'?: (string);
  'name'?: (string);
  'version'?: (string);
}

export interface VulnFinding__Output {
  'id': (string);
  'aliases': (string)[];
  'description': (string);
  'severity': (string);
  'purl': (string);
  'name': (string);
  'version': (string);
}
