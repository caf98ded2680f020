// The skeleton the local HTTPS fakes of external services share (fake-github,
// fake-jira): listen on 127.0.0.1:0 with the test PKI's certificate, read each
// request's body, record the request, hand it to the fake's own protocol, and
// close every connection on stop(). The protocol stays in each fake.
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestPki } from './https-ca';

export interface SeenRequest {
  method: string;
  /** path and query, as parsed against the fake's URL */
  path: string;
  authorization: string;
  body: string;
}

export abstract class FakeHttpsServer {
  /** every request, in arrival order, recorded before it is answered */
  readonly requests: SeenRequest[] = [];
  port = 0;
  private server: https.Server | null = null;

  constructor(private readonly pki: TestPki) {}

  /** https://127.0.0.1:PORT (no trailing slash) */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = https.createServer({ cert: this.pki.cert, key: this.pki.key }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', this.url);
        this.requests.push({ method: req.method ?? '', path: u.pathname + u.search, authorization: String(req.headers.authorization ?? ''), body });
        this.handle(req, res, body, u);
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  /** Answer one request (already recorded) by the fake's protocol. */
  protected abstract handle(req: IncomingMessage, res: ServerResponse, body: string, url: URL): void;
}
