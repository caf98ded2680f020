// GitHub Issues as a ticket sink, through the REST API (docs.github.com,
// "REST API endpoints for issues" and "... for issue comments"):
//   find     GET   /repos/{owner}/{repo}/issues?labels=L&state=all&per_page=100  (Link: rel="next" pages),
//                  the issue whose body carries the fingerprint marker (pull requests skipped)
//   create   POST  /repos/{owner}/{repo}/issues {title, body, labels}           -> 201
//   get      GET   /repos/{owner}/{repo}/issues/{n}                             -> state, state_reason
//   comment  POST  /repos/{owner}/{repo}/issues/{n}/comments {body}             -> 201
//   close    PATCH /repos/{owner}/{repo}/issues/{n} {state: closed, state_reason: completed}
//   reopen   PATCH /repos/{owner}/{repo}/issues/{n} {state: open, state_reason: reopened}
// Won't fix is GitHub's "closed as not planned" (state_reason not_planned).
// Labels are listed exactly by the issues endpoint (the search endpoint is
// eventually consistent and has a lower rate limit, so it is not used).
import { HttpClient, SinkError, type HttpOptions } from './http';
import { fingerprintLabel, fingerprintMarker, type RemoteTicket, type TicketDraft, type TicketSink } from './sink';

/** url: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server */
export interface GitHubSinkOptions extends HttpOptions {
  /** owner/repo */
  repo: string;
  token: () => string;
  /** labels on every ticket */
  labels: string[];
}

interface GhIssue {
  number: number;
  html_url: string;
  state: string;
  state_reason?: string | null;
  body?: string | null;
  pull_request?: unknown;
}

const MAX_PAGES = 50;

export class GitHubSink implements TicketSink {
  readonly type = 'github' as const;
  readonly name: string;
  private readonly http: HttpClient;
  private readonly repoPath: string;

  constructor(private readonly o: GitHubSinkOptions) {
    this.name = o.name;
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(o.repo)) throw new Error(`${o.name}: repo: expected OWNER/REPO, got "${o.repo}"`);
    this.repoPath = `/repos/${o.repo}`;
    this.http = new HttpClient(o, () => ({ authorization: `Bearer ${o.token()}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' }));
  }

  private ticket(i: GhIssue): RemoteTicket {
    if (typeof i?.number !== 'number') throw new SinkError(`${this.name}: the answer is not an issue`, true);
    return { key: String(i.number), url: String(i.html_url ?? ''), state: i.state === 'closed' ? 'closed' : 'open', wontFix: i.state === 'closed' && i.state_reason === 'not_planned' };
  }

  private issuePath(key: string): string {
    if (!/^\d+$/.test(key)) throw new SinkError(`${this.name}: "${key}" is not an issue number`, false);
    return `${this.repoPath}/issues/${key}`;
  }

  async find(fingerprint: string): Promise<RemoteTicket | null> {
    const marker = fingerprintMarker(fingerprint);
    let next: string | null = `${this.repoPath}/issues?labels=${encodeURIComponent(fingerprintLabel(fingerprint))}&state=all&per_page=100`;
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const r = await this.http.call('GET', next);
      if (!Array.isArray(r.json)) throw new SinkError(`${this.name}: listing issues: the answer is not a list`, true);
      for (const i of r.json as GhIssue[]) if (!i.pull_request && typeof i.body === 'string' && i.body.includes(marker)) return this.ticket(i);
      next = nextLink(r.headers.link);
    }
    return null;
  }

  async create(d: TicketDraft): Promise<RemoteTicket> {
    const r = await this.http.call('POST', `${this.repoPath}/issues`, {
      title: d.title.slice(0, 256),
      body: `${d.body}\n\n<!-- ${fingerprintMarker(d.fingerprint)} -->\n`,
      labels: [...new Set([...this.o.labels, ...d.labels, `priority:${d.priority}`, fingerprintLabel(d.fingerprint)])],
    });
    return this.ticket(r.json as GhIssue);
  }

  async get(key: string): Promise<RemoteTicket> {
    return this.ticket((await this.http.call('GET', this.issuePath(key))).json as GhIssue);
  }

  async comment(key: string, text: string): Promise<void> {
    await this.http.call('POST', `${this.issuePath(key)}/comments`, { body: text });
  }

  async close(key: string): Promise<void> {
    await this.http.call('PATCH', this.issuePath(key), { state: 'closed', state_reason: 'completed' });
  }

  async reopen(key: string): Promise<void> {
    await this.http.call('PATCH', this.issuePath(key), { state: 'open', state_reason: 'reopened' });
  }

  async dispose(): Promise<void> {
    await this.http.close();
  }
}

/** The rel="next" URL of a Link header (RFC 8288, as GitHub paginates). */
export function nextLink(h: string | string[] | undefined): string | null {
  const v = Array.isArray(h) ? h.join(', ') : h;
  if (!v) return null;
  for (const part of v.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?([^";]+)"?/.exec(part.trim());
    if (m && m[2].split(/\s+/).includes('next')) return m[1];
  }
  return null;
}
