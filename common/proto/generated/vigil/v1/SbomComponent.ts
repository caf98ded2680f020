// Original file: proto/vigil/v1/vigil.proto

import type { SbomFile as _vigil_v1_SbomFile, SbomFile__Output as _vigil_v1_SbomFile__Output } from '../../vigil/v1/SbomFile';

export interface SbomComponent {
  'ref'?: (string);
  'name'?: (string);
  'version'?: (string);
  'purl'?: (string);
  'type'?: (string);
  'files'?: (_vigil_v1_SbomFile)[];
}

export interface SbomComponent__Output {
  'ref': (string);
  'name': (string);
  'version': (string);
  'purl': (string);
  'type': (string);
  'files': (_vigil_v1_SbomFile__Output)[];
}
