// Event -> workload: cgroup id -> path -> SPIFFE ID, cached per cgroup and
// resolved again when the source learns more; destination address ->
// workload by the longest prefix, cached until the addresses change. Paths
// are pre-seeded (remember), so no cgroup is looked up in the kernel.
import * as assert from 'node:assert/strict';
import { parseCidr, type Cidr } from '../../../common/cidr';
import { CgroupResolver } from '../../../agent/kernel/cgroupfs';
import { IdentityResolver } from '../../../agent/workload/resolver';
import type { AddressIdentity, CgroupFacts, IdentitySource, KubernetesMeta } from '../../../agent/workload/source';
import type { ImageRef } from '../../../common/image-ref';
import { StaticIdentitySource } from '../../../agent/workload/static-source';

const POD = '1227e887-592b-457e-9a23-2e78b48529f5';
const POD2 = '275364a9-ab37-4c9e-a3b4-4c49e8d67243';
const CTR = '286640c393fb04ee6930d6aa3788e9aad2bb7b0112fc0259f4a9683b5f1b309f';
const CTR2 = '07fbdd9c2315e9f31cf3c2563eacd2eea85f1ce5edb2f4151183740a7cab87a8';
const podPath = (uid: string): string => `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replaceAll('-', '_')}.slice`;
const ctrPath = (uid: string, ctr: string): string => `${podPath(uid)}/cri-containerd-${ctr}.scope`;

function cidr(s: string): Cidr {
  const c = parseCidr(s);
  assert.ok(c, s);
  return c;
}

/** Paths known in advance (remember); asking for any other id fails the test, so the kernel is never asked. Counts lookups. */
class SeededCgroups extends CgroupResolver {
  readonly lookups: number[] = [];
  private readonly known = new Set<number>();
  constructor() {
    super('/nonexistent-cgroup-root');
  }
  override remember(id: number, relPath: string): void {
    this.known.add(id);
    super.remember(id, relPath);
  }
  override resolve(id: number): string | null {
    this.lookups.push(id);
    assert.ok(this.known.has(id), `cgroup ${id} was not pre-seeded`);
    return super.resolve(id);
  }
}

/** An identity source whose answers a test changes, like a pod watch would. */
class MutableSource implements IdentitySource {
  readonly name = 'mutable';
  ids = new Map<string, string>();
  meta = new Map<string, KubernetesMeta>();
  images = new Map<string, ImageRef>();
  waiting = new Set<string>();
  addrs: AddressIdentity[] = [];
  readonly asked: CgroupFacts[] = [];

  spiffeIdFor(cg: CgroupFacts): string | null {
    this.asked.push(cg);
    return this.ids.get(cg.path) ?? null;
  }
  metaFor(cg: CgroupFacts): KubernetesMeta | null {
    return this.meta.get(cg.path) ?? null;
  }
  imageFor(cg: CgroupFacts): ImageRef | null {
    return this.images.get(cg.path) ?? null;
  }
  pending(cg: CgroupFacts): boolean {
    return this.waiting.has(cg.path);
  }
  addresses(): readonly AddressIdentity[] {
    return this.addrs;
  }
  spiffeIds(): readonly string[] {
    return [...new Set(this.ids.values())];
  }
}

function meta(podUid: string, container: string | null): KubernetesMeta {
  return { namespace: 'pay', pod: 'api-1', pod_uid: podUid, service_account: 'api', container, image: container ? 'example/api:1' : null };
}

