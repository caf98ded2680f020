// The control plane's vulnerability-disclosure configuration (one YAML
// file, `vigil controlplane --vdp-config FILE`): ticket sinks, alert
// grouping, the watched advisories directory, the evidence window, and the
// outputs. Credentials are named (a file or an environment variable), never
// written in it. Every problem names the file and the key path.
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { errorMessage } from '../../common/errors';
import { parseOutputs, type OutputConfig } from '../../common/outputs/config';
import { CpError } from '../errors';
import type { SinkPolicy } from '../tickets/engine';
import { FALCO_PRIORITIES, GROUP_KEYS, type GroupKey } from '../tickets/findings';
import { GitHubSink } from '../tickets/github';
import { readSecret } from '../../common/secret';
import { JiraSink } from '../tickets/jira';
import type { TicketSink } from '../tickets/sink';

export interface VdpConfig {
  /** not_affected needs a gap-free window at least this long (ms) */
  minWindowMs: number;
  rescanMs: number;
  advisoriesDir: string | null;
  groupBy: GroupKey[];
  alertBatchMs: number;
  sinks: { sink: TicketSink; policy: SinkPolicy }[];
  outputs: OutputConfig[];
}

export const VDP_DEFAULTS = { minWindowMs: 7 * 86_400_000, rescanMs: 60_000, groupBy: ['rule', 'workload', 'executable'] as GroupKey[], alertBatchMs: 60_000 };

type J = Record<string, unknown>;

