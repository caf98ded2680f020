// Rules enforced on the real kernel, for real workloads (cgroups mapped to
// SPIFFE IDs by the static identities file): for every action, the allowed
// case is untouched and the forbidden one is alerted, killed or denied.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readProcEntry } from '../../agent/process/procfs';
import { userKill } from '../../agent/enforce/user-kill';
import { AgentHarness } from '../helpers/agent';
import { CgroupSandbox, NetnsSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';

const TD = 'spiffe://test.vigil/ns/pay';

describe('enforcement on the real kernel (vigil agent)', function () {
  this.timeout(60000);
  let sb: CgroupSandbox;
  let net: NetnsSandbox;
  let h: AgentHarness;
  let actions: string;
  let tmp: string;
  let api: CgroupHandle;
  let web: CgroupHandle;
  let drift: CgroupHandle;

  before(async function () {
    requireKernelTestPrivileges();
    actions = fs.realpathSync(helperBinary('actions'));
    sb = CgroupSandbox.create('enforce');
    api = sb.child('api');
    web = sb.child('web');
    drift = sb.child('drift');
    net = await NetnsSandbox.create(7);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-enforce-'));
    fs.mkdirSync(path.join(tmp, 'bin'));
    for (const f of ['secret.txt', 'trigger.txt', 'exempt.txt']) fs.writeFileSync(path.join(tmp, f), 'x');
    const identities = `
workloads:
  - spiffe_id: ${TD}/sa/api
    cgroups: [${api.rel.slice(1)}]
  - spiffe_id: ${TD}/sa/web
    cgroups: [${web.rel.slice(1)}]
    image: registry.test/web/app:1.2@sha256:${'ab'.repeat(32)}
  - spiffe_id: ${TD}/sa/db
    addresses: [${net.peerAddr}]
  - spiffe_id: ${TD}/sa/drift
    cgroups: [${drift.rel.slice(1)}]
`;
    const rules = `
lists:
  shells: [/bin/sh, /bin/bash, /usr/bin/sh, /usr/bin/bash, /bin/dash, /usr/bin/dash]
rules:
  - name: shell-in-api
    workload: ${TD}/sa/api
    on: exec
    match: { binary: { in: $shells } }
    action: kill
    priority: critical
  - name: secret-read
    description: the secret is read by nobody
    workload: ${TD}/**
    on: open
    match: { path: { in: [${tmp}/secret.txt] } }
    action: alert
    priority: error
    tags: [t1, secrets]
  - name: secret-read-kills-in-api
    workload: ${TD}/sa/api
    on: open
    match: { path: { in: [${tmp}/secret.txt] } }
    action: kill
  - name: no-writes-below-bin
    workload: ${TD}/sa/api
    on: open
    match: { path: { prefix: [${tmp}/bin/] }, flags: { any: [write, create] } }
    action: kill
  - name: no-ptrace
    workload: ${TD}/sa/api
    on: ptrace
    action: kill
  - name: trigger-with-args
    workload: ${TD}/sa/api
    on: open
    match: { path: { in: [${tmp}/trigger.txt] }, args: { contains: ["sleep:"] } }
    action: kill
  - name: api-to-db
    workload: ${TD}/sa/api
    on: connect
    match: { destination: { workload: [${TD}/sa/db] } }
    action: deny
  - name: drift
    workload: ${TD}/sa/drift
    on: exec
    match: { drift: true }
  - name: exempt-open
    workload: ${TD}/**
    on: open
    match: { path: { in: [${tmp}/exempt.txt] } }
    exceptions:
      - name: the-actions-helper
        match: { binary: { in: [${actions}] } }
`;
    h = await new AgentHarness(rules, identities).start();
  });

  after(async function () {
    if (h) await h.stop();
    if (net) net.cleanupSync();
    if (sb) await sb.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('exec kill: the forbidden shell never runs; the same shell in another workload does', async () => {
    const marker = (n: string) => path.join(tmp, `marker-${n}`);
    const killed = sb.spawnIn(api, '/bin/sh', ['-c', `echo ran > ${marker('api')}`], { mode: 'exec' });
    const k = await killed.done;
    assert.equal(k.signal, 'SIGKILL', `the shell in api must die by SIGKILL: ${JSON.stringify(k)}`);
    assert.equal(fs.existsSync(marker('api')), false, 'the killed shell never wrote its marker');
    const ok = await sb.run(web, '/bin/sh', ['-c', `echo ran > ${marker('web')}`], { mode: 'exec' });
    assert.equal(ok.code, 0);
    assert.equal(fs.readFileSync(marker('web'), 'utf8'), 'ran\n');
    const a = await h.waitFor('shell-in-api', (x) => x.rule === 'shell-in-api' && x.process.pid === killed.pid);
    assert.equal(a.outcome, 'killed');
    assert.equal(a.action, 'kill');
    assert.equal(a.priority, 'critical');
    assert.equal(a.workload.spiffe_id, `${TD}/sa/api`);
    assert.equal(a.workload.cgroup, api.rel);
    assert.equal(a.workload.cgroup_id, api.id);
    assert.match(a.note ?? '', /never ran/);
    assert.deepEqual(await h.settledFor(ok.pid, 100), [], 'nothing about the allowed shell');
  });

  it('file kill: a write below a watched directory kills the writer (the open itself completed)', async () => {
    const target = path.join(tmp, 'bin', 'dropped');
    const k = await sb.spawnIn(api, actions, [`creat:${target}`, 'sleep:2000']).done;
    assert.equal(k.signal, 'SIGKILL');
    assert.equal(fs.existsSync(target), true, 'without BPF LSM the syscall completes; the process dies on its way back');
    const a = await h.waitFor('no-writes-below-bin', (x) => x.rule === 'no-writes-below-bin');
    assert.equal(a.outcome, 'killed');
    assert.match(a.note ?? '', /syscall exit: the open itself completed/);
    assert.equal(a.event.path, target);
    // reading the same directory is fine, and writing from another workload too
    const read = await sb.run(api, actions, [`open:${target}`]);
    const other = await sb.run(web, actions, [`creat:${path.join(tmp, 'bin', 'from-web')}`]);
    assert.equal(read.code, 0);
    assert.equal(other.code, 0);
  });

  it('alert: the documented alert fields, for the workload that did it, and nothing for another file', async () => {
    const r = await sb.run(web, actions, [`open:${tmp}/secret.txt`, `open:${tmp}/bin`]);
    const a = await h.waitFor('secret-read', (x) => x.rule === 'secret-read' && x.process.pid === r.pid);
    assert.deepEqual(Object.keys(a), ['time', 'rule', 'priority', 'action', 'outcome', 'tags', 'node', 'output', 'workload', 'process', 'event']);
    assert.match(a.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.equal(a.outcome, 'alerted');
    assert.equal(a.priority, 'error');
    assert.deepEqual(a.tags, ['t1', 'secrets']);
    assert.equal(a.node, 'test-node');
    assert.deepEqual(a.workload, {
      spiffe_id: `${TD}/sa/web`,
      cgroup_id: web.id,
      cgroup: web.rel,
      container_id: null,
      pod_uid: null,
      kubernetes: null,
      image: { name: 'registry.test/web/app', tag: '1.2', digest: `sha256:${'ab'.repeat(32)}` },
    });
    assert.deepEqual(Object.keys(a.process), ['pid', 'ppid', 'exe', 'args', 'uid', 'exec_id', 'parent_exe']);
    assert.equal(a.process.exe, actions);
    assert.equal(a.process.uid, 0);
    assert.equal(a.event.kind, 'open');
    assert.equal(a.event.path, `${tmp}/secret.txt`);
    assert.match(a.output, new RegExp(`^secret-read: open of ${tmp}/secret.txt .* in ${TD}/sa/web: alert$`));
    assert.deepEqual((await h.settledFor(r.pid)).map((x) => x.rule), ['secret-read']);
  });

  it('several rules match: each is reported, the strongest action applies', async () => {
    const k = sb.spawnIn(api, actions, [`open:${tmp}/secret.txt`, 'sleep:2000']);
    assert.equal((await k.done).signal, 'SIGKILL');
    await h.waitFor('both', (x) => x.process.pid === k.pid && x.rule === 'secret-read-kills-in-api');
    const mine = await h.settledFor(k.pid, 100);
    assert.deepEqual(
      mine.map((x) => [x.rule, x.outcome]).sort(),
      [
        ['secret-read', 'alerted'],
        ['secret-read-kills-in-api', 'killed'],
      ],
    );
  });

  it('privilege kill: ptrace from the workload kills the tracer, not the target', async () => {
    const victim = sb.spawnIn(web, actions, ['sleep:5000']);
    const tracer = await sb.spawnIn(api, actions, [`ptrace:${victim.pid}`, 'sleep:2000']).done;
    assert.equal(tracer.signal, 'SIGKILL');
    const a = await h.waitFor('no-ptrace', (x) => x.rule === 'no-ptrace');
    assert.equal(a.outcome, 'killed');
    assert.equal(a.event.target_pid, victim.pid);
    assert.equal(victim.child.exitCode, null, 'the target lives on');
    victim.child.kill('SIGKILL');
    await victim.done;
  });

  it('user-space kill: a condition the kernel cannot check (args) kills through a pidfd', async () => {
    const s = sb.spawnIn(api, actions, [`open:${tmp}/trigger.txt`, 'sleep:5000']);
    const f = await s.done;
    assert.equal(f.signal, 'SIGKILL', 'killed long before its 5 s sleep ended');
    const a = await h.waitFor('trigger-with-args', (x) => x.rule === 'trigger-with-args' && x.process.pid === s.pid);
    assert.equal(a.outcome, 'killed');
    assert.equal(a.note, 'killed from user space (pidfd)');
    // the same open by a process whose arguments do not match is left alone
    const ok = await sb.run(api, actions, [`open:${tmp}/trigger.txt`]);
    assert.equal(ok.code, 0);
  });

  it('connect deny: EPERM for the forbidden workload, the identical connect from another succeeds', async () => {
    const denied = await sb.run(api, actions, [`connect4:${net.peerAddr}:${net.port}`]);
    assert.match(denied.stderr, /connect 10\.213\.7\.2: Operation not permitted/);
    const allowed = await sb.run(web, actions, [`connect4:${net.peerAddr}:${net.port}`]);
    assert.equal(allowed.stderr, '', 'the connect from web reached the server');
    const other = await sb.run(api, actions, [`connect4:${net.hostAddr}:9`]);
    assert.match(other.stderr, /Connection refused/, 'api may still connect elsewhere');
    const a = await h.waitFor('api-to-db', (x) => x.rule === 'api-to-db' && x.process.pid === denied.pid);
    assert.equal(a.outcome, 'denied');
    assert.equal(a.event.daddr, net.peerAddr);
    assert.equal(a.event.dport, net.port);
  });

  it('drift: a binary written after the workload started is reported, one from before is not', async () => {
    const first = sb.spawnIn(drift, actions, ['sleep:3000']);
    await new Promise((r) => setTimeout(r, 1100)); // ctimes have a coarse clock: be clearly later
    const fresh = path.join(tmp, 'fresh-true');
    fs.copyFileSync('/usr/bin/true', fresh);
    fs.chmodSync(fresh, 0o755);
    const ran = await sb.run(drift, fresh, [], { mode: 'exec' });
    const old = await sb.run(drift, '/usr/bin/true', [], { mode: 'exec' });
    const a = await h.waitFor('drift', (x) => x.rule === 'drift' && x.process.pid === ran.pid);
    assert.equal(a.event.exe, fresh);
    assert.deepEqual(await h.settledFor(old.pid, 50), [], '/usr/bin/true predates the workload');
    first.child.kill('SIGKILL');
    await first.done;
  });

  it('exceptions exempt what they name, only that', async () => {
    const exempt = await sb.run(web, actions, [`open:${tmp}/exempt.txt`]);
    const cat = await sb.run(web, '/usr/bin/cat', [`${tmp}/exempt.txt`], { mode: 'exec' });
    await h.waitFor('exempt-open by cat', (x) => x.rule === 'exempt-open' && x.process.pid === cat.pid);
    assert.deepEqual(await h.settledFor(exempt.pid, 50), []);
  });

  it('a process moved into another workload\'s cgroup keeps the workload it left (issue 9: identity is where it was born)', async () => {
    const s = sb.spawnIn(web, actions, [`open:${tmp}/secret.txt`, 'sleep:400', `open:${tmp}/secret.txt`]);
    await h.waitFor('first open, in web', (x) => x.rule === 'secret-read' && x.process.pid === s.pid);
    fs.writeFileSync(path.join(api.dir, 'cgroup.procs'), String(s.pid));
    const f = await s.done;
    assert.equal(f.code, 0, 'judged as web, whose rules only alert: not the kill api would do');
    const mine = await h.settledFor(s.pid, 100);
    assert.deepEqual(
      mine.map((x) => [x.rule, x.workload.spiffe_id, x.workload.moved ?? false]),
      [
        ['secret-read', `${TD}/sa/web`, false],
        ['secret-read', `${TD}/sa/web`, true],
      ],
    );
    assert.equal(mine[1].workload.cgroup, api.rel, 'the alert says where it is now');
  });

  it('a bad reload is refused and the rules in force stay; a good one takes over', async () => {
    const good = fs.readFileSync(h.rulesPath, 'utf8');
    fs.writeFileSync(h.rulesPath, good.replace('action: deny', 'action: obliterate'));
    const r = h.agent.reload();
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /rules\.yaml:\d+:\d+: rule "api-to-db": action: expected one of alert, kill, deny, got "obliterate"/);
    const still = await sb.spawnIn(api, '/bin/sh', ['-c', 'true'], { mode: 'exec' }).done;
    assert.equal(still.signal, 'SIGKILL', 'the old rules still kill shells in api');
    // drop the shell rule: the shell runs
    fs.writeFileSync(h.rulesPath, good.replace('action: kill\n    priority: critical', 'action: alert\n    priority: critical'));
    assert.equal(h.agent.reload().ok, true);
    const now = await sb.run(api, '/bin/sh', ['-c', 'true'], { mode: 'exec' });
    assert.equal(now.code, 0);
    await h.waitFor('alert only now', (x) => x.rule === 'shell-in-api' && x.process.pid === now.pid && x.outcome === 'alerted');
    fs.writeFileSync(h.rulesPath, good);
    assert.equal(h.agent.reload().ok, true);
  });
});

describe('user-space kill through a pidfd', () => {
  before(requireKernelTestPrivileges);

  it('kills the process it means, refuses a reused pid, reports one that is gone', async () => {
    const { spawn } = await import('node:child_process');
    const p = spawn('sleep', ['30']);
    const done = new Promise<NodeJS.Signals | null>((res) => p.on('exit', (_c, sig) => res(sig)));
    await new Promise((r) => setTimeout(r, 50));
    const info = readProcEntry(p.pid as number, 'n');
    assert.ok(info);
    const wrong = userKill(p.pid as number, info.startNs + 5_000_000_000n);
    assert.equal(wrong.ok, false);
    assert.match(wrong.reason ?? '', /now belongs to another process/);
    assert.equal(p.exitCode, null, 'not killed on a start-time mismatch');
    assert.deepEqual(userKill(p.pid as number, info.startNs), { ok: true });
    assert.equal(await done, 'SIGKILL');
    const gone = userKill(p.pid as number, info.startNs);
    assert.equal(gone.ok, false);
    assert.match(gone.reason ?? '', /already exited/);
  });
});
