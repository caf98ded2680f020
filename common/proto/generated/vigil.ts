import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _vigil_v1_Ack, Ack__Output as _vigil_v1_Ack__Output } from './vigil/v1/Ack';
import type { AddressEntry as _vigil_v1_AddressEntry, AddressEntry__Output as _vigil_v1_AddressEntry__Output } from './vigil/v1/AddressEntry';
import type { AgentMessage as _vigil_v1_AgentMessage, AgentMessage__Output as _vigil_v1_AgentMessage__Output } from './vigil/v1/AgentMessage';
import type { AgentRow as _vigil_v1_AgentRow, AgentRow__Output as _vigil_v1_AgentRow__Output } from './vigil/v1/AgentRow';
import type { AgentServiceClient as _vigil_v1_AgentServiceClient, AgentServiceDefinition as _vigil_v1_AgentServiceDefinition } from './vigil/v1/AgentService';
import type { AlertBatch as _vigil_v1_AlertBatch, AlertBatch__Output as _vigil_v1_AlertBatch__Output } from './vigil/v1/AlertBatch';
import type { AlertRecord as _vigil_v1_AlertRecord, AlertRecord__Output as _vigil_v1_AlertRecord__Output } from './vigil/v1/AlertRecord';
import type { AlertRow as _vigil_v1_AlertRow, AlertRow__Output as _vigil_v1_AlertRow__Output } from './vigil/v1/AlertRow';
import type { AuditProofRequest as _vigil_v1_AuditProofRequest, AuditProofRequest__Output as _vigil_v1_AuditProofRequest__Output } from './vigil/v1/AuditProofRequest';
import type { AuditProofResponse as _vigil_v1_AuditProofResponse, AuditProofResponse__Output as _vigil_v1_AuditProofResponse__Output } from './vigil/v1/AuditProofResponse';
import type { ControlMessage as _vigil_v1_ControlMessage, ControlMessage__Output as _vigil_v1_ControlMessage__Output } from './vigil/v1/ControlMessage';
import type { Heartbeat as _vigil_v1_Heartbeat, Heartbeat__Output as _vigil_v1_Heartbeat__Output } from './vigil/v1/Heartbeat';
import type { Hello as _vigil_v1_Hello, Hello__Output as _vigil_v1_Hello__Output } from './vigil/v1/Hello';
import type { IdentityMap as _vigil_v1_IdentityMap, IdentityMap__Output as _vigil_v1_IdentityMap__Output } from './vigil/v1/IdentityMap';
import type { IdentityReport as _vigil_v1_IdentityReport, IdentityReport__Output as _vigil_v1_IdentityReport__Output } from './vigil/v1/IdentityReport';
import type { KernelCapabilities as _vigil_v1_KernelCapabilities, KernelCapabilities__Output as _vigil_v1_KernelCapabilities__Output } from './vigil/v1/KernelCapabilities';
import type { ListAgentsRequest as _vigil_v1_ListAgentsRequest, ListAgentsRequest__Output as _vigil_v1_ListAgentsRequest__Output } from './vigil/v1/ListAgentsRequest';
import type { ListAgentsResponse as _vigil_v1_ListAgentsResponse, ListAgentsResponse__Output as _vigil_v1_ListAgentsResponse__Output } from './vigil/v1/ListAgentsResponse';
import type { ListAlertsRequest as _vigil_v1_ListAlertsRequest, ListAlertsRequest__Output as _vigil_v1_ListAlertsRequest__Output } from './vigil/v1/ListAlertsRequest';
import type { ListAlertsResponse as _vigil_v1_ListAlertsResponse, ListAlertsResponse__Output as _vigil_v1_ListAlertsResponse__Output } from './vigil/v1/ListAlertsResponse';
import type { PolicyBundle as _vigil_v1_PolicyBundle, PolicyBundle__Output as _vigil_v1_PolicyBundle__Output } from './vigil/v1/PolicyBundle';
import type { PolicyFile as _vigil_v1_PolicyFile, PolicyFile__Output as _vigil_v1_PolicyFile__Output } from './vigil/v1/PolicyFile';
import type { PolicyStatus as _vigil_v1_PolicyStatus, PolicyStatus__Output as _vigil_v1_PolicyStatus__Output } from './vigil/v1/PolicyStatus';
import type { PushPolicyRequest as _vigil_v1_PushPolicyRequest, PushPolicyRequest__Output as _vigil_v1_PushPolicyRequest__Output } from './vigil/v1/PushPolicyRequest';
import type { PushPolicyResponse as _vigil_v1_PushPolicyResponse, PushPolicyResponse__Output as _vigil_v1_PushPolicyResponse__Output } from './vigil/v1/PushPolicyResponse';
import type { QueryServiceClient as _vigil_v1_QueryServiceClient, QueryServiceDefinition as _vigil_v1_QueryServiceDefinition } from './vigil/v1/QueryService';
import type { SeqRange as _vigil_v1_SeqRange, SeqRange__Output as _vigil_v1_SeqRange__Output } from './vigil/v1/SeqRange';
import type { Welcome as _vigil_v1_Welcome, Welcome__Output as _vigil_v1_Welcome__Output } from './vigil/v1/Welcome';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  vigil: {
    v1: {
      Ack: MessageTypeDefinition<_vigil_v1_Ack, _vigil_v1_Ack__Output>
      AddressEntry: MessageTypeDefinition<_vigil_v1_AddressEntry, _vigil_v1_AddressEntry__Output>
      AgentMessage: MessageTypeDefinition<_vigil_v1_AgentMessage, _vigil_v1_AgentMessage__Output>
      AgentRow: MessageTypeDefinition<_vigil_v1_AgentRow, _vigil_v1_AgentRow__Output>
      AgentService: SubtypeConstructor<typeof grpc.Client, _vigil_v1_AgentServiceClient> & { service: _vigil_v1_AgentServiceDefinition }
      AlertBatch: MessageTypeDefinition<_vigil_v1_AlertBatch, _vigil_v1_AlertBatch__Output>
      AlertRecord: MessageTypeDefinition<_vigil_v1_AlertRecord, _vigil_v1_AlertRecord__Output>
      AlertRow: MessageTypeDefinition<_vigil_v1_AlertRow, _vigil_v1_AlertRow__Output>
      AuditProofRequest: MessageTypeDefinition<_vigil_v1_AuditProofRequest, _vigil_v1_AuditProofRequest__Output>
      AuditProofResponse: MessageTypeDefinition<_vigil_v1_AuditProofResponse, _vigil_v1_AuditProofResponse__Output>
      ControlMessage: MessageTypeDefinition<_vigil_v1_ControlMessage, _vigil_v1_ControlMessage__Output>
      Heartbeat: MessageTypeDefinition<_vigil_v1_Heartbeat, _vigil_v1_Heartbeat__Output>
      Hello: MessageTypeDefinition<_vigil_v1_Hello, _vigil_v1_Hello__Output>
      IdentityMap: MessageTypeDefinition<_vigil_v1_IdentityMap, _vigil_v1_IdentityMap__Output>
      IdentityReport: MessageTypeDefinition<_vigil_v1_IdentityReport, _vigil_v1_IdentityReport__Output>
      KernelCapabilities: MessageTypeDefinition<_vigil_v1_KernelCapabilities, _vigil_v1_KernelCapabilities__Output>
      ListAgentsRequest: MessageTypeDefinition<_vigil_v1_ListAgentsRequest, _vigil_v1_ListAgentsRequest__Output>
      ListAgentsResponse: MessageTypeDefinition<_vigil_v1_ListAgentsResponse, _vigil_v1_ListAgentsResponse__Output>
      ListAlertsRequest: MessageTypeDefinition<_vigil_v1_ListAlertsRequest, _vigil_v1_ListAlertsRequest__Output>
      ListAlertsResponse: MessageTypeDefinition<_vigil_v1_ListAlertsResponse, _vigil_v1_ListAlertsResponse__Output>
      PolicyBundle: MessageTypeDefinition<_vigil_v1_PolicyBundle, _vigil_v1_PolicyBundle__Output>
      PolicyFile: MessageTypeDefinition<_vigil_v1_PolicyFile, _vigil_v1_PolicyFile__Output>
      PolicyStatus: MessageTypeDefinition<_vigil_v1_PolicyStatus, _vigil_v1_PolicyStatus__Output>
      PushPolicyRequest: MessageTypeDefinition<_vigil_v1_PushPolicyRequest, _vigil_v1_PushPolicyRequest__Output>
      PushPolicyResponse: MessageTypeDefinition<_vigil_v1_PushPolicyResponse, _vigil_v1_PushPolicyResponse__Output>
      QueryService: SubtypeConstructor<typeof grpc.Client, _vigil_v1_QueryServiceClient> & { service: _vigil_v1_QueryServiceDefinition }
      SeqRange: MessageTypeDefinition<_vigil_v1_SeqRange, _vigil_v1_SeqRange__Output>
      Welcome: MessageTypeDefinition<_vigil_v1_Welcome, _vigil_v1_Welcome__Output>
    }
  }
}