/** "7d", "12h", "30m", "10s", "500ms" -> ms. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s.trim());
  if (!m) return null;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

class Check {
  constructor(readonly file: string) {}
  fail(at: string, msg: string): never {
    throw new CpError('CONFIG', `${this.file}: ${at}: ${msg}`);
  }
  obj(v: unknown, at: string): J {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(at, 'expected a map');
    return v as J;
  }
  keys(o: J, at: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(at, `unknown key "${k}" (expected ${allowed.join(', ')})`);
  }
  str(v: unknown, at: string): string {
    if (typeof v !== 'string' || !v) this.fail(at, 'expected a non-empty string');
    return v;
  }
  optStr(v: unknown, at: string): string | undefined {
    return v === undefined ? undefined : this.str(v, at);
  }
  strs(v: unknown, at: string): string[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(at, 'expected a list of strings');
    return v.map((x, i) => this.str(x, `${at}[${i}]`));
  }
  oneOf<T extends string>(v: unknown, at: string, allowed: readonly T[]): T {
    const s = this.str(v, at);
    if (!(allowed as readonly string[]).includes(s)) this.fail(at, `expected one of ${allowed.join(', ')}, got "${s}"`);
    return s as T;
  }
  duration(v: unknown, at: string): number {
    const d = typeof v === 'string' ? parseDuration(v) : null;
    if (d === null || d < 0) this.fail(at, 'expected a duration (10s, 30m, 12h, 7d)');
    return d;
  }
}

const SINK_KEYS = [
  'name',
  'type',
  'url',
  'repo',
  'project',
  'issue_type',
  'api',
  'user',
  'token_file',
  'token_env',
  'ca_file',
  'labels',
  'kinds',
  'min_priority',
  'statuses',
  'close_on_not_affected',
  'priorities',
  'close_transition',
  'reopen_transition',
  'wont_fix',
  'timeout',
];

function sinkOf(c: Check, v: unknown, at: string): { sink: TicketSink; policy: SinkPolicy } {
  const o = c.obj(v, at);
  c.keys(o, at, SINK_KEYS);
  const name = c.str(o.name, `${at}.name`);
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name)) c.fail(`${at}.name`, 'lower-case letters, digits and "-"');
  const type = c.oneOf(o.type, `${at}.type`, ['github', 'jira'] as const);
  const tokenWhere = { file: c.optStr(o.token_file, `${at}.token_file`), env: c.optStr(o.token_env, `${at}.token_env`) };
  if (!tokenWhere.file && !tokenWhere.env) c.fail(at, 'give token_file or token_env (credentials are never written in this file)');
  // read once now (a missing file is a configuration error), again at each use (rotation)
  try {
    readSecret(tokenWhere, `${at} token`);
  } catch (err) {
    c.fail(at, errorMessage(err));
  }
  const token = (): string => readSecret(tokenWhere, `${name} token`);
  const timeoutMs = o.timeout === undefined ? 15_000 : c.duration(o.timeout, `${at}.timeout`);
  const policy: SinkPolicy = {
    kinds: o.kinds === undefined ? ['vulnerability', 'alert'] : c.strs(o.kinds, `${at}.kinds`).map((k, i) => c.oneOf(k, `${at}.kinds[${i}]`, ['vulnerability', 'alert'] as const)),
    minPriority: o.min_priority === undefined ? 'warning' : c.oneOf(o.min_priority, `${at}.min_priority`, FALCO_PRIORITIES),
    statuses:
      o.statuses === undefined
        ? ['affected', 'under_investigation']
        : c.strs(o.statuses, `${at}.statuses`).map((k, i) => c.oneOf(k, `${at}.statuses[${i}]`, ['affected', 'under_investigation'] as const)),
    closeOnResolve: o.close_on_not_affected === undefined ? true : o.close_on_not_affected === true,
  };
  const caFile = c.optStr(o.ca_file, `${at}.ca_file`);
  const labels = c.strs(o.labels, `${at}.labels`);
  if (type === 'github') {
    return {
      sink: new GitHubSink({ name, url: c.optStr(o.url, `${at}.url`) ?? 'https://api.github.com', repo: c.str(o.repo, `${at}.repo`), token, caFile, timeoutMs, labels }),
      policy,
    };
  }
  const api = o.api === undefined ? 3 : o.api;
  if (api !== 2 && api !== 3) c.fail(`${at}.api`, 'expected 2 (Data Center) or 3 (Cloud)');
  const pri = o.priorities === undefined ? {} : c.obj(o.priorities, `${at}.priorities`);
  const priorities: Record<string, string> = {};
  for (const [k, v] of Object.entries(pri)) priorities[c.oneOf(k, `${at}.priorities`, FALCO_PRIORITIES)] = c.str(v, `${at}.priorities.${k}`);
  return {
    sink: new JiraSink({
      name,
      url: c.str(o.url, `${at}.url`),
      api,
      project: c.str(o.project, `${at}.project`),
      issueType: c.optStr(o.issue_type, `${at}.issue_type`) ?? 'Bug',
      user: c.optStr(o.user, `${at}.user`),
      token,
      caFile,
      timeoutMs,
      labels,
      priorities,
      closeTransition: c.optStr(o.close_transition, `${at}.close_transition`),
      reopenTransition: c.optStr(o.reopen_transition, `${at}.reopen_transition`),
      wontFix: o.wont_fix === undefined ? ["Won't Fix", "Won't Do"] : c.strs(o.wont_fix, `${at}.wont_fix`),
    }),
    policy,
  };
}

export function parseVdpConfig(file: string, text: string): VdpConfig {
  const c = new Check(file);
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (err) {
    c.fail('$', `malformed YAML: ${errorMessage(err).split('\n')[0]}`);
  }
  const o = doc === null || doc === undefined ? {} : c.obj(doc, '$');
  c.keys(o, '$', ['min_window', 'rescan', 'advisories_dir', 'alerts', 'tickets', 'outputs']);
  const alerts = o.alerts === undefined ? {} : c.obj(o.alerts, 'alerts');
  c.keys(alerts, 'alerts', ['group_by', 'batch']);
  const sinks = o.tickets === undefined ? [] : Array.isArray(o.tickets) ? o.tickets.map((s, i) => sinkOf(c, s, `tickets[${i}]`)) : c.fail('tickets', 'expected a list of sinks');
  const names = new Set<string>();
  for (const s of sinks) {
    if (names.has(s.sink.name)) c.fail('tickets', `two sinks named "${s.sink.name}"`);
    names.add(s.sink.name);
  }
  let outputs: OutputConfig[] = [];
  try {
    outputs = parseOutputs(o.outputs, 'outputs');
  } catch (err) {
    c.fail('outputs', errorMessage(err));
  }
  return {
    minWindowMs: o.min_window === undefined ? VDP_DEFAULTS.minWindowMs : c.duration(o.min_window, 'min_window'),
    rescanMs: o.rescan === undefined ? VDP_DEFAULTS.rescanMs : Math.max(1000, c.duration(o.rescan, 'rescan')),
    advisoriesDir: c.optStr(o.advisories_dir, 'advisories_dir') ?? null,
    groupBy: alerts.group_by === undefined ? VDP_DEFAULTS.groupBy : c.strs(alerts.group_by, 'alerts.group_by').map((g, i) => c.oneOf(g, `alerts.group_by[${i}]`, GROUP_KEYS)),
    alertBatchMs: alerts.batch === undefined ? VDP_DEFAULTS.alertBatchMs : Math.max(100, c.duration(alerts.batch, 'alerts.batch')),
    sinks,
    outputs,
  };
}

export function loadVdpConfig(file: string): VdpConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CpError('CONFIG', `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  return parseVdpConfig(file, text);
}
