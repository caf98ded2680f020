// HTTP for the ticket sinks (GitHub, Jira): undici with a dispatcher per
// sink (its own TLS trust: a CA file for a private Jira, the public roots
// otherwise), timeouts, bounded response bodies, and errors that say whether
// to retry and when: rate limits as GitHub and Jira document them
// (429, or 403 with x-ratelimit-remaining 0 or a secondary-rate-limit message;
// retry-after seconds, x-ratelimit-reset epoch seconds), 5xx and network
// failures. Credentials travel in headers only and never reach a message.
import * as fs from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';
import { errorMessage } from '../../common/errors';
import { printable } from '../../common/escape';

export class SinkError extends Error {
  constructor(
    message: string,
    /** try again later (rate limit, 5xx, network); false: the request itself is wrong (a retry may still work after the configuration is fixed) */
    readonly retryable: boolean,
    /** the server said when (ms from now) */
    readonly retryAfterMs: number | null = null,
    readonly status: number | null = null,
    readonly rateLimited = false,
  ) {
    super(message);
    this.name = 'SinkError';
  }
}

/** Where a sink's server is and how to reach it: part of every sink's options. */
export interface HttpOptions {
  /** base URL, e.g. https://api.github.com or https://acme.atlassian.net */
  url: string;
  /** a PEM file of CAs to trust instead of the public roots */
  caFile?: string;
  timeoutMs?: number;
  /** the sink's name, for messages */
  name: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

const MAX_BODY = 4 << 20;

export class HttpClient {
  private readonly dispatcher: Dispatcher;
  private readonly base: URL;
  private readonly name: string;

  /** `headers`: sent with every request (Authorization...); read at each call, so a rotated token is used. */
  constructor(
    o: HttpOptions,
    private readonly headers: () => Record<string, string>,
  ) {
    this.name = o.name;
    this.base = new URL(o.url);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') throw new Error(`${o.name}: ${o.url}: expected an http(s) URL`);
    const ca = o.caFile ? fs.readFileSync(o.caFile) : undefined;
    this.dispatcher = new Agent({
      connect: { ...(ca ? { ca } : {}), rejectUnauthorized: true, timeout: o.timeoutMs ?? 10_000 },
      headersTimeout: o.timeoutMs ?? 10_000,
      bodyTimeout: o.timeoutMs ?? 10_000,
    });
  }

  /** The base URL's path joined with `path` (which carries its own query). */
  url(path: string): string {
    const u = new URL(this.base.toString());
    const [p, q] = path.split('?');
    u.pathname = (u.pathname.replace(/\/$/, '') + p).replace(/\/{2,}/g, '/');
    u.search = q ? `?${q}` : '';
    return u.toString();
  }

  async call(method: 'GET' | 'POST' | 'PATCH' | 'PUT', pathOrUrl: string, body?: unknown): Promise<HttpResponse> {
    const target = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : this.url(pathOrUrl);
    // a Link header may point anywhere: follow it only to our own server
    if (new URL(target).origin !== this.base.origin) throw new SinkError(`${this.name}: refused to follow a link to another server (${new URL(target).origin})`, false);
    const what = `${method} ${new URL(target).pathname}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(target, {
        method,
        dispatcher: this.dispatcher,
        headers: { accept: 'application/json', 'user-agent': 'vigil', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...this.headers() },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new SinkError(`${this.name}: ${what}: ${errorMessage(err)}`, true);
    }
    let text = '';
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.body.destroy();
        throw new SinkError(`${this.name}: ${what}: response larger than ${MAX_BODY} bytes`, true, null, res.statusCode);
      }
      text += (chunk as Buffer).toString('utf8');
    }
    let json: unknown = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    const headers = res.headers as Record<string, string | string[] | undefined>;
    if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, headers, json };
    throw classify(this.name, what, res.statusCode, headers, json, text);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The server's own words about the error (GitHub: message, errors; Jira: errorMessages, errors), escaped, bounded. */
export function serverMessage(json: unknown, text: string): string {
  if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    const parts: string[] = [];
    if (typeof o.message === 'string') parts.push(o.message);
    if (Array.isArray(o.errorMessages)) parts.push(...o.errorMessages.filter((x): x is string => typeof x === 'string'));
    if (Array.isArray(o.errors)) parts.push(...o.errors.map((e) => (e && typeof e === 'object' ? JSON.stringify(e) : String(e))));
    else if (o.errors && typeof o.errors === 'object') parts.push(...Object.entries(o.errors as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v)}`));
    if (parts.length) return printable(parts.join('; ').slice(0, 500));
  }
  return printable(text.slice(0, 200));
}

function classify(name: string, what: string, status: number, h: Record<string, string | string[] | undefined>, json: unknown, text: string): SinkError {
  const msg = serverMessage(json, text);
  const retryAfter = header(h, 'retry-after');
  const remaining = header(h, 'x-ratelimit-remaining');
  const reset = header(h, 'x-ratelimit-reset');
  const secondary = /secondary rate limit|rate limit exceeded/i.test(msg);
  if (status === 429 || (status === 403 && (remaining === '0' || secondary))) {
    let after: number | null = null;
    if (retryAfter && /^\d+$/.test(retryAfter)) after = Number(retryAfter) * 1000;
    else if (remaining === '0' && reset && /^\d+$/.test(reset)) after = Math.max(0, Number(reset) * 1000 - Date.now());
    else after = 60_000; // GitHub: "otherwise, wait for at least one minute"
    return new SinkError(`${name}: ${what}: rate limited (${status}): ${msg}`, true, Math.min(after, 3600_000), status, true);
  }
  if (status >= 500 || status === 408) return new SinkError(`${name}: ${what}: ${status}: ${msg}`, true, retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : null, status);
  return new SinkError(`${name}: ${what}: ${status}: ${msg}`, false, null, status);
}
