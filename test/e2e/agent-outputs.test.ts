// A node without a control plane delivers its own alerts (issue 13 item 4:
// "configured at the control plane and, for nodes without one, at the
// agent"): the real `vigil agent --outputs FILE` on the real kernel, no
// --controlplane, a rule fires on an exec in a workload cgroup, and three
// real local receivers get the alert:
//   - a webhook over HTTPS (trusted through ca_file), the alert JSON with
//     X-Vigil-Signature-256 = HMAC-SHA256 of the exact body (secret_file);
//     it answers 503 at first: the agent's queue retries, nothing is lost;
//   - a falcosidekick-compatible receiver over HTTP: the fields Falco posts;
//   - syslog over TLS: an RFC 5424 message framed by octet counting (RFC 6587).
// The process's arguments carry a newline, a forged syslog header and a
// terminal escape: they stay data in every output.
import * as assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startVigil, type RunningVigil } from '../helpers/cli';
import { SyslogTlsReceiver } from '../helpers/fake-server';
import { makeTestPki, type TestPki } from '../helpers/https-ca';
import { CgroupSandbox, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';
import { until } from '../helpers/wait';

const WORKLOAD = 'spiffe://outputs.vigil/ns/shop/sa/web';
const EVIL = 'x\n<13>1 2026-01-01T00:00:00Z forged vigil - fake - \u001b[31mred';

describe('vigil agent --outputs: a node without a control plane delivers to webhook, falcosidekick and syslog (real kernel)', function () {
  this.timeout(90_000);
  let dir: string;
  let pki: TestPki;
  let sb: CgroupSandbox;
  let cg: CgroupHandle;
  let agent: RunningVigil | null = null;
  let hook: https.Server;
  let sidekick: http.Server;
  let syslog: SyslogTlsReceiver | undefined;
  let hookStatus = 503;
  let hookRefused = 0;
  const hooked: { body: string; signature: string; type: string }[] = [];
  const posted: { body: string; type: string }[] = [];
  let frames: string[] = [];

  const listen = async (s: http.Server | https.Server): Promise<number> => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };
  const body = (req: http.IncomingMessage): Promise<string> =>
    new Promise((resolve) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => resolve(b));
    });

  before(async () => {
    requireKernelTestPrivileges();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-outputs-'));
    pki = makeTestPki();
    sb = CgroupSandbox.create('outputs');
    cg = sb.child('web');
    hook = https.createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
      void body(req).then((b) => {
        if (hookStatus !== 200) {
          hookRefused++;
          return res.writeHead(hookStatus).end('{"message":"down for maintenance"}');
        }
        hooked.push({ body: b, signature: String(req.headers['x-vigil-signature-256'] ?? ''), type: String(req.headers['content-type'] ?? '') });
        res.writeHead(204).end();
      });
    });
    sidekick = http.createServer((req, res) => {
      void body(req).then((b) => {
        posted.push({ body: b, type: String(req.headers['content-type'] ?? '') });
        res.writeHead(200).end();
      });
    });
    syslog = await new SyslogTlsReceiver(pki).start();
    frames = syslog.frames;
    const syslogPort = syslog.port;
    const [hookPort, sidekickPort] = [await listen(hook), await listen(sidekick)];
    fs.writeFileSync(path.join(dir, 'hook-secret'), 'n0de-s3cret\n');
    fs.writeFileSync(
      path.join(dir, 'outputs.yaml'),
      [
        'outputs:',
        `  - { type: webhook, name: hook, url: "https://127.0.0.1:${hookPort}/vigil", secret_file: ${path.join(dir, 'hook-secret')}, ca_file: ${pki.caFile}, min_priority: warning }`,
        `  - { type: falcosidekick, name: sidekick, url: "http://127.0.0.1:${sidekickPort}/" }`,
        `  - { type: syslog, name: siem, address: "127.0.0.1:${syslogPort}", tls: true, ca_file: ${pki.caFile}, server_name: localhost, facility: 13, format: text }`,
        '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'ids.yaml'), `workloads:\n  - { spiffe_id: ${WORKLOAD}, cgroups: [${cg.rel.slice(1)}] }\n`);
    fs.writeFileSync(
      path.join(dir, 'rules.yaml'),
      `rules:\n  - { name: true-in-shop, workload: ${WORKLOAD}, on: exec, match: { binary: { in: [${fs.realpathSync('/bin/true')}] } }, priority: critical }\n`,
    );
    agent = await startVigil(
      ['agent', '--rules', path.join(dir, 'rules.yaml'), '--identities', path.join(dir, 'ids.yaml'), '--outputs', path.join(dir, 'outputs.yaml'), '--state', path.join(dir, 'state'), '--node', 'lone-node', '--no-pin', '--no-kubernetes'],
      /vigil agent: watching/,
      60_000,
    );
  });

  after(async () => {
    await agent?.stop();
    await sb?.cleanup();
    for (const s of [hook, sidekick]) if (s) await new Promise<void>((r) => s.close(() => r()));
    await syslog?.stop();
    pki?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the alert reaches all three, the webhook after it came back up; hostile arguments stay data', async () => {
    assert.doesNotMatch(agent?.err() ?? '', /controlplane/i, 'no control plane');
    await sb.run(cg, '/bin/true', [EVIL], { mode: 'exec' });
    await until('the agent printed the alert', () => (agent?.out() ?? '').includes('"rule":"true-in-shop"'), 20_000);
    const printed = (agent?.out() ?? '').split('\n').find((l) => l.includes('"rule":"true-in-shop"')) as string;
    await until('falcosidekick and syslog got it', () => posted.length > 0 && frames.length > 0, 20_000);
    await until('the webhook refused it at least once', () => hookRefused > 0, 20_000);
    hookStatus = 200;
    await until('the webhook got it once it was back', () => hooked.length > 0, 30_000);

    // webhook: the JSON the agent printed, signed over the exact body
    assert.equal(hooked.length, 1);
    assert.equal(hooked[0].body, printed);
    assert.equal(hooked[0].signature, `sha256=${createHmac('sha256', 'n0de-s3cret').update(hooked[0].body).digest('hex')}`);
    assert.match(hooked[0].type, /^application\/json/);
    const a = JSON.parse(hooked[0].body) as { rule: string; node: string; process: { args: string[] }; workload: { spiffe_id: string } };
    assert.equal(a.node, 'lone-node');
    assert.equal(a.workload.spiffe_id, WORKLOAD);
    assert.deepEqual(a.process.args.slice(1), [EVIL], 'the argument arrives exactly, as data');

    // falcosidekick: Falco's fields
    assert.equal(posted.length, 1);
    const f = JSON.parse(posted[0].body) as Record<string, unknown> & { output_fields: Record<string, unknown> };
    assert.deepEqual(Object.keys(f).sort(), ['hostname', 'output', 'output_fields', 'priority', 'rule', 'source', 'tags', 'time']);
    assert.equal(f.rule, 'true-in-shop');
    assert.equal(f.priority, 'Critical');
    assert.equal(f.source, 'vigil');
    assert.equal(f.hostname, 'lone-node');
    assert.equal(f.output_fields['proc.exepath'], fs.realpathSync('/bin/true'));
    assert.equal(f.output_fields['vigil.spiffe_id'], WORKLOAD);
    assert.match(String(f.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);

    // syslog: one RFC 5424 message (facility 13, critical = severity 2: PRI 106); the forged header inside stays in it
    assert.equal(frames.length, 1, frames.join('\n---\n'));
    assert.match(frames[0], /^<106>1 \d{4}-\d\d-\d\dT[\d:.]+Z lone-node vigil - true-in-shop \[vigil@32473 rule="true-in-shop" priority="critical" node="lone-node" spiffe_id="spiffe:\/\/outputs\.vigil\/ns\/shop\/sa\/web"\] \ufeff/);
    assert.ok(!frames[0].includes('\n'), 'a newline in the arguments cannot start a second message');
  });
});
