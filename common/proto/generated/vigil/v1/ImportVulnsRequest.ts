// Original file: proto/vigil/v1/vigil.proto

import type { VulnFinding as _vigil_v1_VulnFinding, VulnFinding__Output as _vigil_v1_VulnFinding__Output } from '../../vigil/v1/VulnFinding';

export interface ImportVulnsRequest {
  'image'?: (string);
  'format'?: (string);
  'sha256'?: (string);
  'findings'?: (_vigil_v1_VulnFinding)[];
}

export interface ImportVulnsRequest__Output {
  'image': (string);
  'format': (string);
  'sha256': (string);
  'findings': (_vigil_v1_VulnFinding__Output)[];
}
