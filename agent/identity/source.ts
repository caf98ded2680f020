// Where workload identities come from: one interface for every source
// (static file now; Kubernetes and SPIRE later).
import type { Cidr } from '../net/cidr';
import type { CgroupIdentity } from './cgroup-path';

/** What identity sources are asked: a cgroup at event time. */
export interface CgroupFacts extends CgroupIdentity {
  /** relative to the cgroup v2 root, starting with "/" */
  path: string;
}

export interface AddressIdentity {
  cidr: Cidr;
  spiffeId: string;
}

export interface IdentitySource {
  readonly name: string;
  /** The SPIFFE ID of the workload a cgroup belongs to, or null (host, or unknown). */
  spiffeIdFor(cg: CgroupFacts): string | null;
  /** Addresses that belong to workloads (for destination rules). */
  addresses(): readonly AddressIdentity[];
  /** Every SPIFFE ID this source can name right now. */
  spiffeIds(): readonly string[];
}
