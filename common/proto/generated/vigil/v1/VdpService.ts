// Original file: proto/vigil/v1/vigil.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddAdvisoryRequest as _vigil_v1_AddAdvisoryRequest, AddAdvisoryRequest__Output as _vigil_v1_AddAdvisoryRequest__Output } from '../../vigil/v1/AddAdvisoryRequest';
import type { ImageMatchesRequest as _vigil_v1_ImageMatchesRequest, ImageMatchesRequest__Output as _vigil_v1_ImageMatchesRequest__Output } from '../../vigil/v1/ImageMatchesRequest';
import type { ImageMatchesResponse as _vigil_v1_ImageMatchesResponse, ImageMatchesResponse__Output as _vigil_v1_ImageMatchesResponse__Output } from '../../vigil/v1/ImageMatchesResponse';
import type { ImportAdvisoriesRequest as _vigil_v1_ImportAdvisoriesRequest, ImportAdvisoriesRequest__Output as _vigil_v1_ImportAdvisoriesRequest__Output } from '../../vigil/v1/ImportAdvisoriesRequest';
import type { ImportAdvisoriesResponse as _vigil_v1_ImportAdvisoriesResponse, ImportAdvisoriesResponse__Output as _vigil_v1_ImportAdvisoriesResponse__Output } from '../../vigil/v1/ImportAdvisoriesResponse';
import type { ListAdvisoriesRequest as _vigil_v1_ListAdvisoriesRequest, ListAdvisoriesRequest__Output as _vigil_v1_ListAdvisoriesRequest__Output } from '../../vigil/v1/ListAdvisoriesRequest';
import type { ListAdvisoriesResponse as _vigil_v1_ListAdvisoriesResponse, ListAdvisoriesResponse__Output as _vigil_v1_ListAdvisoriesResponse__Output } from '../../vigil/v1/ListAdvisoriesResponse';
import type { ListTicketsRequest as _vigil_v1_ListTicketsRequest, ListTicketsRequest__Output as _vigil_v1_ListTicketsRequest__Output } from '../../vigil/v1/ListTicketsRequest';
import type { ListTicketsResponse as _vigil_v1_ListTicketsResponse, ListTicketsResponse__Output as _vigil_v1_ListTicketsResponse__Output } from '../../vigil/v1/ListTicketsResponse';
import type { QuarantineRequest as _vigil_v1_QuarantineRequest, QuarantineRequest__Output as _vigil_v1_QuarantineRequest__Output } from '../../vigil/v1/QuarantineRequest';
import type { QuarantineResponse as _vigil_v1_QuarantineResponse, QuarantineResponse__Output as _vigil_v1_QuarantineResponse__Output } from '../../vigil/v1/QuarantineResponse';

