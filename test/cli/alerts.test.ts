// `vigil alerts` against a real control plane: any number of matches, page
// by page (the old single response failed past ~9,500 alerts); a filter that
// rarely matches; --follow readers bounded (a reader that takes nothing is
// dropped and counted, not buffered); a reader that closes the pipe early
// ends the command quietly; what an agent wrote (escape sequences, line
// breaks, direction overrides) reaches the terminal escaped and JSON lines
// on one line each, through the real command.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Spool } from '../../agent/export/spool';
import { listAlerts, queryClient, type AdminLink } from '../../cli/admin';
import { repoRoot } from '../../common/repo';
import { issueSvid } from '../../common/spiffe/local-ca';
import { startControlPlane, type RunningControlPlane } from '../../controlplane/controlplane';
import type { StoredAlert } from '../../controlplane/store';
import { testAlert } from '../helpers/alerts';
import { spawnVigil } from '../helpers/cli';
import { rawAgent } from '../helpers/raw-agent';
import { testTrustDomain } from '../helpers/trust-domain';
import { testUplink } from '../helpers/uplink';
import { until } from '../helpers/wait';

const TD = 'alerts.vigil';
const N = 12_000;

function rows(from: number, n: number, node = 'node-1', wl = (i: number): string => `spiffe://${TD}/ns/x/sa/y-${i % 10}`): StoredAlert[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const a = testAlert(i, node, TD, { output: `alert ${i} ${'x'.repeat(900)}` });
    return { node, bootId: 'b', sequence: i, timeNs: String(Date.now() * 1e6), rule: a.rule, priority: a.priority, action: a.action, outcome: a.outcome, spiffeId: wl(i), json: JSON.stringify(a) };
  });
}

class Lines extends Writable {
  n = 0;
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    for (const c of chunk) if (c === 10) this.n++;
    cb();
  }
}

