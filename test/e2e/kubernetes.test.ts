// The agent with pod identity from a Kubernetes API (a server speaking the
// list/watch protocol with recorded pods) on the real kernel: processes in
// real cgroups laid out as kubelet and containerd lay them out, killed and
// denied by rules about the pods' SPIFFE IDs; pods that appear late, IPs that
// appear late, an API that goes away.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentHarness } from '../helpers/agent';
import { clone, FakeApiServer, recordedPods, type PodObject } from '../helpers/kube-apiserver';
import { CgroupSandbox, NetnsSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';
import { until } from '../helpers/wait';

const TD = 'spiffe://cluster.local';
const API_UID = '3afaabd6-217b-4bbe-b0c7-324463faf328';
const API_CTR = '14c2529eb4498c5d1ffd6915d05bf58a91bdda796af59f41d480d11c099d0479';

/** kubelet (systemd driver) + containerd: the pod slice and the container scope. */
function podCgroup(sb: CgroupSandbox, uid: string, qos: 'burstable' | 'besteffort', containerId: string): CgroupHandle {
  const u = uid.replaceAll('-', '_');
  return sb.child(`kubepods.slice/kubepods-${qos}.slice/kubepods-${qos}-pod${u}.slice/cri-containerd-${containerId}.scope`);
}

function pod(uid: string, ns: string, name: string, sa: string, ip: string | null, containerId: string | null): PodObject {
  const p = clone(recordedPods()[0]);
  p.metadata = { name, namespace: ns, uid, creationTimestamp: new Date().toISOString(), labels: { app: name } };
  p.spec = { ...p.spec, serviceAccountName: sa, nodeName: 'node-a' };
  p.status = {
    phase: ip ? 'Running' : 'Pending',
    ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
    containerStatuses: containerId
      ? [{ name: 'main', image: `registry.example.org/${ns}/${name}:1`, imageID: '', containerID: `containerd://${containerId}`, ready: true, restartCount: 0 }]
      : [],
  };
  return p;
}

describe('pod identity on the real kernel (vigil agent --kubernetes)', function () {
  this.timeout(60000);
  let sb: CgroupSandbox;
  let net: NetnsSandbox;
  let api: FakeApiServer;
  let h: AgentHarness;
  let actions: string;
  let tmp: string;
  let apiCtr: CgroupHandle;

  before(async function () {
    requireKernelTestPrivileges();
    actions = fs.realpathSync(helperBinary('actions'));
    sb = CgroupSandbox.create('k8s');
    // the recorded payments/api pod's container, running before the agent starts
    apiCtr = podCgroup(sb, API_UID, 'burstable', API_CTR);
    net = await NetnsSandbox.create(9);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-k8s-'));
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'x');
    api = await FakeApiServer.start(recordedPods());
    const rules = `
lists:
  shells: [/bin/sh, /bin/bash, /usr/bin/sh, /usr/bin/bash, /bin/dash, /usr/bin/dash]
rules:
  - name: shell-in-payments-api
    workload: ${TD}/ns/payments/sa/api
    on: exec
    match: { binary: { in: $shells } }
    action: kill
  - name: api-to-db
    workload: ${TD}/ns/payments/sa/api
    on: connect
    match: { destination: { workload: [${TD}/ns/payments/sa/db] } }
    action: deny
  - name: secret-read
    on: open
    match: { path: { in: [${tmp}/secret.txt] } }
`;
    h = await new AgentHarness(rules, null, {
      node: 'node-a',
      kubernetes: { kubeconfig: api.kubeconfig, syncWaitMs: 5000 },
      enrichWaitMs: 1500,
    }).start();
  });

  after(async function () {
    if (h) await h.stop();
    if (api) await api.stop();
    if (net) net.cleanupSync();
    if (sb) await sb.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('kills a shell in a pod the API names, in the kernel, and the alert names the pod and container', async () => {
    const marker = path.join(tmp, 'marker-api');
    const k = await sb.spawnIn(apiCtr, '/bin/sh', ['-c', `echo ran > ${marker}`], { mode: 'exec' }).done;
    assert.equal(k.signal, 'SIGKILL');
    assert.equal(fs.existsSync(marker), false, 'the shell never ran');
    const a = await h.waitFor('shell-in-payments-api', (x) => x.rule === 'shell-in-payments-api');
    assert.equal(a.outcome, 'killed');
    assert.equal(a.workload.spiffe_id, `${TD}/ns/payments/sa/api`);
    assert.equal(a.workload.pod_uid, API_UID);
    assert.equal(a.workload.container_id, API_CTR);
    assert.deepEqual(a.workload.kubernetes, {
      namespace: 'payments',
      pod: 'api-7d9c6b5f4-x2x9q',
      pod_uid: API_UID,
      service_account: 'api',
      container: 'api',
      image: 'registry.example.org/payments/api:1.4.2',
    });
    assert.match(a.output, /in spiffe:\/\/cluster\.local\/ns\/payments\/sa\/api \(pod payments\/api-7d9c6b5f4-x2x9q, container api\): process killed$/);
  });

  it('a pod bound after its cgroup exists is enforced from the moment the watch shows it', async () => {
    const uid = 'b7e3a1c2-9d4f-4e6a-8b1c-2d3e4f5a6b7c';
    const ctr = 'c1'.repeat(32);
    const cg = podCgroup(sb, uid, 'besteffort', ctr);
    // unknown pod: nothing forbids a shell there
    const before = await sb.run(cg, '/bin/sh', ['-c', 'exit 0'], { mode: 'exec' });
    assert.equal(before.code, 0);
    api.add(pod(uid, 'payments', 'api-late', 'api', null, ctr));
    const deadline = Date.now() + 8000;
    let killed = false;
    while (!killed && Date.now() < deadline) {
      const r = await sb.spawnIn(cg, '/bin/sh', ['-c', 'exit 0'], { mode: 'exec' }).done;
      killed = r.signal === 'SIGKILL';
      if (!killed) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(killed, 'a shell in the pod is killed once the pod is known');
    const a = await h.waitFor('kill in the late pod', (x) => x.rule === 'shell-in-payments-api' && x.workload.pod_uid === uid);
    assert.equal(a.workload.kubernetes?.pod, 'api-late');
    assert.equal(a.workload.kubernetes?.container, 'main');
  });

  it('pod IPs become destinations: a db pod that gets its IP later is denied to the api pod, in the kernel', async () => {
    const uid = 'd4c3b2a1-0f9e-4d8c-9b7a-6f5e4d3c2b1a';
    const before = await sb.run(apiCtr, actions, [`connect4:${net.peerAddr}:${net.port}`]);
    assert.equal(before.stderr, '', 'before the db pod exists its address is nobody\'s');
    const db = pod(uid, 'payments', 'db-0', 'db', null, null);
    api.add(db);
    api.modify(pod(uid, 'payments', 'db-0', 'db', net.peerAddr, 'db'.padEnd(64, '0')));
    await until('the db address in the agent', () => h.agent.addresses().some((x) => x.cidr.text === net.peerAddr));
    let denied = '';
    const deadline = Date.now() + 5000;
    while (!/Operation not permitted/.test(denied) && Date.now() < deadline) {
      denied = (await sb.run(apiCtr, actions, [`connect4:${net.peerAddr}:${net.port}`])).stderr;
    }
    assert.match(denied, /Operation not permitted/);
    // (a connect in the few ms between user space and the kernel learning the address is reported as not refused)
    const a = await h.waitFor('api-to-db denied', (x) => x.rule === 'api-to-db' && x.outcome === 'denied');
    assert.equal(a.event.daddr, net.peerAddr);
    // the db pod goes away: its address is nobody's again
    api.delete(uid);
    await until('the address to be dropped', () => !h.agent.addresses().some((x) => x.cidr.text === net.peerAddr));
    let after = 'x';
    const d2 = Date.now() + 5000;
    while (after !== '' && Date.now() < d2) after = (await sb.run(apiCtr, actions, [`connect4:${net.peerAddr}:${net.port}`])).stderr;
    assert.equal(after, '', 'connects to the freed address are allowed again');
  });

  it('a short-lived container whose pod appears after it is gone: the alert waits and is enriched from the event-time cgroup path', async () => {
    const uid = 'e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9';
    const ctr = 'f0'.repeat(32);
    const cg = podCgroup(sb, uid, 'besteffort', ctr);
    const r = await sb.run(cg, actions, [`open:${tmp}/secret.txt`]);
    fs.rmdirSync(cg.dir); // the container is gone before the pod is seen
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(h.alerts.filter((x) => x.process.pid === r.pid), [], 'held while the pod is unknown');
    api.add(pod(uid, 'jobs', 'cron-1', 'cron', null, ctr));
    const a = await h.waitFor('secret-read, enriched', (x) => x.rule === 'secret-read' && x.process.pid === r.pid);
    assert.equal(a.workload.cgroup, cg.rel);
    assert.equal(a.workload.spiffe_id, `${TD}/ns/jobs/sa/cron`);
    assert.equal(a.workload.kubernetes?.pod, 'cron-1');
    assert.equal(a.workload.kubernetes?.container, 'main');
    assert.match(a.output, /in spiffe:\/\/cluster\.local\/ns\/jobs\/sa\/cron \(pod jobs\/cron-1, container main\): alert$/);
  });

  it('an alert from a pod that never appears goes out after the wait, without pod fields', async () => {
    const cg = podCgroup(sb, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'besteffort', 'aa'.repeat(32));
    const t0 = Date.now();
    const r = await sb.run(cg, actions, [`open:${tmp}/secret.txt`]);
    const a = await h.waitFor('secret-read after the wait', (x) => x.rule === 'secret-read' && x.process.pid === r.pid, 5000);
    assert.ok(Date.now() - t0 >= 1400, 'it waited for the pod');
    assert.equal(a.workload.spiffe_id, null);
    assert.equal(a.workload.kubernetes, null);
    assert.equal(a.workload.pod_uid, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'the cgroup path still names the pod');
    const text = await h.agent.metrics.registry.getSingleMetricAsString('vigil_alert_enrichment_total');
    assert.match(text, /vigil_alert_enrichment_total\{result="timed_out"\} [1-9]/);
    assert.match(text, /vigil_alert_enrichment_total\{result="enriched"\} [1-9]/);
  });

  it('a process in a container\'s private cgroup namespace is told it is in one (the DaemonSet nsenters the node\'s)', async () => {
    const cg = sb.child('cgroupns');
    const agentJs = path.resolve(__dirname, '..', '..', 'agent', 'workload', 'cgroup-sync.js');
    const probe = `process.stdout.write(String(require(${JSON.stringify(agentJs)}).privateCgroupNamespace()))`;
    const inside = await sb.run(cg, 'unshare', ['--cgroup', process.execPath, '-e', probe], { mode: 'exec' });
    assert.equal(inside.stdout, 'true', 'a new cgroup namespace rooted below init\'s cgroup');
    // the DaemonSet joins init's namespace (/proc/1/ns/cgroup); this test joins its own runner's, which is the
    // node's too (on this VM, PID 1 holds a capability our bounding set lacks, so /proc/1/ns is not ours to open)
    const joined = await sb.run(cg, 'unshare', ['--cgroup', 'nsenter', `--cgroup=/proc/${process.pid}/ns/cgroup`, '--', process.execPath, '-e', probe], { mode: 'exec' });
    assert.equal(joined.stdout, 'false', 'after nsenter into the node\'s cgroup namespace');
  });

  it('the API server goes away: pods it named stay enforced', async () => {
    await api.down();
    await until('the outage to be noticed', () => /kubernetes: list\/watch of pods on node node-a failed/.test(h.stderr));
    const k = await sb.spawnIn(apiCtr, '/bin/sh', ['-c', 'exit 0'], { mode: 'exec' }).done;
    assert.equal(k.signal, 'SIGKILL');
    const text = await h.agent.metrics.registry.getSingleMetricAsString('vigil_kubernetes_synced');
    assert.match(text, /vigil_kubernetes_synced 0/);
    await api.up();
    await until('the watch to come back', () => /API server reachable again/.test(h.stderr));
    assert.match(await h.agent.metrics.registry.getSingleMetricAsString('vigil_kubernetes_synced'), /vigil_kubernetes_synced 1/);
  });
});
