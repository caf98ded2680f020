// Real containers (podman with runc, an image built here) under the real
// agent on the real kernel: identity from the container's own cgroup (plain
// podman, and Kubernetes-shaped cgroup parents), paths as the container sees
// them, kills and denials inside the container, the first exec of a brand-new
// container; and the default pack staying quiet on a whole benign container
// lifecycle.
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Alert } from '../../agent/export/alert';
import { parseCgroupPath } from '../../agent/workload/cgroup-path';
import { repoRoot } from '../../common/repo';
import { AgentHarness } from '../helpers/agent';
import { ACTIONS_IN_IMAGE, Podman, type Container } from '../helpers/containers';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges } from '../helpers/kernel';

const TD = 'spiffe://test.vigil/ns/ctr';

function show(alerts: readonly Alert[]): string {
  return JSON.stringify(alerts.map((a) => [a.rule, a.outcome, a.process.exe, a.event.kind, a.event.path ?? a.event.exe, a.workload.cgroup]), null, 1);
}

describe('real containers on the real kernel (podman, runc)', function () {
  this.timeout(120000);
  let pm: Podman;
  let h: AgentHarness;
  let plain: Container;
  let kube: Container;
  let slice: Container;
  const podUid = crypto.randomUUID();
  const sliceUid = crypto.randomUUID();

  before(async function () {
    requireKernelTestPrivileges();
    pm = await Podman.create('e2e');
    plain = await pm.createContainer({ cgroupParent: 'plain' });
    kube = await pm.createContainer({ cgroupParent: `kubepods/besteffort/pod${podUid}` });
    const su = sliceUid.replaceAll('-', '_');
    // podman's cgroupfs manager refuses a parent ending in ".slice": one plain directory below the pod's slice
    slice = await pm.createContainer({ cgroupParent: `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${su}.slice/ctr` });
    // started before the agent: their cgroups are mapped by the agent's start-up scan
    for (const c of [plain, kube, slice]) await pm.start(c);
    const base = pm.cgroupBase.slice(1);
    const identities = `
workloads:
  - spiffe_id: ${TD}/sa/plain
    cgroups: [${base}/plain]
  - spiffe_id: ${TD}/sa/kube
    container_ids: [${kube.id.slice(0, 12)}]
  - spiffe_id: ${TD}/sa/slice
    cgroups: [${base}/kubepods.slice]
  - spiffe_id: ${TD}/sa/fresh
    cgroups: [${base}/fresh]
`;
    const rules = `
rules:
  - name: ctr-secret-read
    workload: ${TD}/**
    on: open
    match: { path: { in: [/etc/shadow] } }
  - name: ctr-forbidden-exec
    workload: ${TD}/sa/plain
    on: exec
    match: { binary: { in: [/tmp/forbidden] } }
    action: kill
  - name: ctr-file-kill
    workload: ${TD}/sa/kube
    on: open
    match: { path: { in: [/tmp/kill-me] } }
    action: kill
  - name: ctr-deny-discard
    workload: ${TD}/sa/plain
    on: connect
    match: { destination: { cidr: [127.0.0.1/32], port: [9] } }
    action: deny
  - name: ctr-first-exec
    workload: ${TD}/sa/fresh
    on: exec
    match: { binary: { in: [${ACTIONS_IN_IMAGE}] } }
`;
    h = await new AgentHarness(rules, identities).start();
  });

  after(async function () {
    if (h) await h.stop();
    if (pm) await pm.cleanup();
  });

  it('identity from the container\'s own cgroup: podman\'s libpod-<id>, the container id, the SPIFFE ID; paths as the container sees them', async () => {
    const r = await pm.exec(plain, [ACTIONS_IN_IMAGE, 'open:/etc/shadow']);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number(/ok (\d+)/.exec(r.stdout)?.[1]);
    const a = await h.waitFor('ctr-secret-read in plain', (x) => x.rule === 'ctr-secret-read' && x.workload.container_id === plain.id);
    assert.deepEqual(a.workload, { spiffe_id: `${TD}/sa/plain`, cgroup_id: a.workload.cgroup_id, cgroup: plain.cgroup, container_id: plain.id, pod_uid: null, kubernetes: null, image: null });
    assert.match(plain.cgroup, /\/libpod-[0-9a-f]{64}$/);
    // the container's view, not the overlay's upper directory on the host
    assert.equal(a.event.path, '/etc/shadow');
    assert.equal(a.process.exe, ACTIONS_IN_IMAGE);
    assert.deepEqual(a.process.args, [ACTIONS_IN_IMAGE, 'open:/etc/shadow']);
    assert.notEqual(a.process.pid, pid, 'the alert names the host pid; the helper printed its pid in the container\'s namespace');
  });

  it('Kubernetes-shaped cgroup parents (cgroupfs and systemd layouts): pod UID and container id from the real path', async () => {
    const r1 = await pm.exec(kube, [ACTIONS_IN_IMAGE, 'open:/etc/shadow']);
    const r2 = await pm.exec(slice, [ACTIONS_IN_IMAGE, 'open:/etc/shadow']);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    const k = await h.waitFor('ctr-secret-read in kube', (x) => x.rule === 'ctr-secret-read' && x.workload.container_id === kube.id);
    assert.equal(k.workload.pod_uid, podUid);
    assert.equal(k.workload.spiffe_id, `${TD}/sa/kube`, 'named by its container id in the identities file');
    assert.equal(k.workload.cgroup, kube.cgroup);
    assert.deepEqual(parseCgroupPath(kube.cgroup), { runtime: 'podman', containerId: kube.id, podUid, qosClass: 'besteffort' });
    const s = await h.waitFor('ctr-secret-read in slice', (x) => x.rule === 'ctr-secret-read' && x.workload.container_id === slice.id);
    assert.equal(s.workload.pod_uid, sliceUid, 'the slice\'s "_" turned back into the dashed UID');
    assert.equal(s.workload.spiffe_id, `${TD}/sa/slice`);
    assert.equal(s.workload.cgroup, slice.cgroup);
  });

  it('exec kill inside the container: the forbidden binary (named as the container sees it) never runs', async () => {
    assert.equal((await pm.exec(plain, ['/bin/cp', ACTIONS_IN_IMAGE, '/tmp/forbidden'])).code, 0);
    const r = await pm.exec(plain, ['/tmp/forbidden', 'creat:/tmp/marker']);
    assert.equal(r.code, 137, `killed by SIGKILL (podman exec says 128+9): ${JSON.stringify(r)}`);
    const ls = await pm.exec(plain, ['/bin/ls', '/tmp/marker']);
    assert.notEqual(ls.code, 0, 'the killed program never wrote its marker');
    const a = await h.waitFor('ctr-forbidden-exec', (x) => x.rule === 'ctr-forbidden-exec');
    assert.equal(a.outcome, 'killed');
    assert.equal(a.event.exe, '/tmp/forbidden');
    assert.equal(a.workload.container_id, plain.id);
    assert.match(a.note ?? '', /never ran/);
  });

  it('file kill inside the container: the opener dies at syscall exit', async () => {
    // put in place without opening it under its watched name (creating it is an open too)
    assert.equal((await pm.exec(kube, [ACTIONS_IN_IMAGE, 'creat:/tmp/kill-me.new', 'rename:/tmp/kill-me.new:/tmp/kill-me'])).code, 0);
    const r = await pm.exec(kube, [ACTIONS_IN_IMAGE, 'open:/tmp/kill-me', 'sleep:5000']);
    assert.equal(r.code, 137, JSON.stringify(r));
    const a = await h.waitFor('ctr-file-kill', (x) => x.rule === 'ctr-file-kill');
    assert.equal(a.outcome, 'killed');
    assert.equal(a.event.path, '/tmp/kill-me');
    assert.equal(a.workload.pod_uid, podUid);
    // the same open in another container is left alone
    assert.equal((await pm.exec(plain, [ACTIONS_IN_IMAGE, 'creat:/tmp/kill-me', 'open:/tmp/kill-me'])).code, 0);
  });

  it('connect deny inside the container: EPERM for the denied port, another port is not refused by us', async () => {
    const denied = await pm.exec(plain, [ACTIONS_IN_IMAGE, 'connect4:127.0.0.1:9']);
    assert.match(denied.stderr, /connect 127\.0\.0\.1: Operation not permitted/);
    const other = await pm.exec(plain, [ACTIONS_IN_IMAGE, 'connect4:127.0.0.1:10']);
    assert.match(other.stderr, /connect 127\.0\.0\.1: (Connection refused|Network is unreachable)/);
    const same = await pm.exec(kube, [ACTIONS_IN_IMAGE, 'connect4:127.0.0.1:9']);
    assert.doesNotMatch(same.stderr, /Operation not permitted/, 'the rule is plain\'s only');
    const a = await h.waitFor('ctr-deny-discard', (x) => x.rule === 'ctr-deny-discard');
    assert.equal(a.outcome, 'denied');
    assert.equal(a.workload.container_id, plain.id);
  });

  // KNOWN GAP (kernel scope, being fixed with issue 9): the kernel's scope map is
  // filled from user space when the agent sees a new cgroup, so a brand-new
  // container's earliest events can be dropped before the agent maps it.
  it('alerts from the first exec in a brand-new container (a race until the kernel scopes unmapped cgroups: see above)', async () => {
    const fresh = await pm.createContainer({ cgroupParent: 'fresh', cmd: [ACTIONS_IN_IMAGE, 'open:/etc/shadow'] });
    await pm.start(fresh);
    const e = await h.waitFor('ctr-first-exec', (x) => x.rule === 'ctr-first-exec' && x.workload.container_id === fresh.id, 5000);
    assert.deepEqual(e.process.args, [ACTIONS_IN_IMAGE, 'open:/etc/shadow']);
    assert.equal(e.workload.spiffe_id, `${TD}/sa/fresh`);
    const o = await h.waitFor('its open', (x) => x.rule === 'ctr-secret-read' && x.workload.container_id === fresh.id, 5000);
    assert.equal(o.process.pid, e.process.pid, 'the container\'s first process, from its first exec on');
  });
});

