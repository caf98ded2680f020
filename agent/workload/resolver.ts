// Event -> workload: cgroup id -> cgroup path -> container id / pod UID ->
// SPIFFE ID, at event time (a process moved to another cgroup takes that
// cgroup's identity), cached per cgroup id. When a source learns more (a pod
// appears, a container's status is posted), the cached entries of that pod are
// resolved again from the path captured at event time, so a cgroup that is
// already gone still gets its identity.
import type { CgroupResolver } from '../kernel/cgroupfs';
import { parseIp, cidrContains } from '../../common/cidr';
import { parseCgroupPath } from './cgroup-path';
import type { AddressIdentity, CgroupFacts, IdentityChange, IdentitySource, KubernetesMeta } from './source';
import type { ImageRef } from '../../common/image-ref';

export interface WorkloadInfo {
  spiffeId: string | null;
  cgroupId: number;
  /** relative to the cgroup v2 root, null once the cgroup is gone */
  cgroup: string | null;
  containerId: string | null;
  podUid: string | null;
  /** the pod and container, when the source is Kubernetes and knows them */
  kubernetes: KubernetesMeta | null;
  /** the container image (identities file `image:`, or the Kubernetes container status), null when unknown */
  image: ImageRef | null;
  /** the process left this workload's cgroup subtree; spiffeId is the workload it left (kept for rules) */
  moved?: boolean;
}

export class IdentityResolver {
  private readonly byCgroup = new Map<number, WorkloadInfo>();
  private readonly byAddress = new Map<string, string | null>();

  constructor(
    private readonly source: IdentitySource,
    private readonly cgroups: CgroupResolver,
  ) {}

  private remote: AddressIdentity[] = [];

  /** Workload addresses: this node's source's and the other nodes' (the control plane's identity map). */
  addresses(): AddressIdentity[] {
    return [...this.source.addresses(), ...this.remote];
  }

  /** Addresses of workloads on other nodes (the control plane's identity map). */
  setRemoteAddresses(list: AddressIdentity[]): void {
    this.remote = list;
    this.byAddress.clear();
  }

  getSource(): IdentitySource {
    return this.source;
  }

  /** The path of a new cgroup as the kernel named it at mkdir (it may be gone by the time we ask). */
  remember(cgroupId: number, path: string): void {
    this.cgroups.remember(cgroupId, path);
  }

  /** What a cgroup path says, without caching (new cgroups, scans). */
  forPath(cgroupId: number, path: string): WorkloadInfo {
    const facts: CgroupFacts = { ...parseCgroupPath(path), path };
    return {
      spiffeId: this.source.spiffeIdFor(facts),
      cgroupId,
      cgroup: path,
      containerId: facts.containerId,
      podUid: facts.podUid,
      kubernetes: this.source.metaFor?.(facts) ?? null,
      image: this.source.imageFor?.(facts) ?? null,
    };
  }

  /** True when the source may still learn who owns this cgroup path (a pod not seen yet). */
  pending(path: string | null): boolean {
    if (path === null || !this.source.pending) return false;
    return this.source.pending({ ...parseCgroupPath(path), path });
  }

  /** The source learned something: resolve the cached cgroups of those pods and containers again. */
  refresh(c: IdentityChange): void {
    if (c.addresses) this.byAddress.clear();
    for (const [id, info] of this.byCgroup) {
      if (info.cgroup === null) continue;
      const hit =
        (info.podUid !== null && c.podUids.has(info.podUid)) ||
        (info.containerId !== null && c.containerIds.has(info.containerId)) ||
        (info.kubernetes !== null && c.podUids.has(info.kubernetes.pod_uid));
      if (hit) this.byCgroup.set(id, this.forPath(id, info.cgroup));
    }
  }

  forCgroup(cgroupId: number): WorkloadInfo {
    const hit = this.byCgroup.get(cgroupId);
    if (hit) return hit;
    const path = this.cgroups.resolve(cgroupId);
    const info: WorkloadInfo =
      path === null ? { spiffeId: null, cgroupId, cgroup: null, containerId: null, podUid: null, kubernetes: null, image: null } : this.forPath(cgroupId, path);
    if (this.byCgroup.size > 65536) this.byCgroup.clear();
    this.byCgroup.set(cgroupId, info);
    return info;
  }

  /** The workload that owns a destination address, or null. */
  forAddress(addr: string): string | null {
    const hit = this.byAddress.get(addr);
    if (hit !== undefined) return hit;
    const ip = parseIp(addr);
    let found: string | null = null;
    if (ip) {
      let best = -1;
      for (const a of this.addresses()) {
        if (a.cidr.prefix > best && cidrContains(a.cidr, ip.family, ip.addr)) {
          best = a.cidr.prefix;
          found = a.spiffeId;
        }
      }
    }
    if (this.byAddress.size > 65536) this.byAddress.clear();
    this.byAddress.set(addr, found);
    return found;
  }
}
