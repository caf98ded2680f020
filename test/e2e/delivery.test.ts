// Nothing lost, nothing twice: the agent's spool and uplink against a real
// control plane over mTLS, with restarts on both sides.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Alert } from '../../agent/export/alert';
import { rfc3339Nanos } from '../../common/time';
import { Spool } from '../../agent/export/spool';
import { Uplink } from '../../agent/export/uplink';
import { startControlPlane, type RunningControlPlane } from '../../controlplane/controlplane';
import { testTrustDomain } from '../helpers/trust-domain';
import { testUplink } from '../helpers/uplink';
import { until } from '../helpers/wait';

const TD = 'delivery.vigil';

function alert(i: number): Alert {
  return {
    time: rfc3339Nanos(BigInt(Date.UTC(2026, 10, 25, 10, 0, 0) + i) * 1_000_000n),
    rule: `rule-${i % 7}`,
    priority: 'warning',
    action: 'alert',
    outcome: 'alerted',
    tags: [],
    node: 'node-1',
    output: `alert ${i}`,
    workload: { spiffe_id: `spiffe://${TD}/ns/x/sa/y`, cgroup_id: 1, cgroup: '/', container_id: null, pod_uid: null, kubernetes: null, image: null },
    process: { pid: i, ppid: 1, exe: '/bin/x', args: ['x'], uid: 0, exec_id: null, parent_exe: null },
    event: { kind: 'exec', n: i },
  };
}

describe('durable delivery: spool, acks, restarts', function () {
  this.timeout(120000);
  let dir: string;
  let certs: string;
  let data: string;
  let cp: RunningControlPlane | null = null;
  let port = 0;

  const startCp = async (): Promise<void> => {
    cp = await startControlPlane({ listen: `127.0.0.1:${port}`, dataDir: data, certsDir: certs, insecure: false, log: () => undefined });
    port = cp.port;
  };

  const uplink = (spool: Spool, node = 'node-1', bootId = 'boot-a'): Uplink =>
    testUplink({
      address: `127.0.0.1:${port}`,
      certs,
      trustDomain: TD,
      node,
      bootId,
      spool,
      backoffMs: 20,
      maxBackoffMs: 300,
      log: process.env.DEBUG_UPLINK ? (l) => console.log(Date.now() % 100000, l) : undefined,
    });

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-delivery-'));
    certs = path.join(dir, 'certs');
    data = path.join(dir, 'data');
    await testTrustDomain(certs, TD, { 'agent-node-1': 'vigil/agent/node-1' });
    port = 0;
  });

  afterEach(async () => {
    if (cp) await cp.close();
    cp = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('50,000 alerts while the control plane restarts 5 times: every alert stored exactly once', async () => {
    await startCp();
    const spool = new Spool(path.join(dir, 'spool'), 'boot-a', 200_000, 256 << 20);
    const up = uplink(spool);
    up.start();
    const N = 50_000;
    let produced = 0;
    const producer = (async () => {
      while (produced < N) {
        for (let k = 0; k < 500 && produced < N; k++) up.send(alert(++produced));
        await new Promise((r) => setImmediate(r));
      }
    })();
    let duplicatesSeen = 0;
    for (let restart = 0; restart < 5; restart++) {
      // each restart cuts a live stream
      await until(`streaming before restart ${restart + 1}`, () => up.stats.connected, 20000);
      await new Promise((r) => setTimeout(r, 200 + restart * 100));
      duplicatesSeen += (await cp!.metrics.duplicates.get()).values[0]?.value ?? 0;
      await cp!.close();
      cp = null;
      await new Promise((r) => setTimeout(r, 150)); // down for a while: the spool holds on
      await startCp();
    }
    await producer;
    await until('reconnected after the last restart', () => up.stats.connected, 20000);
    await until('every alert acknowledged', () => spool.stats().depth === 0, 60000);
    const store = cp!.store;
    const stats = store.db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT sequence) AS d, MIN(sequence) AS lo, MAX(sequence) AS hi FROM alerts').get() as {
      n: number;
      d: number;
      lo: number;
      hi: number;
    };
    assert.deepEqual(stats, { n: N, d: N, lo: 1, hi: N });
    assert.equal(store.verifyAudit().intact, true);
    assert.equal(spool.stats().overflow, 0);
    assert.equal(up.stats.connects, 6, 'one stream per control plane life');
    void duplicatesSeen;
    await up.stop();
    spool.close();
  });

  it('an agent restarted with unacknowledged alerts sends them again, also from before a reboot', async () => {
    // the control plane is down: everything stays in the spool
    const spool1 = new Spool(path.join(dir, 'spool'), 'boot-a');
    const up1 = uplink(spool1);
    up1.start();
    for (let i = 1; i <= 1000; i++) up1.send(alert(i));
    await new Promise((r) => setTimeout(r, 200));
    await up1.stop();
    spool1.close();
    assert.equal(spool1.stats().depth, 1000);
    // the node reboots: a new boot id, the old boot's alerts still in the spool
    const spool2 = new Spool(path.join(dir, 'spool'), 'boot-b');
    assert.equal(spool2.stats().depth, 1000, 'reloaded from disk');
    await startCp();
    const up2 = uplink(spool2, 'node-1', 'boot-b');
    up2.start();
    for (let i = 1; i <= 10; i++) up2.send(alert(1000 + i));
    await until('all acknowledged', () => spool2.stats().depth === 0, 20000);
    const rows = cp!.store.db.prepare('SELECT boot_id, COUNT(*) AS n, MAX(sequence) AS hi FROM alerts GROUP BY boot_id ORDER BY boot_id').all();
    assert.deepEqual(rows, [
      { boot_id: 'boot-a', n: 1000, hi: 1000 },
      { boot_id: 'boot-b', n: 10, hi: 10 },
    ]);
    await up2.stop();
    spool2.close();
    // and a third start finds nothing to resend
    const spool3 = new Spool(path.join(dir, 'spool'), 'boot-b');
    assert.equal(spool3.stats().depth, 0);
    spool3.close();
  });

  it('a full spool counts what it could not keep, and says so', () => {
    const spool = new Spool(path.join(dir, 'small'), 'boot-a', 10);
    let refused = 0;
    for (let i = 0; i < 15; i++) if (!spool.add({ timeNs: '1', rule: 'r', priority: 'p', action: 'a', outcome: 'o', spiffeId: '', json: '{}' })) refused++;
    assert.equal(refused, 5);
    assert.deepEqual([spool.stats().depth, spool.stats().overflow], [10, 5]);
    spool.close();
  });

  it('the control plane acknowledges only what is on disk: a store that fails does not ack', async () => {
    await startCp();
    const spool = new Spool(path.join(dir, 'spool'), 'boot-a');
    const up = uplink(spool);
    up.start();
    await until('connected', () => up.stats.connected, 10000);
    // make the store refuse writes
    cp!.store.db.exec('CREATE TRIGGER refuse BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, "disk says no"); END;');
    for (let i = 1; i <= 5; i++) up.send(alert(i));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(spool.stats().depth, 5, 'nothing acknowledged');
    cp!.store.db.exec('DROP TRIGGER refuse');
    await until('acknowledged after the store recovers', () => spool.stats().depth === 0, 20000);
    assert.equal(cp!.store.countAlerts(), 5);
    await up.stop();
    spool.close();
  });
});
