// Keeps the kernel's cgroups map (cgroup id -> workload index) in step with
// what the identity sources say: every cgroup at start, each new cgroup as
// the kernel reports its mkdir, and the cgroups of a pod again when the pod
// becomes known or changes. Addresses of other nodes' workloads (the control
// plane's identity map) join this node's for destination rules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCidr } from '../../common/cidr';
import type { KernelEvent } from '../decode/events';
import { cgroupIdOf, cgroupTree } from '../kernel/cgroupfs';
import type { IdentityResolver } from './resolver';
import type { AddressIdentity, IdentityChange } from './source';
import type { WorkloadTable } from './workload-table';

export interface CgroupSyncOptions {
  /** the cgroup v2 mount */
  root: string;
  identity: IdentityResolver;
  workloads: WorkloadTable;
  /** put one cgroup in the kernel's map */
  setCgroup(id: number, workload: number): void;
  /** the kernel must be told of new workloads or addresses: write the rules again */
  rewriteKernelRules(): void;
  /** an identity change was applied (after the cgroups of its pods were mapped again) */
  onApplied(c: IdentityChange, newWorkload: boolean): void;
}

/** Identity changes arrive in bursts (a pod list): applied together this long after the first. */
const BATCH_MS = 20;

export class CgroupSync {
  /** pod UID or container id -> the cgroups seen for it (remapped when the pod becomes known) */
  private readonly podCgroups = new Map<string, Map<number, string>>();
  private pending: { podUids: Set<string>; containerIds: Set<string>; addresses: boolean } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: CgroupSyncOptions) {}

  /** Every cgroup that exists now, with its workload, into the kernel's map. */
  scan(): void {
    const root = this.o.root;
    for (const dir of cgroupTree(root)) {
      const rel = dir === root ? '/' : dir.slice(root.length);
      let id: number;
      try {
        id = cgroupIdOf(dir);
      } catch {
        continue; // removed while we walked
      }
      this.map(id, rel);
    }
  }

  /** Returns true when the cgroup named a workload the kernel did not know yet. */
  map(id: number, rel: string): boolean {
    const info = this.o.identity.forPath(id, rel);
    // a pod's cgroups, so that they are mapped when the pod becomes known (or changes)
    for (const key of [info.podUid, info.containerId]) {
      if (key === null) continue;
      let m = this.podCgroups.get(key);
      if (!m) this.podCgroups.set(key, (m = new Map()));
      m.set(id, rel);
    }
    if (!info.spiffeId) return false;
    const before = this.o.workloads.size;
    this.o.setCgroup(id, this.o.workloads.index(info.spiffeId));
    return this.o.workloads.size !== before;
  }

  /** The cgroups created since the last batch (the kernel's path at mkdir; by id when it did not fit). */
  onEvents(evs: readonly KernelEvent[]): void {
    let newWorkload = false;
    for (const ev of evs) {
      if (ev.kind !== 'cgroup') continue;
      let rel = ev.path;
      if (rel !== null) this.o.identity.remember(ev.id, rel);
      else rel = this.o.identity.forCgroup(ev.id).cgroup;
      if (rel !== null) newWorkload = this.map(ev.id, rel) || newWorkload;
    }
    if (newWorkload) this.o.rewriteKernelRules();
  }

  /** A source learned something (a pod appeared, changed, went): batched, then applied. */
  changed(c: IdentityChange): void {
    const acc = (this.pending ??= { podUids: new Set(), containerIds: new Set(), addresses: false });
    for (const u of c.podUids) acc.podUids.add(u);
    for (const id of c.containerIds) acc.containerIds.add(id);
    acc.addresses ||= c.addresses;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const todo = this.pending;
      this.pending = null;
      if (todo && !this.closed) this.apply(todo);
    }, BATCH_MS);
  }

  private apply(c: IdentityChange): void {
    this.o.identity.refresh(c);
    let newWorkload = false;
    for (const key of [...c.podUids, ...c.containerIds]) {
      const m = this.podCgroups.get(key);
      if (!m) continue;
      for (const [id, rel] of m) {
        if (!fs.existsSync(path.join(this.o.root, rel))) m.delete(id);
        else newWorkload = this.map(id, rel) || newWorkload;
      }
      if (m.size === 0) this.podCgroups.delete(key);
    }
    this.o.onApplied(c, newWorkload);
  }

  /** The control plane's identity map: the addresses of other nodes' workloads. */
  setRemoteAddresses(entries: readonly { cidr: string; spiffe_id: string; node: string }[], self: string): void {
    const list: AddressIdentity[] = [];
    for (const e of entries) {
      if (e.node === self) continue; // ours are already known
      const c = parseCidr(e.cidr);
      if (c) list.push({ cidr: c, spiffeId: e.spiffe_id });
    }
    this.o.identity.setRemoteAddresses(list);
    for (const a of list) this.o.workloads.index(a.spiffeId);
    this.o.rewriteKernelRules();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * True when we see init's cgroup above our cgroup namespace's root (a container's private
 * namespace, with the host's PIDs): /proc/1/cgroup then reads "0::/../..".
 */
export function privateCgroupNamespace(init1 = (): string => fs.readFileSync('/proc/1/cgroup', 'utf8')): boolean {
  try {
    return /^0::\/\.\.(\/|$)/m.test(init1());
  } catch {
    return false;
  }
}
