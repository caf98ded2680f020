// Several identity sources as one (the identities file, then Kubernetes):
// the first source that names a cgroup wins, a cgroup another source names
// is not pending, addresses and SPIFFE IDs are merged, subscribe and close
// reach every source.
import * as assert from 'node:assert/strict';
import { parseCidr, type Cidr } from '../../../common/cidr';
import { parseCgroupPath } from '../../../agent/workload/cgroup-path';
import { CompositeIdentitySource } from '../../../agent/workload/composite-source';
import type { AddressIdentity, CgroupFacts, IdentityChange, IdentitySource, KubernetesMeta } from '../../../agent/workload/source';
import { StaticIdentitySource } from '../../../agent/workload/static-source';

function facts(p: string): CgroupFacts {
  return { ...parseCgroupPath(p), path: p };
}

function cidr(s: string): Cidr {
  const c = parseCidr(s);
  assert.ok(c, s);
  return c;
}

interface FakeOptions {
  ids?: Record<string, string>;
  meta?: Record<string, KubernetesMeta>;
  /** paths this source is still waiting for; undefined: the source has no pending() */
  pending?: string[];
  addresses?: AddressIdentity[];
  /** without subscribe() and close() */
  static?: boolean;
}

/** A source answering from tables, recording what it is asked. */
class FakeSource implements IdentitySource {
  readonly asked: string[] = [];
  readonly subscribers: ((c: IdentityChange) => void)[] = [];
  closed = 0;
  pending?: (cg: CgroupFacts) => boolean;
  subscribe?: (cb: (c: IdentityChange) => void) => void;
  close?: () => Promise<void>;

  constructor(
    readonly name: string,
    private readonly o: FakeOptions,
  ) {
    const waiting = o.pending;
    if (waiting) this.pending = (cg) => waiting.includes(cg.path);
    if (!o.static) {
      this.subscribe = (cb) => {
        this.subscribers.push(cb);
      };
      this.close = async () => {
        await new Promise((r) => setTimeout(r, 5));
        this.closed++;
      };
    }
  }

  spiffeIdFor(cg: CgroupFacts): string | null {
    this.asked.push(cg.path);
    return this.o.ids?.[cg.path] ?? null;
  }

  metaFor(cg: CgroupFacts): KubernetesMeta | null {
    return this.o.meta?.[cg.path] ?? null;
  }

  addresses(): readonly AddressIdentity[] {
    return this.o.addresses ?? [];
  }

  spiffeIds(): readonly string[] {
    return [...new Set(Object.values(this.o.ids ?? {}))];
  }
}

const META: KubernetesMeta = {
  namespace: 'pay',
  pod: 'api-1',
  pod_uid: '1227e887-592b-457e-9a23-2e78b48529f5',
  service_account: 'api',
  container: 'api',
  image: 'example/api:1',
};

