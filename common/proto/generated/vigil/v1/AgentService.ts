// Original file: proto/vigil/v1/vigil.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _vigil_v1_AgentMessage, AgentMessage__Output as _vigil_v1_AgentMessage__Output } from '../../vigil/v1/AgentMessage';
import type { ControlMessage as _vigil_v1_ControlMessage, ControlMessage__Output as _vigil_v1_ControlMessage__Output } from '../../vigil/v1/ControlMessage';

export interface AgentServiceClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_vigil_v1_AgentMessage, _vigil_v1_ControlMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_vigil_v1_AgentMessage, _vigil_v1_ControlMessage__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_vigil_v1_AgentMessage, _vigil_v1_ControlMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_vigil_v1_AgentMessage, _vigil_v1_ControlMessage__Output>;
  
}

export interface AgentServiceHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_vigil_v1_AgentMessage__Output, _vigil_v1_ControlMessage>;
  
}

export interface AgentServiceDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_vigil_v1_AgentMessage, _vigil_v1_ControlMessage, _vigil_v1_AgentMessage__Output, _vigil_v1_ControlMessage__Output>
}
