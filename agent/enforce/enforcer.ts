// The kill/deny decision for one event that matched rules: what the kernel
// already did (the record's ENFORCED / ENFORCE_FAILED flags), what is left
// for user space (a pidfd kill, once per event whatever the number of kill
// rules), and the outcome each rule's alert reports.
import type { KernelEvent } from '../decode/events';
import { Flag } from '../kernel/abi';
import { native } from '../kernel/native';
import type { Outcome } from '../export/alert';
import type { CompiledRule } from '../rules/compile';
import type { RuleKind } from '../rules/spec';
import { userKill, type KillResult } from './user-kill';

export interface EnforcementStats {
  kernelKills: number;
  userKills: number;
  killFailures: number;
  denials: number;
}

/** What happened to the process or the connect, as one rule's alert says it. */
export interface RuleOutcome {
  outcome: Outcome;
  /** why a kill failed, or why a deny did not happen */
  reason?: string;
  /** what the enforcement could and could not do on this kernel */
  note?: string;
}

const FILE_KINDS: ReadonlySet<string> = new Set(['open', 'unlink', 'rename', 'chmod', 'link', 'symlink']);

/** What a kernel kill means for this kind of event, on a kernel without BPF LSM. */
export function kernelNote(kind: RuleKind | KernelEvent['kind'], outcome: Outcome): string | undefined {
  if (outcome !== 'killed') return undefined;
  if (kind === 'exec') return 'killed in the kernel at exec: the new program never ran';
  if (kind === 'migrate') return 'killed in the kernel as it was moved out of its workload';
  if (kind === 'io_uring') return 'killed in the kernel as it submitted the request (a request already in flight may complete)';
  if (kind === 'socket') return 'killed in the kernel at syscall exit, before it could use the socket';
  if (kind === 'dup') return 'killed in the kernel at syscall exit, before it could use the socket as its standard input or output (nothing ran with it)';
  if (kind === 'namespace') return 'killed in the kernel at syscall exit, before it ran in the namespace (a child made by clone dies too)';
  if (kind === 'memfd' || kind === 'userfaultfd' || kind === 'bpf' || kind === 'bind' || kind === 'listen') {
    return `killed in the kernel at syscall exit, before it could use the ${kind === 'bpf' ? 'program' : kind === 'memfd' ? 'memory file' : kind === 'userfaultfd' ? 'userfaultfd' : 'socket'} (the ${kind === 'bpf' ? 'program load' : kind} itself completed)`;
  }
  if (kind === 'chown' || kind === 'setxattr') return `killed in the kernel at syscall exit: the ${kind} itself completed (no BPF LSM on this kernel)`;
  if (FILE_KINDS.has(kind) || kind === 'ptrace' || kind === 'setuid' || kind === 'mount' || kind === 'module') {
    return `killed in the kernel at syscall exit: the ${kind} itself completed (no BPF LSM on this kernel)`;
  }
  return undefined;
}

export class Enforcer {
  readonly stats: EnforcementStats = { kernelKills: 0, userKills: 0, killFailures: 0, denials: 0 };

  /** @param onUserKill called with the latency from the event to the signal (ns) for every user-space kill */
  constructor(private readonly onUserKill?: (latencyNs: bigint, result: KillResult) => void) {}

  /**
   * Carry out the rules' actions for one event; returns each rule's outcome,
   * in the order of `hits`. `startNs` is the process's start (CLOCK_BOOTTIME),
   * which the pidfd kill checks against PID reuse.
   */
  decide(ev: Exclude<KernelEvent, { kind: 'cgroup' | 'fork' | 'exit' }>, hits: readonly CompiledRule[], startNs: bigint | null): RuleOutcome[] {
    const enforced = (ev.flags & Flag.ENFORCED) !== 0;
    const enforceFailed = (ev.flags & Flag.ENFORCE_FAILED) !== 0;
    let kill: { outcome: Outcome; reason?: string; kernel: boolean } | null = null;
    if (hits.some((r) => r.action === 'kill')) {
      if (enforced && ev.kind !== 'connect') {
        kill = { outcome: 'killed', kernel: true };
        this.stats.kernelKills++;
      } else {
        // the strongest action applies once, whatever the number of kill rules
        const r = userKill(ev.pid, startNs);
        this.onUserKill?.(native().clocks().boottimeNs - ev.ktimeNs, r);
        if (r.ok) {
          this.stats.userKills++;
          kill = { outcome: 'killed', kernel: false };
        } else {
          this.stats.killFailures++;
          const why = enforceFailed ? `the kernel could not signal it, then user space: ${r.reason}` : r.reason;
          kill = { outcome: 'kill_failed', reason: why, kernel: false };
        }
      }
    }
    return hits.map((r): RuleOutcome => {
      if (r.action === 'kill' && kill) {
        // what completed is the event's operation (a link judged by an open rule: the link)
        const note = kill.kernel ? kernelNote(ev.kind, kill.outcome) : kill.outcome === 'killed' ? 'killed from user space (pidfd)' : undefined;
        return { outcome: kill.outcome, ...(kill.reason ? { reason: kill.reason } : {}), ...(note ? { note } : {}) };
      }
      if (r.action === 'deny') {
        if (enforced) {
          this.stats.denials++;
          return { outcome: 'denied' };
        }
        return { outcome: 'alerted', reason: 'not refused in the kernel: the destination did not match there (address map changed?)' };
      }
      return { outcome: 'alerted' };
    });
  }
}
