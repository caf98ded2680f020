// Ingest under a bad day and a hostile node: a store locked by another
// process or out of disk pauses ingestion (nothing acknowledged past a gap,
// nothing lost, nothing twice); one agent's huge batch or flood does not
// stop the others; what is not a valid alert is refused and said so.
// Real control planes over mTLS, real uplinks and spools, a real second
// process holding the SQLite write lock, a real tmpfs.
import { Writer } from 'protobufjs';
import * as grpc from '@grpc/grpc-js';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Spool } from '../../agent/export/spool';
import type { Uplink } from '../../agent/export/uplink';
import { issueSvid } from '../../common/spiffe/local-ca';
import type { ControlMessage__Output } from '../../common/proto/generated/vigil/v1/ControlMessage';
import { startControlPlane, type ControlPlaneConfig, type RunningControlPlane } from '../../controlplane/controlplane';
import { testAlert } from '../helpers/alerts';
import { rawAgent, type RawAgent } from '../helpers/raw-agent';
import { testTrustDomain } from '../helpers/trust-domain';
import { testUplink } from '../helpers/uplink';
import { until } from '../helpers/wait';

const TD = 'ingest.vigil';

async function metric(cp: RunningControlPlane, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await cp.metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values ?? []).find((x) => Object.entries(labels).every(([k, want]) => (x.labels as Record<string, unknown>)[k] === want));
  return Number(v?.value ?? 0);
}

function rowStats(cp: RunningControlPlane, node: string): { n: number; d: number; lo: number | null; hi: number | null } {
  return cp.store.db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT sequence) AS d, MIN(sequence) AS lo, MAX(sequence) AS hi FROM alerts WHERE node = ?').get(node) as {
    n: number;
    d: number;
    lo: number | null;
    hi: number | null;
  };
}

