// Original file: proto/vigil/v1/vigil.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AlertRow as _vigil_v1_AlertRow, AlertRow__Output as _vigil_v1_AlertRow__Output } from '../../vigil/v1/AlertRow';
import type { AuditProofRequest as _vigil_v1_AuditProofRequest, AuditProofRequest__Output as _vigil_v1_AuditProofRequest__Output } from '../../vigil/v1/AuditProofRequest';
import type { AuditProofResponse as _vigil_v1_AuditProofResponse, AuditProofResponse__Output as _vigil_v1_AuditProofResponse__Output } from '../../vigil/v1/AuditProofResponse';
import type { GetCheckpointRequest as _vigil_v1_GetCheckpointRequest, GetCheckpointRequest__Output as _vigil_v1_GetCheckpointRequest__Output } from '../../vigil/v1/GetCheckpointRequest';
import type { GetCheckpointResponse as _vigil_v1_GetCheckpointResponse, GetCheckpointResponse__Output as _vigil_v1_GetCheckpointResponse__Output } from '../../vigil/v1/GetCheckpointResponse';
import type { GetSbomRequest as _vigil_v1_GetSbomRequest, GetSbomRequest__Output as _vigil_v1_GetSbomRequest__Output } from '../../vigil/v1/GetSbomRequest';
import type { GetSbomResponse as _vigil_v1_GetSbomResponse, GetSbomResponse__Output as _vigil_v1_GetSbomResponse__Output } from '../../vigil/v1/GetSbomResponse';
import type { ImportSbomRequest as _vigil_v1_ImportSbomRequest, ImportSbomRequest__Output as _vigil_v1_ImportSbomRequest__Output } from '../../vigil/v1/ImportSbomRequest';
import type { ImportSbomResponse as _vigil_v1_ImportSbomResponse, ImportSbomResponse__Output as _vigil_v1_ImportSbomResponse__Output } from '../../vigil/v1/ImportSbomResponse';
import type { ImportVulnsRequest as _vigil_v1_ImportVulnsRequest, ImportVulnsRequest__Output as _vigil_v1_ImportVulnsRequest__Output } from '../../vigil/v1/ImportVulnsRequest';
import type { ImportVulnsResponse as _vigil_v1_ImportVulnsResponse, ImportVulnsResponse__Output as _vigil_v1_ImportVulnsResponse__Output } from '../../vigil/v1/ImportVulnsResponse';
import type { ListAgentsRequest as _vigil_v1_ListAgentsRequest, ListAgentsRequest__Output as _vigil_v1_ListAgentsRequest__Output } from '../../vigil/v1/ListAgentsRequest';
import type { ListAgentsResponse as _vigil_v1_ListAgentsResponse, ListAgentsResponse__Output as _vigil_v1_ListAgentsResponse__Output } from '../../vigil/v1/ListAgentsResponse';
import type { ListAlertsRequest as _vigil_v1_ListAlertsRequest, ListAlertsRequest__Output as _vigil_v1_ListAlertsRequest__Output } from '../../vigil/v1/ListAlertsRequest';
import type { ListAlertsResponse as _vigil_v1_ListAlertsResponse, ListAlertsResponse__Output as _vigil_v1_ListAlertsResponse__Output } from '../../vigil/v1/ListAlertsResponse';
import type { ProveAlertRequest as _vigil_v1_ProveAlertRequest, ProveAlertRequest__Output as _vigil_v1_ProveAlertRequest__Output } from '../../vigil/v1/ProveAlertRequest';
import type { ProveAlertResponse as _vigil_v1_ProveAlertResponse, ProveAlertResponse__Output as _vigil_v1_ProveAlertResponse__Output } from '../../vigil/v1/ProveAlertResponse';
import type { PushPolicyRequest as _vigil_v1_PushPolicyRequest, PushPolicyRequest__Output as _vigil_v1_PushPolicyRequest__Output } from '../../vigil/v1/PushPolicyRequest';
import type { PushPolicyResponse as _vigil_v1_PushPolicyResponse, PushPolicyResponse__Output as _vigil_v1_PushPolicyResponse__Output } from '../../vigil/v1/PushPolicyResponse';
import type { VexChangesRequest as _vigil_v1_VexChangesRequest, VexChangesRequest__Output as _vigil_v1_VexChangesRequest__Output } from '../../vigil/v1/VexChangesRequest';
import type { VexChangesResponse as _vigil_v1_VexChangesResponse, VexChangesResponse__Output as _vigil_v1_VexChangesResponse__Output } from '../../vigil/v1/VexChangesResponse';
import type { VexRequest as _vigil_v1_VexRequest, VexRequest__Output as _vigil_v1_VexRequest__Output } from '../../vigil/v1/VexRequest';
import type { VexResponse as _vigil_v1_VexResponse, VexResponse__Output as _vigil_v1_VexResponse__Output } from '../../vigil/v1/VexResponse';

