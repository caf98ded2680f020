// Pod identity against a server speaking the Kubernetes list/watch protocol
// (HTTPS, bearer token, field selector, resourceVersions, 410 Gone, outages)
// with recorded pod objects, through the real @kubernetes/client-node.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCgroupPath } from '../../../agent/workload/cgroup-path';
import { inCluster, KubernetesIdentitySource, loadKubeConfig } from '../../../agent/workload/kubernetes-source';
import { compileTemplate } from '../../../agent/workload/kubernetes/spiffe-template';
import { containerIdOf } from '../../../agent/workload/kubernetes/pod-index';
import type { CgroupFacts, IdentityChange } from '../../../agent/workload/source';
import { clone, FakeApiServer, recordedPods, type PodObject } from '../../helpers/kube-apiserver';
import { until } from '../../helpers/wait';

const API = '3afaabd6-217b-4bbe-b0c7-324463faf328';
const WEB = '275364a9-ab37-4c9e-a3b4-4c49e8d67243';
const PROXY = 'c9401fdf-1008-4129-8cd2-df2e06d964fd';
const REPORT = '2179e953-306a-402c-b3a9-2b7005ad0040';
const OTHER_NODE = '23e11dcc-d388-4ebd-ade2-b545196244d5';
const API_CTR = '14c2529eb4498c5d1ffd6915d05bf58a91bdda796af59f41d480d11c099d0479';
const API_PREV = '9b91b9f1d76502b6e04e5d6f6668ad5bb705dab3f5344b005a6f7bc3d5013d2f';
const ETCD_CTR = 'c38cbd92fce41312f3fbdce60510013b7f0d4004a03b45c8e762f98f1ed4006c';
const INIT_CTR = 'b95a4163351e37eea9f4ebf79808f5ce9819d7a26b3e989373b83bcc1bde0ec6';

/** The cgroup of a container as kubelet's systemd driver and containerd name it. */
function cgroupOf(uid: string, qos: 'burstable' | 'besteffort' | null, containerId?: string): CgroupFacts {
  const u = uid.replaceAll('-', '_');
  const pod = qos ? `/kubepods.slice/kubepods-${qos}.slice/kubepods-${qos}-pod${u}.slice` : `/kubepods.slice/kubepods-pod${u}.slice`;
  const path = containerId ? `${pod}/cri-containerd-${containerId}.scope` : pod;
  return { ...parseCgroupPath(path), path };
}

function newPod(uid: string, name: string, ns: string, sa: string, node = 'node-a'): PodObject {
  const p = clone(recordedPods()[0]);
  p.metadata = { ...p.metadata, uid, name, namespace: ns, creationTimestamp: new Date().toISOString() };
  p.spec = { ...p.spec, serviceAccountName: sa, nodeName: node };
  p.status = { phase: 'Pending', qosClass: 'BestEffort', conditions: [] };
  return p;
}

