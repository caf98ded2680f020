// A FAKE of the GitHub REST API, not GitHub: a local HTTPS server that
// speaks the documented protocol of the parts Vigil uses (docs.github.com,
// "REST API endpoints for issues", "... for issue comments", "Using
// pagination in the REST API", "Rate limits for the REST API",
// "Troubleshooting the REST API"):
//   GET   /repos/{o}/{r}/issues?labels=&state=&per_page=&page=   Link header pagination (rel="next", rel="last")
//   POST  /repos/{o}/{r}/issues                                    201; 422 "Validation Failed" with errors[]
//   GET   /repos/{o}/{r}/issues/{n}                                200; 404 {"message":"Not Found",...}
//   PATCH /repos/{o}/{r}/issues/{n}                                state, state_reason
//   POST  /repos/{o}/{r}/issues/{n}/comments                       201
// Authentication: "Authorization: Bearer TOKEN", else 401 "Bad credentials".
// Rate limits: primary (403, x-ratelimit-remaining: 0, x-ratelimit-reset
// epoch seconds) and secondary (429 with retry-after seconds); down: 503.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeHttpsServer } from './fake-server';
import type { TestPki } from './https-ca';

export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  state_reason: string | null;
  comments: string[];
}

const DOCS = 'https://docs.github.com/rest';

export class FakeGitHub extends FakeHttpsServer {
  readonly issues = new Map<number, FakeIssue>();
  /** answer every request with 503 while true */
  down = false;
  /** the next N requests hit the primary rate limit (403, remaining 0) */
  primaryLimited = 0;
  /** the next N requests hit a secondary rate limit (429, retry-after) */
  secondaryLimited = 0;
  /** answer creates but drop the connection before the client reads the answer */
  loseNextCreateAnswer = false;
  perPageMax = 100;
  private next = 1;

  constructor(
    pki: TestPki,
    readonly repo: string,
    readonly token: string,
  ) {
    super(pki);
  }

  /** A person closes an issue in the UI (as not planned = won't fix, or completed). */
  closeByHand(n: number, reason: 'not_planned' | 'completed'): void {
    const i = this.issues.get(n);
    if (i) {
      i.state = 'closed';
      i.state_reason = reason;
    }
  }

  private json(res: ServerResponse, status: number, v: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', ...headers });
    res.end(v === undefined ? '' : JSON.stringify(v));
  }

  private view(i: FakeIssue): unknown {
    return {
      id: 1000 + i.number,
      number: i.number,
      title: i.title,
      body: i.body,
      labels: i.labels.map((name) => ({ name })),
      state: i.state,
      state_reason: i.state_reason,
      html_url: `https://github.example/${this.repo}/issues/${i.number}`,
      comments: i.comments.length,
    };
  }

  protected handle(req: IncomingMessage, res: ServerResponse, body: string, u: URL): void {
    if (this.down) return this.json(res, 503, { message: 'Service Unavailable' });
    if (this.secondaryLimited > 0) {
      this.secondaryLimited--;
      return this.json(res, 429, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: DOCS }, { 'retry-after': '1' });
    }
    if (this.primaryLimited > 0) {
      this.primaryLimited--;
      const reset = String(Math.floor(Date.now() / 1000) + 1);
      return this.json(res, 403, { message: 'API rate limit exceeded for user ID 1.', documentation_url: DOCS }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset });
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.json(res, 401, { message: 'Bad credentials', documentation_url: DOCS });
    const base = `/repos/${this.repo}/issues`;
    let parsed: Record<string, unknown> = {};
    if (body) {
      try {
        parsed = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return this.json(res, 400, { message: 'Problems parsing JSON', documentation_url: DOCS });
      }
    }
    if (u.pathname === base && req.method === 'GET') {
      const labels = (u.searchParams.get('labels') ?? '').split(',').filter(Boolean);
      const state = u.searchParams.get('state') ?? 'open';
      const perPage = Math.min(Number(u.searchParams.get('per_page') ?? 30), this.perPageMax);
      const page = Number(u.searchParams.get('page') ?? 1);
      const all = [...this.issues.values()].filter((i) => labels.every((l) => i.labels.includes(l)) && (state === 'all' || i.state === state));
      const slice = all.slice((page - 1) * perPage, page * perPage);
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number): string => {
        const q = new URLSearchParams(u.searchParams);
        q.set('page', String(p));
        return `<${this.url}${base}?${q.toString()}>`;
      };
      const links: Record<string, string> = page < last ? { link: `${link(page + 1)}; rel="next", ${link(last)}; rel="last"` } : {};
      return this.json(res, 200, slice.map((i) => this.view(i)), links);
    }
    if (u.pathname === base && req.method === 'POST') {
      if (typeof parsed.title !== 'string' || !parsed.title) {
        return this.json(res, 422, { message: 'Validation Failed', errors: [{ resource: 'Issue', code: 'missing_field', field: 'title' }], documentation_url: DOCS });
      }
      const i: FakeIssue = {
        number: this.next++,
        title: parsed.title,
        body: typeof parsed.body === 'string' ? parsed.body : '',
        labels: Array.isArray(parsed.labels) ? parsed.labels.map(String) : [],
        state: 'open',
        state_reason: null,
        comments: [],
      };
      this.issues.set(i.number, i);
      if (this.loseNextCreateAnswer) {
        this.loseNextCreateAnswer = false;
        req.socket.destroy();
        return;
      }
      return this.json(res, 201, this.view(i));
    }
    const m = new RegExp(`^${base}/(\\d+)(/comments)?$`).exec(u.pathname);
    const issue = m ? this.issues.get(Number(m[1])) : undefined;
    if (m && !issue) return this.json(res, 404, { message: 'Not Found', documentation_url: DOCS });
    if (m && issue && !m[2] && req.method === 'GET') return this.json(res, 200, this.view(issue));
    if (m && issue && !m[2] && req.method === 'PATCH') {
      if (parsed.state === 'closed' || parsed.state === 'open') issue.state = parsed.state;
      issue.state_reason = typeof parsed.state_reason === 'string' ? parsed.state_reason : issue.state === 'closed' ? 'completed' : null;
      return this.json(res, 200, this.view(issue));
    }
    if (m && issue && m[2] && req.method === 'POST') {
      if (typeof parsed.body !== 'string' || !parsed.body) {
        return this.json(res, 422, { message: 'Validation Failed', errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }], documentation_url: DOCS });
      }
      issue.comments.push(parsed.body);
      return this.json(res, 201, { id: 5000 + issue.comments.length, body: parsed.body });
    }
    return this.json(res, 404, { message: 'Not Found', documentation_url: DOCS });
  }
}