export interface QueryServiceClient extends grpc.Client {
  AuditProof(argument: _vigil_v1_AuditProofRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_AuditProofResponse__Output>): grpc.ClientUnaryCall;
  AuditProof(argument: _vigil_v1_AuditProofRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_AuditProofResponse__Output>): grpc.ClientUnaryCall;
  AuditProof(argument: _vigil_v1_AuditProofRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_AuditProofResponse__Output>): grpc.ClientUnaryCall;
  AuditProof(argument: _vigil_v1_AuditProofRequest, callback: grpc.requestCallback<_vigil_v1_AuditProofResponse__Output>): grpc.ClientUnaryCall;
  auditProof(argument: _vigil_v1_AuditProofRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_AuditProofResponse__Output>): grpc.ClientUnaryCall;
  auditProof(argument: _vigil_v1_AuditProofRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_AuditProofResponse__Output>): grpc.ClientUnaryCall;
  auditProof(argument: _vigil_v1_AuditProofRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_AuditProofResponse__Output>): grpc.ClientUnaryCall;
  auditProof(argument: _vigil_v1_AuditProofRequest, callback: grpc.requestCallback<_vigil_v1_AuditProofResponse__Output>): grpc.ClientUnaryCall;
  
  FollowAlerts(argument: _vigil_v1_ListAlertsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_vigil_v1_AlertRow__Output>;
  FollowAlerts(argument: _vigil_v1_ListAlertsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_vigil_v1_AlertRow__Output>;
  followAlerts(argument: _vigil_v1_ListAlertsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_vigil_v1_AlertRow__Output>;
  followAlerts(argument: _vigil_v1_ListAlertsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_vigil_v1_AlertRow__Output>;
  
  GetCheckpoint(argument: _vigil_v1_GetCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  GetCheckpoint(argument: _vigil_v1_GetCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  GetCheckpoint(argument: _vigil_v1_GetCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  GetCheckpoint(argument: _vigil_v1_GetCheckpointRequest, callback: grpc.requestCallback<_vigil_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  getCheckpoint(argument: _vigil_v1_GetCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  getCheckpoint(argument: _vigil_v1_GetCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  getCheckpoint(argument: _vigil_v1_GetCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  getCheckpoint(argument: _vigil_v1_GetCheckpointRequest, callback: grpc.requestCallback<_vigil_v1_GetCheckpointResponse__Output>): grpc.ClientUnaryCall;
  
  GetSbom(argument: _vigil_v1_GetSbomRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_GetSbomResponse__Output>): grpc.ClientUnaryCall;
  GetSbom(argument: _vigil_v1_GetSbomRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_GetSbomResponse__Output>): grpc.ClientUnaryCall;
  GetSbom(argument: _vigil_v1_GetSbomRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_GetSbomResponse__Output>): grpc.ClientUnaryCall;
  GetSbom(argument: _vigil_v1_GetSbomRequest, callback: grpc.requestCallback<_vigil_v1_GetSbomResponse__Output>): grpc.ClientUnaryCall;
  getSbom(argument: _vigil_v1_GetSbomRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_GetSbomResponse__Output>): grpc.ClientUnaryCall;
  getSbom(argument: _vigil_v1_GetSbomRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_GetSbomResponse__Output>): grpc.ClientUnaryCall;
  getSbom(argument: _vigil_v1_GetSbomRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_GetSbomResponse__Output>): grpc.ClientUnaryCall;
  getSbom(argument: _vigil_v1_GetSbomRequest, callback: grpc.requestCallback<_vigil_v1_GetSbomResponse__Output>): grpc.ClientUnaryCall;
  
  ImportSbom(argument: _vigil_v1_ImportSbomRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportSbomResponse__Output>): grpc.ClientUnaryCall;
  ImportSbom(argument: _vigil_v1_ImportSbomRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImportSbomResponse__Output>): grpc.ClientUnaryCall;
  ImportSbom(argument: _vigil_v1_ImportSbomRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportSbomResponse__Output>): grpc.ClientUnaryCall;
  ImportSbom(argument: _vigil_v1_ImportSbomRequest, callback: grpc.requestCallback<_vigil_v1_ImportSbomResponse__Output>): grpc.ClientUnaryCall;
  importSbom(argument: _vigil_v1_ImportSbomRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportSbomResponse__Output>): grpc.ClientUnaryCall;
  importSbom(argument: _vigil_v1_ImportSbomRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImportSbomResponse__Output>): grpc.ClientUnaryCall;
  importSbom(argument: _vigil_v1_ImportSbomRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportSbomResponse__Output>): grpc.ClientUnaryCall;
  importSbom(argument: _vigil_v1_ImportSbomRequest, callback: grpc.requestCallback<_vigil_v1_ImportSbomResponse__Output>): grpc.ClientUnaryCall;
  
  ImportVulns(argument: _vigil_v1_ImportVulnsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportVulnsResponse__Output>): grpc.ClientUnaryCall;
  ImportVulns(argument: _vigil_v1_ImportVulnsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImportVulnsResponse__Output>): grpc.ClientUnaryCall;
  ImportVulns(argument: _vigil_v1_ImportVulnsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportVulnsResponse__Output>): grpc.ClientUnaryCall;
  ImportVulns(argument: _vigil_v1_ImportVulnsRequest, callback: grpc.requestCallback<_vigil_v1_ImportVulnsResponse__Output>): grpc.ClientUnaryCall;
  importVulns(argument: _vigil_v1_ImportVulnsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportVulnsResponse__Output>): grpc.ClientUnaryCall;
  importVulns(argument: _vigil_v1_ImportVulnsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImportVulnsResponse__Output>): grpc.ClientUnaryCall;
  importVulns(argument: _vigil_v1_ImportVulnsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportVulnsResponse__Output>): grpc.ClientUnaryCall;
  importVulns(argument: _vigil_v1_ImportVulnsRequest, callback: grpc.requestCallback<_vigil_v1_ImportVulnsResponse__Output>): grpc.ClientUnaryCall;
  
  ListAgents(argument: _vigil_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _vigil_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _vigil_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  ListAgents(argument: _vigil_v1_ListAgentsRequest, callback: grpc.requestCallback<_vigil_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _vigil_v1_ListAgentsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _vigil_v1_ListAgentsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _vigil_v1_ListAgentsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  listAgents(argument: _vigil_v1_ListAgentsRequest, callback: grpc.requestCallback<_vigil_v1_ListAgentsResponse__Output>): grpc.ClientUnaryCall;
  
  ListAlerts(argument: _vigil_v1_ListAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _vigil_v1_ListAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _vigil_v1_ListAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  ListAlerts(argument: _vigil_v1_ListAlertsRequest, callback: grpc.requestCallback<_vigil_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _vigil_v1_ListAlertsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _vigil_v1_ListAlertsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _vigil_v1_ListAlertsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  listAlerts(argument: _vigil_v1_ListAlertsRequest, callback: grpc.requestCallback<_vigil_v1_ListAlertsResponse__Output>): grpc.ClientUnaryCall;
  
  ProveAlert(argument: _vigil_v1_ProveAlertRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ProveAlertResponse__Output>): grpc.ClientUnaryCall;
  ProveAlert(argument: _vigil_v1_ProveAlertRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ProveAlertResponse__Output>): grpc.ClientUnaryCall;
  ProveAlert(argument: _vigil_v1_ProveAlertRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ProveAlertResponse__Output>): grpc.ClientUnaryCall;
  ProveAlert(argument: _vigil_v1_ProveAlertRequest, callback: grpc.requestCallback<_vigil_v1_ProveAlertResponse__Output>): grpc.ClientUnaryCall;
  proveAlert(argument: _vigil_v1_ProveAlertRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ProveAlertResponse__Output>): grpc.ClientUnaryCall;
  proveAlert(argument: _vigil_v1_ProveAlertRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ProveAlertResponse__Output>): grpc.ClientUnaryCall;
  proveAlert(argument: _vigil_v1_ProveAlertRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ProveAlertResponse__Output>): grpc.ClientUnaryCall;
  proveAlert(argument: _vigil_v1_ProveAlertRequest, callback: grpc.requestCallback<_vigil_v1_ProveAlertResponse__Output>): grpc.ClientUnaryCall;
  
  PushPolicy(argument: _vigil_v1_PushPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_PushPolicyResponse__Output>): grpc.ClientUnaryCall;
  PushPolicy(argument: _vigil_v1_PushPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_PushPolicyResponse__Output>): grpc.ClientUnaryCall;
  PushPolicy(argument: _vigil_v1_PushPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_PushPolicyResponse__Output>): grpc.ClientUnaryCall;
  PushPolicy(argument: _vigil_v1_PushPolicyRequest, callback: grpc.requestCallback<_vigil_v1_PushPolicyResponse__Output>): grpc.ClientUnaryCall;
  pushPolicy(argument: _vigil_v1_PushPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_PushPolicyResponse__Output>): grpc.ClientUnaryCall;
  pushPolicy(argument: _vigil_v1_PushPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_PushPolicyResponse__Output>): grpc.ClientUnaryCall;
  pushPolicy(argument: _vigil_v1_PushPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_PushPolicyResponse__Output>): grpc.ClientUnaryCall;
  pushPolicy(argument: _vigil_v1_PushPolicyRequest, callback: grpc.requestCallback<_vigil_v1_PushPolicyResponse__Output>): grpc.ClientUnaryCall;
  
  Vex(argument: _vigil_v1_VexRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_VexResponse__Output>): grpc.ClientUnaryCall;
  Vex(argument: _vigil_v1_VexRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_VexResponse__Output>): grpc.ClientUnaryCall;
  Vex(argument: _vigil_v1_VexRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_VexResponse__Output>): grpc.ClientUnaryCall;
  Vex(argument: _vigil_v1_VexRequest, callback: grpc.requestCallback<_vigil_v1_VexResponse__Output>): grpc.ClientUnaryCall;
  vex(argument: _vigil_v1_VexRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_VexResponse__Output>): grpc.ClientUnaryCall;
  vex(argument: _vigil_v1_VexRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_VexResponse__Output>): grpc.ClientUnaryCall;
  vex(argument: _vigil_v1_VexRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_VexResponse__Output>): grpc.ClientUnaryCall;
  vex(argument: _vigil_v1_VexRequest, callback: grpc.requestCallback<_vigil_v1_VexResponse__Output>): grpc.ClientUnaryCall;
  
  VexChanges(argument: _vigil_v1_VexChangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_VexChangesResponse__Output>): grpc.ClientUnaryCall;
  VexChanges(argument: _vigil_v1_VexChangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_VexChangesResponse__Output>): grpc.ClientUnaryCall;
  VexChanges(argument: _vigil_v1_VexChangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_VexChangesResponse__Output>): grpc.ClientUnaryCall;
  VexChanges(argument: _vigil_v1_VexChangesRequest, callback: grpc.requestCallback<_vigil_v1_VexChangesResponse__Output>): grpc.ClientUnaryCall;
  vexChanges(argument: _vigil_v1_VexChangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_VexChangesResponse__Output>): grpc.ClientUnaryCall;
  vexChanges(argument: _vigil_v1_VexChangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_VexChangesResponse__Output>): grpc.ClientUnaryCall;
  vexChanges(argument: _vigil_v1_VexChangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_VexChangesResponse__Output>): grpc.ClientUnaryCall;
  vexChanges(argument: _vigil_v1_VexChangesRequest, callback: grpc.requestCallback<_vigil_v1_VexChangesResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface QueryServiceHandlers extends grpc.UntypedServiceImplementation {
  AuditProof: grpc.handleUnaryCall<_vigil_v1_AuditProofRequest__Output, _vigil_v1_AuditProofResponse>;
  
  FollowAlerts: grpc.handleServerStreamingCall<_vigil_v1_ListAlertsRequest__Output, _vigil_v1_AlertRow>;
  
  GetCheckpoint: grpc.handleUnaryCall<_vigil_v1_GetCheckpointRequest__Output, _vigil_v1_GetCheckpointResponse>;
  
  GetSbom: grpc.handleUnaryCall<_vigil_v1_GetSbomRequest__Output, _vigil_v1_GetSbomResponse>;
  
  ImportSbom: grpc.handleUnaryCall<_vigil_v1_ImportSbomRequest__Output, _vigil_v1_ImportSbomResponse>;
  
  ImportVulns: grpc.handleUnaryCall<_vigil_v1_ImportVulnsRequest__Output, _vigil_v1_ImportVulnsResponse>;
  
  ListAgents: grpc.handleUnaryCall<_vigil_v1_ListAgentsRequest__Output, _vigil_v1_ListAgentsResponse>;
  
  ListAlerts: grpc.handleUnaryCall<_vigil_v1_ListAlertsRequest__Output, _vigil_v1_ListAlertsResponse>;
  
  ProveAlert: grpc.handleUnaryCall<_vigil_v1_ProveAlertRequest__Output, _vigil_v1_ProveAlertResponse>;
  
  PushPolicy: grpc.handleUnaryCall<_vigil_v1_PushPolicyRequest__Output, _vigil_v1_PushPolicyResponse>;
  
  Vex: grpc.handleUnaryCall<_vigil_v1_VexRequest__Output, _vigil_v1_VexResponse>;
  
  VexChanges: grpc.handleUnaryCall<_vigil_v1_VexChangesRequest__Output, _vigil_v1_VexChangesResponse>;
  
}

export interface QueryServiceDefinition extends grpc.ServiceDefinition {
  AuditProof: MethodDefinition<_vigil_v1_AuditProofRequest, _vigil_v1_AuditProofResponse, _vigil_v1_AuditProofRequest__Output, _vigil_v1_AuditProofResponse__Output>
  FollowAlerts: MethodDefinition<_vigil_v1_ListAlertsRequest, _vigil_v1_AlertRow, _vigil_v1_ListAlertsRequest__Output, _vigil_v1_AlertRow__Output>
  GetCheckpoint: MethodDefinition<_vigil_v1_GetCheckpointRequest, _vigil_v1_GetCheckpointResponse, _vigil_v1_GetCheckpointRequest__Output, _vigil_v1_GetCheckpointResponse__Output>
  GetSbom: MethodDefinition<_vigil_v1_GetSbomRequest, _vigil_v1_GetSbomResponse, _vigil_v1_GetSbomRequest__Output, _vigil_v1_GetSbomResponse__Output>
  ImportSbom: MethodDefinition<_vigil_v1_ImportSbomRequest, _vigil_v1_ImportSbomResponse, _vigil_v1_ImportSbomRequest__Output, _vigil_v1_ImportSbomResponse__Output>
  ImportVulns: MethodDefinition<_vigil_v1_ImportVulnsRequest, _vigil_v1_ImportVulnsResponse, _vigil_v1_ImportVulnsRequest__Output, _vigil_v1_ImportVulnsResponse__Output>
  ListAgents: MethodDefinition<_vigil_v1_ListAgentsRequest, _vigil_v1_ListAgentsResponse, _vigil_v1_ListAgentsRequest__Output, _vigil_v1_ListAgentsResponse__Output>
  ListAlerts: MethodDefinition<_vigil_v1_ListAlertsRequest, _vigil_v1_ListAlertsResponse, _vigil_v1_ListAlertsRequest__Output, _vigil_v1_ListAlertsResponse__Output>
  ProveAlert: MethodDefinition<_vigil_v1_ProveAlertRequest, _vigil_v1_ProveAlertResponse, _vigil_v1_ProveAlertRequest__Output, _vigil_v1_ProveAlertResponse__Output>
  PushPolicy: MethodDefinition<_vigil_v1_PushPolicyRequest, _vigil_v1_PushPolicyResponse, _vigil_v1_PushPolicyRequest__Output, _vigil_v1_PushPolicyResponse__Output>
  Vex: MethodDefinition<_vigil_v1_VexRequest, _vigil_v1_VexResponse, _vigil_v1_VexRequest__Output, _vigil_v1_VexResponse__Output>
  VexChanges: MethodDefinition<_vigil_v1_VexChangesRequest, _vigil_v1_VexChangesResponse, _vigil_v1_VexChangesRequest__Output, _vigil_v1_VexChangesResponse__Output>
}