describe('Kubernetes pod identity (list/watch against a recorded API)', function () {
  this.timeout(30000);
  let api: FakeApiServer;
  let src: KubernetesIdentitySource | undefined;
  const logs: string[] = [];
  const changes: IdentityChange[] = [];

  const start = async (extra: Partial<ConstructorParameters<typeof KubernetesIdentitySource>[0]> = {}): Promise<KubernetesIdentitySource> => {
    src = new KubernetesIdentitySource({
      node: 'node-a',
      trustDomain: 'prod.example.org',
      kubeconfig: api.kubeconfig,
      backoffMs: [50, 200],
      tombstoneMs: 300,
      log: (l) => logs.push(l),
      ...extra,
    });
    src.subscribe((c) => changes.push(c));
    assert.equal(await src.start(5000), true, `first list did not complete: ${logs.join('; ')}`);
    return src;
  };

  beforeEach(async () => {
    api = await FakeApiServer.start(recordedPods());
    logs.length = 0;
    changes.length = 0;
  });
  afterEach(async () => {
    if (src) await src.close();
    src = undefined;
    await api.stop();
  });

  it('lists and watches only this node\'s pods, over TLS with the bearer token', async () => {
    const s = await start();
    await until('the watch to open', () => api.openWatches() === 1);
    const list = api.requests.find((r) => r.query.get('watch') === null);
    const watch = api.requests.find((r) => r.query.get('watch') === 'true');
    assert.ok(list && watch);
    for (const r of [list, watch]) {
      assert.equal(r.path, '/api/v1/pods');
      assert.equal(r.query.get('fieldSelector'), 'spec.nodeName=node-a');
      assert.equal(r.authorization, `Bearer ${api.token}`);
    }
    assert.ok(Number(watch.query.get('resourceVersion')) > 0, 'the watch starts from the list\'s resourceVersion');
    assert.ok(Number(watch.query.get('timeoutSeconds')) >= 300, 'the watch asks the server to end it');
    assert.equal(s.status.pods, 5, 'five pods on node-a');
    assert.equal(s.spiffeIdFor(cgroupOf(OTHER_NODE, 'burstable')), null, 'a pod of node-b is not ours');
  });

  it('derives SPIFFE IDs from namespace and service account, by pod UID and by container id', async () => {
    const s = await start();
    assert.equal(s.spiffeIdFor(cgroupOf(API, 'burstable', API_CTR)), 'spiffe://prod.example.org/ns/payments/sa/api');
    assert.equal(s.spiffeIdFor(cgroupOf(API, 'burstable')), 'spiffe://prod.example.org/ns/payments/sa/api', 'the pod slice itself');
    assert.equal(s.spiffeIdFor(cgroupOf(WEB, null, '5be1ecc7935f1dd85635d4feedaf660594030253cc97c9e9ca3819ffeac36b65')), 'spiffe://prod.example.org/ns/default/sa/default');
    // a static pod: the cgroup carries the manifest hash, not the mirror pod's UID; the container id finds it
    const etcd = { ...parseCgroupPath(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod9c1c2e3b5a4f6d7e8f90a1b2c3d4e5f6.slice/cri-containerd-${ETCD_CTR}.scope`), path: 'x' };
    assert.equal(etcd.podUid, null);
    assert.equal(s.spiffeIdFor(etcd), 'spiffe://prod.example.org/ns/kube-system/sa/default');
    assert.deepEqual(s.metaFor(cgroupOf(API, 'burstable', API_CTR)), {
      namespace: 'payments',
      pod: 'api-7d9c6b5f4-x2x9q',
      pod_uid: API,
      service_account: 'api',
      container: 'api',
      image: 'registry.example.org/payments/api:1.4.2',
    });
    // the image as it runs: the name asked for, the digest from the status's imageID
    assert.deepEqual(s.imageFor(cgroupOf(API, 'burstable', API_CTR)), {
      name: 'registry.example.org/payments/api',
      tag: '1.4.2',
      digest: `sha256:${'1f'.repeat(32)}`,
    });
    assert.equal(s.imageFor(cgroupOf(API, 'burstable')), null, 'the pod\'s own cgroup runs no image');
    // the previous instance of a restarted container, and an init container
    assert.equal(s.metaFor(cgroupOf(API, 'burstable', API_PREV))?.container, 'api');
    assert.equal(s.metaFor(cgroupOf(WEB, null, INIT_CTR))?.container, 'init-config');
    // the pod's own cgroup: pod known, no container
    assert.equal(s.metaFor(cgroupOf(API, 'burstable'))?.container, null);
    assert.equal(s.pending(cgroupOf(API, 'burstable')), false);
    assert.equal(s.spiffeIdFor({ ...parseCgroupPath('/system.slice/sshd.service'), path: '/system.slice/sshd.service' }), null, 'host processes have no pod');
    assert.deepEqual([...s.spiffeIds()].sort(), [
      'spiffe://prod.example.org/ns/batch/sa/reporter',
      'spiffe://prod.example.org/ns/default/sa/default',
      'spiffe://prod.example.org/ns/kube-system/sa/default',
      'spiffe://prod.example.org/ns/kube-system/sa/kube-proxy',
      'spiffe://prod.example.org/ns/payments/sa/api',
    ]);
  });

  it('maps pod IPs (both families) to SPIFFE IDs, but not a host-network pod\'s or a finished pod\'s', async () => {
    const s = await start();
    const addrs = new Map(s.addresses().map((a) => [a.cidr.text, a.spiffeId]));
    assert.deepEqual(
      [...addrs.entries()].sort(),
      [
        ['10.244.1.17', 'spiffe://prod.example.org/ns/payments/sa/api'],
        ['10.244.1.18', 'spiffe://prod.example.org/ns/default/sa/default'],
        ['fd00:10:244:1::11', 'spiffe://prod.example.org/ns/payments/sa/api'],
      ],
      'kube-proxy and etcd share the node IP 172.18.0.2; the finished job gave 10.244.1.20 back',
    );
    // they keep their identity: only the address is not theirs
    assert.equal(s.spiffeIdFor(cgroupOf(REPORT, 'besteffort')), 'spiffe://prod.example.org/ns/batch/sa/reporter');
    assert.equal(s.spiffeIdFor(cgroupOf(PROXY, 'besteffort')), 'spiffe://prod.example.org/ns/kube-system/sa/kube-proxy');
  });

  it('follows the watch: a pod bound, its IP and container posted, then deleted (kept for late events, then forgotten)', async () => {
    const s = await start();
    await until('the watch to open', () => api.openWatches() === 1);
    const uid = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';
    const ctr = 'ee'.repeat(32);
    const pod = newPod(uid, 'worker-1', 'jobs', 'worker');
    const cg = cgroupOf(uid, 'besteffort', ctr);
    assert.equal(s.pending(cg), true, 'an unknown pod is pending');
    api.add(pod);
    await until('the ADDED pod', () => s.spiffeIdFor(cg) === 'spiffe://prod.example.org/ns/jobs/sa/worker');
    assert.equal(s.pending(cg), true, 'its container status is not posted yet');
    assert.equal(s.metaFor(cg)?.container, null);
    assert.ok(changes.some((c) => c.podUids.has(uid)));
    pod.status = { phase: 'Running', podIP: '10.244.1.50', podIPs: [{ ip: '10.244.1.50' }], containerStatuses: [{ name: 'worker', image: 'registry.example.org/w:1', containerID: `containerd://${ctr}`, ready: true, restartCount: 0, imageID: '' }] };
    api.modify(pod);
    await until('the MODIFIED pod', () => s.metaFor(cg)?.container === 'worker');
    assert.equal(s.pending(cg), false);
    assert.ok(changes.some((c) => c.containerIds.has(ctr) && c.addresses), 'the change names the container and the address');
    assert.ok(s.addresses().some((a) => a.cidr.text === '10.244.1.50' && a.spiffeId === 'spiffe://prod.example.org/ns/jobs/sa/worker'));
    api.delete(uid);
    await until('the address to go with the DELETED pod', () => !s.addresses().some((a) => a.cidr.text === '10.244.1.50'));
    assert.equal(s.spiffeIdFor(cg), 'spiffe://prod.example.org/ns/jobs/sa/worker', 'a deleted pod stays known for late events');
    assert.ok(!s.spiffeIds().includes('spiffe://prod.example.org/ns/jobs/sa/worker'), 'but is no longer a live workload');
    await until('the tombstone to expire', () => s.spiffeIdFor(cg) === null, 3000);
  });

  it('a pod recreated under the same name is a new pod; a reused IP belongs to the new owner', async () => {
    const s = await start();
    await until('the watch to open', () => api.openWatches() === 1);
    const web = api.list('node-a').find((p) => p.metadata.uid === WEB) as PodObject;
    api.delete(WEB);
    const again = clone(web);
    again.metadata.uid = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
    again.spec.serviceAccountName = 'web';
    api.add(again);
    await until('the new web-0', () => s.spiffeIdFor(cgroupOf(again.metadata.uid, null)) === 'spiffe://prod.example.org/ns/default/sa/web');
    const owner = s.addresses().filter((a) => a.cidr.text === '10.244.1.18');
    assert.deepEqual(owner.map((a) => a.spiffeId), ['spiffe://prod.example.org/ns/default/sa/web']);
  });

  it('relists after 410 Gone on an open watch, and reconciles what changed meanwhile', async () => {
    const s = await start();
    await until('the watch to open', () => api.openWatches() === 1);
    const listsBefore = api.lists;
    // while the client is not told: one pod deleted, one added
    const uid = '0c9d8e7f-6a5b-4c3d-9e2f-1a0b9c8d7e6f';
    api.quietly(() => {
      api.delete(API);
      api.add(newPod(uid, 'late', 'payments', 'late'));
    });
    api.expire();
    await until('a relist', () => api.lists > listsBefore);
    await until('the reconciled map', () => s.spiffeIdFor(cgroupOf(uid, 'besteffort')) !== null && !s.spiffeIds().includes('spiffe://prod.example.org/ns/payments/sa/api'));
    await until('the watch to reopen', () => api.openWatches() === 1);
    assert.equal(s.status.synced, true);
    assert.ok(!s.addresses().some((a) => a.cidr.text === '10.244.1.17'), 'the deleted pod\'s address is gone');
  });

  for (const asHttpStatus of [false, true]) {
    it(`relists when a rewatch from a compacted resourceVersion is refused (410 as ${asHttpStatus ? 'the HTTP status' : 'a watch event'})`, async () => {
      const s = await start();
      await until('the watch to open', () => api.openWatches() === 1);
      const listsBefore = api.lists;
      const uid = '5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716';
      // a change the client misses, then compaction, then the watch times out: the client rewatches from its old resourceVersion
      api.quietly(() => api.add(newPod(uid, 'z', 'payments', 'z')));
      api.compact(asHttpStatus);
      api.closeWatches();
      await until('a relist', () => api.lists > listsBefore);
      await until('the pod added while away', () => s.spiffeIdFor(cgroupOf(uid, 'besteffort')) === 'spiffe://prod.example.org/ns/payments/sa/z');
      await until('the watch to reopen', () => api.openWatches() === 1);
      assert.equal(s.status.synced, true);
    });
  }

  for (const compacted of [false, true]) {
    it(`keeps the last known map through an API server outage, and catches up when it returns (${compacted ? 'history compacted: relist' : 'resuming the watch'})`, async () => {
      const s = await start();
      await until('the watch to open', () => api.openWatches() === 1);
      await api.down();
      await until('the outage to be noticed', () => s.status.synced === false);
      assert.match(logs.join('\n'), /list\/watch of pods on node node-a failed .*keeping the last known 5 pods, retrying/);
      // during the outage: identities and addresses stay
      assert.equal(s.spiffeIdFor(cgroupOf(API, 'burstable', API_CTR)), 'spiffe://prod.example.org/ns/payments/sa/api');
      assert.ok(s.addresses().some((a) => a.cidr.text === '10.244.1.17'));
      const errors = s.status.watchErrors;
      await new Promise((r) => setTimeout(r, 600));
      assert.ok(s.status.watchErrors > errors, 'it keeps retrying');
      // the API server returns, with changes made while it was unreachable to us
      const uid = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
      api.quietly(() => {
        api.delete(WEB);
        api.add(newPod(uid, 'after', 'payments', 'after'));
      });
      if (compacted) api.compact();
      const listsBefore = api.lists;
      await api.up();
      await until('the catch-up', () => s.status.synced && s.spiffeIdFor(cgroupOf(uid, 'besteffort')) === 'spiffe://prod.example.org/ns/payments/sa/after');
      assert.ok(!s.addresses().some((a) => a.cidr.text === '10.244.1.18'), 'the pod deleted during the outage lost its address');
      assert.match(logs.join('\n'), /API server reachable again/);
      assert.equal(api.lists > listsBefore, compacted, compacted ? 'a relist after 410' : 'the watch resumed without a list');
    });
  }

  it('an API server answering 503 or 401 is an outage too; start() gives up waiting but keeps trying', async () => {
    api.failWith = 503;
    src = new KubernetesIdentitySource({ node: 'node-a', trustDomain: 'td.example', kubeconfig: api.kubeconfig, backoffMs: [50, 100], log: (l) => logs.push(l) });
    assert.equal(await src.start(400), false);
    assert.equal(src.status.synced, false);
    assert.match(src.status.lastError ?? '', /503/);
    api.failWith = 0;
    await until('the list once the server is well', () => src?.status.synced === true);
    assert.equal(src.spiffeIdFor(cgroupOf(API, 'burstable')), 'spiffe://td.example/ns/payments/sa/api');
  });

  it('templates: labels and annotations; a pod the template cannot name has no identity, and says so', async () => {
    const s = await start({ template: 'spiffe://{trust_domain}/k8s/{namespace}/{label:app}' });
    assert.equal(s.spiffeIdFor(cgroupOf(API, 'burstable')), 'spiffe://prod.example.org/k8s/payments/api');
    assert.equal(s.spiffeIdFor(cgroupOf(PROXY, null)), null, 'kube-proxy has no app label');
    assert.match(logs.join('\n'), /pod kube-system\/kube-proxy-7xk2p: the SPIFFE ID template makes no valid SPIFFE ID/);
  });

  it('refuses bad templates, trust domains and kubeconfigs with the flag that is wrong', () => {
    assert.throws(() => compileTemplate('spiffe://{trust_domain}/ns/{nmespace}', 'td'), /--spiffe-template .*unknown placeholder \{nmespace\}/);
    assert.throws(() => compileTemplate('https://{trust_domain}/ns/{namespace}', 'td'), /--spiffe-template .*not a SPIFFE ID/);
    assert.throws(() => compileTemplate('spiffe://{trust_domain}/ns/{namespace', 'td'), /unbalanced/);
    assert.throws(() => compileTemplate('spiffe://{trust_domain}/ns/{namespace}', 'Bad_TD'), /--workload-trust-domain "Bad_TD"/);
    assert.throws(() => loadKubeConfig('/nonexistent/kubeconfig'), /--kubernetes: cannot load the kubeconfig \/nonexistent\/kubeconfig/);
    assert.equal(containerIdOf(`containerd://${API_CTR}`), API_CTR);
    assert.equal(containerIdOf(`cri-o://${API_CTR}`), API_CTR);
    assert.equal(containerIdOf('containerd://short'), null);
    assert.equal(containerIdOf(undefined), null);
  });
});

describe('in a cluster', () => {
  it('is on by itself inside a pod with a service account token, and not elsewhere', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sa-'));
    try {
      const token = path.join(tmp, 'token');
      assert.equal(inCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, token), false, 'no token');
      fs.writeFileSync(token, 'x');
      assert.equal(inCluster({ KUBERNETES_SERVICE_HOST: '10.96.0.1' }, token), true);
      assert.equal(inCluster({}, token), false, 'no service host');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