describe('composite identity source', () => {
  it('is named after its sources, in order', () => {
    const c = new CompositeIdentitySource([new FakeSource('ids.yaml', {}), new FakeSource('kubernetes', {})]);
    assert.equal(c.name, 'ids.yaml + kubernetes');
  });

  it('the first source that names a cgroup wins; later sources are not asked', () => {
    const a = new FakeSource('a', { ids: { '/x': 'spiffe://a.org/x' } });
    const b = new FakeSource('b', { ids: { '/x': 'spiffe://b.org/x', '/y': 'spiffe://b.org/y' } });
    const c = new CompositeIdentitySource([a, b]);
    assert.equal(c.spiffeIdFor(facts('/x')), 'spiffe://a.org/x');
    assert.deepEqual(b.asked, [], 'b was not asked about /x');
    assert.equal(c.spiffeIdFor(facts('/y')), 'spiffe://b.org/y');
    assert.equal(c.spiffeIdFor(facts('/z')), null);
    assert.deepEqual(a.asked, ['/x', '/y', '/z']);
    assert.deepEqual(b.asked, ['/y', '/z']);
    // the other order gives the other answer
    assert.equal(new CompositeIdentitySource([b, a]).spiffeIdFor(facts('/x')), 'spiffe://b.org/x');
  });

  it('with the real identities file first: the file wins where it names a cgroup', () => {
    const file = StaticIdentitySource.parse({
      name: 'ids.yaml',
      text: 'workloads:\n  - spiffe_id: spiffe://example.org/host/db\n    cgroups: [system.slice/db.service]\n',
    });
    const kube = new FakeSource('kubernetes', { ids: { '/system.slice/db.service': 'spiffe://cluster.local/ns/x/sa/y', '/kubepods.slice/p': 'spiffe://cluster.local/ns/p/sa/q' } });
    const c = new CompositeIdentitySource([file, kube]);
    assert.equal(c.spiffeIdFor(facts('/system.slice/db.service')), 'spiffe://example.org/host/db');
    assert.equal(c.spiffeIdFor(facts('/kubepods.slice/p')), 'spiffe://cluster.local/ns/p/sa/q');
  });

  it('metadata: the first source that has some; sources without metaFor are skipped', () => {
    const file = StaticIdentitySource.empty();
    const kube = new FakeSource('kubernetes', { meta: { '/k': META } });
    const c = new CompositeIdentitySource([file, kube]);
    assert.deepEqual(c.metaFor(facts('/k')), META);
    assert.equal(c.metaFor(facts('/other')), null);
  });

  it('pending: when some source still waits for the cgroup', () => {
    const file = new FakeSource('file', { ids: {} });
    const kube = new FakeSource('kubernetes', { pending: ['/kubepods.slice/new'] });
    const c = new CompositeIdentitySource([file, kube]);
    assert.equal(c.pending(facts('/kubepods.slice/new')), true);
    assert.equal(c.pending(facts('/kubepods.slice/known')), false);
    // no source can wait at all
    assert.equal(new CompositeIdentitySource([file, StaticIdentitySource.empty()]).pending(facts('/kubepods.slice/new')), false);
  });

  it('pending: a cgroup a source without pending() names is waiting for nobody', () => {
    const file = new FakeSource('file', { ids: { '/kubepods.slice/new': 'spiffe://example.org/pinned' } });
    const kube = new FakeSource('kubernetes', { pending: ['/kubepods.slice/new'] });
    // wherever the file is in the list
    assert.equal(new CompositeIdentitySource([file, kube]).pending(facts('/kubepods.slice/new')), false);
    assert.equal(new CompositeIdentitySource([kube, file]).pending(facts('/kubepods.slice/new')), false);
    // a name given by a source that may itself still learn more does not end the wait
    const kube2 = new FakeSource('kubernetes-2', { ids: { '/kubepods.slice/new': 'spiffe://cluster.local/ns/a/sa/b' }, pending: [] });
    assert.equal(new CompositeIdentitySource([kube2, kube]).pending(facts('/kubepods.slice/new')), true);
  });

  it('addresses and SPIFFE IDs of every source, merged in source order (IDs once)', () => {
    const a = new FakeSource('a', {
      ids: { '/x': 'spiffe://example.org/x', '/x2': 'spiffe://example.org/shared' },
      addresses: [{ cidr: cidr('10.0.0.0/8'), spiffeId: 'spiffe://example.org/x' }],
    });
    const b = new FakeSource('b', {
      ids: { '/y': 'spiffe://example.org/shared', '/z': 'spiffe://example.org/z' },
      addresses: [
        { cidr: cidr('10.1.0.0/16'), spiffeId: 'spiffe://example.org/z' },
        { cidr: cidr('2001:db8::/32'), spiffeId: 'spiffe://example.org/z' },
      ],
    });
    const c = new CompositeIdentitySource([a, b]);
    assert.deepEqual(
      c.addresses().map((x) => [x.cidr.text, x.spiffeId]),
      [
        ['10.0.0.0/8', 'spiffe://example.org/x'],
        ['10.1.0.0/16', 'spiffe://example.org/z'],
        ['2001:db8::/32', 'spiffe://example.org/z'],
      ],
    );
    assert.deepEqual(c.spiffeIds(), ['spiffe://example.org/x', 'spiffe://example.org/shared', 'spiffe://example.org/z']);
  });

  it('subscribe reaches every source that can change; each change comes through', () => {
    const a = new FakeSource('a', {});
    const file = new FakeSource('file', { static: true });
    const b = new FakeSource('b', {});
    const c = new CompositeIdentitySource([a, file, b]);
    const seen: IdentityChange[] = [];
    c.subscribe((ch) => seen.push(ch));
    assert.equal(a.subscribers.length, 1);
    assert.equal(b.subscribers.length, 1);
    const ch1: IdentityChange = { podUids: new Set(['u1']), containerIds: new Set(), addresses: false };
    const ch2: IdentityChange = { podUids: new Set(), containerIds: new Set(), addresses: true };
    a.subscribers[0](ch1);
    b.subscribers[0](ch2);
    assert.deepEqual(seen, [ch1, ch2]);
  });

  it('close closes every source that can be closed, and waits for each', async () => {
    const a = new FakeSource('a', {});
    const file = new FakeSource('file', { static: true });
    const b = new FakeSource('b', {});
    await new CompositeIdentitySource([a, file, b]).close();
    assert.equal(a.closed, 1);
    assert.equal(b.closed, 1);
  });
});
