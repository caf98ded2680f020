// What becomes a ticket, and under which fingerprint: one ticket per
// fingerprint, never one per event.
//   vulnerabilities: advisory x image digest (every component of the image the advisory hits)
//   runtime alerts:  rule x workload x executable by default; the grouping is configurable
// Priorities are Falco's eight levels: alerts carry theirs, vulnerabilities
// get one from severity x reachability (severity-priority table below).
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../common/canonical-json';
import type { Severity } from '../vdp/advisory';
import type { Match, MatchStatus } from '../vdp/match';

export const FALCO_PRIORITIES = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'] as const;
export type FalcoPriority = (typeof FALCO_PRIORITIES)[number];

export function priorityRank(p: string): number {
  const i = (FALCO_PRIORITIES as readonly string[]).indexOf(p);
  return i < 0 ? FALCO_PRIORITIES.length : i;
}

/**
 * Severity x reachability -> priority. Loaded code keeps the advisory's
 * severity; code present but never loaded, or with unknown evidence, is one
 * level lower (it is real, and not yet running).
 */
const VULN_PRIORITY: Record<Severity, { loaded: FalcoPriority; other: FalcoPriority }> = {
  critical: { loaded: 'critical', other: 'error' },
  high: { loaded: 'error', other: 'warning' },
  medium: { loaded: 'warning', other: 'notice' },
  low: { loaded: 'notice', other: 'informational' },
  none: { loaded: 'informational', other: 'debug' },
};

export function vulnerabilityPriority(severity: Severity, loaded: boolean): FalcoPriority {
  return VULN_PRIORITY[severity][loaded ? 'loaded' : 'other'];
}

export type FindingKind = 'vulnerability' | 'alert';

export interface Finding {
  kind: FindingKind;
  fingerprint: string;
  title: string;
  /** the ticket's description when it is created */
  body: string;
  /** the current evidence: a comment when it changes */
  evidence: string;
  priority: FalcoPriority;
  labels: string[];
  /** vulnerabilities: the advisory's severity, for the sink's threshold */
  severity?: Severity;
  /** vulnerabilities: the aggregate status over the image's matching components */
  status?: MatchStatus;
}

function hash(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 32);
}

export function vulnerabilityFingerprint(advisory: string, digest: string): string {
  return `vuln:${advisory}:${digest}`;
}

/** One finding per (advisory, image digest), from its matches. */
export function vulnerabilityFindings(matches: readonly Match[]): Finding[] {
  const groups = new Map<string, Match[]>();
  for (const m of matches) {
    const k = vulnerabilityFingerprint(m.advisory, m.digest);
    const l = groups.get(k);
    if (l) l.push(m);
    else groups.set(k, [m]);
  }
  const out: Finding[] = [];
  for (const [fingerprint, ms] of groups) {
    ms.sort((a, b) => a.purl.localeCompare(b.purl));
    const m0 = ms[0];
    const status: MatchStatus = ms.some((m) => m.status === 'affected') ? 'affected' : ms.every((m) => m.status === 'not_affected') ? 'not_affected' : 'under_investigation';
    const loaded = ms.some((m) => m.reachability === 'loaded');
    const image = `${m0.image || 'image'}@${m0.digest}`;
    const lines = ms.map(
      (m) =>
        `- ${m.purl}: ${m.status}${m.justification ? ` (${m.justification})` : ''}. ${m.evidence}. Why affected: ${m.why}.${m.fixed.length ? ` Fixed in ${m.fixed.join(', ')}.` : ''}`,
    );
    out.push({
      kind: 'vulnerability',
      fingerprint,
      title: `${m0.advisory} in ${m0.image || m0.digest.slice(0, 19)} (${status.replace('_', ' ')}${loaded ? ', loaded' : ''})`,
      body: `Vigil matched advisory ${m0.advisory} (severity ${m0.severity}) to image ${image}.\n\nStatus: ${status}.\n\nComponents:\n${lines.join('\n')}`,
      evidence: `Status: ${status}.\n${lines.join('\n')}`,
      priority: vulnerabilityPriority(m0.severity, loaded),
      labels: ['vigil', 'vulnerability', `severity:${m0.severity}`],
      severity: m0.severity,
      status,
    });
  }
  return out;
}

export const GROUP_KEYS = ['rule', 'workload', 'executable', 'node', 'image'] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

/** The fields of a stored alert the ticket needs (its JSON, as the agent printed it). */
export interface AlertFacts {
  rule: string;
  priority: string;
  output: string;
  time: string;
  node: string;
  workload: string;
  executable: string;
  image: string;
}

/** Read the fields out of an alert's JSON (hostile: anything may be missing or of the wrong type). */
export function alertFacts(json: string): AlertFacts | null {
  let a: Record<string, unknown>;
  try {
    a = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!a || typeof a !== 'object') return null;
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  const w = (a.workload && typeof a.workload === 'object' ? a.workload : {}) as Record<string, unknown>;
  const p = (a.process && typeof a.process === 'object' ? a.process : {}) as Record<string, unknown>;
  const img = (w.image && typeof w.image === 'object' ? w.image : {}) as Record<string, unknown>;
  const rule = s(a.rule);
  if (!rule) return null;
  return {
    rule,
    priority: s(a.priority) || 'warning',
    output: s(a.output),
    time: s(a.time),
    node: s(a.node),
    workload: s(w.spiffe_id) || s(w.cgroup) || 'host',
    executable: s(p.exe),
    image: s(img.digest) || s(img.name),
  };
}

export function alertFingerprint(f: AlertFacts, groupBy: readonly GroupKey[]): string {
  const key: Record<string, string> = {};
  for (const g of groupBy) key[g] = f[g];
  return `alert:${f.rule}:${hash(key)}`;
}

/** One finding per fingerprint from a batch of alerts: the evidence counts them (a comment per batch, never per alert). */
export function alertFindings(alerts: readonly AlertFacts[], groupBy: readonly GroupKey[]): Finding[] {
  const groups = new Map<string, AlertFacts[]>();
  for (const a of alerts) {
    const fp = alertFingerprint(a, groupBy);
    const l = groups.get(fp);
    if (l) l.push(a);
    else groups.set(fp, [a]);
  }
  const out: Finding[] = [];
  for (const [fingerprint, list] of groups) {
    const a0 = list[0];
    const last = list[list.length - 1];
    const top = list.reduce((p, a) => (priorityRank(a.priority) < priorityRank(p) ? a.priority : p), a0.priority) as FalcoPriority;
    const nodes = [...new Set(list.map((a) => a.node))];
    const group = groupBy.map((g) => `${g} ${a0[g] || '-'}`).join(', ');
    out.push({
      kind: 'alert',
      fingerprint,
      title: `${a0.rule}: ${a0.workload}${a0.executable ? ` (${a0.executable})` : ''}`.slice(0, 240),
      body: `Vigil rule ${a0.rule} fired (${group}).\n\nFirst alert: ${a0.output}`,
      evidence: `${list.length} alert${list.length === 1 ? '' : 's'} from ${a0.time} to ${last.time} on ${nodes.join(', ')}; latest: ${last.output}`,
      priority: FALCO_PRIORITIES.includes(top) ? top : 'warning',
      labels: ['vigil', 'runtime-alert'],
    });
  }
  return out;
}
