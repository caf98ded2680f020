// Local servers the tests talk to, on 127.0.0.1:0 with the test PKI's
// certificate, every connection closed on stop(). FakeHttpsServer: the
// skeleton the HTTPS fakes of external services share (fake-github,
// fake-jira) and the outputs tests' webhook receiver: read each request's
// body, record the request, hand it to the fake's own protocol (which stays
// in each fake). SyslogTlsReceiver: what a SIEM's syslog-over-TLS listener
// reads, octet-counted messages.
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as tls from 'node:tls';
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

/**
 * A syslog receiver over TLS (RFC 5425): each connection's stream split into
 * octet-counted frames (RFC 6587 3.4.1, `LEN SP MSG`), each message kept as
 * text in arrival order. A length that is not digits is a framing error:
 * recorded in `errors`, that connection dropped.
 */
export class SyslogTlsReceiver {
  readonly frames: string[] = [];
  readonly errors: string[] = [];
  port = 0;
  private server: tls.Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly pki: TestPki) {}

  async start(): Promise<this> {
    const server = tls.createServer({ cert: this.pki.cert, key: this.pki.key }, (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const sp = buf.indexOf(0x20);
          if (sp < 0) break;
          const len = buf.subarray(0, sp).toString('latin1');
          if (!/^[1-9]\d{0,8}$/.test(len)) {
            this.errors.push(`not an octet count: ${JSON.stringify(len.slice(0, 20))}`);
            s.destroy();
            return;
          }
          const n = Number(len);
          if (buf.length < sp + 1 + n) break;
          this.frames.push(buf.subarray(sp + 1, sp + 1 + n).toString('utf8'));
          buf = buf.subarray(sp + 1 + n);
        }
      });
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) {
      for (const c of this.sockets) c.destroy();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}
