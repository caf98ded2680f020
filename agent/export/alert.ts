// The alert: what `vigil agent` prints, one JSON object per line, and what
// the control plane stores.
import type { RuleOutcome } from '../enforce/enforcer';
import type { CompiledRule } from '../rules/compile';
import type { Action, Priority } from '../rules/spec';
import type { WorkloadInfo } from '../workload/resolver';
import type { KubernetesMeta } from '../workload/source';
import type { TraceRecord } from './trace-record';
import { rfc3339Nanos } from '../../common/time';
import { printable } from '../../common/escape';
import type { ImageRef } from '../../common/image-ref';

export type Outcome = 'killed' | 'denied' | 'alerted' | 'kill_failed';

export interface Alert {
  /** RFC 3339 with nanoseconds */
  time: string;
  /** flood control (export/flood.ts): this alert stands for `count` alerts, from first_seen to last_seen; absent: one */
  count?: number;
  first_seen?: string;
  last_seen?: string;
  /** why they were collapsed: repeats of the same alert, or over the rule's rate limit */
  collapsed?: 'repeats' | 'rate_limit';
  rule: string;
  priority: Priority;
  action: Action;
  outcome: Outcome;
  /** why a kill failed, or why a deny did not happen */
  reason?: string;
  /** what the enforcement could and could not do on this kernel */
  note?: string;
  tags: string[];
  node: string;
  /** one human sentence */
  output: string;
  workload: {
    spiffe_id: string | null;
    cgroup_id: number;
    cgroup: string | null;
    container_id: string | null;
    pod_uid: string | null;
    /** namespace, pod, service account, container name and image, with --kubernetes; null otherwise or when unknown */
    kubernetes: KubernetesMeta | null;
    /** the container image (name, tag, digest), null when unknown */
    image: ImageRef | null;
    /** present (true) when the process had left the workload's cgroup subtree: spiffe_id is the workload it left */
    moved?: true;
  };
  process: {
    pid: number;
    ppid: number | null;
    exe: string | null;
    args: string[] | null;
    uid: number;
    exec_id: string | null;
    parent_exe: string | null;
  };
  /** the event as `vigil trace` shows it */
  event: TraceRecord;
}

function quote(s: string | null | undefined): string {
  return s === null || s === undefined ? '?' : s;
}

/** "exec of /bin/sh", "open of /etc/shadow for write", "connect to 10.0.0.1:443", ... */
export function eventPhrase(e: TraceRecord): string {
  switch (e.kind) {
    case 'exec':
      return `exec of ${quote(e.exe as string)}`;
    case 'open':
      return `open of ${quote(e.path as string)} (${Array.isArray(e.flags) ? e.flags.join('|') : ''})`;
    case 'unlink':
      return `unlink of ${quote(e.path as string)}`;
    case 'rename':
      return `rename of ${quote(e.path as string)} to ${quote(e.new_path as string)}`;
    case 'chmod':
      return `chmod ${String(e.mode)} of ${quote(e.path as string)}`;
    case 'link':
      return `link of ${quote(e.path as string)} as ${quote(e.new_path as string)}`;
    case 'symlink':
      return `symlink ${quote(e.new_path as string)} -> ${quote(e.path as string)}`;
    case 'connect':
      return `connect to ${e.family === 'AF_INET6' ? `[${String(e.daddr)}]` : String(e.daddr)}:${String(e.dport)}`;
    case 'ptrace':
      return `ptrace of pid ${String(e.target_pid)}`;
    case 'setuid':
      return `setuid family call leaving uid ${String(e.uid)}`;
    case 'mount':
      return `mount${e.source ? ` of ${quote(e.source as string)}` : ''}${e.fstype ? ` (${String(e.fstype)})` : ''} on ${quote(e.path as string)}`;
    case 'module':
      return `kernel module load${e.path ? ` from ${String(e.path)}` : ''}`;
    case 'socket':
      return `${e.refused ? 'refused ' : ''}socket ${String(e.family)}/${String(e.type)}`;
    case 'io_uring':
      return `io_uring ${String(e.op)} submission`;
    case 'chown':
      return `chown of ${quote(e.path as string)} to ${e.owner_uid === null ? '-' : String(e.owner_uid)}:${e.owner_gid === null ? '-' : String(e.owner_gid)}`;
    case 'setxattr':
      return `setxattr ${quote(e.name as string)} on ${quote(e.path as string)}`;
    case 'namespace':
      return `${String(e.call)}${Array.isArray(e.namespaces) && e.namespaces.length ? ` ${e.namespaces.join('|')}` : ''}${e.ns_type ? ` into ${String(e.ns_type)}` : ''}${e.target_pid ? ` of pid ${String(e.target_pid)}` : ''}`;
    case 'bind':
      return `bind of ${String(e.family)}/${String(e.type)} to ${e.laddr ? `${String(e.laddr)}:` : ''}${String(e.lport)}`;
    case 'listen':
      return `listen on ${String(e.family)}/${String(e.type)} ${e.laddr ? `${String(e.laddr)}:` : ''}${String(e.lport)}`;
    case 'dup':
      return `socket${e.daddr ? ` connected to ${String(e.daddr)}:${String(e.dport)}` : ''} put on fd ${String(e.new_fd)}`;
    case 'memfd':
      return `memfd_create ${quote(e.name as string)}`;
    case 'userfaultfd':
      return `userfaultfd created (${String(e.via)})`;
    case 'bpf':
      return `BPF program load (${String(e.prog_type)}${e.prog_name ? ` ${String(e.prog_name)}` : ''})`;
    case 'migrate':
      return `move out of its workload into cgroup ${quote(e.to_cgroup as string | null)}${e.writer_pid !== e.pid ? ` by pid ${String(e.writer_pid)}` : ''}`;
    default:
      return String(e.kind);
  }
}

