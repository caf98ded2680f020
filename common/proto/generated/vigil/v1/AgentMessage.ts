// Original file: proto/vigil/v1/vigil.proto

import type { Hello as _vigil_v1_Hello, Hello__Output as _vigil_v1_Hello__Output } from '../../vigil/v1/Hello';
import type { AlertBatch as _vigil_v1_AlertBatch, AlertBatch__Output as _vigil_v1_AlertBatch__Output } from '../../vigil/v1/AlertBatch';
import type { IdentityReport as _vigil_v1_IdentityReport, IdentityReport__Output as _vigil_v1_IdentityReport__Output } from '../../vigil/v1/IdentityReport';
import type { Heartbeat as _vigil_v1_Heartbeat, Heartbeat__Output as _vigil_v1_Heartbeat__Output } from '../../vigil/v1/Heartbeat';
import type { PolicyStatus as _vigil_v1_PolicyStatus, PolicyStatus__Output as _vigil_v1_PolicyStatus__Output } from '../../vigil/v1/PolicyStatus';
import type { ReachReport as _vigil_v1_ReachReport, ReachReport__Output as _vigil_v1_ReachReport__Output } from '../../vigil/v1/ReachReport';
import type { ImageInventory as _vigil_v1_ImageInventory, ImageInventory__Output as _vigil_v1_ImageInventory__Output } from '../../vigil/v1/ImageInventory';

export interface AgentMessage {
  'hello'?: (_vigil_v1_Hello | null);
  'alerts'?: (_vigil_v1_AlertBatch | null);
  'identities'?: (_vigil_v1_IdentityReport | null);
  'heartbeat'?: (_vigil_v1_Heartbeat | null);
  'policy_status'?: (_vigil_v1_PolicyStatus | null);
  'reach'?: (_vigil_v1_ReachReport | null);
  'inventory'?: (_vigil_v1_ImageInventory | null);
  'msg'?: "hello"|"alerts"|"identities"|"heartbeat"|"policy_status"|"reach"|"inventory";
}

export interface AgentMessage__Output {
  'hello'?: (_vigil_v1_Hello__Output | null);
  'alerts'?: (_vigil_v1_AlertBatch__Output | null);
  'identities'?: (_vigil_v1_IdentityReport__Output | null);
  'heartbeat'?: (_vigil_v1_Heartbeat__Output | null);
  'policy_status'?: (_vigil_v1_PolicyStatus__Output | null);
  'reach'?: (_vigil_v1_ReachReport__Output | null);
  'inventory'?: (_vigil_v1_ImageInventory__Output | null);
  'msg'?: "hello"|"alerts"|"identities"|"heartbeat"|"policy_status"|"reach"|"inventory";
}
