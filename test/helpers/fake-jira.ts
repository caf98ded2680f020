// A FAKE of the Jira REST API, not Jira: a local HTTPS server that speaks
// the documented protocol of the parts Vigil uses (developer.atlassian.com,
// Jira Cloud platform REST API v3 and Jira Data Center REST API v2):
//   POST /rest/api/2/search        {jql, startAt, maxResults, fields} -> {startAt, maxResults, total, issues}
//   POST /rest/api/3/search/jql    {jql, maxResults, fields, nextPageToken} -> {issues, nextPageToken?, isLast}
//   POST /rest/api/{2,3}/issue     201 {id, key, self}; 400 {"errorMessages":[],"errors":{"summary":"..."}}
//   GET  /rest/api/{2,3}/issue/KEY 200; 404 {"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}
//   POST /rest/api/{2,3}/issue/KEY/comment  201 (v3: an Atlassian Document body, v2: a string)
//   GET  /rest/api/{2,3}/issue/KEY/transitions -> {transitions: [{id, name, to: {name, statusCategory: {key}}}]}
//   POST /rest/api/{2,3}/issue/KEY/transitions {transition: {id}} -> 204
// The JQL understood is the subset Vigil writes: clauses `field = "value"`
// joined by AND (project, labels); anything else is the documented 400.
// Rate limit: 429 with Retry-After seconds; down: 503.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeHttpsServer } from './fake-server';
import type { TestPki } from './https-ca';

export interface FakeJiraIssue {
  id: string;
  key: string;
  project: string;
  summary: string;
  description: unknown;
  labels: string[];
  priority: string | null;
  status: 'To Do' | 'In Progress' | 'Done';
  resolution: string | null;
  comments: unknown[];
}

const CATEGORY = { 'To Do': 'new', 'In Progress': 'indeterminate', Done: 'done' } as const;
const TRANSITIONS = [
  { id: '11', name: 'To Do', to: 'To Do' },
  { id: '21', name: 'In Progress', to: 'In Progress' },
  { id: '31', name: 'Done', to: 'Done' },
] as const;

export class FakeJira extends FakeHttpsServer {
  readonly issues = new Map<string, FakeJiraIssue>();
  down = false;
  rateLimited = 0;
  pageSize = 50;
  private next = 1;

  constructor(
    pki: TestPki,
    readonly project: string,
    /** the Authorization header value accepted */
    readonly authorization: string,
  ) {
    super(pki);
  }

  /** A person resolves an issue in the UI. */
  resolveByHand(key: string, resolution: string): void {
    const i = this.issues.get(key);
    if (i) {
      i.status = 'Done';
      i.resolution = resolution;
    }
  }

  private json(res: ServerResponse, status: number, v?: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
    res.end(v === undefined ? '' : JSON.stringify(v));
  }

  private view(i: FakeJiraIssue, api: string): unknown {
    return {
      id: i.id,
      key: i.key,
      self: `${this.url}/rest/api/${api}/issue/${i.id}`,
      fields: {
        summary: i.summary,
        description: i.description,
        labels: i.labels,
        status: { name: i.status, statusCategory: { key: CATEGORY[i.status] } },
        resolution: i.resolution ? { name: i.resolution } : null,
        priority: i.priority ? { name: i.priority } : null,
      },
    };
  }

  /** The JQL subset: `field = "value"` clauses joined by AND. */
  private jql(q: string): ((i: FakeJiraIssue) => boolean) | string {
    const clauses = q.split(/\s+AND\s+/);
    const tests: ((i: FakeJiraIssue) => boolean)[] = [];
    for (const c of clauses) {
      const m = /^\s*(project|labels)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(c);
      if (!m) return `Error in the JQL Query: The character '${c.trim()[0] ?? ''}' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0022' instead. (line 1, character 1)`;
      const v = m[2].replace(/\\(.)/g, '$1');
      tests.push(m[1] === 'project' ? (i) => i.project === v : (i) => i.labels.includes(v));
    }
    return (i) => tests.every((t) => t(i));
  }

