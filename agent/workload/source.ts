// Where workload identities come from: one interface for every source
// (the static identities file, the Kubernetes pods of this node).
import type { Cidr } from '../../common/cidr';
import type { ImageRef } from '../../common/image-ref';
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

/** What Kubernetes says about the pod and container of a cgroup (alerts carry it as workload.kubernetes). */
export interface KubernetesMeta {
  namespace: string;
  pod: string;
  pod_uid: string;
  service_account: string;
  /** null when the cgroup is the pod's own (or its sandbox) or the container's status is not posted yet */
  container: string | null;
  image: string | null;
}

/** What changed in a source: the pods (UIDs) whose identity or metadata changed, and whether addresses did. */
export interface IdentityChange {
  podUids: ReadonlySet<string>;
  containerIds: ReadonlySet<string>;
  addresses: boolean;
}

export interface IdentitySource {
  readonly name: string;
  /** The SPIFFE ID of the workload a cgroup belongs to, or null (host, or unknown). */
  spiffeIdFor(cg: CgroupFacts): string | null;
  /** Addresses that belong to workloads (for destination rules). */
  addresses(): readonly AddressIdentity[];
  /** Every SPIFFE ID this source can name right now. */
  spiffeIds(): readonly string[];
  /** Kubernetes metadata of a cgroup's pod and container (sources that know it). */
  metaFor?(cg: CgroupFacts): KubernetesMeta | null;
  /** The container image a cgroup runs (name and digest), for sources that know it. */
  imageFor?(cg: CgroupFacts): ImageRef | null;
  /** True when a cgroup belongs to a pod or container this source may still learn about (enrichment waits for it). */
  pending?(cg: CgroupFacts): boolean;
  /** Be told when identities change (sources that change at run time). */
  subscribe?(cb: (c: IdentityChange) => void): void;
  /** Stop watching (sources that watch). */
  close?(): Promise<void>;
}
