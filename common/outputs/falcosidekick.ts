// A falcosidekick-compatible output: the JSON Falco posts to its
// http_output (falcosidekick's input: output, priority, rule, time,
// output_fields, source, tags, hostname), so that every falcosidekick output
// (Slack, Loki, Elasticsearch, PagerDuty...) takes Vigil's alerts. Priorities
// are Falco's own words, capitalized as Falco writes them; output_fields use
// Falco's field names where one exists, vigil.* for the rest.
import { HttpPoster } from './http-post';
import { alertView, type Output } from './output';

const FALCO_WORDS: Record<string, string> = {
  emergency: 'Emergency',
  alert: 'Alert',
  critical: 'Critical',
  error: 'Error',
  warning: 'Warning',
  notice: 'Notice',
  informational: 'Informational',
  debug: 'Debug',
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

export interface FalcoPayload {
  output: string;
  priority: string;
  rule: string;
  time: string;
  output_fields: Record<string, string | number | boolean | null>;
  source: string;
  tags: string[];
  hostname: string;
}

export function falcoPayload(json: string): FalcoPayload {
  const a = alertView(json);
  const w = obj(a.raw.workload);
  const p = obj(a.raw.process);
  const e = obj(a.raw.event);
  const k = obj(w.kubernetes);
  const img = obj(w.image);
  const f: FalcoPayload['output_fields'] = {};
  const put = (key: string, v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') f[key] = v;
  };
  put('evt.time', a.time);
  put('evt.type', e.kind);
  put('proc.pid', p.pid);
  put('proc.ppid', p.ppid);
  put('proc.exepath', p.exe);
  put('proc.pexepath', p.parent_exe);
  if (Array.isArray(p.args)) f['proc.cmdline'] = p.args.filter((x) => typeof x === 'string').join(' ');
  put('user.uid', p.uid);
  put('container.id', w.container_id);
  put('container.image.repository', img.name);
  put('container.image.tag', img.tag);
  put('container.image.digest', img.digest);
  put('k8s.ns.name', k.namespace);
  put('k8s.pod.name', k.pod);
  put('fd.name', e.path);
  put('fd.sip', e.daddr);
  put('fd.sport', e.dport);
  put('vigil.spiffe_id', w.spiffe_id);
  put('vigil.action', a.raw.action);
  put('vigil.outcome', a.raw.outcome);
  put('vigil.count', a.raw.count);
  return {
    output: a.output,
    priority: FALCO_WORDS[a.priority] ?? 'Warning',
    rule: a.rule,
    time: a.time,
    output_fields: f,
    source: 'vigil',
    tags: a.tags,
    hostname: a.node,
  };
}

export class FalcosidekickOutput implements Output {
  readonly type = 'falcosidekick' as const;
  private readonly http: HttpPoster;

  constructor(
    readonly name: string,
    url: string,
    o: { caFile?: string; timeoutMs?: number },
  ) {
    this.http = new HttpPoster(url, o);
  }

  async deliver(alertsJson: readonly string[]): Promise<void> {
    for (const j of alertsJson) await this.http.post(JSON.stringify(falcoPayload(j)), {});
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
