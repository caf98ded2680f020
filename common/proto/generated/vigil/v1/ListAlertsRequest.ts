// Original file: proto/vigil/v1/vigil.proto


export interface ListAlertsRequest {
  'since'?: (string);
  'rule'?: (string);
  'workload'?: (string);
  'node'?: (string);
  'limit'?: (number);
}

export interface ListAlertsRequest__Output {
  'since': (string);
  'rule': (string);
  'workload': (string);
  'node': (string);
  'limit': (number);
}
