// Original file: proto/vigil/v1/vigil.proto

import type { KernelCapabilities as _vigil_v1_KernelCapabilities, KernelCapabilities__Output as _vigil_v1_KernelCapabilities__Output } from '../../vigil/v1/KernelCapabilities';
import type { Long } from '@grpc/proto-loader';

export interface AgentRow {
  'node'?: (string);
  'spiffe_id'?: (string);
  'boot_id'?: (string);
  'version'?: (string);
  'connected'?: (boolean);
  'last_seen_unix_nano'?: (number | string | Long);
  'policy_version'?: (number | string | Long);
  'policy_error'?: (string);
  'capabilities'?: (_vigil_v1_KernelCapabilities | null);
}

export interface AgentRow__Output {
  'node': (string);
  'spiffe_id': (string);
  'boot_id': (string);
  'version': (string);
  'connected': (boolean);
  'last_seen_unix_nano': (string);
  'policy_version': (string);
  'policy_error': (string);
  'capabilities': (_vigil_v1_KernelCapabilities__Output | null);
}