describe('identity resolver: cgroups', () => {
  let src: MutableSource;
  let cgroups: SeededCgroups;
  let r: IdentityResolver;

  beforeEach(() => {
    src = new MutableSource();
    cgroups = new SeededCgroups();
    r = new IdentityResolver(src, cgroups);
  });

  it('forCgroup: the path\'s SPIFFE ID, container id, pod UID and Kubernetes metadata', () => {
    src.ids.set(ctrPath(POD, CTR), 'spiffe://cluster.local/ns/pay/sa/api');
    src.meta.set(ctrPath(POD, CTR), meta(POD, 'api'));
    const image = { name: 'example/api', tag: '1', digest: `sha256:${'e1'.repeat(32)}` };
    src.images.set(ctrPath(POD, CTR), image);
    r.remember(101, ctrPath(POD, CTR));
    assert.deepEqual(r.forCgroup(101), {
      spiffeId: 'spiffe://cluster.local/ns/pay/sa/api',
      cgroupId: 101,
      cgroup: ctrPath(POD, CTR),
      containerId: CTR,
      podUid: POD,
      kubernetes: meta(POD, 'api'),
      image,
    });
    // the source was asked with what the path says
    assert.equal(src.asked.length, 1);
    assert.deepEqual(src.asked[0], { runtime: 'containerd', containerId: CTR, podUid: POD, qosClass: 'besteffort', path: ctrPath(POD, CTR) });
  });

  it('forCgroup: a host cgroup has no identity, only its path', () => {
    r.remember(7, '/system.slice/sshd.service');
    assert.deepEqual(r.forCgroup(7), { spiffeId: null, cgroupId: 7, cgroup: '/system.slice/sshd.service', containerId: null, podUid: null, kubernetes: null, image: null });
  });

  it('forCgroup: a cgroup whose path is unknown (gone) is all null, and cached too', () => {
    // a real CgroupResolver asks the kernel about an id it was not told; here the answer is "gone"
    const gone = new (class extends CgroupResolver {
      calls = 0;
      override resolve(): string | null {
        this.calls++;
        return null;
      }
    })('/nonexistent-cgroup-root');
    const rr = new IdentityResolver(src, gone);
    const want = { spiffeId: null, cgroupId: 9, cgroup: null, containerId: null, podUid: null, kubernetes: null, image: null };
    assert.deepEqual(rr.forCgroup(9), want);
    assert.deepEqual(rr.forCgroup(9), want);
    assert.equal(gone.calls, 1, 'looked up once');
    assert.equal(src.asked.length, 0, 'the source is not asked about a cgroup without a path');
  });

  it('forCgroup caches: one lookup and one question per cgroup, the answer at first sight', () => {
    r.remember(101, '/vigil/api');
    src.ids.set('/vigil/api', 'spiffe://example.org/api');
    const first = r.forCgroup(101);
    src.ids.set('/vigil/api', 'spiffe://example.org/changed');
    const second = r.forCgroup(101);
    assert.equal(second, first, 'the same object');
    assert.equal(second.spiffeId, 'spiffe://example.org/api');
    assert.deepEqual(cgroups.lookups, [101]);
    assert.equal(src.asked.length, 1);
  });

  it('forPath: what a path says, not cached', () => {
    src.ids.set('/vigil/web', 'spiffe://example.org/web');
    const info = r.forPath(202, '/vigil/web');
    assert.deepEqual(info, { spiffeId: 'spiffe://example.org/web', cgroupId: 202, cgroup: '/vigil/web', containerId: null, podUid: null, kubernetes: null, image: null });
    // forCgroup(202) still looks the cgroup up: forPath put nothing in the cache
    r.remember(202, '/vigil/other');
    assert.equal(r.forCgroup(202).cgroup, '/vigil/other');
    assert.deepEqual(cgroups.lookups, [202]);
    // and asking again asks the source again
    src.ids.set('/vigil/web', 'spiffe://example.org/web2');
    assert.equal(r.forPath(202, '/vigil/web').spiffeId, 'spiffe://example.org/web2');
  });

  it('pending: asks the source with the path\'s facts; null paths and sources without pending() are not pending', () => {
    src.waiting.add(podPath(POD));
    assert.equal(r.pending(podPath(POD)), true);
    assert.equal(src.asked.length, 0, 'pending does not resolve the identity');
    assert.equal(r.pending(podPath(POD2)), false);
    assert.equal(r.pending(null), false);
    const plain = new IdentityResolver(StaticIdentitySource.empty(), new SeededCgroups());
    assert.equal(plain.pending(podPath(POD)), false);
  });

  it('refresh: resolves again the cached cgroups of a changed pod, and only those', () => {
    r.remember(1, podPath(POD));
    r.remember(2, ctrPath(POD, CTR));
    r.remember(3, ctrPath(POD2, CTR2));
    r.remember(4, '/vigil/host');
    for (const id of [1, 2, 3, 4]) assert.equal(r.forCgroup(id).spiffeId, null);
    // the watch shows both pods
    for (const p of [podPath(POD), ctrPath(POD, CTR)]) src.ids.set(p, 'spiffe://cluster.local/ns/pay/sa/api');
    src.ids.set(ctrPath(POD2, CTR2), 'spiffe://cluster.local/ns/pay/sa/web');
    src.ids.set('/vigil/host', 'spiffe://example.org/host');
    src.meta.set(ctrPath(POD, CTR), meta(POD, 'api'));
    const asked = src.asked.length;
    r.refresh({ podUids: new Set([POD]), containerIds: new Set(), addresses: false });
    assert.equal(src.asked.length, asked + 2, 'two cgroups of that pod asked again');
    assert.equal(r.forCgroup(1).spiffeId, 'spiffe://cluster.local/ns/pay/sa/api');
    assert.equal(r.forCgroup(2).spiffeId, 'spiffe://cluster.local/ns/pay/sa/api');
    assert.deepEqual(r.forCgroup(2).kubernetes, meta(POD, 'api'));
    assert.equal(r.forCgroup(3).spiffeId, null, 'another pod: untouched');
    assert.equal(r.forCgroup(4).spiffeId, null, 'a host cgroup: untouched');
    // no cgroup was looked up again: the path captured at first sight is used
    assert.deepEqual(cgroups.lookups, [1, 2, 3, 4]);
  });

  it('refresh: by container id, and by the pod UID of the metadata when the path names no pod', () => {
    // docker outside Kubernetes: a container id, no pod
    const dockerPath = `/system.slice/docker-${CTR2}.scope`;
    // a path that names no pod UID (a static pod's cgroup name is a hash), with metadata that does
    const odd = '/kubepods.slice/odd';
    r.remember(5, dockerPath);
    r.remember(6, odd);
    src.meta.set(odd, meta(POD2, null));
    assert.equal(r.forCgroup(5).spiffeId, null);
    assert.equal(r.forCgroup(6).podUid, null);
    src.ids.set(dockerPath, 'spiffe://example.org/docker');
    src.ids.set(odd, 'spiffe://cluster.local/ns/kube-system/sa/static');
    r.refresh({ podUids: new Set(), containerIds: new Set([CTR2]), addresses: false });
    assert.equal(r.forCgroup(5).spiffeId, 'spiffe://example.org/docker');
    assert.equal(r.forCgroup(6).spiffeId, null, 'not that change');
    r.refresh({ podUids: new Set([POD2]), containerIds: new Set(), addresses: false });
    assert.equal(r.forCgroup(6).spiffeId, 'spiffe://cluster.local/ns/kube-system/sa/static');
  });

  it('remember and getSource pass through', () => {
    r.remember(77, '/a/b');
    assert.equal(cgroups.resolve(77), '/a/b');
    assert.equal(r.getSource(), src);
  });
});

