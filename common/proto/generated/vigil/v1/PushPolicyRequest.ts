// Original file: proto/vigil/v1/vigil.proto

import type { PolicyFile as _vigil_v1_PolicyFile, PolicyFile__Output as _vigil_v1_PolicyFile__Output } from '../../vigil/v1/PolicyFile';

export interface PushPolicyRequest {
  'files'?: (_vigil_v1_PolicyFile)[];
}

export interface PushPolicyRequest__Output {
  'files': (_vigil_v1_PolicyFile__Output)[];
}