export interface VdpServiceClient extends grpc.Client {
  AddAdvisory(argument: _vigil_v1_AddAdvisoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  AddAdvisory(argument: _vigil_v1_AddAdvisoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  AddAdvisory(argument: _vigil_v1_AddAdvisoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  AddAdvisory(argument: _vigil_v1_AddAdvisoryRequest, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  addAdvisory(argument: _vigil_v1_AddAdvisoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  addAdvisory(argument: _vigil_v1_AddAdvisoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  addAdvisory(argument: _vigil_v1_AddAdvisoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  addAdvisory(argument: _vigil_v1_AddAdvisoryRequest, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  
  ImageMatches(argument: _vigil_v1_ImageMatchesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImageMatchesResponse__Output>): grpc.ClientUnaryCall;
  ImageMatches(argument: _vigil_v1_ImageMatchesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImageMatchesResponse__Output>): grpc.ClientUnaryCall;
  ImageMatches(argument: _vigil_v1_ImageMatchesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImageMatchesResponse__Output>): grpc.ClientUnaryCall;
  ImageMatches(argument: _vigil_v1_ImageMatchesRequest, callback: grpc.requestCallback<_vigil_v1_ImageMatchesResponse__Output>): grpc.ClientUnaryCall;
  imageMatches(argument: _vigil_v1_ImageMatchesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImageMatchesResponse__Output>): grpc.ClientUnaryCall;
  imageMatches(argument: _vigil_v1_ImageMatchesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImageMatchesResponse__Output>): grpc.ClientUnaryCall;
  imageMatches(argument: _vigil_v1_ImageMatchesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImageMatchesResponse__Output>): grpc.ClientUnaryCall;
  imageMatches(argument: _vigil_v1_ImageMatchesRequest, callback: grpc.requestCallback<_vigil_v1_ImageMatchesResponse__Output>): grpc.ClientUnaryCall;
  
  ImportAdvisories(argument: _vigil_v1_ImportAdvisoriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  ImportAdvisories(argument: _vigil_v1_ImportAdvisoriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  ImportAdvisories(argument: _vigil_v1_ImportAdvisoriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  ImportAdvisories(argument: _vigil_v1_ImportAdvisoriesRequest, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  importAdvisories(argument: _vigil_v1_ImportAdvisoriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  importAdvisories(argument: _vigil_v1_ImportAdvisoriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  importAdvisories(argument: _vigil_v1_ImportAdvisoriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  importAdvisories(argument: _vigil_v1_ImportAdvisoriesRequest, callback: grpc.requestCallback<_vigil_v1_ImportAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  
  ListAdvisories(argument: _vigil_v1_ListAdvisoriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  ListAdvisories(argument: _vigil_v1_ListAdvisoriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ListAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  ListAdvisories(argument: _vigil_v1_ListAdvisoriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  ListAdvisories(argument: _vigil_v1_ListAdvisoriesRequest, callback: grpc.requestCallback<_vigil_v1_ListAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  listAdvisories(argument: _vigil_v1_ListAdvisoriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  listAdvisories(argument: _vigil_v1_ListAdvisoriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ListAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  listAdvisories(argument: _vigil_v1_ListAdvisoriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  listAdvisories(argument: _vigil_v1_ListAdvisoriesRequest, callback: grpc.requestCallback<_vigil_v1_ListAdvisoriesResponse__Output>): grpc.ClientUnaryCall;
  
  ListTickets(argument: _vigil_v1_ListTicketsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListTicketsResponse__Output>): grpc.ClientUnaryCall;
  ListTickets(argument: _vigil_v1_ListTicketsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ListTicketsResponse__Output>): grpc.ClientUnaryCall;
  ListTickets(argument: _vigil_v1_ListTicketsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListTicketsResponse__Output>): grpc.ClientUnaryCall;
  ListTickets(argument: _vigil_v1_ListTicketsRequest, callback: grpc.requestCallback<_vigil_v1_ListTicketsResponse__Output>): grpc.ClientUnaryCall;
  listTickets(argument: _vigil_v1_ListTicketsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListTicketsResponse__Output>): grpc.ClientUnaryCall;
  listTickets(argument: _vigil_v1_ListTicketsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_ListTicketsResponse__Output>): grpc.ClientUnaryCall;
  listTickets(argument: _vigil_v1_ListTicketsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_ListTicketsResponse__Output>): grpc.ClientUnaryCall;
  listTickets(argument: _vigil_v1_ListTicketsRequest, callback: grpc.requestCallback<_vigil_v1_ListTicketsResponse__Output>): grpc.ClientUnaryCall;
  
  Quarantine(argument: _vigil_v1_QuarantineRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_QuarantineResponse__Output>): grpc.ClientUnaryCall;
  Quarantine(argument: _vigil_v1_QuarantineRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_QuarantineResponse__Output>): grpc.ClientUnaryCall;
  Quarantine(argument: _vigil_v1_QuarantineRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_QuarantineResponse__Output>): grpc.ClientUnaryCall;
  Quarantine(argument: _vigil_v1_QuarantineRequest, callback: grpc.requestCallback<_vigil_v1_QuarantineResponse__Output>): grpc.ClientUnaryCall;
  quarantine(argument: _vigil_v1_QuarantineRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_QuarantineResponse__Output>): grpc.ClientUnaryCall;
  quarantine(argument: _vigil_v1_QuarantineRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_vigil_v1_QuarantineResponse__Output>): grpc.ClientUnaryCall;
  quarantine(argument: _vigil_v1_QuarantineRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_vigil_v1_QuarantineResponse__Output>): grpc.ClientUnaryCall;
  quarantine(argument: _vigil_v1_QuarantineRequest, callback: grpc.requestCallback<_vigil_v1_QuarantineResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface VdpServiceHandlers extends grpc.UntypedServiceImplementation {
  AddAdvisory: grpc.handleUnaryCall<_vigil_v1_AddAdvisoryRequest__Output, _vigil_v1_ImportAdvisoriesResponse>;
  
  ImageMatches: grpc.handleUnaryCall<_vigil_v1_ImageMatchesRequest__Output, _vigil_v1_ImageMatchesResponse>;
  
  ImportAdvisories: grpc.handleUnaryCall<_vigil_v1_ImportAdvisoriesRequest__Output, _vigil_v1_ImportAdvisoriesResponse>;
  
  ListAdvisories: grpc.handleUnaryCall<_vigil_v1_ListAdvisoriesRequest__Output, _vigil_v1_ListAdvisoriesResponse>;
  
  ListTickets: grpc.handleUnaryCall<_vigil_v1_ListTicketsRequest__Output, _vigil_v1_ListTicketsResponse>;
  
  Quarantine: grpc.handleUnaryCall<_vigil_v1_QuarantineRequest__Output, _vigil_v1_QuarantineResponse>;
  
}

export interface VdpServiceDefinition extends grpc.ServiceDefinition {
  AddAdvisory: MethodDefinition<_vigil_v1_AddAdvisoryRequest, _vigil_v1_ImportAdvisoriesResponse, _vigil_v1_AddAdvisoryRequest__Output, _vigil_v1_ImportAdvisoriesResponse__Output>
  ImageMatches: MethodDefinition<_vigil_v1_ImageMatchesRequest, _vigil_v1_ImageMatchesResponse, _vigil_v1_ImageMatchesRequest__Output, _vigil_v1_ImageMatchesResponse__Output>
  ImportAdvisories: MethodDefinition<_vigil_v1_ImportAdvisoriesRequest, _vigil_v1_ImportAdvisoriesResponse, _vigil_v1_ImportAdvisoriesRequest__Output, _vigil_v1_ImportAdvisoriesResponse__Output>
  ListAdvisories: MethodDefinition<_vigil_v1_ListAdvisoriesRequest, _vigil_v1_ListAdvisoriesResponse, _vigil_v1_ListAdvisoriesRequest__Output, _vigil_v1_ListAdvisoriesResponse__Output>
  ListTickets: MethodDefinition<_vigil_v1_ListTicketsRequest, _vigil_v1_ListTicketsResponse, _vigil_v1_ListTicketsRequest__Output, _vigil_v1_ListTicketsResponse__Output>
  Quarantine: MethodDefinition<_vigil_v1_QuarantineRequest, _vigil_v1_QuarantineResponse, _vigil_v1_QuarantineRequest__Output, _vigil_v1_QuarantineResponse__Output>
}
