// Jira as a ticket sink, through the REST API (developer.atlassian.com,
// "Jira Cloud platform REST API" v3 and "Jira Server/Data Center REST API" v2):
//   find     v2: POST /rest/api/2/search {jql, startAt, maxResults, fields} (startAt/total pages)
//            v3: POST /rest/api/3/search/jql {jql, maxResults, fields, nextPageToken} (Cloud:
//                the startAt search was removed there; pages by nextPageToken)
//            JQL: project = "KEY" AND labels = "vigil-fp-..." (values quoted and escaped)
//   create   POST /rest/api/{2|3}/issue {fields: project, summary, description, issuetype, labels, priority} -> 201 {id, key}
//   get      GET  /rest/api/{2|3}/issue/{key}?fields=status,resolution
//   comment  POST /rest/api/{2|3}/issue/{key}/comment {body}   (v3: the body is an Atlassian Document)
//   close    GET  .../transitions, then POST .../transitions {transition: {id}} (204): the configured
//            transition, else the first into the "done" status category; reopen: into a category that is not done
// Won't fix: a closed issue whose resolution is one of `wontFix` ("Won't Fix", "Won't Do" by default).
// Auth: Cloud uses basic auth with an account e-mail and API token; Data Center a personal access token (Bearer).
import { HttpClient, SinkError, type HttpOptions } from './http';
import { fingerprintLabel, fingerprintMarker, type RemoteTicket, type TicketDraft, type TicketSink } from './sink';

export interface JiraSinkOptions extends HttpOptions {
  api: 2 | 3;
  project: string;
  issueType: string;
  /** Cloud: the account's e-mail (basic auth with the token); absent: the token is a bearer PAT */
  user?: string;
  token: () => string;
  labels: string[];
  /** Falco level -> Jira priority name; absent: no priority set */
  priorities: Record<string, string>;
  closeTransition?: string;
  reopenTransition?: string;
  wontFix: string[];
}

interface JiraIssue {
  id?: string;
  key?: string;
  fields?: {
    status?: { name?: string; statusCategory?: { key?: string } };
    resolution?: { name?: string } | null;
    labels?: string[];
    description?: unknown;
  };
}

interface Transition {
  id: string;
  name: string;
  to?: { name?: string; statusCategory?: { key?: string } };
}

const MAX_PAGES = 20;

/** A JQL string literal (JQL reference: quote with ", escape " and \\). */
export function jqlString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ')}"`;
}

/** Text as an Atlassian Document (v3 bodies): one paragraph per line block. */
export function adf(text: string): unknown {
  const paras = text.split(/\n{2,}/).map((p) => ({ type: 'paragraph', content: p ? [{ type: 'text', text: p }] : [] }));
  return { type: 'doc', version: 1, content: paras };
}

function adfText(doc: unknown): string {
  if (typeof doc === 'string') return doc;
  const out: string[] = [];
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    const o = n as { text?: unknown; content?: unknown };
    if (typeof o.text === 'string') out.push(o.text);
    if (Array.isArray(o.content)) o.content.forEach(walk);
  };
  walk(doc);
  return out.join('\n');
}

export class JiraSink implements TicketSink {
  readonly type = 'jira' as const;
  readonly name: string;
  private readonly http: HttpClient;
  private readonly base: string;

  constructor(private readonly o: JiraSinkOptions) {
    this.name = o.name;
    if (!/^[A-Z][A-Z0-9_]{0,49}$/.test(o.project)) throw new Error(`${o.name}: project: expected a Jira project key (A-Z, 0-9, _), got "${o.project}"`);
    this.base = `/rest/api/${o.api}`;
    this.http = new HttpClient(o, () => ({ authorization: o.user ? `Basic ${Buffer.from(`${o.user}:${o.token()}`).toString('base64')}` : `Bearer ${o.token()}` }));
  }

  private keyPath(key: string): string {
    if (!/^[A-Z][A-Z0-9_]*-\d+$/.test(key)) throw new SinkError(`${this.name}: "${key}" is not an issue key`, false);
    return `${this.base}/issue/${key}`;
  }

  private browse(key: string): string {
    return this.http.url(`/browse/${key}`);
  }

