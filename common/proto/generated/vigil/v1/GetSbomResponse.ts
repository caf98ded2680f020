// Original file: proto/vigil/v1/vigil.proto


export interface GetSbomResponse {
  'cyclonedx_json'?: (string);
  'origin'?: (string);
}

export interface GetSbomResponse__Output {
  'cyclonedx_json': (string);
  'origin': (string);
}
