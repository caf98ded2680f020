// Original file: proto/vigil/v1/vigil.proto

import type { Welcome as _vigil_v1_Welcome, Welcome__Output as _vigil_v1_Welcome__Output } from '../../vigil/v1/Welcome';
import type { Ack as _vigil_v1_Ack, Ack__Output as _vigil_v1_Ack__Output } from '../../vigil/v1/Ack';
import type { PolicyBundle as _vigil_v1_PolicyBundle, PolicyBundle__Output as _vigil_v1_PolicyBundle__Output } from '../../vigil/v1/PolicyBundle';
import type { IdentityMap as _vigil_v1_IdentityMap, IdentityMap__Output as _vigil_v1_IdentityMap__Output } from '../../vigil/v1/IdentityMap';
import type { Heartbeat as _vigil_v1_Heartbeat, Heartbeat__Output as _vigil_v1_Heartbeat__Output } from '../../vigil/v1/Heartbeat';
import type { ReachAck as _vigil_v1_ReachAck, ReachAck__Output as _vigil_v1_ReachAck__Output } from '../../vigil/v1/ReachAck';
import type { AuditCheckpoint as _vigil_v1_AuditCheckpoint, AuditCheckpoint__Output as _vigil_v1_AuditCheckpoint__Output } from '../../vigil/v1/AuditCheckpoint';

export interface ControlMessage {
  'welcome'?: (_vigil_v1_Welcome | null);
  'ack'?: (_vigil_v1_Ack | null);
  'policy'?: (_vigil_v1_PolicyBundle | null);
  'identity_map'?: (_vigil_v1_IdentityMap | null);
  'heartbeat'?: (_vigil_v1_Heartbeat | null);
  'reach_ack'?: (_vigil_v1_ReachAck | null);
  'checkpoint'?: (_vigil_v1_AuditCheckpoint | null);
  'msg'?: "welcome"|"ack"|"policy"|"identity_map"|"heartbeat"|"reach_ack"|"checkpoint";
}

export interface ControlMessage__Output {
  'welcome'?: (_vigil_v1_Welcome__Output | null);
  'ack'?: (_vigil_v1_Ack__Output | null);
  'policy'?: (_vigil_v1_PolicyBundle__Output | null);
  'identity_map'?: (_vigil_v1_IdentityMap__Output | null);
  'heartbeat'?: (_vigil_v1_Heartbeat__Output | null);
  'reach_ack'?: (_vigil_v1_ReachAck__Output | null);
  'checkpoint'?: (_vigil_v1_AuditCheckpoint__Output | null);
  'msg'?: "welcome"|"ack"|"policy"|"identity_map"|"heartbeat"|"reach_ack"|"checkpoint";
}
