// Original file: proto/vigil/v1/vigil.proto


export interface ListTicketsResponse {
  'tickets'?: (string)[];
  'spooled'?: (number);
}

export interface ListTicketsResponse__Output {
  'tickets': (string)[];
  'spooled': (number);
}
