// Original file: proto/vigil/v1/vigil.proto


export interface KernelCapabilities {
  'kernel'?: (string);
  'btf'?: (boolean);
  'bpf_lsm'?: (boolean);
  'hooks'?: (string)[];
  'enforcement'?: ({[key: string]: string});
}

export interface KernelCapabilities__Output {
  'kernel': (string);
  'btf': (boolean);
  'bpf_lsm': (boolean);
  'hooks': (string)[];
  'enforcement': ({[key: string]: string});
}