const OUTCOME_WORDS: Record<Outcome, string> = {
  killed: 'process killed',
  denied: 'denied',
  alerted: 'alert',
  kill_failed: 'kill FAILED',
};

export function alertSentence(a: Omit<Alert, 'output'>): string {
  const who = `${quote(a.process.exe)} (pid ${a.process.pid}${a.process.parent_exe ? `, parent ${a.process.parent_exe}` : ''})`;
  const k = a.workload.kubernetes;
  const pod = k ? ` (pod ${k.namespace}/${k.pod}${k.container ? `, container ${k.container}` : ''})` : '';
  const where = a.workload.spiffe_id
    ? `${a.workload.spiffe_id}${pod}`
    : k
      ? `pod ${k.namespace}/${k.pod} (no SPIFFE ID)`
      : a.workload.cgroup
        ? `host cgroup ${a.workload.cgroup}`
        : 'host';
  return `${a.rule}: ${eventPhrase(a.event)} by ${who} in ${where}: ${OUTCOME_WORDS[a.outcome]}${a.reason ? ` (${a.reason})` : ''}`;
}

/** A one-line human rendering. */
export function alertText(a: Alert): string {
  // the sentence carries names from the workload (paths, memfd and attribute names): shown escaped
  return `${a.time} ${a.priority.toUpperCase().padEnd(13)} ${printable(a.output)}`;
}

/** The alert one rule raises for one event, in the documented key order (output after tags and node). */
export function buildAlert(
  rule: Pick<CompiledRule, 'name' | 'priority' | 'action' | 'tags'>,
  o: RuleOutcome,
  node: string,
  workload: WorkloadInfo,
  process: Alert['process'],
  event: TraceRecord,
): Alert {
  const alert: Alert = {
    time: event.time as string,
    rule: rule.name,
    priority: rule.priority,
    action: rule.action,
    outcome: o.outcome,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.note ? { note: o.note } : {}),
    tags: [...rule.tags],
    node,
    output: '',
    workload: {
      spiffe_id: workload.spiffeId,
      cgroup_id: workload.cgroupId,
      cgroup: workload.cgroup,
      container_id: workload.containerId,
      pod_uid: workload.podUid,
      kubernetes: workload.kubernetes,
      image: workload.image,
      ...(workload.moved ? { moved: true as const } : {}),
    },
    process,
    event,
  };
  alert.output = alertSentence(alert);
  return alert;
}

/**
 * An alert Vigil raises about itself (no process, no rule of the pack): a
 * decision it could not make, a record it could not keep. The same shape as
 * every alert, so that it reaches the same sinks and the same people.
 */
export function agentAlert(
  node: string,
  a: { rule: string; priority: Priority; tags: string[]; output: string; event: TraceRecord; reason?: string },
): Alert {
  return {
    time: rfc3339Nanos(BigInt(Date.now()) * 1_000_000n),
    rule: a.rule,
    priority: a.priority,
    action: 'alert',
    outcome: 'alerted',
    ...(a.reason ? { reason: a.reason } : {}),
    tags: [...a.tags],
    node,
    output: `${a.rule}: ${a.output}`,
    workload: { spiffe_id: null, cgroup_id: 0, cgroup: null, container_id: null, pod_uid: null, kubernetes: null, image: null },
    process: { pid: 0, ppid: null, exe: null, args: null, uid: 0, exec_id: null, parent_exe: null },
    event: a.event,
  };
}
