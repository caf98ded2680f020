import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Ack as _vigil_v1_Ack, Ack__Output as _vigil_v1_Ack__Output } from './vigil/v1/Ack';
import type { AddAdvisoryRequest as _vigil_v1_AddAdvisoryRequest, AddAdvisoryRequest__Output as _vigil_v1_AddAdvisoryRequest__Output } from './vigil/v1/AddAdvisoryRequest';
import type { AddressEntry as _vigil_v1_AddressEntry, AddressEntry__Output as _vigil_v1_AddressEntry__Output } from './vigil/v1/AddressEntry';
import type { AdvisoryFile as _vigil_v1_AdvisoryFile, AdvisoryFile__Output as _vigil_v1_AdvisoryFile__Output } from './vigil/v1/AdvisoryFile';
import type { AgentMessage as _vigil_v1_AgentMessage, AgentMessage__Output as _vigil_v1_AgentMessage__Output } from './vigil/v1/AgentMessage';
import type { AgentRow as _vigil_v1_AgentRow, AgentRow__Output as _vigil_v1_AgentRow__Output } from './vigil/v1/AgentRow';
import type { AgentServiceClient as _vigil_v1_AgentServiceClient, AgentServiceDefinition as _vigil_v1_AgentServiceDefinition } from './vigil/v1/AgentService';
import type { AlertBatch as _vigil_v1_AlertBatch, AlertBatch__Output as _vigil_v1_AlertBatch__Output } from './vigil/v1/AlertBatch';
import type { AlertRecord as _vigil_v1_AlertRecord, AlertRecord__Output as _vigil_v1_AlertRecord__Output } from './vigil/v1/AlertRecord';
import type { AlertRow as _vigil_v1_AlertRow, AlertRow__Output as _vigil_v1_AlertRow__Output } from './vigil/v1/AlertRow';
import type { AuditCheckpoint as _vigil_v1_AuditCheckpoint, AuditCheckpoint__Output as _vigil_v1_AuditCheckpoint__Output } from './vigil/v1/AuditCheckpoint';
import type { AuditProofRequest as _vigil_v1_AuditProofRequest, AuditProofRequest__Output as _vigil_v1_AuditProofRequest__Output } from './vigil/v1/AuditProofRequest';
import type { AuditProofResponse as _vigil_v1_AuditProofResponse, AuditProofResponse__Output as _vigil_v1_AuditProofResponse__Output } from './vigil/v1/AuditProofResponse';
import type { ControlMessage as _vigil_v1_ControlMessage, ControlMessage__Output as _vigil_v1_ControlMessage__Output } from './vigil/v1/ControlMessage';
import type { GetCheckpointRequest as _vigil_v1_GetCheckpointRequest, GetCheckpointRequest__Output as _vigil_v1_GetCheckpointRequest__Output } from './vigil/v1/GetCheckpointRequest';
import type { GetCheckpointResponse as _vigil_v1_GetCheckpointResponse, GetCheckpointResponse__Output as _vigil_v1_GetCheckpointResponse__Output } from './vigil/v1/GetCheckpointResponse';
import type { GetSbomRequest as _vigil_v1_GetSbomRequest, GetSbomRequest__Output as _vigil_v1_GetSbomRequest__Output } from './vigil/v1/GetSbomRequest';
import type { GetSbomResponse as _vigil_v1_GetSbomResponse, GetSbomResponse__Output as _vigil_v1_GetSbomResponse__Output } from './vigil/v1/GetSbomResponse';
import type { Heartbeat as _vigil_v1_Heartbeat, Heartbeat__Output as _vigil_v1_Heartbeat__Output } from './vigil/v1/Heartbeat';
import type { Hello as _vigil_v1_Hello, Hello__Output as _vigil_v1_Hello__Output } from './vigil/v1/Hello';
import type { IdentityMap as _vigil_v1_IdentityMap, IdentityMap__Output as _vigil_v1_IdentityMap__Output } from './vigil/v1/IdentityMap';
import type { IdentityReport as _vigil_v1_IdentityReport, IdentityReport__Output as _vigil_v1_IdentityReport__Output } from './vigil/v1/IdentityReport';
import type { ImageInventory as _vigil_v1_ImageInventory, ImageInventory__Output as _vigil_v1_ImageInventory__Output } from './vigil/v1/ImageInventory';
import type { ImageMatchesRequest as _vigil_v1_ImageMatchesRequest, ImageMatchesRequest__Output as _vigil_v1_ImageMatchesRequest__Output } from './vigil/v1/ImageMatchesRequest';
import type { ImageMatchesResponse as _vigil_v1_ImageMatchesResponse, ImageMatchesResponse__Output as _vigil_v1_ImageMatchesResponse__Output } from './vigil/v1/ImageMatchesResponse';
import type { ImportAdvisoriesRequest as _vigil_v1_ImportAdvisoriesRequest, ImportAdvisoriesRequest__Output as _vigil_v1_ImportAdvisoriesRequest__Output } from './vigil/v1/ImportAdvisoriesRequest';
import type { ImportAdvisoriesResponse as _vigil_v1_ImportAdvisoriesResponse, ImportAdvisoriesResponse__Output as _vigil_v1_ImportAdvisoriesResponse__Output } from './vigil/v1/ImportAdvisoriesResponse';
import type { ImportSbomRequest as _vigil_v1_ImportSbomRequest, ImportSbomRequest__Output as _vigil_v1_ImportSbomRequest__Output } from './vigil/v1/ImportSbomRequest';
import type { ImportSbomResponse as _vigil_v1_ImportSbomResponse, ImportSbomResponse__Output as _vigil_v1_ImportSbomResponse__Output } from './vigil/v1/ImportSbomResponse';
import type { ImportVulnsRequest as _vigil_v1_ImportVulnsRequest, ImportVulnsRequest__Output as _vigil_v1_ImportVulnsRequest__Output } from './vigil/v1/ImportVulnsRequest';
import type { ImportVulnsResponse as _vigil_v1_ImportVulnsResponse, ImportVulnsResponse__Output as _vigil_v1_ImportVulnsResponse__Output } from './vigil/v1/ImportVulnsResponse';
import type { KernelCapabilities as _vigil_v1_KernelCapabilities, KernelCapabilities__Output as _vigil_v1_KernelCapabilities__Output } from './vigil/v1/KernelCapabilities';
import type { ListAdvisoriesRequest as _vigil_v1_ListAdvisoriesRequest, ListAdvisoriesRequest__Output as _vigil_v1_ListAdvisoriesRequest__Output } from './vigil/v1/ListAdvisoriesRequest';
import type { ListAdvisoriesResponse as _vigil_v1_ListAdvisoriesResponse, ListAdvisoriesResponse__Output as _vigil_v1_ListAdvisoriesResponse__Output } from './vigil/v1/ListAdvisoriesResponse';
import type { ListAgentsRequest as _vigil_v1_ListAgentsRequest, ListAgentsRequest__Output as _vigil_v1_ListAgentsRequest__Output } from './vigil/v1/ListAgentsRequest';
import type { ListAgentsResponse as _vigil_v1_ListAgentsResponse, ListAgentsResponse__Output as _vigil_v1_ListAgentsResponse__Output } from './vigil/v1/ListAgentsResponse';
import type { ListAlertsRequest as _vigil_v1_ListAlertsRequest, ListAlertsRequest__Output as _vigil_v1_ListAlertsRequest__Output } from './vigil/v1/ListAlertsRequest';
import type { ListAlertsResponse as _vigil_v1_ListAlertsResponse, ListAlertsResponse__Output as _vigil_v1_ListAlertsResponse__Output } from './vigil/v1/ListAlertsResponse';
import type { ListTicketsRequest as _vigil_v1_ListTicketsRequest, ListTicketsRequest__Output as _vigil_v1_ListTicketsRequest__Output } from './vigil/v1/ListTicketsRequest';
import type { ListTicketsResponse as _vigil_v1_ListTicketsResponse, ListTicketsResponse__Output as _vigil_v1_ListTicketsResponse__Output } from './vigil/v1/ListTicketsResponse';
import type { PathAlias as _vigil_v1_PathAlias, PathAlias__Output as _vigil_v1_PathAlias__Output } from './vigil/v1/PathAlias';
import type { PolicyBundle as _vigil_v1_PolicyBundle, PolicyBundle__Output as _vigil_v1_PolicyBundle__Output } from './vigil/v1/PolicyBundle';
import type { PolicyFile as _vigil_v1_PolicyFile, PolicyFile__Output as _vigil_v1_PolicyFile__Output } from './vigil/v1/PolicyFile';
import type { PolicyStatus as _vigil_v1_PolicyStatus, PolicyStatus__Output as _vigil_v1_PolicyStatus__Output } from './vigil/v1/PolicyStatus';
import type { ProveAlertRequest as _vigil_v1_ProveAlertRequest, ProveAlertRequest__Output as _vigil_v1_ProveAlertRequest__Output } from './vigil/v1/ProveAlertRequest';
import type { ProveAlertResponse as _vigil_v1_ProveAlertResponse, ProveAlertResponse__Output as _vigil_v1_ProveAlertResponse__Output } from './vigil/v1/ProveAlertResponse';
import type { PushPolicyRequest as _vigil_v1_PushPolicyRequest, PushPolicyRequest__Output as _vigil_v1_PushPolicyRequest__Output } from './vigil/v1/PushPolicyRequest';
import type { PushPolicyResponse as _vigil_v1_PushPolicyResponse, PushPolicyResponse__Output as _vigil_v1_PushPolicyResponse__Output } from './vigil/v1/PushPolicyResponse';
import type { QuarantineRequest as _vigil_v1_QuarantineRequest, QuarantineRequest__Output as _vigil_v1_QuarantineRequest__Output } from './vigil/v1/QuarantineRequest';
import type { QuarantineResponse as _vigil_v1_QuarantineResponse, QuarantineResponse__Output as _vigil_v1_QuarantineResponse__Output } from './vigil/v1/QuarantineResponse';
import type { QueryServiceClient as _vigil_v1_QueryServiceClient, QueryServiceDefinition as _vigil_v1_QueryServiceDefinition } from './vigil/v1/QueryService';
import type { ReachAck as _vigil_v1_ReachAck, ReachAck__Output as _vigil_v1_ReachAck__Output } from './vigil/v1/ReachAck';
import type { ReachLoad as _vigil_v1_ReachLoad, ReachLoad__Output as _vigil_v1_ReachLoad__Output } from './vigil/v1/ReachLoad';
import type { ReachReport as _vigil_v1_ReachReport, ReachReport__Output as _vigil_v1_ReachReport__Output } from './vigil/v1/ReachReport';
import type { ReachWatch as _vigil_v1_ReachWatch, ReachWatch__Output as _vigil_v1_ReachWatch__Output } from './vigil/v1/ReachWatch';
import type { SbomComponent as _vigil_v1_SbomComponent, SbomComponent__Output as _vigil_v1_SbomComponent__Output } from './vigil/v1/SbomComponent';
import type { SbomFile as _vigil_v1_SbomFile, SbomFile__Output as _vigil_v1_SbomFile__Output } from './vigil/v1/SbomFile';
import type { SeqRange as _vigil_v1_SeqRange, SeqRange__Output as _vigil_v1_SeqRange__Output } from './vigil/v1/SeqRange';
import type { VdpServiceClient as _vigil_v1_VdpServiceClient, VdpServiceDefinition as _vigil_v1_VdpServiceDefinition } from './vigil/v1/VdpService';
import type { VexChangesRequest as _vigil_v1_VexChangesRequest, VexChangesRequest__Output as _vigil_v1_VexChangesRequest__Output } from './vigil/v1/VexChangesRequest';
import type { VexChangesResponse as _vigil_v1_VexChangesResponse, VexChangesResponse__Output as _vigil_v1_VexChangesResponse__Output } from './vigil/v1/VexChangesResponse';
import type { VexRequest as _vigil_v1_VexRequest, VexRequest__Output as _vigil_v1_VexRequest__Output } from './vigil/v1/VexRequest';
import type { VexResponse as _vigil_v1_VexResponse, VexResponse__Output as _vigil_v1_VexResponse__Output } from './vigil/v1/VexResponse';
import type { VexRevocation as _vigil_v1_VexRevocation, VexRevocation__Output as _vigil_v1_VexRevocation__Output } from './vigil/v1/VexRevocation';
import type { VulnFinding as _vigil_v1_VulnFinding, VulnFinding__Output as _vigil_v1_VulnFinding__Output } from './vigil/v1/VulnFinding';
import type { Welcome as _vigil_v1_Welcome, Welcome__Output as _vigil_v1_Welcome__Output } from './vigil/v1/Welcome';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  vigil: {
    v1: {
      Ack: MessageTypeDefinition<_vigil_v1_Ack, _vigil_v1_Ack__Output>
      AddAdvisoryRequest: MessageTypeDefinition<_vigil_v1_AddAdvisoryRequest, _vigil_v1_AddAdvisoryRequest__Output>
      AddressEntry: MessageTypeDefinition<_vigil_v1_AddressEntry, _vigil_v1_AddressEntry__Output>
      AdvisoryFile: MessageTypeDefinition<_vigil_v1_AdvisoryFile, _vigil_v1_AdvisoryFile__Output>
      AgentMessage: MessageTypeDefinition<_vigil_v1_AgentMessage, _vigil_v1_AgentMessage__Output>
      AgentRow: MessageTypeDefinition<_vigil_v1_AgentRow, _vigil_v1_AgentRow__Output>
      AgentService: SubtypeConstructor<typeof grpc.Client, _vigil_v1_AgentServiceClient> & { service: _vigil_v1_AgentServiceDefinition }
      AlertBatch: MessageTypeDefinition<_vigil_v1_AlertBatch, _vigil_v1_AlertBatch__Output>
      AlertRecord: MessageTypeDefinition<_vigil_v1_AlertRecord, _vigil_v1_AlertRecord__Output>
      AlertRow: MessageTypeDefinition<_vigil_v1_AlertRow, _vigil_v1_AlertRow__Output>
      AuditCheckpoint: MessageTypeDefinition<_vigil_v1_AuditCheckpoint, _vigil_v1_AuditCheckpoint__Output>
      AuditProofRequest: MessageTypeDefinition<_vigil_v1_AuditProofRequest, _vigil_v1_AuditProofRequest__Output>
      AuditProofResponse: MessageTypeDefinition<_vigil_v1_AuditProofResponse, _vigil_v1_AuditProofResponse__Output>
      ControlMessage: MessageTypeDefinition<_vigil_v1_ControlMessage, _vigil_v1_ControlMessage__Output>
      GetCheckpointRequest: MessageTypeDefinition<_vigil_v1_GetCheckpointRequest, _vigil_v1_GetCheckpointRequest__Output>
      GetCheckpointResponse: MessageTypeDefinition<_vigil_v1_GetCheckpointResponse, _vigil_v1_GetCheckpointResponse__Output>
      GetSbomRequest: MessageTypeDefinition<_vigil_v1_GetSbomRequest, _vigil_v1_GetSbomRequest__Output>
      GetSbomResponse: MessageTypeDefinition<_vigil_v1_GetSbomResponse, _vigil_v1_GetSbomResponse__Output>
      Heartbeat: MessageTypeDefinition<_vigil_v1_Heartbeat, _vigil_v1_Heartbeat__Output>
      Hello: MessageTypeDefinition<_vigil_v1_Hello, _vigil_v1_Hello__Output>
      IdentityMap: MessageTypeDefinition<_vigil_v1_IdentityMap, _vigil_v1_IdentityMap__Output>
      IdentityReport: MessageTypeDefinition<_vigil_v1_IdentityReport, _vigil_v1_IdentityReport__Output>
      ImageInventory: MessageTypeDefinition<_vigil_v1_ImageInventory, _vigil_v1_ImageInventory__Output>
      ImageMatchesRequest: MessageTypeDefinition<_vigil_v1_ImageMatchesRequest, _vigil_v1_ImageMatchesRequest__Output>
      ImageMatchesResponse: MessageTypeDefinition<_vigil_v1_ImageMatchesResponse, _vigil_v1_ImageMatchesResponse__Output>
      ImportAdvisoriesRequest: MessageTypeDefinition<_vigil_v1_ImportAdvisoriesRequest, _vigil_v1_ImportAdvisoriesRequest__Output>
      ImportAdvisoriesResponse: MessageTypeDefinition<_vigil_v1_ImportAdvisoriesResponse, _vigil_v1_ImportAdvisoriesResponse__Output>
      ImportSbomRequest: MessageTypeDefinition<_vigil_v1_ImportSbomRequest, _vigil_v1_ImportSbomRequest__Output>
      ImportSbomResponse: MessageTypeDefinition<_vigil_v1_ImportSbomResponse, _vigil_v1_ImportSbomResponse__Output>
      ImportVulnsRequest: MessageTypeDefinition<_vigil_v1_ImportVulnsRequest, _vigil_v1_ImportVulnsRequest__Output>
      ImportVulnsResponse: MessageTypeDefinition<_vigil_v1_ImportVulnsResponse, _vigil_v1_ImportVulnsResponse__Output>
      KernelCapabilities: MessageTypeDefinition<_vigil_v1_KernelCapabilities, _vigil_v1_KernelCapabilities__Output>
      ListAdvisoriesRequest: MessageTypeDefinition<_vigil_v1_ListAdvisoriesRequest, _vigil_v1_ListAdvisoriesRequest__Output>
      ListAdvisoriesResponse: MessageTypeDefinition<_vigil_v1_ListAdvisoriesResponse, _vigil_v1_ListAdvisoriesResponse__Output>
      ListAgentsRequest: MessageTypeDefinition<_vigil_v1_ListAgentsRequest, _vigil_v1_ListAgentsRequest__Output>
      ListAgentsResponse: MessageTypeDefinition<_vigil_v1_ListAgentsResponse, _vigil_v1_ListAgentsResponse__Output>
      ListAlertsRequest: MessageTypeDefinition<_vigil_v1_ListAlertsRequest, _vigil_v1_ListAlertsRequest__Output>
      ListAlertsResponse: MessageTypeDefinition<_vigil_v1_ListAlertsResponse, _vigil_v1_ListAlertsResponse__Output>
      ListTicketsRequest: MessageTypeDefinition<_vigil_v1_ListTicketsRequest, _vigil_v1_ListTicketsRequest__Output>
      ListTicketsResponse: MessageTypeDefinition<_vigil_v1_ListTicketsResponse, _vigil_v1_ListTicketsResponse__Output>
      PathAlias: MessageTypeDefinition<_vigil_v1_PathAlias, _vigil_v1_PathAlias__Output>
      PolicyBundle: MessageTypeDefinition<_vigil_v1_PolicyBundle, _vigil_v1_PolicyBundle__Output>
      PolicyFile: MessageTypeDefinition<_vigil_v1_PolicyFile, _vigil_v1_PolicyFile__Output>
      PolicyStatus: MessageTypeDefinition<_vigil_v1_PolicyStatus, _vigil_v1_PolicyStatus__Output>
      ProveAlertRequest: MessageTypeDefinition<_vigil_v1_ProveAlertRequest, _vigil_v1_ProveAlertRequest__Output>
      ProveAlertResponse: MessageTypeDefinition<_vigil_v1_ProveAlertResponse, _vigil_v1_ProveAlertResponse__Output>
      PushPolicyRequest: MessageTypeDefinition<_vigil_v1_PushPolicyRequest, _vigil_v1_PushPolicyRequest__Output>
      PushPolicyResponse: MessageTypeDefinition<_vigil_v1_PushPolicyResponse, _vigil_v1_PushPolicyResponse__Output>
      QuarantineRequest: MessageTypeDefinition<_vigil_v1_QuarantineRequest, _vigil_v1_QuarantineRequest__Output>
      QuarantineResponse: MessageTypeDefinition<_vigil_v1_QuarantineResponse, _vigil_v1_QuarantineResponse__Output>
      QueryService: SubtypeConstructor<typeof grpc.Client, _vigil_v1_QueryServiceClient> & { service: _vigil_v1_QueryServiceDefinition }
      ReachAck: MessageTypeDefinition<_vigil_v1_ReachAck, _vigil_v1_ReachAck__Output>
      ReachLoad: MessageTypeDefinition<_vigil_v1_ReachLoad, _vigil_v1_ReachLoad__Output>
      ReachReport: MessageTypeDefinition<_vigil_v1_ReachReport, _vigil_v1_ReachReport__Output>
      ReachWatch: MessageTypeDefinition<_vigil_v1_ReachWatch, _vigil_v1_ReachWatch__Output>
      SbomComponent: MessageTypeDefinition<_vigil_v1_SbomComponent, _vigil_v1_SbomComponent__Output>
      SbomFile: MessageTypeDefinition<_vigil_v1_SbomFile, _vigil_v1_SbomFile__Output>
      SeqRange: MessageTypeDefinition<_vigil_v1_SeqRange, _vigil_v1_SeqRange__Output>
      VdpService: SubtypeConstructor<typeof grpc.Client, _vigil_v1_VdpServiceClient> & { service: _vigil_v1_VdpServiceDefinition }
      VexChangesRequest: MessageTypeDefinition<_vigil_v1_VexChangesRequest, _vigil_v1_VexChangesRequest__Output>
      VexChangesResponse: MessageTypeDefinition<_vigil_v1_VexChangesResponse, _vigil_v1_VexChangesResponse__Output>
      VexRequest: MessageTypeDefinition<_vigil_v1_VexRequest, _vigil_v1_VexRequest__Output>
      VexResponse: MessageTypeDefinition<_vigil_v1_VexResponse, _vigil_v1_VexResponse__Output>
      VexRevocation: MessageTypeDefinition<_vigil_v1_VexRevocation, _vigil_v1_VexRevocation__Output>
      VulnFinding: MessageTypeDefinition<_vigil_v1_VulnFinding, _vigil_v1_VulnFinding__Output>
      Welcome: MessageTypeDefinition<_vigil_v1_Welcome, _vigil_v1_Welcome__Output>
    }
  }
}

