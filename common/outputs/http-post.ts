// One HTTP POST for the HTTP outputs (webhook, falcosidekick): undici with
// the output's own TLS trust and a timeout; a non-2xx answer is an error
// (the caller keeps the alerts). Secrets travel in headers and never reach
// a message.
import * as fs from 'node:fs';
import { Agent, request, type Dispatcher } from 'undici';

export class HttpPoster {
  private readonly dispatcher: Dispatcher;

  constructor(
    readonly url: string,
    o: { caFile?: string; timeoutMs?: number },
  ) {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`${url}: expected an http(s) URL`);
    const ca = o.caFile ? fs.readFileSync(o.caFile) : undefined;
    const t = o.timeoutMs ?? 10_000;
    this.dispatcher = new Agent({ connect: { ...(ca ? { ca } : {}), rejectUnauthorized: true, timeout: t }, headersTimeout: t, bodyTimeout: t });
  }

  async post(body: string, headers: Record<string, string>): Promise<void> {
    const res = await request(this.url, { method: 'POST', dispatcher: this.dispatcher, headers: { 'content-type': 'application/json', 'user-agent': 'vigil', ...headers }, body });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`POST ${new URL(this.url).origin}${new URL(this.url).pathname}: ${res.statusCode} ${text.slice(0, 200).replace(/[\u0000-\u001f]/g, ' ')}`);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
