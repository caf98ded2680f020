// The agent's per-event path, in the order of the stages (ARCHITECTURE's
// data flow, Tracee's decodeEvents -> matchPolicies -> ... -> sinkEvents):
//
//   process   keep the process cache (fork, exec, exit)
//   workload  the event's cgroup -> SPIFFE ID (and the destination's, for connects)
//   rules     the precompiled rules of that kind
//   enforce   what the kernel did, and the user-space kill it could not do
//   export    one alert per matching rule, to the sink the agent gives
//
// Decoding happened before (kernel/probe hands decoded batches), delivery
// after (export/enrichment, spool, uplink): this file holds no I/O.
import type { KernelEvent } from './decode/events';
import { buildAlert, type Alert } from './export/alert';
import { traceRecord, type FormatOptions } from './export/trace-record';
import { Enforcer, type RuleOutcome } from './enforce/enforcer';
import type { KillResult } from './enforce/user-kill';
import { eventIdentity, type DirName } from './enforce/protected-dirs';
import { Flag, ProcFlag } from './kernel/abi';
import type { WallClock } from './kernel/clock';
import type { ProcessCache, ProcessInfo } from './process/process-cache';
import type { CompiledRule, EvalContext, RuleSet } from './rules/compile';
import type { IdentityResolver } from './workload/resolver';
import type { FileId } from './enforce/file-ids';

export interface PipelineStats {
  events: number;
  /** events whose handling threw (each counted, the batch went on) */
  errors: number;
  evaluated: number;
  /** set*id calls that failed or changed no id: not judged (unless the kernel already enforced a rule on them) */
  setidUnchanged: number;
  alerts: number;
  exempted: number;
  kernelKills: number;
  userKills: number;
  killFailures: number;
  denials: number;
}

export interface PipelineOptions {
  node: string;
  clock: WallClock;
  processes: ProcessCache;
  identity: IdentityResolver;
  onAlert: (a: Alert) => void;
  /** called with the latency from the event to the process's death (ns) for every user-space kill */
  onUserKill?: (latencyNs: bigint, result: KillResult) => void;
  /** the SPIFFE ID of a kernel workload index (a task that left its workload is judged as that workload) */
  workloadName?: (index: number) => string | undefined;
  /** an event whose handling threw: counted and reported by the caller; the rest of the batch goes on */
  onError?: (ev: KernelEvent, err: unknown) => void;
  /** a protected directory's rule name by its identity (file events name the one they are in) */
  dirName?: DirName;
  /** the names rules give a file ((device, inode)): a binary by any other name (agent/enforce/file-ids.ts) */
  aliases?: (id: FileId) => readonly string[];
}

type JudgedEvent = Exclude<KernelEvent, { kind: 'cgroup' | 'fork' | 'exit' }>;

export class Pipeline {
  private rules: RuleSet;
  private readonly counts = { events: 0, errors: 0, evaluated: 0, setidUnchanged: 0, alerts: 0, exempted: 0 };
  private readonly enforcer: Enforcer;
  private readonly fmt: FormatOptions;
  /** cgroup id -> when its first process started (CLOCK_BOOTTIME ns), for drift */
  private readonly cgroupStarts = new Map<number, bigint>();

  constructor(
    rules: RuleSet,
    private readonly o: PipelineOptions,
  ) {
    this.rules = rules;
    this.enforcer = new Enforcer(o.onUserKill);
    this.fmt = {
      clock: o.clock,
      processes: o.processes,
      cgroupPath: (id) => o.identity.forCgroup(id).cgroup,
      dirName: o.dirName,
    };
  }

  get stats(): PipelineStats {
    return { ...this.counts, ...this.enforcer.stats };
  }

  setRules(rules: RuleSet): void {
    this.rules = rules;
  }

  getRules(): RuleSet {
    return this.rules;
  }

  /** Each event on its own: one that throws is reported (onError) and the batch goes on. */
  handle(events: readonly KernelEvent[]): void {
    for (const ev of events) {
      try {
        this.one(ev);
      } catch (err) {
        this.counts.errors++;
        this.o.onError?.(ev, err);
      }
    }
  }

  private one(ev: KernelEvent): void {
    this.counts.events++;
    if (ev.kind === 'cgroup') {
      if (ev.removed) this.cgroupStarts.delete(ev.id);
      else this.cgroupStarts.set(ev.id, ev.ktimeNs);
      return;
    }
    if (ev.kind === 'fork' || ev.kind === 'exit') {
      this.o.processes.observe(ev);
      return;
    }
    // an exec changes what the process is before rules look at it
    if (ev.kind === 'exec') this.o.processes.observe(ev);
    // a set*id call matters when it changed an id (runc's set-up of a root container changes none)
    if (ev.kind === 'setuid' && !this.o.processes.setidChanged(ev) && !(ev.flags & Flag.ENFORCED)) {
      this.counts.setidUnchanged++;
      return;
    }
    this.judge(ev);
  }

