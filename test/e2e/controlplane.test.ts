// End to end on the real kernel: an event becomes an alert on this node,
// crosses mTLS to the control plane, is stored, and comes back out of
// `vigil alerts`; policy pushed centrally changes what the kernel kills;
// addresses another node reports become destination identities here.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../../agent/agent';
import { Spool } from '../../agent/export/spool';
import { startControlPlane, type RunningControlPlane } from '../../controlplane/controlplane';
import { spawnVigil } from '../helpers/cli';
import { CgroupSandbox, NetnsSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';
import { testTrustDomain } from '../helpers/trust-domain';
import { testUplink } from '../helpers/uplink';
import { until } from '../helpers/wait';

const TD = 'e2e.vigil';

describe('end to end: kernel -> agent -> control plane -> vigil alerts', function () {
  this.timeout(60000);
  let dir: string;
  let certs: string;
  let sb: CgroupSandbox;
  let api: CgroupHandle;
  let net: NetnsSandbox;
  let cp: RunningControlPlane;
  let agent: Agent;
  let stderr = '';
  let actions: string;
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  /** node e2e-node's agent against the control plane at 127.0.0.1:`port`, its policy state kept in agent-state/ across restarts */
  const startAgent = (port: number, err: Writable): Promise<Agent> =>
    Agent.start({
      rules: [path.join(dir, 'local.yaml')],
      identities: path.join(dir, 'ids.yaml'),
      output: 'json',
      node: 'e2e-node',
      controlplane: { address: `127.0.0.1:${port}`, insecure: false, certsDir: certs },
      stateDir: path.join(dir, 'agent-state'),
      out: quiet,
      err,
    });

  before(async () => {
    requireKernelTestPrivileges();
    actions = fs.realpathSync(helperBinary('actions'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-'));
    certs = path.join(dir, 'certs');
    await testTrustDomain(certs, TD, { admin: 'vigil/admin/test', agent: 'vigil/agent/e2e-node', 'agent-other-node': 'vigil/agent/other-node' });
    sb = CgroupSandbox.create('e2e');
    api = sb.child('api');
    net = await NetnsSandbox.create(9);
    // the one address other-node may claim for its workloads
    fs.writeFileSync(path.join(dir, 'node-ranges.yaml'), `nodes:\n  other-node: [${net.peerAddr}/32]\n`);
    cp = await startControlPlane({
      listen: '127.0.0.1:0',
      dataDir: path.join(dir, 'cp'),
      certsDir: certs,
      insecure: false,
      nodeRanges: path.join(dir, 'node-ranges.yaml'),
      log: () => undefined,
    });
    fs.writeFileSync(path.join(dir, 'ids.yaml'), `workloads:\n  - { spiffe_id: spiffe://${TD}/ns/a/sa/api, cgroups: [${api.rel.slice(1)}] }\n`);
    fs.writeFileSync(path.join(dir, 'local.yaml'), `rules:\n  - { name: cat-in-api, workload: spiffe://${TD}/ns/a/sa/api, on: exec, match: { binary: { in: [/usr/bin/cat] } } }\n`);
    agent = await startAgent(
      cp.port,
      new Writable({
        write: (c: Buffer, _e, cb) => {
          stderr += c.toString();
          cb();
        },
      }),
    );
    await until('the agent is connected', () => agent.uplink?.stats.connected === true);
  });

  after(async () => {
    if (agent) await agent.stop();
    if (cp) await cp.close();
    if (net) net.cleanupSync();
    if (sb) await sb.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const admin = () => ['--controlplane', `127.0.0.1:${cp.port}`, '--certs', certs, '--cert', path.join(certs, 'admin.pem'), '--key', path.join(certs, 'admin.key')];

  it('a real kernel alert reaches the store and comes back out of vigil alerts', async () => {
    const r = await sb.run(api, '/usr/bin/cat', ['/dev/null'], { mode: 'exec' });
    await until('the alert is stored', () => cp.store.queryAlerts({ rule: 'cat-in-api' }).length > 0);
    const out = await spawnVigil(['alerts', ...admin(), '--rule', 'cat-in-api', '--workload', `spiffe://${TD}/ns/a/**`]);
    assert.equal(out.code, 0, out.err);
    const alerts = out.out.trim().split('\n').map((l) => JSON.parse(l) as { rule: string; node: string; process: { pid: number }; workload: { spiffe_id: string } });
    const mine = alerts.find((a) => a.process.pid === r.pid);
    assert.ok(mine, out.out);
    assert.equal(mine.node, 'e2e-node');
    assert.equal(mine.workload.spiffe_id, `spiffe://${TD}/ns/a/sa/api`);
    const agents = await spawnVigil(['agents', ...admin()]);
    const row = JSON.parse(agents.out.trim().split('\n')[0]) as { node: string; connected: boolean; spiffe_id: string };
    assert.deepEqual([row.node, row.connected, row.spiffe_id], ['e2e-node', true, `spiffe://${TD}/vigil/agent/e2e-node`]);
    assert.equal(cp.store.verifyAudit().intact, true);
  });

  it('policy pushed centrally, signed, changes what the kernel kills on the node', async () => {
    const file = path.join(dir, 'v1.yaml');
    fs.writeFileSync(file, `rules:\n  - { name: cat-dies, workload: spiffe://${TD}/ns/a/sa/api, on: exec, match: { binary: { in: [/usr/bin/cat] } }, action: kill }\n`);
    const pushed = await spawnVigil(['policy', 'push', file, ...admin()]);
    assert.equal(pushed.code, 0, pushed.err);
    assert.match(pushed.out, /policy v1 signed and sent to 1 connected agents/);
    await until('the agent applied v1', () => agent.policyVersion === 1);
    const killed = await sb.spawnIn(api, '/usr/bin/cat', ['/dev/null'], { mode: 'exec' }).done;
    assert.equal(killed.signal, 'SIGKILL');
    await until('the kill is stored', () => cp.store.queryAlerts({ rule: 'cat-dies' }).length > 0);
    assert.equal(JSON.parse(cp.store.queryAlerts({ rule: 'cat-dies' })[0].json).outcome, 'killed');
    await until('the control plane knows the version', () => cp.store.agents()[0].policy_version === 1);
  });

  it('addresses another node reports are destination identities here: a cross-node deny', async () => {
    // another node reports that the netns peer is its "db" workload
    const spool = new Spool(path.join(dir, 'other-spool'), 'boot-o');
    const other = testUplink({
      address: `127.0.0.1:${cp.port}`,
      certs,
      trustDomain: TD,
      node: 'other-node',
      bootId: 'boot-o',
      spool,
      identityReport: () => [{ cidr: `${net.peerAddr}/32`, spiffe_id: `spiffe://${TD}/ns/b/sa/db` }],
    });
    other.start();
    try {
      const file = path.join(dir, 'v2.yaml');
      fs.writeFileSync(file, `rules:\n  - { name: api-not-to-db, workload: spiffe://${TD}/ns/a/sa/api, on: connect, match: { destination: { workload: [spiffe://${TD}/ns/b/sa/db] } }, action: deny }\n`);
      await until('the map reached this agent', () => agent.addresses().some((a) => a.spiffeId === `spiffe://${TD}/ns/b/sa/db`));
      assert.equal((await spawnVigil(['policy', 'push', file, ...admin()])).code, 0);
      await until('the agent applied v2', () => agent.policyVersion === 2);
      const denied = await sb.run(api, actions, [`connect4:${net.peerAddr}:${net.port}`]);
      assert.match(denied.stderr, /Operation not permitted/);
      await until('the denial is stored', () => cp.store.queryAlerts({ rule: 'api-not-to-db' }).length > 0);
      assert.equal(JSON.parse(cp.store.queryAlerts({ rule: 'api-not-to-db' })[0].json).outcome, 'denied');
    } finally {
      await other.stop();
      spool.close();
    }
  });

  it('the agent keeps its last good policy across its own restart while the control plane is down', async () => {
    await agent.stop();
    await cp.close();
    agent = await startAgent(cp.port, quiet);
    assert.equal(agent.policyVersion, 2, 'v2 from the state directory, verified again');
    assert.deepEqual(agent.pipeline.getRules().rules.map((r) => r.name), ['api-not-to-db']);
    cp = await startControlPlane({ listen: `127.0.0.1:${cp.port}`, dataDir: path.join(dir, 'cp'), certsDir: certs, insecure: false, log: () => undefined });
    void stderr;
  });

  it('rollback: an agent on v3 (a kill rule), restarted against a control plane restored from a backup that ends at v2 (no kill), keeps v3, the kernel still kills, and the next push is v4', async () => {
    const backup = path.join(dir, 'backup.db');
    await cp.store.db.backup(backup);
    const file = path.join(dir, 'v3.yaml');
    fs.writeFileSync(file, `rules:\n  - { name: cat-dies-again, workload: spiffe://${TD}/ns/a/sa/api, on: exec, match: { binary: { in: [/usr/bin/cat] } }, action: kill }\n`);
    const pushed = await spawnVigil(['policy', 'push', file, ...admin()]);
    assert.equal(pushed.code, 0, pushed.err);
    await until('the agent applied v3', () => agent.policyVersion === 3);
    assert.equal((await sb.spawnIn(api, '/usr/bin/cat', ['/dev/null'], { mode: 'exec' }).done).signal, 'SIGKILL');
    // the store is restored from the backup (it ends at v2), and the agent restarts
    const port = cp.port;
    await agent.stop();
    await cp.close();
    const data = path.join(dir, 'cp');
    for (const f of fs.readdirSync(data)) if (f.startsWith('vigil.db')) fs.rmSync(path.join(data, f));
    fs.copyFileSync(backup, path.join(data, 'vigil.db'));
    const logs: string[] = [];
    cp = await startControlPlane({ listen: `127.0.0.1:${port}`, dataDir: data, certsDir: certs, insecure: false, log: (l) => logs.push(l) });
    assert.equal(cp.store.latestPolicy()?.version, 2, 'the restored store ends at v2');
    agent = await startAgent(port, quiet);
    await until('connected', () => agent.uplink?.stats.connected === true);
    await until('the control plane noticed', () => logs.some((l) => /agent e2e-node has applied policy v3, newer than the latest this control plane holds \(v2\)/.test(l)));
    assert.equal(agent.policyVersion, 3, 'v2 was not taken back');
    assert.equal((await sb.spawnIn(api, '/usr/bin/cat', ['/dev/null'], { mode: 'exec' }).done).signal, 'SIGKILL', 'the kill rule of v3 is still in force');
    const next = await spawnVigil(['policy', 'push', path.join(dir, 'v1.yaml'), ...admin()]);
    assert.equal(next.code, 0, next.err);
    assert.match(next.out, /policy v4 signed/);
    await until('the agent applied v4', () => agent.policyVersion === 4);
  });
});
