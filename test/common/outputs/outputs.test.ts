// The outputs against real local receivers: an HTTPS server for the webhook
// (HMAC-SHA256 over the exact body) and the falcosidekick JSON, a TLS
// syslog server reading RFC 6587 octet-counted RFC 5424 messages; the
// agent's queue (retries, bounded, drops counted); and the control plane's
// forwarding from the store (a receiver down, then up: nothing lost, in order).
import * as assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseOutputs } from '../../../common/outputs/config';
import { falcoPayload, FalcosidekickOutput } from '../../../common/outputs/falcosidekick';
import { OutputQueue } from '../../../common/outputs/queue';
import { frame, SyslogOutput, syslogMessage } from '../../../common/outputs/syslog';
import { SIGNATURE_HEADER, WebhookOutput } from '../../../common/outputs/webhook';
import { Store } from '../../../controlplane/store';
import { Vdp } from '../../../controlplane/vdp/vdp';
import { EMPTY_INVENTORY } from '../../../controlplane/vdp/inventory';
import { FakeHttpsServer, SyslogTlsReceiver } from '../../helpers/fake-server';
import { makeTestPki, type TestPki } from '../../helpers/https-ca';
import { until } from '../../helpers/wait';

const alert = (i: number, o: Record<string, unknown> = {}): string =>
  JSON.stringify({
    time: `2026-12-02T10:00:0${i % 10}.123456789Z`,
    rule: 'shell-in-payments',
    priority: 'critical',
    action: 'kill',
    outcome: 'killed',
    tags: ['shell'],
    node: 'node-1',
    output: `shell-in-payments: exec of /bin/sh #${i}`,
    workload: { spiffe_id: 'spiffe://prod.example/ns/payments/sa/api', container_id: 'abc', kubernetes: { namespace: 'payments', pod: 'api-1' }, image: { name: 'registry.example/api', tag: '1', digest: `sha256:${'d'.repeat(64)}` } },
    process: { pid: 42, ppid: 1, exe: '/bin/sh', args: ['sh', '-c', 'id'], uid: 0 },
    event: { kind: 'exec' },
    ...o,
  });

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A webhook / falcosidekick receiver: what it accepted (answering `status`). */
class Receiver extends FakeHttpsServer {
  readonly got: Received[] = [];
  status = 200;
  protected handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (this.status === 200) this.got.push({ headers: req.headers, body });
    res.writeHead(this.status).end();
  }
  override get url(): string {
    return `https://127.0.0.1:${this.port}/`;
  }
}

