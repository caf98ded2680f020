// The agent's per-event work: keep the process cache, find the workload,
// match the rules, carry out what the kernel could not, and say what
// happened as alerts.
import { Flag } from './kernel/abi';
import { alertSentence, type Alert, type Outcome } from './export/alert';
import type { WallClock } from './kernel/clock';
import { userKill, type KillResult } from './enforce/user-kill';
import type { KernelEvent } from './decode/events';
import { traceRecord, type FormatOptions } from './export/trace-record';
import type { IdentityResolver } from './workload/resolver';
import { native } from './kernel/native';
import type { ProcessCache, ProcessInfo } from './process/process-cache';
import type { CompiledRule, EvalContext, RuleSet } from './rules/compile';
import type { RuleKind } from './rules/spec';

export interface EngineStats {
  events: number;
  evaluated: number;
  alerts: number;
  exempted: number;
  kernelKills: number;
  userKills: number;
  killFailures: number;
  denials: number;
}

export interface EngineOptions {
  node: string;
  clock: WallClock;
  processes: ProcessCache;
  identity: IdentityResolver;
  onAlert: (a: Alert) => void;
  /** called with the latency from the event to the process's death (ns) for every user-space kill */
  onUserKill?: (latencyNs: bigint, result: KillResult) => void;
}

const FILE_KINDS: ReadonlySet<string> = new Set(['open', 'unlink', 'rename', 'chmod']);

function kernelNote(kind: RuleKind, outcome: Outcome): string | undefined {
  if (outcome !== 'killed') return undefined;
  if (kind === 'exec') return 'killed in the kernel at exec: the new program never ran';
  if (FILE_KINDS.has(kind) || kind === 'ptrace' || kind === 'setuid' || kind === 'mount' || kind === 'module') {
    return `killed in the kernel at syscall exit: the ${kind} itself completed (no BPF LSM on this kernel)`;
  }
  return undefined;
}

export class Engine {
  private rules: RuleSet;
  readonly stats: EngineStats = {
    events: 0,
    evaluated: 0,
    alerts: 0,
    exempted: 0,
    kernelKills: 0,
    userKills: 0,
    killFailures: 0,
    denials: 0,
  };
  private readonly fmt: FormatOptions;
  /** cgroup id -> when its first process started (CLOCK_BOOTTIME ns), for drift */
  private readonly cgroupStarts = new Map<number, bigint>();

  constructor(
    rules: RuleSet,
    private readonly o: EngineOptions,
  ) {
    this.rules = rules;
    this.fmt = {
      clock: o.clock,
      processes: o.processes,
      cgroupPath: (id) => o.identity.forCgroup(id).cgroup,
    };
  }

  setRules(rules: RuleSet): void {
    this.rules = rules;
  }

  getRules(): RuleSet {
    return this.rules;
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

  handle(events: KernelEvent[]): void {
    for (const ev of events) {
      this.stats.events++;
      if (ev.kind === 'cgroup') {
        this.cgroupStarts.set(ev.id, ev.ktimeNs);
        continue;
      }
      if (ev.kind === 'fork' || ev.kind === 'exit') {
        this.o.processes.observe(ev);
        continue;
      }
      // an exec changes what the process is before rules look at it
      if (ev.kind === 'exec') this.o.processes.observe(ev);
      this.evaluate(ev);
    }
  }

  private evaluate(ev: Exclude<KernelEvent, { kind: 'cgroup' | 'fork' | 'exit' }>): void {
    const proc: ProcessInfo | undefined = this.o.processes.get(ev.pid);
    const ppid = ev.kind === 'exec' ? ev.ppid : proc?.ppid;
    const parent = ppid !== undefined ? this.o.processes.get(ppid) : undefined;
    const workload = this.o.identity.forCgroup(ev.cgroupId);
    const ctx: EvalContext = {
      ev,
      exe: ev.kind === 'exec' ? ev.exe : (proc?.exe ?? null),
      args: ev.kind === 'exec' ? ev.args : (proc?.args ?? null),
      parentExe: parent?.exe ?? null,
      spiffeId: workload.spiffeId,
      destSpiffeId: ev.kind === 'connect' ? this.o.identity.forAddress(ev.daddr) : null,
      // only drift looks at it, and finding it may read /proc
      workloadStartNs: ev.kind === 'exec' && this.rules.usesDrift ? this.workloadStart(workload.cgroup, ev.cgroupId, ev.startNs) : null,
    };
    this.stats.evaluated++;
    const matches = this.rules.evaluate(ctx);
    if (matches.length === 0) return;
    const hits: CompiledRule[] = [];
    for (const m of matches) {
      if (m.exemptedBy) this.stats.exempted++;
      else hits.push(m.rule);
    }
    if (hits.length === 0) return;

    // what the kernel already did
    const enforced = (ev.flags & Flag.ENFORCED) !== 0;
    const enforceFailed = (ev.flags & Flag.ENFORCE_FAILED) !== 0;
    const killRules = hits.filter((r) => r.action === 'kill');
    let killOutcome: { outcome: Outcome; reason?: string; kernel: boolean } | null = null;
    if (killRules.length) {
      if (enforced && ev.kind !== 'connect') {
        killOutcome = { outcome: 'killed', kernel: true };
        this.stats.kernelKills++;
      } else {
        // the strongest action applies once, whatever the number of kill rules
        const r = userKill(ev.pid, proc?.startNs ?? (ev.kind === 'exec' ? ev.startNs : null));
        const latency = native().clocks().boottimeNs - ev.ktimeNs;
        this.o.onUserKill?.(latency, r);
        if (r.ok) {
          this.stats.userKills++;
          killOutcome = { outcome: 'killed', kernel: false };
        } else {
          this.stats.killFailures++;
          const why = enforceFailed ? `the kernel could not signal it, then user space: ${r.reason}` : r.reason;
          killOutcome = { outcome: 'kill_failed', reason: why, kernel: false };
        }
      }
    }
    const event = traceRecord(ev, this.fmt);
    for (const r of hits) {
      let outcome: Outcome = 'alerted';
      let reason: string | undefined;
      let note: string | undefined;
      if (r.action === 'kill' && killOutcome) {
        outcome = killOutcome.outcome;
        reason = killOutcome.reason;
        note = killOutcome.kernel ? kernelNote(r.kind, outcome) : outcome === 'killed' ? 'killed from user space (pidfd)' : undefined;
      } else if (r.action === 'deny') {
        if (enforced) {
          outcome = 'denied';
          this.stats.denials++;
        } else {
          reason = 'not refused in the kernel: the destination did not match there (address map changed?)';
        }
      }
      // the documented key order: output after tags and node
      const alert: Alert = {
        time: event.time as string,
        rule: r.name,
        priority: r.priority,
        action: r.action,
        outcome,
        ...(reason ? { reason } : {}),
        ...(note ? { note } : {}),
        tags: [...r.tags],
        node: this.o.node,
        output: '',
        workload: {
          spiffe_id: workload.spiffeId,
          cgroup_id: ev.cgroupId,
          cgroup: workload.cgroup,
          container_id: workload.containerId,
          pod_uid: workload.podUid,
          kubernetes: workload.kubernetes,
        },
        process: {
          pid: ev.pid,
          ppid: ppid ?? null,
          exe: ctx.exe,
          args: ctx.args ? [...ctx.args] : null,
          uid: ev.uid,
          exec_id: proc?.execId ?? null,
          parent_exe: ctx.parentExe,
        },
        event,
      };
      alert.output = alertSentence(alert);
      this.stats.alerts++;
      this.o.onAlert(alert);
    }
  }
}
