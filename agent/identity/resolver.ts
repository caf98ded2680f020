// Event -> workload: cgroup id -> cgroup path -> container id / pod UID ->
// SPIFFE ID, at event time (a process moved to another cgroup takes that
// cgroup's identity), cached per cgroup id.
import type { CgroupResolver } from '../cgroup';
import { parseIp, cidrContains } from '../net/cidr';
import { parseCgroupPath } from './cgroup-path';
import type { AddressIdentity, IdentitySource } from './source';

export interface WorkloadInfo {
  spiffeId: string | null;
  cgroupId: number;
  /** relative to the cgroup v2 root, null once the cgroup is gone */
  cgroup: string | null;
  containerId: string | null;
  podUid: string | null;
}

export class IdentityResolver {
  private readonly byCgroup = new Map<number, WorkloadInfo>();
  private readonly byAddress = new Map<string, string | null>();

  constructor(
    private source: IdentitySource,
    private readonly cgroups: CgroupResolver,
  ) {}

  private remote: AddressIdentity[] = [];

  /** Addresses of workloads on other nodes (the control plane's identity map). */
  setRemoteAddresses(list: AddressIdentity[]): void {
    this.remote = list;
    this.byAddress.clear();
  }

  setSource(source: IdentitySource): void {
    this.source = source;
    this.byCgroup.clear();
    this.byAddress.clear();
  }

  getSource(): IdentitySource {
    return this.source;
  }

  /** What a cgroup path says, without caching (new cgroups, scans). */
  forPath(cgroupId: number, path: string): WorkloadInfo {
    const facts = parseCgroupPath(path);
    return {
      spiffeId: this.source.spiffeIdFor({ ...facts, path }),
      cgroupId,
      cgroup: path,
      containerId: facts.containerId,
      podUid: facts.podUid,
    };
  }

  forCgroup(cgroupId: number): WorkloadInfo {
    const hit = this.byCgroup.get(cgroupId);
    if (hit) return hit;
    const path = this.cgroups.resolve(cgroupId);
    const info: WorkloadInfo =
      path === null ? { spiffeId: null, cgroupId, cgroup: null, containerId: null, podUid: null } : this.forPath(cgroupId, path);
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
      for (const a of [...this.source.addresses(), ...this.remote]) {
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
