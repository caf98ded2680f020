// Original file: proto/vigil/v1/vigil.proto

import type { AgentRow as _vigil_v1_AgentRow, AgentRow__Output as _vigil_v1_AgentRow__Output } from '../../vigil/v1/AgentRow';

export interface ListAgentsResponse {
  'agents'?: (_vigil_v1_AgentRow)[];
}

export interface ListAgentsResponse__Output {
  'agents': (_vigil_v1_AgentRow__Output)[];
}
