// `vigil alerts` against a real control plane: any number of matches, page
// by page (the old single response failed past ~9,500 alerts); a filter that
// rarely matches; --follow readers bounded (a reader that takes nothing is
// dropped and counted, not buffered); a reader that closes the pipe early
// ends the command quietly.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { listAlerts, queryClient, type AdminLink } from '../../cli/admin';
import { repoRoot } from '../../common/repo';
import { initTrustDomain, issueSvid } from '../../common/spiffe/local-ca';
import { startControlPlane, type RunningControlPlane } from '../../controlplane/controlplane';
import type { StoredAlert } from '../../controlplane/store';
import { testAlert } from '../helpers/alerts';
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
    await initTrustDomain(certs, TD);
    await issueSvid(certs, `spiffe://${TD}/vigil/controlplane`, 'controlplane');
    await issueSvid(certs, `spiffe://${TD}/vigil/admin/ann`, 'admin');
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

  it(`prints all ${N} matches page by page, and exactly --limit of them`, async () => {
    const all = new Lines();
    assert.equal(await listAlerts(link, { since: '1d' }, false, all, new Promise(() => undefined)), N);
    assert.equal(all.n, N);
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
});