describe('vigil alerts: pages, bounded followers, early close', function () {
  this.timeout(60000);
  let dir: string;
  let cp: RunningControlPlane;
  let link: AdminLink;
  const logs: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-alerts-'));
    const certs = path.join(dir, 'certs');
    await testTrustDomain(certs, TD, { admin: 'vigil/admin/ann' });
    for (const n of ['node-8', 'node-9']) await issueSvid(certs, `spiffe://${TD}/vigil/agent/${n}`, `agent-${n}`);
    cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'data'), certsDir: certs, insecure: false, log: (l) => logs.push(l), follow: { max: 2, stallMs: 1500 } });
    link = { address: `127.0.0.1:${cp.port}`, certsDir: certs, insecure: false };
    // about 12 MB of alerts: three times what one response could hold
    cp.store.insertAlerts(rows(1, N - 3));
    cp.store.insertAlerts(rows(N - 2, 3, 'node-1', () => `spiffe://${TD}/ns/rare/sa/one`));
  });
  after(async () => {
    await cp.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`prints all ${N} matches page by page, and exactly --limit of them, never blocking the server long`, async () => {
    const all = new Lines();
    // the control plane runs in this process: its longest stall is this event loop's
    const stall = monitorEventLoopDelay({ resolution: 10 });
    stall.enable();
    assert.equal(await listAlerts(link, { since: '1d' }, false, all, new Promise(() => undefined)), N);
    stall.disable();
    assert.equal(all.n, N);
    // one response of every match blocked it about 1 s per call
    assert.ok(stall.max / 1e6 < 250, `the event loop stalled ${(stall.max / 1e6).toFixed(0)} ms while ${N} alerts were paged`);
    const some = new Lines();
    assert.equal(await listAlerts(link, { limit: 10_500 }, false, some, new Promise(() => undefined)), 10_500);
    assert.equal(some.n, 10_500);
  });

  it('a filter that matches 3 rows past the first 11,997 finds them (pages scan a bounded number of rows each)', async () => {
    const out = new Lines();
    assert.equal(await listAlerts(link, { workload: `spiffe://${TD}/ns/rare/**` }, false, out, new Promise(() => undefined)), 3);
  });

  it('a --follow reader that takes nothing (its process stopped) is dropped after the stall time and counted, the server holding a bounded amount for it', async () => {
    const p = spawn(path.join(repoRoot(), 'bin', 'vigil'), ['alerts', '--follow', '--controlplane', link.address, '--certs', link.certsDir as string, '--output', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
      // the reader stops reading: its socket fills, then the server's buffers would
      p.kill('SIGSTOP');
      await until('dropped', () => logs.some((l) => /follow reader spiffe:\/\/alerts\.vigil\/vigil\/admin\/ann dropped: it took nothing for 1\.5 s/.test(l)), 20000);
      const held = /\((\d+) messages and (\d+) bytes were waiting for it\)/.exec(logs.find((l) => /dropped: it took nothing/.test(l)) ?? '');
      assert.ok(held && Number(held[1]) <= 500 && Number(held[2]) <= 1 << 20, `held for it: ${held?.[0]}: at most one page`);
      const m = (await cp.metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'vigil_follow_readers_dropped_total');
      assert.equal(m?.values.find((v) => v.labels.reason === 'slow')?.value, 1);
      await until('no reader left', () => logs.length > 0 && (cp.cp as unknown as { queries: { followers: number } }).queries.followers === 0);
    } finally {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
  });

  it('more --follow readers than the limit are refused', async () => {
    const calls = [0, 1].map(() => {
      const c = queryClient(link);
      const call = c.FollowAlerts({ since: String(Date.now() * 1e6) });
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      return { c, call };
    });
    await until('two readers', () => (cp.metrics.registry.getSingleMetric('vigil_follow_readers') !== undefined));
    await new Promise((r) => setTimeout(r, 300));
    const third = new Lines();
    await assert.rejects(listAlerts(link, { since: '1s' }, true, third, new Promise(() => undefined)), /refused: 2 --follow readers already/);
    for (const { c, call } of calls) {
      call.cancel();
      c.close();
    }
  });

  it('vigil alerts | head -1: the closed pipe ends the command quietly, exit 0', async () => {
    const p = spawn(path.join(repoRoot(), 'bin', 'vigil'), ['alerts', '--controlplane', link.address, '--certs', link.certsDir as string, '--output', 'text'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const first = await new Promise<string>((resolve) => p.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    p.stdout.destroy(); // what `head -1` does after its line
    const code = await new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c)));
    assert.match(first, /WARNING +node-1 alert 1 /);
    assert.equal(err, '');
    assert.equal(code, 0);
  });

  it('what an agent wrote stays data: escapes, line breaks and direction overrides are escaped on the terminal, and JSON lines stay one line each with the same value', async () => {
    const certs = link.certsDir as string;
    const run = (args: string[]): ReturnType<typeof spawnVigil> => spawnVigil(['alerts', '--controlplane', link.address, '--certs', certs, ...args]);
    // the real uplink: an agent's alert whose text holds a cursor move, a forged line, a carriage return and a direction override
    const hostileText = 'shell spawned\n2026-12-02T10:00:01Z CRITICAL      node-1 all clear\u001b[2K\r\u202eevil\u009b31m';
    const spool = new Spool(path.join(dir, 'spool-9'), 'boot-9');
    const up = testUplink({ address: link.address, certs, trustDomain: TD, node: 'node-9', bootId: 'boot-9', spool });
    up.start();
    // a lying agent: JSON that parses, with raw line breaks between its tokens and a raw C1 control and U+2028 in a string
    const raw = rawAgent(cp.port, certs, TD, 'node-8');
    try {
      up.send(testAlert(1, 'node-9', TD, { output: hostileText }));
      await until('node-9 stored', () => spool.stats().depth === 0 && up.stats.connected);
      raw.write({ hello: { node: 'node-8', boot_id: 'boot-8', version: 't' } });
      await until('welcomed', () => raw.received.some((m) => m.msg === 'welcome'));
      const lying = '{"rule":"r",\n"node":"node-8",\r\n\t"output":"one\u009b2J\u2028two"}';
      raw.write({ alerts: { alerts: [{ sequence: 1, rule: 'r', time_unix_nano: String(Date.now() * 1e6), json: lying }] } });
      await until('acknowledged', () => raw.received.some((m) => m.msg === 'ack'));
      assert.deepEqual(raw.received.find((m) => m.msg === 'ack')?.ack?.stored.map((r) => Number(r.first)), [1], 'valid JSON is stored, not dropped');
    } finally {
      raw.close();
      await up.stop();
      spool.close();
    }
    const unsafe = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    for (const node of ['node-9', 'node-8']) {
      const text = await run(['--node', node, '--output', 'text']);
      assert.equal(text.code, 0, text.err);
      assert.equal(text.out.split('\n').length, 2, `one line for ${node}'s one alert: ${JSON.stringify(text.out)}`);
      assert.doesNotMatch(text.out, unsafe);
      const json = await run(['--node', node, '--output', 'json']);
      assert.equal(json.code, 0, json.err);
      assert.equal(json.out.split('\n').length, 2, `one JSON line for ${node}'s one alert: ${JSON.stringify(json.out)}`);
      assert.doesNotMatch(json.out, unsafe);
      const value = JSON.parse(json.out) as { output: string };
      assert.equal(value.output, node === 'node-9' ? hostileText : 'one\u009b2J\u2028two', 'the same value, escaped only in how it is written');
      if (node === 'node-9') {
        assert.match(text.out, /node-9 shell spawned\\n2026-12-02T10:00:01Z CRITICAL {6}node-1 all clear\\x1b\[2K\\r\\u202eevil\\x9b31m\n$/);
      }
    }
  });
});