describe('quiet on the container lifecycle (the default pack)', function () {
  this.timeout(120000);
  let pm: Podman;
  let sb: CgroupSandbox;
  let h: AgentHarness;
  let tmp: string;
  let actions: string;

  before(async function () {
    requireKernelTestPrivileges();
    pm = await Podman.create('quiet');
    sb = CgroupSandbox.create('quiet');
    actions = fs.realpathSync(helperBinary('actions'));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-quiet-'));
    const identities = `
workloads:
  - spiffe_id: spiffe://test.vigil/ns/quiet/sa/containers
    cgroups: [${pm.cgroupBase.slice(1)}]
  - spiffe_id: spiffe://test.vigil/ns/quiet/sa/host-workload
    cgroups: [${sb.top.rel.slice(1)}]
`;
    h = await new AgentHarness(fs.readFileSync(path.join(repoRoot(), 'deploy', 'rules', 'default.yaml'), 'utf8'), identities).start();
  });

  after(async function () {
    if (h) await h.stop();
    if (pm) await pm.cleanup();
    if (sb) await sb.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const inContainers = (a: Alert): boolean => (a.workload.cgroup ?? '').startsWith(pm.cgroupBase + '/');

  it('a whole benign lifecycle (create, start, exec, stop, remove) raises 0 alerts', async () => {
    const before = h.alerts.length;
    for (const user of [undefined, '65534:65534']) {
      const c = await pm.createContainer({ cgroupParent: 'lifecycle', user });
      await pm.start(c);
      const r = await pm.exec(c, [ACTIONS_IN_IMAGE, 'open:/etc/hostname', 'open:/etc/passwd', 'stat:/usr/local/bin/actions', 'fork']);
      assert.equal(r.code, 0, r.stderr);
      await pm.stop(c, 10);
      await pm.remove(c);
    }
    // a second exec path: podman run --rm of a short command
    const run = await pm.run({ cgroupParent: 'lifecycle', cmd: [ACTIONS_IN_IMAGE, 'open:/etc/hostname'] });
    assert.equal(run.code, 0, run.stderr);
    await new Promise((r) => setTimeout(r, 1000));
    const mine = h.alerts.slice(before).filter(inContainers);
    assert.deepEqual(mine, [], `alerts from the benign lifecycle:\n${show(mine)}`);
  });

  it('the same pack is not blind in those containers: a shell and a shadow read are reported', async () => {
    const c = await pm.createContainer({ cgroupParent: 'lifecycle' });
    await pm.start(c);
    await new Promise((r) => setTimeout(r, 300));
    // with a terminal, as kubectl exec -it: shell-in-workload is about interactive shells
    await pm.podman(['exec', '-t', c.id, '/bin/sh', '-c', 'cat /etc/shadow']);
    await h.waitFor('shell-in-workload', (a) => inContainers(a) && a.rule === 'shell-in-workload' && a.workload.container_id === c.id);
    await h.waitFor('read-sensitive-file', (a) => inContainers(a) && a.rule === 'read-sensitive-file' && a.workload.container_id === c.id);
    await pm.remove(c);
  });

  it('setuid family: alerts only when the call succeeded and an id changed', async () => {
    const cg = sb.child('setuid');
    // root -> root: nothing changed
    const same = await sb.run(cg, actions, ['setuid:0', 'setresgid:0:0:0']);
    // a real uid of 65534 (effective still root) -> setuid(0): the real uid changes to 0
    const up = await sb.run(cg, actions, ['setresuid:65534:0:0', 'setuid:0']);
    // all ids 65534, then setuid(0) fails with EPERM
    const refused = await sb.run(cg, actions, ['setresuid:65534:65534:65534', 'setuid:0']);
    assert.match(refused.stderr, /setuid 0: Operation not permitted/);
    const a = await h.waitFor('setuid-to-root-in-workload', (x) => x.rule === 'setuid-to-root-in-workload' && x.process.pid === up.pid);
    assert.equal(a.event.uid, 0);
    await new Promise((r) => setTimeout(r, 300));
    const setuids = h.alerts.filter((x) => x.rule === 'setuid-to-root-in-workload' && [same.pid, up.pid, refused.pid].includes(x.process.pid));
    assert.deepEqual(
      setuids.map((x) => x.process.pid),
      [up.pid],
      `only the call that made uid 0 out of 65534: ${show(setuids)}`,
    );
  });

  it('drift is not fired by a binary that was only looked at (stat) after the workload started', async () => {
    const bin = path.join(tmp, 'looked-at');
    fs.copyFileSync(actions, bin);
    fs.chmodSync(bin, 0o755);
    await new Promise((r) => setTimeout(r, 50));
    // the workload starts after the file was written...
    const cg = sb.child('drift');
    const first = sb.spawnIn(cg, actions, ['sleep:3000']);
    await new Promise((r) => setTimeout(r, 200));
    // ...then something looks at the file (kernels >= 6.13 mark its ctime "queried")...
    fs.statSync(bin);
    await sb.run(cg, actions, [`stat:${bin}`]);
    // ...and the workload runs it: not drift
    const ran = await sb.run(cg, bin, [], { mode: 'exec' });
    await new Promise((r) => setTimeout(r, 300));
    // a host workload: no writable layer, drift by change time is changed-binary-exec
    const drift = h.alerts.filter((x) => x.rule === 'changed-binary-exec' && x.process.pid === ran.pid);
    assert.deepEqual(drift, [], `drift fired for a binary written before the workload started:\n${show(drift)}`);
    // a binary written now is drift
    const fresh = path.join(tmp, 'fresh');
    await new Promise((r) => setTimeout(r, 1100));
    fs.copyFileSync(actions, fresh);
    fs.chmodSync(fresh, 0o755);
    const ran2 = await sb.run(cg, fresh, [], { mode: 'exec' });
    await h.waitFor('changed-binary-exec', (x) => x.rule === 'changed-binary-exec' && x.process.pid === ran2.pid);
    first.child.kill('SIGKILL');
    await first.done;
  });
});