describe('identity resolver: destination addresses', () => {
  let src: MutableSource;
  let r: IdentityResolver;

  beforeEach(() => {
    src = new MutableSource();
    src.addrs = [
      { cidr: cidr('10.0.0.0/8'), spiffeId: 'spiffe://example.org/wide' },
      { cidr: cidr('10.1.2.0/24'), spiffeId: 'spiffe://example.org/subnet' },
      { cidr: cidr('10.1.2.3'), spiffeId: 'spiffe://example.org/host' },
      { cidr: cidr('10.1.0.0/16'), spiffeId: 'spiffe://example.org/mid' },
      { cidr: cidr('2001:db8::/32'), spiffeId: 'spiffe://example.org/v6' },
    ];
    r = new IdentityResolver(src, new SeededCgroups());
  });

  it('the longest prefix wins, whatever the order of the list', () => {
    assert.equal(r.forAddress('10.1.2.3'), 'spiffe://example.org/host');
    assert.equal(r.forAddress('10.1.2.4'), 'spiffe://example.org/subnet');
    assert.equal(r.forAddress('10.1.3.1'), 'spiffe://example.org/mid');
    assert.equal(r.forAddress('10.9.9.9'), 'spiffe://example.org/wide');
    assert.equal(r.forAddress('11.0.0.1'), null);
    assert.equal(r.forAddress('2001:db8::1'), 'spiffe://example.org/v6');
    assert.equal(r.forAddress('2001:db9::1'), null);
    // reversed list, same answers
    src.addrs = [...src.addrs].reverse();
    const r2 = new IdentityResolver(src, new SeededCgroups());
    assert.equal(r2.forAddress('10.1.2.3'), 'spiffe://example.org/host');
    assert.equal(r2.forAddress('10.1.2.4'), 'spiffe://example.org/subnet');
  });

  it('text that is not an address names no workload', () => {
    assert.equal(r.forAddress('not-an-ip'), null);
    assert.equal(r.forAddress(''), null);
  });

  it('answers are cached until the addresses change', () => {
    assert.equal(r.forAddress('10.1.2.3'), 'spiffe://example.org/host');
    src.addrs = [];
    assert.equal(r.forAddress('10.1.2.3'), 'spiffe://example.org/host', 'cached');
    assert.equal(r.forAddress('10.1.2.4'), null, 'not cached yet: asked now');
    // a change that does not touch addresses keeps the cache
    r.refresh({ podUids: new Set([POD]), containerIds: new Set(), addresses: false });
    assert.equal(r.forAddress('10.1.2.3'), 'spiffe://example.org/host');
    r.refresh({ podUids: new Set(), containerIds: new Set(), addresses: true });
    assert.equal(r.forAddress('10.1.2.3'), null);
  });

  it('setRemoteAddresses: other nodes\' workloads count too, and the cache is cleared', () => {
    assert.equal(r.forAddress('192.0.2.10'), null);
    assert.equal(r.forAddress('10.1.2.3'), 'spiffe://example.org/host');
    r.setRemoteAddresses([
      { cidr: cidr('192.0.2.0/24'), spiffeId: 'spiffe://example.org/remote' },
      { cidr: cidr('10.1.2.3'), spiffeId: 'spiffe://example.org/remote-host' },
    ]);
    assert.equal(r.forAddress('192.0.2.10'), 'spiffe://example.org/remote', 'a cached miss is asked again');
    // equal prefixes: the local source's entry comes first and stays
    assert.equal(r.forAddress('10.1.2.3'), 'spiffe://example.org/host');
    assert.deepEqual(
      r.addresses().map((a) => a.spiffeId),
      [
        'spiffe://example.org/wide',
        'spiffe://example.org/subnet',
        'spiffe://example.org/host',
        'spiffe://example.org/mid',
        'spiffe://example.org/v6',
        'spiffe://example.org/remote',
        'spiffe://example.org/remote-host',
      ],
    );
    r.setRemoteAddresses([]);
    assert.equal(r.forAddress('192.0.2.10'), null, 'gone with the remote list');
  });
});
