// Original file: proto/vigil/v1/vigil.proto

import type { KernelCapabilities as _vigil_v1_KernelCapabilities, KernelCapabilities__Output as _vigil_v1_KernelCapabilities__Output } from '../../vigil/v1/KernelCapabilities';
import type { Long } from '@grpc/proto-loader';

export interface Hello {
  'node'?: (string);
  'boot_id'?: (string);
  'version'?: (string);
  'capabilities'?: (_vigil_v1_KernelCapabilities | null);
  'policy_version'?: (number | string | Long);
  'highest_policy_version'?: (number | string | Long);
  'max_policy_bytes'?: (number | string | Long);
  'checkpoint_size'?: (number | string | Long);
}

export interface Hello__Output {
  'node': (string);
  'boot_id': (string);
  'version': (string);
  'capabilities': (_vigil_v1_KernelCapabilities__Output | null);
  'policy_version': (string);
  'highest_policy_version': (string);
  'max_policy_bytes': (string);
  'checkpoint_size': (string);
}
