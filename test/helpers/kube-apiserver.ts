// A Kubernetes API server for tests, as far as pods go: HTTPS with a bearer
// token, `GET /api/v1/pods` list and watch (chunked JSON lines, as the real
// one streams them) with the spec.nodeName field selector, resourceVersions,
// watch replay from a resourceVersion, 410 Gone for an expired one (as a
// watch ERROR event and as the HTTP status), timeoutSeconds, and outages.
// No API server binary can be installed here; this speaks the protocol to the
// real client library.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface PodObject {
  metadata: { name: string; namespace: string; uid: string; resourceVersion?: string; [k: string]: unknown };
  spec: { nodeName?: string; [k: string]: unknown };
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  pod: PodObject;
}

interface OpenWatch {
  res: ServerResponse;
  node: string | null;
  timer?: NodeJS.Timeout;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

/** The recorded pods (test/fixtures/kubernetes/pods.json). */
export function recordedPods(): PodObject[] {
  const file = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'kubernetes', 'pods.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { items: PodObject[] }).items;
}

export function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

export class FakeApiServer {
  readonly requests: RequestRecord[] = [];
  readonly dir: string;
  readonly token = 'vigil-test-token-' + Math.random().toString(36).slice(2);
  kubeconfig = '';
  port = 0;
  lists = 0;
  watches = 0;
  private rv = 1000;
  /** events at or below this resourceVersion are compacted: watching from there is 410 Gone */
  private compacted = 0;
  private readonly pods = new Map<string, PodObject>();
  private history: WatchEvent[] = [];
  private readonly open = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private server: https.Server | null = null;
  private key = '';
  private cert = '';
  private goneAsStatus = false;
  /** answer every request with this HTTP status (an API server in trouble), or 0 */
  failWith = 0;

  private constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-kube-'));
  }