describe('outputs (common/outputs)', function () {
  this.timeout(20_000);
  let pki: TestPki;
  let rx: Receiver;
  before(() => {
    pki = makeTestPki();
  });
  after(() => pki.remove());
  beforeEach(async () => {
    rx = new Receiver(pki);
    await rx.start();
  });
  afterEach(async () => rx.stop());

  it('webhook: the alert JSON as the body, HMAC-SHA256 of the exact body in X-Vigil-Signature-256; TLS trust is the configured CA', async () => {
    const out = new WebhookOutput('hook', rx.url, () => 's3cret', { caFile: pki.caFile });
    await out.deliver([alert(1), alert(2)]);
    await out.close();
    assert.equal(rx.got.length, 2);
    for (const g of rx.got) {
      const want = `sha256=${createHmac('sha256', 's3cret').update(g.body).digest('hex')}`;
      assert.equal(g.headers[SIGNATURE_HEADER], want);
      assert.equal(JSON.parse(g.body).rule, 'shell-in-payments');
      assert.ok(!JSON.stringify(g.headers).includes('s3cret'));
    }
    // without the CA the receiver is not trusted
    const untrusted = new WebhookOutput('hook2', rx.url, null, {});
    await assert.rejects(untrusted.deliver([alert(3)]), /self.signed|unable to verify|certificate/i);
    await untrusted.close();
  });

  it('falcosidekick: exactly the fields Falco posts, Falco priority words, Falco field names', async () => {
    const p = falcoPayload(alert(1));
    assert.deepEqual(Object.keys(p).sort(), ['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time']);
    assert.equal(p.priority, 'Critical');
    assert.equal(p.source, 'vigil');
    assert.equal(p.hostname, 'node-1');
    assert.equal(p.output_fields['proc.exepath'], '/bin/sh');
    assert.equal(p.output_fields['proc.cmdline'], 'sh -c id');
    assert.equal(p.output_fields['k8s.ns.name'], 'payments');
    assert.equal(p.output_fields['container.image.repository'], 'registry.example/api');
    // hostile: not an object, fields of the wrong type
    const h = falcoPayload('[1,2]');
    assert.equal(h.rule, 'unknown');
    const w = falcoPayload(JSON.stringify({ rule: 'r', priority: { x: 1 }, process: { exe: { evil: true }, args: 'not a list' } }));
    assert.equal(w.priority, 'Warning');
    assert.equal(w.output_fields['proc.exepath'], undefined);
    const out = new FalcosidekickOutput('fsk', rx.url, { caFile: pki.caFile });
    await out.deliver([alert(1)]);
    await out.close();
    assert.equal(JSON.parse(rx.got[0].body).rule, 'shell-in-payments');
  });

  it('syslog over TLS: RFC 5424 messages framed by octet counting, severity from the priority, escaped structured data', async () => {
    const siem = await new SyslogTlsReceiver(pki).start();
    const { frames, port } = siem;
    try {
      const out = new SyslogOutput('siem', { host: '127.0.0.1', port, tls: true, caFile: pki.caFile, serverName: 'localhost', facility: 13, format: 'text' });
      const evil = alert(2, { rule: 'r"]\\x', output: 'line one\n<13>1 forged second message', node: 'node 1\u001b[31m' });
      await out.deliver([alert(1), evil]);
      await until('two frames', () => frames.length === 2);
      await out.close();
      assert.match(frames[0], /^<106>1 2026-12-02T10:00:01\.123456Z node-1 vigil - shell-in-payments \[vigil@32473 rule="shell-in-payments" priority="critical" node="node-1" spiffe_id="spiffe:\/\/prod\.example\/ns\/payments\/sa\/api"\] \ufeffshell-in-payments: exec of \/bin\/sh #1$/);
      assert.match(frames[1], /rule="r\\"\\]\\\\x"/, 'quote, bracket and backslash escaped in SD values');
      assert.match(frames[1], / node_1_\[31m vigil /, 'hostname: printable ASCII without spaces');
      assert.ok(!frames[1].includes('\n'), 'a newline cannot start a forged message');
      assert.equal(frames.length, 2);
      assert.deepEqual(siem.errors, [], 'every frame was octet-counted');
    } finally {
      await siem.stop();
    }
    assert.equal(frame('é').toString(), '2 é', 'the count is in bytes');
    assert.match(syslogMessage(alert(1), { facility: 4, format: 'json' }), /^<34>1 /);
  });

  it("the agent's queue retries until the receiver is back (nothing lost), and drops what does not fit, counted", async () => {
    rx.status = 503;
    const q = new OutputQueue(new WebhookOutput('hook', rx.url, null, { caFile: pki.caFile }), { minPriority: 'warning', max: 5, backoffMs: 20, maxBackoffMs: 100 });
    for (let i = 0; i < 7; i++) q.send(alert(i));
    q.send(alert(9, { priority: 'debug' }));
    await until('a failure', () => q.stats.failures > 0);
    rx.status = 200;
    await until('delivered', () => q.stats.delivered === 5);
    await q.close();
    assert.equal(q.stats.dropped, 2);
    assert.deepEqual(
      rx.got.map((g) => JSON.parse(g.body).output),
      [0, 1, 2, 3, 4].map((i) => `shell-in-payments: exec of /bin/sh #${i}`),
      'in order, below min_priority left out',
    );
  });

  it('the control plane forwards from the store: a receiver that is down loses nothing, and gets everything in order when it is back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-outputs-'));
    const store = new Store(path.join(dir, 'vigil.db'));
    const vdp = new Vdp({
      store,
      inventory: EMPTY_INVENTORY,
      log: () => undefined,
      config: { minWindowMs: 1000, rescanMs: 60_000, advisoriesDir: null, groupBy: ['rule'], alertBatchMs: 60_000, sinks: [], outputs: parseOutputs([{ type: 'webhook', name: 'hook', url: rx.url, ca_file: pki.caFile }], 'outputs') },
    });
    try {
      rx.status = 503;
      vdp.start();
      const put = (from: number, n: number): void =>
        void store.insertAlerts(
          Array.from({ length: n }, (_, i) => ({ node: 'n1', bootId: 'b', sequence: from + i, timeNs: String(from + i), rule: 'r', priority: 'critical', action: 'alert', outcome: 'alerted', spiffeId: '', json: alert(from + i) })),
        );
      put(1, 3);
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(rx.got.length, 0);
      put(4, 2);
      rx.status = 200;
      await until('all five delivered', () => rx.got.length === 5, 15_000);
      assert.deepEqual(
        rx.got.map((g) => JSON.parse(g.body).output),
        [1, 2, 3, 4, 5].map((i) => `shell-in-payments: exec of /bin/sh #${i}`),
      );
    } finally {
      await vdp.close();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('configuration: unknown keys, bad types and secrets written in the file are refused, naming the path', () => {
    assert.throws(() => parseOutputs([{ type: 'kafka', url: 'x' }], 'outputs'), /outputs\[0\]\.type: expected webhook, falcosidekick or syslog/);
    assert.throws(() => parseOutputs([{ type: 'webhook', url: 'https://x', secret: 'inline' }], 'outputs'), /outputs\[0\]: unknown key "secret"/);
    assert.throws(() => parseOutputs([{ type: 'syslog', address: 'nohost' }], 'outputs'), /outputs\[0\]\.address: .*expected HOST:PORT/);
    assert.throws(() => parseOutputs([{ type: 'webhook', url: 'file:///etc/passwd' }], 'outputs'), /expected an http\(s\) URL/);
    assert.throws(() => parseOutputs([{ type: 'webhook', url: 'https://a' }, { type: 'webhook', name: 'webhook-0', url: 'https://b' }], 'outputs'), /two outputs named "webhook-0"/);
  });
});
