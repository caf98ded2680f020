// A torn state file does not stop the agent (issue 10 item 8): the real
// agent on the real kernel, alerts in its spool and a signed policy in
// force, stopped; its spool state.json and policy.json torn; started again:
// it names both files, sets them aside, sends every spooled alert, takes the
// latest policy again (not one below the version it had), and nothing is
// stored twice or lost.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../../agent/agent';
import { pushPolicy } from '../../cli/admin';
import { startControlPlane, type RunningControlPlane } from '../../controlplane/controlplane';
import { CgroupSandbox, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';
import { testTrustDomain } from '../helpers/trust-domain';
import { until } from '../helpers/wait';

const TD = 'torn.vigil';

describe('torn agent state files', function () {
  this.timeout(90000);
  let dir: string;
  let certs: string;
  let sb: CgroupSandbox;
  let app: CgroupHandle;
  let cp: RunningControlPlane | null = null;
  let agent: Agent | null = null;
  let stderr = '';

  before(async () => {
    requireKernelTestPrivileges();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-torn-'));
    certs = path.join(dir, 'certs');
    await testTrustDomain(certs, TD, { admin: 'vigil/admin/ann', agent: 'vigil/agent/torn-node' });
    sb = CgroupSandbox.create('torn');
    app = sb.child('app');
    fs.writeFileSync(path.join(dir, 'ids.yaml'), `workloads:\n  - { spiffe_id: spiffe://${TD}/ns/a/sa/app, cgroups: [${app.rel.slice(1)}] }\n`);
    fs.writeFileSync(path.join(dir, 'v1.yaml'), `rules:\n  - { name: cat-in-app, workload: spiffe://${TD}/ns/a/sa/app, on: exec, match: { binary: { in: [/usr/bin/cat] } } }\n`);
  });

  after(async () => {
    if (agent) await agent.stop();
    if (cp) await cp.close();
    if (sb) await sb.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const startCp = async (port = 0): Promise<RunningControlPlane> =>
    (cp = await startControlPlane({ listen: `127.0.0.1:${port}`, dataDir: path.join(dir, 'cp'), certsDir: certs, insecure: false, log: () => undefined }));

  const startAgent = async (port: number): Promise<Agent> =>
    (agent = await Agent.start({
      rules: [],
      identities: path.join(dir, 'ids.yaml'),
      output: 'json',
      node: 'torn-node',
      kubernetes: false,
      controlplane: { address: `127.0.0.1:${port}`, insecure: false, certsDir: certs },
      stateDir: path.join(dir, 'state'),
      out: new Writable({ write: (_c, _e, cb) => cb() }),
      err: new Writable({
        write: (c: Buffer, _e, cb) => {
          stderr += c.toString();
          cb();
        },
      }),
      flood: { windowMs: 0 },
    }));

  it('the agent starts, names and sets aside both files, resends its spool and takes the latest policy again', async () => {
    const c1 = await startCp();
    const port = c1.port;
    const a1 = await startAgent(port);
    await until('connected', () => a1.uplink?.stats.connected === true);
    await pushPolicy({ address: `127.0.0.1:${port}`, certsDir: certs, insecure: false, cert: path.join(certs, 'admin.pem'), key: path.join(certs, 'admin.key') }, [path.join(dir, 'v1.yaml')]);
    await until('v1 in force', () => a1.policyVersion === 1);
    // the control plane goes away: three alerts stay in the spool
    await c1.close();
    cp = null;
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) pids.push((await sb.run(app, '/usr/bin/cat', ['/dev/null'], { mode: 'exec' })).pid);
    await until('spooled', () => (a1.spool?.stats().depth ?? 0) === 3);
    await a1.stop();
    agent = null;
    // torn writes (what a crash without fsync+rename leaves)
    const state = path.join(dir, 'state');
    fs.writeFileSync(path.join(state, 'spool', 'state.json'), '{"boots":{"');
    fs.writeFileSync(path.join(state, 'policy.json'), '{"version":1,"payload":"eyJ2');
    stderr = '';
    const a2 = await startAgent(port);
    assert.match(stderr, /spool: .*spool\/state\.json is corrupt \(.*\); set aside as .*state\.json\.corrupt-/);
    assert.match(stderr, /.*policy\.json is corrupt \(.*\); set aside as .*policy\.json\.corrupt-.*the control plane sends the latest policy at connection/);
    assert.equal(a2.policyVersion, 0, 'no policy in force until the control plane sends it');
    assert.equal(a2.spool?.stats().depth, 3, 'the spooled alerts are still there');
    await startCp(port);
    await until('the latest policy again', () => a2.policyVersion === 1, 20000);
    await until('every spooled alert acknowledged', () => a2.spool?.stats().depth === 0, 20000);
    const stored = cp!.store.queryAlerts({ rule: 'cat-in-app' }).map((r) => (JSON.parse(r.json) as { process: { pid: number } }).process.pid);
    for (const pid of pids) assert.equal(stored.filter((p) => p === pid).length, 1, `pid ${pid}'s alert stored once`);
    // new alerts are numbered under a boot id of their own: none collides with a stored one
    const pid = (await sb.run(app, '/usr/bin/cat', ['/dev/null'], { mode: 'exec' })).pid;
    await until('the new alert stored', () => cp!.store.queryAlerts({ rule: 'cat-in-app' }).some((r) => (JSON.parse(r.json) as { process: { pid: number } }).process.pid === pid), 20000);
    const boots = cp!.store.db.prepare("SELECT DISTINCT boot_id FROM alerts WHERE rule = 'cat-in-app'").all() as { boot_id: string }[];
    assert.equal(boots.length, 2);
    assert.ok(boots.some((b) => /~r/.test(b.boot_id)));
  });
});