  static async start(pods: PodObject[] = []): Promise<FakeApiServer> {
    const s = new FakeApiServer();
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', path.join(s.dir, 'apiserver.key'), '-out', path.join(s.dir, 'apiserver.crt'),
      ],
      { stdio: 'pipe' },
    );
    s.key = fs.readFileSync(path.join(s.dir, 'apiserver.key'), 'utf8');
    s.cert = fs.readFileSync(path.join(s.dir, 'apiserver.crt'), 'utf8');
    for (const p of pods) s.put(p);
    s.history = [];
    await s.listen(0);
    s.kubeconfig = path.join(s.dir, 'kubeconfig');
    fs.writeFileSync(
      s.kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: test',
        '  cluster:',
        `    server: https://127.0.0.1:${s.port}`,
        `    certificate-authority-data: ${Buffer.from(s.cert).toString('base64')}`,
        'users:',
        '- name: vigil-agent',
        '  user:',
        `    token: ${s.token}`,
        'contexts:',
        '- name: test',
        '  context: {cluster: test, user: vigil-agent}',
        'current-context: test',
        '',
      ].join('\n'),
    );
    return s;
  }

  private listen(port: number): Promise<void> {
    const server = https.createServer({ key: this.key, cert: this.cert }, (req, res) => this.handle(req, res));
    server.on('connection', (sock: Socket) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  /** Pods as the list returns them (resourceVersion set). */
  list(node: string | null): PodObject[] {
    return [...this.pods.values()].filter((p) => node === null || p.spec.nodeName === node);
  }

  private put(p: PodObject): PodObject {
    const o = clone(p);
    o.metadata.resourceVersion = String(++this.rv);
    this.pods.set(o.metadata.uid, o);
    return o;
  }

  /** A pod is created (or bound to a node): ADDED to watchers. */
  add(p: PodObject): void {
    this.emit({ rv: 0, type: 'ADDED', pod: this.put(p) });
  }

  /** A pod changes (status posted, IP assigned): MODIFIED. */
  modify(p: PodObject): void {
    this.emit({ rv: 0, type: 'MODIFIED', pod: this.put(p) });
  }

  /** A pod is deleted: DELETED with its last state. */
  delete(uid: string): void {
    const p = this.pods.get(uid);
    if (!p) throw new Error(`no pod ${uid}`);
    this.pods.delete(uid);
    const o = clone(p);
    o.metadata.resourceVersion = String(++this.rv);
    this.emit({ rv: 0, type: 'DELETED', pod: o });
  }

  /** Change pods without anyone watching seeing it (what happens while a client is away). */
  quietly(fn: () => void): void {
    const saved = [...this.open];
    this.open.clear();
    try {
      fn();
    } finally {
      for (const w of saved) this.open.add(w);
    }
  }

  private emit(e: WatchEvent): void {
    e.rv = Number(e.pod.metadata.resourceVersion);
    this.history.push(e);
    for (const w of this.open) {
      if (w.node === null || e.pod.spec.nodeName === w.node) w.res.write(JSON.stringify({ type: e.type, object: e.pod }) + '\n');
    }
  }

  /**
   * etcd compaction: every resourceVersion seen so far is too old. Open watches get the
   * ERROR event with a 410 Status and are closed, as the API server does.
   */
  expire(): void {
    this.compacted = this.rv;
    this.history = [];
    for (const w of [...this.open]) {
      w.res.write(JSON.stringify({ type: 'ERROR', object: gone(this.rv) }) + '\n');
      this.endWatch(w);
    }
  }

  /**
   * Compaction nobody is told about: a client whose resourceVersion is older than now finds out
   * when it next watches (as a 410 ERROR event in a 200 response, or with asHttpStatus, as an
   * HTTP 410, which some proxies and older servers give).
   */
  compact(asHttpStatus = false): void {
    this.compacted = this.rv;
    this.history = [];
    this.goneAsStatus = asHttpStatus;
  }

  /** End every open watch normally (what timeoutSeconds does). */
  closeWatches(): void {
    for (const w of [...this.open]) this.endWatch(w);
  }

  openWatches(): number {
    return this.open.size;
  }

  /** The API server goes away: connections reset, new ones refused. */
  async down(): Promise<void> {
    for (const w of [...this.open]) {
      if (w.timer) clearTimeout(w.timer);
      this.open.delete(w);
    }
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** And comes back on the same port. */
  async up(): Promise<void> {
    await this.listen(this.port);
  }

  async stop(): Promise<void> {
    await this.down();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private endWatch(w: OpenWatch): void {
    if (w.timer) clearTimeout(w.timer);
    this.open.delete(w);
    w.res.end();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    const status = (code: number, reason: string, message: string): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
    };
    if (this.failWith) return status(this.failWith, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    if (req.headers.authorization !== `Bearer ${this.token}`) return status(401, 'Unauthorized', 'Unauthorized');
    if (req.method !== 'GET' || url.pathname !== '/api/v1/pods') return status(404, 'NotFound', `the server could not find the requested resource (${req.method} ${url.pathname})`);
    const fs = url.searchParams.get('fieldSelector');
    let node: string | null = null;
    if (fs !== null) {
      const m = /^spec\.nodeName=(.+)$/.exec(fs);
      if (!m) return status(400, 'BadRequest', `field label not supported: ${fs}`);
      node = m[1];
    }
    if (url.searchParams.get('watch') !== 'true') {
      this.lists++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items: this.list(node) }));
      return;
    }
    this.watches++;
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    if (from !== 0 && from < this.compacted) {
      if (this.goneAsStatus) return status(410, 'Expired', `too old resource version: ${from} (${this.compacted})`);
      // a watch from a compacted resourceVersion: the API server answers 200, one ERROR event, end
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.end(JSON.stringify({ type: 'ERROR', object: gone(from) }) + '\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: OpenWatch = { res, node };
    for (const e of this.history) {
      if (e.rv > from && (node === null || e.pod.spec.nodeName === node)) res.write(JSON.stringify({ type: e.type, object: e.pod }) + '\n');
    }
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '0');
    if (timeout > 0) w.timer = setTimeout(() => this.endWatch(w), timeout * 1000);
    this.open.add(w);
    req.on('close', () => {
      if (w.timer) clearTimeout(w.timer);
      this.open.delete(w);
    });
  }
}

function gone(rv: number): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `too old resource version: ${rv} (${rv + 1})`,
    reason: 'Expired',
    code: 410,
  };
}