  protected handle(req: IncomingMessage, res: ServerResponse, body: string, u: URL): void {
    if (this.down) return this.json(res, 503, { errorMessages: ['Service Unavailable'], errors: {} });
    if (this.rateLimited > 0) {
      this.rateLimited--;
      return this.json(res, 429, { errorMessages: ['Rate limit exceeded.'], errors: {} }, { 'retry-after': '1' });
    }
    if (req.headers.authorization !== this.authorization) return this.json(res, 401, { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} });
    let p: Record<string, unknown> = {};
    if (body) {
      try {
        p = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return this.json(res, 400, { errorMessages: ['Unexpected character in the request body.'], errors: {} });
      }
    }
    const m = /^\/rest\/api\/(2|3)(\/.*)$/.exec(u.pathname);
    if (!m) return this.json(res, 404, { errorMessages: ['Not found'], errors: {} });
    const [, api, rest] = m;
    if ((rest === '/search' && api === '2') || (rest === '/search/jql' && api === '3')) {
      const f = this.jql(String(p.jql ?? ''));
      if (typeof f === 'string') return this.json(res, 400, { errorMessages: [f], errors: {} });
      const all = [...this.issues.values()].filter(f);
      const max = Math.min(Number(p.maxResults ?? 50), this.pageSize);
      if (api === '2') {
        const startAt = Number(p.startAt ?? 0);
        return this.json(res, 200, { startAt, maxResults: max, total: all.length, issues: all.slice(startAt, startAt + max).map((i) => this.view(i, api)) });
      }
      const start = p.nextPageToken ? Number(Buffer.from(String(p.nextPageToken), 'base64').toString()) : 0;
      const page = all.slice(start, start + max);
      const more = start + max < all.length;
      return this.json(res, 200, { issues: page.map((i) => this.view(i, api)), ...(more ? { nextPageToken: Buffer.from(String(start + max)).toString('base64') } : {}), isLast: !more });
    }
    if (rest === '/issue' && req.method === 'POST') {
      const f = (p.fields ?? {}) as Record<string, unknown>;
      const errors: Record<string, string> = {};
      if (typeof f.summary !== 'string' || !f.summary) errors.summary = 'You must specify a summary of the issue.';
      if ((f.project as { key?: string } | undefined)?.key !== this.project) errors.project = 'Specify a valid project ID or key';
      if (api === '3' && f.description !== undefined && (typeof f.description !== 'object' || (f.description as { type?: string }).type !== 'doc')) {
        errors.description = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
      }
      if (Object.keys(errors).length) return this.json(res, 400, { errorMessages: [], errors });
      const n = this.next++;
      const i: FakeJiraIssue = {
        id: String(10000 + n),
        key: `${this.project}-${n}`,
        project: this.project,
        summary: String(f.summary),
        description: f.description,
        labels: Array.isArray(f.labels) ? f.labels.map(String) : [],
        priority: (f.priority as { name?: string } | undefined)?.name ?? null,
        status: 'To Do',
        resolution: null,
        comments: [],
      };
      this.issues.set(i.key, i);
      return this.json(res, 201, { id: i.id, key: i.key, self: `${this.url}/rest/api/${api}/issue/${i.id}` });
    }
    const im = /^\/issue\/([A-Z][A-Z0-9_]*-\d+)(\/comment|\/transitions)?$/.exec(rest);
    const issue = im ? this.issues.get(im[1]) : undefined;
    if (!issue) return this.json(res, 404, { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} });
    if (!im?.[2] && req.method === 'GET') return this.json(res, 200, this.view(issue, api));
    if (im?.[2] === '/comment' && req.method === 'POST') {
      if (api === '3' && (typeof p.body !== 'object' || (p.body as { type?: string } | null)?.type !== 'doc')) {
        return this.json(res, 400, { errorMessages: [], errors: { comment: 'Comment body is not a valid Atlassian Document' } });
      }
      if (api === '2' && typeof p.body !== 'string') return this.json(res, 400, { errorMessages: [], errors: { comment: 'Comment body can not be empty!' } });
      issue.comments.push(p.body);
      return this.json(res, 201, { id: String(issue.comments.length), body: p.body });
    }
    if (im?.[2] === '/transitions' && req.method === 'GET') {
      return this.json(res, 200, { transitions: TRANSITIONS.map((t) => ({ id: t.id, name: t.name, to: { name: t.to, statusCategory: { key: CATEGORY[t.to] } } })) });
    }
    if (im?.[2] === '/transitions' && req.method === 'POST') {
      const t = TRANSITIONS.find((x) => x.id === (p.transition as { id?: string } | undefined)?.id);
      if (!t) return this.json(res, 400, { errorMessages: ['Transition id is not valid for this issue.'], errors: {} });
      issue.status = t.to;
      issue.resolution = t.to === 'Done' ? (((p.fields as { resolution?: { name?: string } } | undefined)?.resolution?.name ?? 'Done') as string) : null;
      return this.json(res, 204);
    }
    return this.json(res, 405, { errorMessages: ['Method Not Allowed'], errors: {} });
  }
}