  private ticket(i: JiraIssue): RemoteTicket {
    if (typeof i?.key !== 'string') throw new SinkError(`${this.name}: the answer is not an issue`, true);
    const done = i.fields?.status?.statusCategory?.key === 'done';
    const resolution = i.fields?.resolution?.name ?? '';
    return { key: i.key, url: this.browse(i.key), state: done ? 'closed' : 'open', wontFix: done && this.o.wontFix.some((w) => w.toLowerCase() === resolution.toLowerCase()) };
  }

  async find(fingerprint: string): Promise<RemoteTicket | null> {
    const jql = `project = ${jqlString(this.o.project)} AND labels = ${jqlString(fingerprintLabel(fingerprint))}`;
    const fields = ['status', 'resolution', 'labels', 'description'];
    const marker = fingerprintMarker(fingerprint);
    const pick = (issues: JiraIssue[]): RemoteTicket | null => {
      const i = issues.find((x) => adfText(x.fields?.description).includes(marker));
      return i ? this.ticket(i) : null;
    };
    if (this.o.api === 3) {
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const r = await this.http.call('POST', `${this.base}/search/jql`, { jql, maxResults: 50, fields, ...(token ? { nextPageToken: token } : {}) });
        const j = r.json as { issues?: JiraIssue[]; nextPageToken?: string; isLast?: boolean };
        const hit = pick(j.issues ?? []);
        if (hit) return hit;
        if (!j.nextPageToken || j.isLast) return null;
        token = j.nextPageToken;
      }
      return null;
    }
    let startAt = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = await this.http.call('POST', `${this.base}/search`, { jql, startAt, maxResults: 50, fields });
      const j = r.json as { issues?: JiraIssue[]; total?: number; maxResults?: number };
      const issues = j.issues ?? [];
      const hit = pick(issues);
      if (hit) return hit;
      startAt += issues.length;
      if (issues.length === 0 || startAt >= (j.total ?? 0)) return null;
    }
    return null;
  }

  async create(d: TicketDraft): Promise<RemoteTicket> {
    const text = `${d.body}\n\n${fingerprintMarker(d.fingerprint)}`;
    const priority = this.o.priorities[d.priority];
    const r = await this.http.call('POST', `${this.base}/issue`, {
      fields: {
        project: { key: this.o.project },
        summary: d.title.replace(/[\r\n]+/g, ' ').slice(0, 250),
        description: this.o.api === 3 ? adf(text) : text,
        issuetype: { name: this.o.issueType },
        labels: [...new Set([...this.o.labels, ...d.labels, fingerprintLabel(d.fingerprint)])].map((l) => l.replace(/\s+/g, '-')),
        ...(priority ? { priority: { name: priority } } : {}),
      },
    });
    const key = (r.json as JiraIssue | null)?.key;
    if (typeof key !== 'string') throw new SinkError(`${this.name}: creating an issue: the answer carries no key`, true);
    return { key, url: this.browse(key), state: 'open', wontFix: false };
  }

  async get(key: string): Promise<RemoteTicket> {
    return this.ticket((await this.http.call('GET', `${this.keyPath(key)}?fields=status,resolution`)).json as JiraIssue);
  }

  async comment(key: string, text: string): Promise<void> {
    await this.http.call('POST', `${this.keyPath(key)}/comment`, { body: this.o.api === 3 ? adf(text) : text });
  }

  private async transition(key: string, named: string | undefined, toDone: boolean): Promise<void> {
    const r = await this.http.call('GET', `${this.keyPath(key)}/transitions`);
    const list = ((r.json as { transitions?: Transition[] } | null)?.transitions ?? []).filter((t) => typeof t?.id === 'string');
    const t = named
      ? list.find((x) => x.name.toLowerCase() === named.toLowerCase())
      : list.find((x) => (x.to?.statusCategory?.key === 'done') === toDone);
    if (!t) {
      throw new SinkError(`${this.name}: ${key}: no transition ${named ? `named "${named}"` : toDone ? 'into a done status' : 'out of done'} (available: ${list.map((x) => x.name).join(', ') || 'none'})`, false);
    }
    await this.http.call('POST', `${this.keyPath(key)}/transitions`, { transition: { id: t.id } });
  }

  async close(key: string): Promise<void> {
    await this.transition(key, this.o.closeTransition, true);
  }

  async reopen(key: string): Promise<void> {
    await this.transition(key, this.o.reopenTransition, false);
  }

  async dispose(): Promise<void> {
    await this.http.close();
  }
}
