// Keeps the kernel's cgroups map (cgroup id -> workload index) in step with
// what the identity sources say: every cgroup at start, each new cgroup as
// the kernel reports its mkdir, and the cgroups of a pod again when the pod
// becomes known or changes. Addresses of other nodes' workloads (the control
// plane's identity map) join this node's for destination rules.
//
// The kernel gives a cgroup that is not in the map its nearest mapped
// ancestor's scope (bpf/lib/common.h cgroup_lookup), so a cgroup gets an
// entry only when it names a workload other than that ancestor's: the
// cgroups a workload creates below itself cost nothing, and cannot fill the
// map. A map that is full anyway (more distinct workloads than its size,
// --max-cgroups) is counted and logged; the cgroup keeps its ancestor's
// scope, and nothing else is lost.
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
  /** a cgroup could not be put in the kernel's map (full: E2BIG, or another refusal) */
  onMapError?(path: string, err: unknown): void;
  /** handling one cgroup event threw: counted by the caller; the rest of the batch goes on */
  onError?(ev: KernelEvent, err: unknown): void;
  /** an identity change was applied (after the cgroups of its pods were mapped again) */
  onApplied(c: IdentityChange, newWorkload: boolean): void;
}

/** Identity changes arrive in bursts (a pod list): applied together this long after the first. */
const BATCH_MS = 20;

export class CgroupSync {
  /** pod UID or container id -> the cgroups seen for it (remapped when the pod becomes known) */
  private readonly podCgroups = new Map<string, Map<number, string>>();
  /** what we wrote into the kernel's map: cgroup path -> its id and workload index */
  private readonly mapped = new Map<string, { id: number; workload: number }>();
  private readonly pathOf = new Map<number, string>();
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
    const workload = this.o.workloads.index(info.spiffeId);
    const own = this.mapped.get(rel);
    // the kernel already gives it this workload through an ancestor: no entry of its own
    if (own?.workload !== workload && !(own === undefined && this.inherited(rel) === workload)) {
      try {
        this.o.setCgroup(id, workload);
        this.mapped.set(rel, { id, workload });
        this.pathOf.set(id, rel);
      } catch (err) {
        this.o.onMapError?.(rel, err);
      }
    }
    return this.o.workloads.size !== before;
  }

  /** The workload the kernel gives a cgroup path through its nearest mapped ancestor (0: none). */
  inherited(rel: string): number {
    for (let p = parentOf(rel); p !== null; p = parentOf(p)) {
      const m = this.mapped.get(p);
      if (m) return m.workload;
    }
    return 0;
  }

  /**
   * For processes (pid, cgroup path): the workload the kernel scopes them to, and the
   * mapped cgroup that gives it (their own, or their nearest mapped ancestor) with its level.
   */
  *origins(procs: Iterable<{ pid: number; cgroup: string }>): Generator<{ pid: number; cgroupId: number; workload: number; level: number }> {
    for (const p of procs) {
      for (let rel: string | null = p.cgroup; rel !== null; rel = parentOf(rel)) {
        const m = this.mapped.get(rel);
        if (!m) continue;
        if (m.workload) yield { pid: p.pid, cgroupId: m.id, workload: m.workload, level: rel === '/' ? 0 : rel.split('/').length - 1 };
        break;
      }
    }
  }

  /** Whether this agent wrote the map entry of this cgroup id. */
  owns(id: number): boolean {
    return this.pathOf.has(id);
  }

  /** Entries this agent has in the kernel's map. */
  get entries(): number {
    return this.mapped.size;
  }

  /** The kernel removed a mapped cgroup's entry (rmdir): forget it here too. */
  private forget(id: number): void {
    const rel = this.pathOf.get(id);
    if (rel === undefined) return;
    this.pathOf.delete(id);
    if (this.mapped.get(rel)?.id === id) this.mapped.delete(rel);
  }

  /** The cgroups created since the last batch (the kernel's path at mkdir; by id when it did not fit). */
  onEvents(evs: readonly KernelEvent[]): void {
    let newWorkload = false;
    for (const ev of evs) {
      if (ev.kind !== 'cgroup') continue;
      try {
        if (ev.removed) {
          this.forget(ev.id);
          continue;
        }
        let rel = ev.path;
        if (rel !== null) this.o.identity.remember(ev.id, rel);
        else rel = this.o.identity.forCgroup(ev.id).cgroup;
        if (rel !== null) newWorkload = this.map(ev.id, rel) || newWorkload;
      } catch (err) {
        this.o.onError?.(ev, err);
      }
    }
    if (newWorkload) {
      try {
        this.o.rewriteKernelRules();
      } catch (err) {
        // the rules in force stay; the next change tries again
        this.o.onMapError?.('(rules for the new workloads)', err);
      }
    }
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

/** "/a/b" -> "/a", "/a" -> "/", "/" -> null */
function parentOf(rel: string): string | null {
  if (rel === '/' || rel === '') return null;
  const i = rel.lastIndexOf('/');
  return i <= 0 ? '/' : rel.slice(0, i);
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
