// Original file: proto/vigil/v1/vigil.proto

import type { AdvisoryFile as _vigil_v1_AdvisoryFile, AdvisoryFile__Output as _vigil_v1_AdvisoryFile__Output } from '../../vigil/v1/AdvisoryFile';

export interface ImportAdvisoriesRequest {
  'files'?: (_vigil_v1_AdvisoryFile)[];
}

export interface ImportAdvisoriesRequest__Output {
  'files': (_vigil_v1_AdvisoryFile__Output)[];
}