  /** workload -> rules -> enforce -> alerts, for one event. */
  private judge(ev: JudgedEvent): void {
    const proc: ProcessInfo | undefined = this.o.processes.get(ev.pid);
    const ppid = ev.kind === 'exec' ? ev.ppid : proc?.ppid;
    const parent = ppid !== undefined ? this.o.processes.get(ppid) : undefined;
    let workload = this.o.identity.forCgroup(ev.cgroupId);
    // it left its workload's cgroup subtree: the kernel judges it as that workload, so do we
    if (ev.procFlags & ProcFlag.MOVED && ev.workload) {
      const origin = this.o.workloadName?.(ev.workload);
      if (origin) workload = { ...workload, spiffeId: origin, moved: true };
    }
    let chain: string[] | undefined;
    const ctx: EvalContext = {
      ev,
      exe: ev.kind === 'exec' ? ev.exe : (proc?.exe ?? null),
      args: ev.kind === 'exec' ? ev.args : (proc?.args ?? null),
      parentExe: parent?.exe ?? null,
      spiffeId: workload.spiffeId,
      destSpiffeId: ev.kind === 'connect' ? this.o.identity.forAddress(ev.daddr) : null,
      // only drift looks at it, and finding it may read /proc
      workloadStartNs: ev.kind === 'exec' && this.rules.usesDrift ? this.workloadStart(workload.cgroup, ev.cgroupId, ev.startNs) : null,
      // the name the process was exec'd by (a thread's own name, set with prctl, is not the process's)
      name: ev.kind === 'exec' ? ev.comm : (proc?.comm ?? ev.comm),
      parentArgs: parent?.args ?? null,
      // a file in a protected directory, named by it (a chroot, a bind mount, a clone, a path cut)
      identity: eventIdentity(ev, this.o.dirName),
      ancestors: () => (chain ??= this.o.processes.ancestors(ev.pid).map((p) => p.exe)),
      image: workload.image,
    };
    // a binary by any other name: the names rules give the same (device, inode)
    const aliases = this.o.aliases;
    if (aliases) {
      const exeId: FileId | null = ev.kind === 'exec' ? { dev: ev.exeDev, ino: ev.exeIno } : proc ? this.o.processes.exeIdOf(proc) : null;
      const parentId = parent ? this.o.processes.exeIdOf(parent) : null;
      if (exeId) ctx.exeAliases = aliases(exeId);
      if (parentId) ctx.parentAliases = aliases(parentId);
    }
    this.counts.evaluated++;
    const hits: CompiledRule[] = [];
    for (const m of this.rules.evaluate(ctx)) {
      if (m.exemptedBy) this.counts.exempted++;
      else hits.push(m.rule);
    }
    // the kernel killed by a rule user space did not match (a name or identity it learned since): the kill is still said
    const kernelRule = (ev.flags & Flag.ENFORCED) && 'rule' in ev && ev.kind !== 'connect' ? ev.rule : 0;
    if (kernelRule && !hits.some((r) => r.id === kernelRule)) {
      const r = this.rules.rules.find((x) => x.id === kernelRule);
      if (r && r.kind === ev.kind && r.action === 'kill') hits.push(r);
    }
    const guard = networkGuard(ev);
    if (hits.length === 0 && !guard) return;

    const outcomes = this.enforcer.decide(ev, hits, proc?.startNs ?? (ev.kind === 'exec' ? ev.startNs : null));
    const event = traceRecord(ev, this.fmt);
    const process: Alert['process'] = {
      pid: ev.pid,
      ppid: ppid ?? null,
      exe: ctx.exe,
      args: ctx.args ? [...ctx.args] : null,
      uid: ev.uid,
      exec_id: proc?.execId ?? null,
      parent_exe: ctx.parentExe,
    };
    hits.forEach((r, i) => {
      this.counts.alerts++;
      this.o.onAlert(buildAlert(r, outcomes[i], this.o.node, workload, { ...process, args: process.args ? [...process.args] : null }, event));
    });
    if (guard) {
      this.counts.alerts++;
      this.o.onAlert(buildAlert(guard.rule, guard.outcome, this.o.node, workload, process, event));
    }
  }

  /** When the cgroup's workload started, CLOCK_REALTIME ns: its creation, or its oldest process. */
  private workloadStart(path: string | null, cgroupId: number, fallbackNs: bigint): bigint {
    let start = this.cgroupStarts.get(cgroupId);
    if (start === undefined) {
      start = (path !== null ? this.o.processes.earliestStartIn(path) : null) ?? fallbackNs;
      if (this.cgroupStarts.size > 65536) this.cgroupStarts.clear();
      this.cgroupStarts.set(cgroupId, start);
    }
    return this.o.clock.wallNs(start);
  }
}

/**
 * The kernel's own network guard (no rule of the pack): a workload that has
 * connect refusals was refused a raw inet socket (EPERM at cgroup/sock_create)
 * or killed for holding a packet socket (made by socket(2) or by an io_uring
 * request). The record says ENFORCED with rule 0.
 */
const AF_PACKET = 17;

export const NETWORK_GUARD = {
  name: 'vigil:network-guard',
  priority: 'critical',
  tags: ['network', 'evasion', 'mitre_command_and_control'],
} as const;

function networkGuard(ev: JudgedEvent): { rule: Pick<CompiledRule, 'name' | 'priority' | 'action' | 'tags'>; outcome: RuleOutcome } | null {
  if (!(ev.flags & Flag.ENFORCED) || !('rule' in ev) || ev.rule !== 0) return null;
  // a packet socket made through io_uring (IORING_OP_SOCKET) is the same guard
  if (ev.kind !== 'socket' && !(ev.kind === 'io_uring' && ev.family === AF_PACKET)) return null;
  const killed = ev.family === AF_PACKET;
  return {
    rule: { ...NETWORK_GUARD, tags: [...NETWORK_GUARD.tags], action: killed ? 'kill' : 'deny' },
    outcome: killed
      ? { outcome: 'killed', note: 'killed in the kernel at syscall exit: a workload with connect refusals may not hold a packet socket' }
      : { outcome: 'denied', note: 'socket() refused with EPERM: a workload with connect refusals may not open a raw socket' },
  };
}