describe('ingest: back-pressure, quotas, validation', function () {
  this.timeout(60000);
  let dir: string;
  let certs: string;
  let cp: RunningControlPlane | null = null;
  const uplinks: Uplink[] = [];
  const spools: Spool[] = [];
  const raws: RawAgent[] = [];
  const logs: string[] = [];
  let mounted: string | null = null;

  const startCp = async (extra: Partial<ControlPlaneConfig> = {}): Promise<RunningControlPlane> => {
    cp = await startControlPlane({
      listen: '127.0.0.1:0',
      dataDir: path.join(dir, 'data'),
      certsDir: certs,
      insecure: false,
      log: (l) => {
        logs.push(l);
        if (process.env.DEBUG_CP) console.log(l);
      },
      ingest: { retryMinMs: 20, retryMaxMs: 200 },
      ...extra,
    });
    return cp;
  };

  const agent = (node: string, c: RunningControlPlane): { up: Uplink; spool: Spool } => {
    const spool = new Spool(path.join(dir, `spool-${node}`), `boot-${node}`, 200_000, 256 << 20);
    const up = testUplink({ address: `127.0.0.1:${c.port}`, certs, trustDomain: TD, node, bootId: `boot-${node}`, spool, backoffMs: 20, maxBackoffMs: 300 });
    spools.push(spool);
    uplinks.push(up);
    up.start();
    return { up, spool };
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ingest-'));
    certs = path.join(dir, 'certs');
    await testTrustDomain(certs, TD);
    for (const n of ['node-1', 'node-2', 'node-3']) await issueSvid(certs, `spiffe://${TD}/vigil/agent/${n}`, `agent-${n}`);
  });

  afterEach(async () => {
    for (const r of raws.splice(0)) r.close();
    for (const u of uplinks.splice(0)) await u.stop();
    for (const s of spools.splice(0)) s.close();
    if (cp) await cp.close();
    cp = null;
    if (mounted) execFileSync('umount', ['-l', mounted]);
    mounted = null;
    fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true });
    for (const f of fs.readdirSync(dir)) if (f.startsWith('spool-')) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
    logs.length = 0;
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('another process holds the write lock for 7 s during a 300 alerts/s stream: nothing acknowledged meanwhile, then every alert stored exactly once and the audit log verifies', async () => {
    const c = await startCp();
    const { up, spool } = agent('node-1', c);
    await until('connected', () => up.stats.connected);
    const N = 3000;
    let sent = 0;
    // 300 alerts/s for 10 s
    const producer = (async () => {
      while (sent < N) {
        for (let k = 0; k < 3 && sent < N; k++) up.send(testAlert(++sent, 'node-1', TD));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await until('some alerts stored', () => c.store.countAlerts() > 100);
    // another process (as sqlite3 or a backup tool would be) takes the write lock and holds it for 7 s
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require(${JSON.stringify(require.resolve('better-sqlite3'))}))(process.argv[1], { timeout: 5000 });
         db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 7000);
         db.exec('COMMIT'); db.close(); process.stdout.write('released\\n');`,
        path.join(dir, 'data', 'vigil.db'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let said = '';
    holder.stdout.on('data', (d: Buffer) => (said += d.toString()));
    const exited = new Promise<number | null>((r) => holder.on('exit', (code) => r(code)));
    try {
      await until('the other process holds the lock', () => said.includes('locked'));
      const storedAtLock = c.store.countAlerts();
      const sentAtLock = sent;
      await new Promise((r) => setTimeout(r, 6500));
      assert.ok(!said.includes('released'), 'still held');
      assert.equal(c.store.countAlerts(), storedAtLock, 'nothing committed while another process holds the lock');
      assert.ok(sent - sentAtLock > 300, `the agent kept sending (${sent - sentAtLock} alerts during the lock)`);
      assert.ok(spool.stats().depth >= sent - sentAtLock, `everything sent during the lock is still in the spool (depth ${spool.stats().depth})`);
      assert.equal(await metric(c, 'vigil_ingest_paused'), 1);
      assert.ok((await metric(c, 'vigil_store_errors_total', { code: 'SQLITE_BUSY' })) > 0);
      assert.equal(await exited, 0);
    } finally {
      holder.kill('SIGKILL');
    }
    await producer;
    await until('every alert acknowledged', () => spool.stats().depth === 0, 30000);
    assert.deepEqual(rowStats(c, 'node-1'), { n: N, d: N, lo: 1, hi: N });
    const audit = c.store.verifyAudit();
    assert.equal(audit.intact, true, audit.problems.join('; '));
    assert.equal(audit.checked.alerts, N, 'every stored alert is in the audit log');
    assert.equal((c.store.db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE kind = 'alert'").get() as { n: number }).n, N, 'one audit entry per alert');
    assert.equal(await metric(c, 'vigil_ingest_paused'), 0);
    assert.ok(logs.some((l) => /the store cannot write \(SQLITE_BUSY/.test(l)));
    assert.ok(logs.some((l) => /the store writes again after [67]\.\d s/.test(l)), logs.join('\n'));
  });

  it('a full disk (a 2 MiB tmpfs): the control plane stays up and answers, acknowledges nothing it could not store, and recovers when space is back', async function () {
    if (process.geteuid?.() !== 0) throw new Error('this test mounts a tmpfs: it needs root');
    const data = path.join(dir, 'data');
    fs.mkdirSync(data, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', data]);
    mounted = data;
    const c = await startCp();
    const { up, spool } = agent('node-1', c);
    await until('connected', () => up.stats.connected);
    const N = 1200;
    // ~3 KiB each: about 4 MiB with the audit entries, twice what fits
    for (let i = 1; i <= N; i++) up.send(testAlert(i, 'node-1', TD, { output: `alert ${i} ${'x'.repeat(3000)}` }));
    await until('the store reports a full disk', () => logs.some((l) => /SQLITE_FULL/.test(l)), 20000);
    await new Promise((r) => setTimeout(r, 500));
    const stored = c.store.countAlerts();
    assert.ok(stored < N, `not everything fits (${stored} stored)`);
    assert.equal(spool.stats().depth, N - stored, 'exactly what is not stored is still in the spool');
    assert.equal(await metric(c, 'vigil_ingest_paused'), 1);
    // still up: a new agent is answered (welcomed if its small enrolment row fits, refused as UNAVAILABLE if not), never a crash
    const raw = rawAgent(c.port, certs, TD, 'node-2');
    raws.push(raw);
    raw.write({ hello: { node: 'node-2', boot_id: 'boot-2', version: 't' } });
    let end: { code: number; details: string } | null = null;
    void raw.ended.then((e) => (end = e));
    await until('the control plane answers a new agent', () => raw.received.some((m) => m.msg === 'welcome') || end !== null);
    if (end) assert.equal((end as { code: number }).code, grpc.status.UNAVAILABLE);
    // space is back
    execFileSync('mount', ['-o', 'remount,size=64m', data]);
    await until('every alert acknowledged after the disk has room', () => spool.stats().depth === 0, 30000);
    assert.deepEqual(rowStats(c, 'node-1'), { n: N, d: N, lo: 1, hi: N });
    assert.equal(c.store.verifyAudit().intact, true);
    assert.equal(await metric(c, 'vigil_ingest_paused'), 0);
  });

  it('a 700,000-alert batch and a 20,000-alert batch are refused before decoding, naming the limit, and the other agents keep flowing meanwhile', async () => {
    const c = await startCp();
    const { up, spool } = agent('node-1', c);
    await until('connected', () => up.stats.connected);
    const hostile = (node: string): RawAgent => {
      const raw = rawAgent(c.port, certs, TD, node);
      raws.push(raw);
      raw.write({ hello: { node, boot_id: `boot-${node}`, version: 't' } });
      return raw;
    };
    const big = hostile('node-2');
    const many = hostile('node-3');
    await until('welcomed', () => big.received.some((m) => m.msg === 'welcome') && many.received.some((m) => m.msg === 'welcome'));
    const welcome = (big.received.find((m) => m.msg === 'welcome') as ControlMessage__Output).welcome;
    assert.deepEqual([welcome?.max_batch_alerts, welcome?.max_message_bytes], [10_000, 4 << 20], 'the agent is told the limits');
    // AgentMessage{alerts: AlertBatch{alerts: [AlertRecord{sequence: i, json: "{}"} x n]}}, encoded here (7 MB for 700,000)
    const batch = (n: number): Buffer => {
      const w = Writer.create().uint32((2 << 3) | 2).fork();
      for (let i = 1; i <= n; i++) w.uint32((1 << 3) | 2).fork().uint32(1 << 3).uint32(i).uint32((8 << 3) | 2).string('{}').ldelim();
      return Buffer.from(w.ldelim().finish());
    };
    const huge = batch(700_000);
    const t0 = Date.now();
    big.write(huge);
    many.write(batch(20_000));
    // node-1 keeps sending while the big batches are being refused
    for (let i = 1; i <= 200; i++) {
      up.send(testAlert(i, 'node-1', TD));
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const [e1, e2] = await Promise.all([big.ended, many.ended]);
    assert.deepEqual([e1.code, e2.code], [grpc.status.RESOURCE_EXHAUSTED, grpc.status.RESOURCE_EXHAUSTED]);
    assert.equal(e1.details, `a message of ${huge.length} bytes is over the limit of 4194304 bytes`);
    assert.equal(e2.details, 'a batch of 20000 alerts is over the limit of 10000 per batch');
    await until('node-1 all stored', () => spool.stats().depth === 0, 10000);
    const took = Date.now() - t0;
    assert.ok(took < 2000, `node-1's alerts were stored ${took} ms after the big batches were sent`);
    assert.deepEqual(rowStats(c, 'node-2'), { n: 0, d: 0, lo: null, hi: null });
    assert.deepEqual(rowStats(c, 'node-3'), { n: 0, d: 0, lo: null, hi: null });
    assert.equal(await metric(c, 'vigil_agent_messages_refused_total', { reason: 'message_too_large' }), 1);
    assert.equal(await metric(c, 'vigil_agent_messages_refused_total', { reason: 'batch_too_large' }), 1);
    assert.ok(logs.some((l) => /node-3 .*a batch of 20000 alerts is over the limit/.test(l)));
  });

  it('an agent over its rate quota is slowed down (paused, never dropped) while another agent flows', async () => {
    const c = await startCp({ agentRate: 1000 });
    const flood = agent('node-1', c);
    const quiet = agent('node-2', c);
    await until('connected', () => flood.up.stats.connected && quiet.up.stats.connected);
    const t0 = Date.now();
    for (let i = 1; i <= 4000; i++) flood.up.send(testAlert(i, 'node-1', TD));
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 1; i <= 50; i++) quiet.up.send(testAlert(i, 'node-2', TD));
    await until('the quiet agent stored', () => quiet.spool.stats().depth === 0, 5000);
    assert.ok(flood.spool.stats().depth > 0, 'the flooding agent is still being held back');
    await until('the flooding agent stored, at its quota', () => flood.spool.stats().depth === 0, 20000);
    const took = Date.now() - t0;
    // 4000 alerts at 1000/s with one second of burst: at least ~3 s
    assert.ok(took >= 2500, `4000 alerts at a quota of 1000/s took only ${took} ms`);
    assert.deepEqual(rowStats(c, 'node-1'), { n: 4000, d: 4000, lo: 1, hi: 4000 });
    assert.ok((await metric(c, 'vigil_ingest_throttled_total', { node: 'node-1' })) > 0);
    assert.equal(await metric(c, 'vigil_ingest_throttled_total', { node: 'node-2' }), 0);
  });

  it('alerts that are not valid are refused by range and never stored; the valid ones beside them are; the agent drops what is refused', async () => {
    const c = await startCp();
    const raw = rawAgent(c.port, certs, TD, 'node-1');
    raws.push(raw);
    raw.write({ hello: { node: 'node-1', boot_id: 'boot-1', version: 't' } });
    await until('welcomed', () => raw.received.some((m) => m.msg === 'welcome'));
    const good = (i: number): { sequence: number; rule: string; time_unix_nano: string; json: string } => ({
      sequence: i,
      rule: 'r',
      time_unix_nano: '1',
      json: JSON.stringify({ rule: 'r', node: 'node-1', output: `ok ${i}` }),
    });
    raw.write({
      alerts: {
        alerts: [
          good(1),
          { ...good(2), json: 'not json {' },
          { ...good(3), json: JSON.stringify({ rule: 'r', node: 'node-2', output: 'I am node-2' }) },
          good(4),
          { ...good(5), json: JSON.stringify({ rule: 'r', node: 'node-1', output: 'x'.repeat(300 << 10) }) },
          { ...good(6), json: '[1,2]' },
          { ...good(7), spiffe_id: 'spiffe://x/../y' },
          good(8),
        ],
      },
    });
    await until('both answers', () => raw.received.filter((m) => m.msg === 'ack').length === 2);
    const acks = raw.received.filter((m) => m.msg === 'ack').map((m) => m.ack);
    const refused = acks.flatMap((a) => a?.refused ?? []).map((r) => [r.boot_id, Number(r.first), Number(r.last)]);
    const stored = acks.flatMap((a) => a?.stored ?? []).map((r) => [r.boot_id, Number(r.first), Number(r.last)]);
    assert.deepEqual(refused, [
      ['boot-1', 2, 3],
      ['boot-1', 5, 7],
    ]);
    assert.deepEqual(stored, [
      ['boot-1', 1, 1],
      ['boot-1', 4, 4],
      ['boot-1', 8, 8],
    ]);
    assert.match(acks.find((a) => a?.refused.length)?.refused_reason ?? '', /does not parse/);
    assert.equal(c.store.countAlerts(), 3);
    assert.equal(await metric(c, 'vigil_alerts_refused_total', { reason: 'invalid' }), 5);
    // a record with no sequence cannot be refused by range: the batch is, and the stream ends
    raw.write({ alerts: { alerts: [{ ...good(9), sequence: 0 }] } });
    const end = await raw.ended;
    assert.equal(end.code, grpc.status.INVALID_ARGUMENT);
    assert.match(end.details, /sequence 0 is out of range/);

    // the real uplink: an alert claiming another node is refused, dropped from the spool, counted
    const { up, spool } = agent('node-2', c);
    await until('connected', () => up.stats.connected);
    up.send(testAlert(1, 'node-2', TD));
    up.send(testAlert(2, 'node-3', TD));
    up.send(testAlert(3, 'node-2', TD));
    await until('spool empty', () => spool.stats().depth === 0);
    assert.equal(up.stats.refused, 1);
    assert.equal(spool.stats().refused, 1);
    assert.deepEqual(rowStats(c, 'node-2'), { n: 2, d: 2, lo: 1, hi: 3 });
  });

  it('a hostile hello is refused, and the log line about it cannot be forged', async () => {
    const c = await startCp();
    const raw = rawAgent(c.port, certs, TD, 'node-1');
    raws.push(raw);
    raw.write({ hello: { node: 'node-1', boot_id: 'boot\n\x1b[2Jvigil controlplane: agent node-9 connected', version: 't' } });
    const end = await raw.ended;
    assert.equal(end.code, grpc.status.INVALID_ARGUMENT);
    assert.match(end.details, /is not a boot id/);
    assert.ok(logs.some((l) => /refused: boot id/.test(l)));
    // what an agent says about a policy it refused is its own text: logged, escaped
    const other = rawAgent(c.port, certs, TD, 'node-2');
    raws.push(other);
    other.write({ hello: { node: 'node-2', boot_id: 'boot-2', version: 't' } });
    await until('welcomed', () => other.received.some((m) => m.msg === 'welcome'));
    other.write({ policy_status: { version: 1, applied: false, error: 'bad\n\x1b[2Jvigil controlplane: policy v9 pushed by spiffe://x/admin' } });
    await until('logged', () => logs.some((l) => /agent node-2 \(spiffe:\/\/ingest\.vigil\/vigil\/agent\/node-2\) refused policy v1: /.test(l)));
    const line = logs.find((l) => /agent node-2 \(spiffe:\/\/ingest\.vigil\/vigil\/agent\/node-2\) refused policy v1: /.test(l)) as string;
    assert.match(line, /bad\\n\\x1b\[2J/);
    assert.equal(await metric(c, 'vigil_agent_policy_refusals_total'), 1);
    assert.doesNotMatch(logs.join(''), /[\n\x1b]/, 'no raw newline or escape in any log line');
  });
});
