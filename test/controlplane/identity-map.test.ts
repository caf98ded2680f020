// A node speaks only for itself: identity reports checked against the
// address ranges each node owns, the workload trust domains and the size
// limits; conflicts left out and reported; the map delivered in chunks and
// deltas under the message limit, whatever the fleet's size. Real control
// planes over mTLS and real agent streams.
import * as grpc from '@grpc/grpc-js';
import { Writer } from 'protobufjs';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Spool } from '../../agent/export/spool';
import type { Uplink } from '../../agent/export/uplink';
import { parseCidr, formatCidr } from '../../common/cidr';
import { issueSvid } from '../../common/spiffe/local-ca';
import { vigilProto } from '../../common/proto/load';
import type { ControlMessage__Output } from '../../common/proto/generated/vigil/v1/ControlMessage';
import { startControlPlane, type ControlPlaneConfig, type RunningControlPlane } from '../../controlplane/controlplane';
import { checkReport, IdentityMapState, type Claim } from '../../controlplane/identity-map';
import { loadNodeRanges, type AddressOwnership } from '../../controlplane/node-ranges';
import { CpMetrics } from '../../controlplane/metrics';
import { ControlPlane } from '../../controlplane/server';
import { Store } from '../../controlplane/store';
import { testAlert } from '../helpers/alerts';
import { rawAgent, type RawAgent } from '../helpers/raw-agent';
import { testTrustDomain } from '../helpers/trust-domain';
import { testUplink } from '../helpers/uplink';
import { until } from '../helpers/wait';

const TD = 'ids.vigil';
const encode = (m: ControlMessage__Output): number => (vigilProto().AgentService.service.Connect.responseSerialize(m) as Buffer).length;

async function metric(registry: { getMetricsAsJSON(): Promise<{ name: string; values: { value: number; labels: Record<string, unknown> }[] }[]> }, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values ?? []).find((x) => Object.entries(labels).every(([k, want]) => x.labels[k] === want));
  return Number(v?.value ?? 0);
}

describe('identity map: checked reports, conflicts, chunks', function () {
  this.timeout(60000);
  let dir: string;
  let certs: string;
  const closers: (() => Promise<void> | void)[] = [];
  const logs: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ids-'));
    certs = path.join(dir, 'certs');
    await testTrustDomain(certs, TD);
    for (const n of ['node-1', 'node-2', 'node-3']) await issueSvid(certs, `spiffe://${TD}/vigil/agent/${n}`, `agent-${n}`);
    fs.writeFileSync(path.join(dir, 'ranges.yaml'), 'nodes:\n  node-1: [10.1.0.0/24]\n  node-2: [10.2.0.0/24, "fd00:2::/64"]\n  node-3: [10.3.0.0/16]\n');
  });

  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    logs.length = 0;
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const start = async (extra: Partial<ControlPlaneConfig> = {}): Promise<RunningControlPlane> => {
    const data = fs.mkdtempSync(path.join(dir, 'data-'));
    const cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: data, certsDir: certs, insecure: false, log: (l) => logs.push(l), ...extra });
    closers.push(() => cp.close());
    return cp;
  };

  /** An agent that reports `report` and keeps the map it receives. */
  const agent = (port: number, node: string, report: { cidr: string; spiffe_id: string }[]): { up: Uplink; map: () => { cidr: string; spiffe_id: string; node: string }[] } => {
    let map: { cidr: string; spiffe_id: string; node: string }[] = [];
    const spool = new Spool(fs.mkdtempSync(path.join(dir, 'spool-')), `boot-${node}`);
    const up = testUplink({ address: `127.0.0.1:${port}`, certs, trustDomain: TD, node, bootId: `boot-${node}`, spool, identityReport: () => report, onIdentityMap: (e) => (map = e) });
    up.start();
    closers.push(async () => {
      await up.stop();
      spool.close();
    });
    return { up, map: () => map };
  };

  const listen = (port: number, node: string): RawAgent => {
    const raw = rawAgent(port, certs, TD, node);
    raw.write({ hello: { node, boot_id: `boot-${node}`, version: 't' } });
    closers.push(() => raw.close());
    return raw;
  };

  it('a lying node: 0.0.0.0/0, a foreign trust domain, not-a-cidr, another node\'s address and a double claim are refused; what it owns reaches the others', async () => {
    const cp = await start({ nodeRanges: path.join(dir, 'ranges.yaml') });
    const observer = agent(cp.port, 'node-1', [{ cidr: '10.1.0.9', spiffe_id: `spiffe://${TD}/ns/a/sa/api` }]);
    agent(cp.port, 'node-2', [
      { cidr: '0.0.0.0/0', spiffe_id: `spiffe://${TD}/ns/prod/sa/db` },
      { cidr: '10.2.0.0/16', spiffe_id: `spiffe://${TD}/ns/prod/sa/db` },
      { cidr: '10.2.0.5', spiffe_id: 'spiffe://evil.example/ns/prod/sa/db' },
      { cidr: 'not-a-cidr', spiffe_id: `spiffe://${TD}/ns/prod/sa/db` },
      { cidr: '10.2.0.6', spiffe_id: 'spiffe://ids.vigil/ns/../sa/db' },
      { cidr: '10.1.0.9/32', spiffe_id: `spiffe://${TD}/ns/prod/sa/db` },
      { cidr: '10.2.0.8', spiffe_id: `spiffe://${TD}/ns/b/sa/one` },
      { cidr: '10.2.0.8/32', spiffe_id: `spiffe://${TD}/ns/b/sa/two` },
      { cidr: '10.2.0.7', spiffe_id: `spiffe://${TD}/ns/b/sa/w` },
      { cidr: 'fd00:2:0:0::10/128', spiffe_id: `spiffe://${TD}/ns/b/sa/w6` },
    ]);
    await until('the map reached node-1', () => observer.map().some((e) => e.node === 'node-2'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      observer
        .map()
        .filter((e) => e.node === 'node-2')
        .map((e) => `${e.cidr}=${e.spiffe_id}`)
        .sort(),
      [`10.2.0.7/32=spiffe://${TD}/ns/b/sa/w`, `fd00:2::10/128=spiffe://${TD}/ns/b/sa/w6`],
    );
    assert.deepEqual(
      observer.map().filter((e) => e.node === 'node-1').map((e) => e.cidr),
      ['10.1.0.9/32'],
      "node-1's own address stays node-1's",
    );
    const r = cp.metrics.registry;
    assert.equal(await metric(r, 'vigil_identity_entries_refused_total', { reason: 'too_wide' }), 2);
    assert.equal(await metric(r, 'vigil_identity_entries_refused_total', { reason: 'foreign_trust_domain' }), 1);
    assert.equal(await metric(r, 'vigil_identity_entries_refused_total', { reason: 'not_a_cidr' }), 1);
    assert.equal(await metric(r, 'vigil_identity_entries_refused_total', { reason: 'not_a_spiffe_id' }), 1);
    assert.equal(await metric(r, 'vigil_identity_entries_refused_total', { reason: 'not_owned' }), 1);
    assert.equal(await metric(r, 'vigil_identity_entries_refused_total', { reason: 'duplicate' }), 1);
    const line = logs.find((l) => /identity report of node node-2/.test(l)) ?? '';
    assert.match(line, new RegExp(`\\(spiffe://${TD}/vigil/agent/node-2\\): 7 of 10 entries refused`));
    assert.deepEqual(
      cp.store.addresses().filter((a) => a.node === 'node-2').map((a) => a.cidr).sort(),
      ['10.2.0.7/32', 'fd00:2::10/128'],
      'only what was accepted is stored',
    );
  });

  it('without --node-ranges (or Kubernetes) no node can be tied to an address: every report is refused, said once per report', async () => {
    const cp = await start();
    const observer = agent(cp.port, 'node-1', []);
    agent(cp.port, 'node-2', [{ cidr: '10.2.0.7', spiffe_id: `spiffe://${TD}/ns/b/sa/w` }]);
    await until('refused', () => logs.some((l) => /identity report of node node-2/.test(l)));
    assert.match(logs.join('\n'), /no address ownership is configured/);
    assert.deepEqual(observer.map(), []);
    assert.equal(cp.store.addresses().length, 0);
  });

  it('a report over the entry limit is refused whole, before decoding, and the stream ends naming the limit', async () => {
    const cp = await start({ nodeRanges: path.join(dir, 'ranges.yaml'), identityMaxEntries: 10 });
    const raw = listen(cp.port, 'node-3');
    await until('welcomed', () => raw.received.some((m) => m.msg === 'welcome'));
    raw.write({ identities: { entries: Array.from({ length: 11 }, (_, i) => ({ cidr: `10.3.0.${i}`, spiffe_id: `spiffe://${TD}/ns/x/sa/y` })) } });
    const end = await raw.ended;
    assert.equal(end.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(end.details, 'an identity report of 11 entries is over the limit of 10 per node');
    assert.equal(await metric(cp.metrics.registry, 'vigil_agent_messages_refused_total', { reason: 'identity_report_too_large' }), 1);
  });

  it('a node reports 1,250,000 entries (60 MB, and 2.5 MB of empty ones): refused before decoding, naming the limit, while the other agents stay connected, keep their map and keep storing alerts', async () => {
    const cp = await start({ nodeRanges: path.join(dir, 'ranges.yaml') });
    // node-1: the real uplink, reporting its address and raising alerts all along
    let map: { cidr: string; spiffe_id: string; node: string }[] = [];
    const spool = new Spool(fs.mkdtempSync(path.join(dir, 'spool-')), 'boot-node-1');
    const up = testUplink({
      address: `127.0.0.1:${cp.port}`,
      certs,
      trustDomain: TD,
      node: 'node-1',
      bootId: 'boot-node-1',
      spool,
      identityReport: () => [{ cidr: '10.1.0.9', spiffe_id: `spiffe://${TD}/ns/a/sa/api` }],
      onIdentityMap: (e) => (map = e),
    });
    up.start();
    closers.push(async () => {
      await up.stop();
      spool.close();
    });
    await until('node-1 in its own map', () => up.stats.connected && map.some((e) => e.node === 'node-1'));
    let sent = 0;
    const raise = (n: number): void => {
      for (let i = 0; i < n; i++) up.send(testAlert(++sent, 'node-1', TD));
    };
    raise(50);
    // AgentMessage{identities: IdentityReport{entries: [AddressEntry x 1,250,000]}}, put on the wire as bytes
    const report = (entry: Buffer, n: number): Buffer => {
      const one = Buffer.concat([Buffer.from([(1 << 3) | 2, entry.length]), entry]);
      const body = Buffer.alloc(one.length * n, one);
      const len = Writer.create().uint32(body.length).finish();
      return Buffer.concat([Buffer.from([(3 << 3) | 2]), Buffer.from(len), body]);
    };
    const entry = Buffer.from(Writer.create().uint32((1 << 3) | 2).string('10.3.0.7/32').uint32((2 << 3) | 2).string(`spiffe://${TD}/ns/prod/sa/db`).finish());
    const big = report(entry, 1_250_000);
    const empty = report(Buffer.alloc(0), 1_250_000);
    assert.ok(big.length > 50e6 && empty.length < 4 << 20, `${big.length} and ${empty.length} bytes`);
    const hostile = listen(cp.port, 'node-3');
    const hostile2 = rawAgent(cp.port, certs, TD, 'node-2');
    closers.push(() => hostile2.close());
    hostile2.write({ hello: { node: 'node-2', boot_id: 'boot-node-2', version: 't' } });
    await until('welcomed', () => [hostile, hostile2].every((x) => x.received.some((m) => m.msg === 'welcome')));
    hostile.write(big);
    hostile2.write(empty);
    raise(50);
    const [e1, e2] = await Promise.all([hostile.ended, hostile2.ended]);
    raise(50);
    assert.deepEqual([e1.code, e2.code], [grpc.status.RESOURCE_EXHAUSTED, grpc.status.RESOURCE_EXHAUSTED]);
    assert.match(e1.details, /^Received message larger than max \(61250005 vs 16777216\)/);
    assert.equal(e2.details, 'an identity report of 1250000 entries is over the limit of 4096 per node');
    await until('every alert of node-1 stored', () => spool.stats().depth === 0 && cp.store.countAlerts() === sent);
    assert.equal(up.stats.connects, 1, 'node-1 never lost its stream');
    assert.deepEqual(map.map((e) => `${e.node} ${e.cidr}`), ['node-1 10.1.0.9/32'], 'nothing of node-2 or node-3 reached node-1');
    assert.deepEqual(cp.store.addresses().map((a) => a.node), ['node-1']);
    assert.equal(await metric(cp.metrics.registry, 'vigil_agent_messages_refused_total', { reason: 'identity_report_too_large' }), 1);
    // the 60 MB one never reached our code (gRPC's own 16 MiB limit): seen all the same, with who sent it
    assert.equal(await metric(cp.metrics.registry, 'vigil_agent_messages_refused_total', { reason: 'message_too_large' }), 1);
    assert.ok(logs.some((l) => /agent \/vigil\.v1\.AgentService\/Connect from spiffe:\/\/ids\.vigil\/vigil\/agent\/node-3 \(.*\): a message larger than gRPC's receive limit \(61250005 vs 16777216\): refused unread/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /node-2 .*an identity report of 1250000 entries is over the limit of 4096/.test(l)), logs.join('\n'));
    // the 60 MB one never reached our code (gRPC's own 16 MiB limit): seen all the same, with who sent it
    assert.equal(await metric(cp.metrics.registry, 'vigil_agent_messages_refused_total', { reason: 'message_too_large' }), 1);
    assert.ok(logs.some((l) => /agent \/vigil\.v1\.AgentService\/Connect from spiffe:\/\/ids\.vigil\/vigil\/agent\/node-3 \(.*\): a message larger than gRPC's receive limit \(61250005 vs 16777216\): refused unread/.test(l)), logs.join('\n'));
  });

  it('overlapping node ranges are a configuration error named by file:line:col', () => {
    const f = path.join(dir, 'overlap.yaml');
    fs.writeFileSync(f, 'nodes:\n  a: [10.0.0.0/16]\n  b: [10.0.5.0/24, bogus]\n');
    assert.throws(
      () => loadNodeRanges(f),
      (e: Error) =>
        e.message.includes(`${f}:3:20: node b: "bogus" is not an IP address or CIDR block`) &&
        e.message.includes(`${f}:3:7: 10.0.5.0/24 of node b overlaps 10.0.0.0/16 of node a: an address has one owner`),
    );
  });

  it('an address two nodes claim is a conflict: left out, logged, counted; when one claim goes, the other is in the map again (a delta)', async () => {
    // an ownership that lets both nodes claim 10.9.0.0/24 (what a pod moving between nodes looks like)
    const shared: AddressOwnership = { source: 'test', check: (_n, c) => (formatCidr(c).startsWith('10.9.0.') ? null : 'not in 10.9.0.0/24') };
    const store = new Store(path.join(fs.mkdtempSync(path.join(dir, 'data-')), 'vigil.db'));
    const metrics = new CpMetrics(store);
    const server = await issueSvid(certs, `spiffe://${TD}/vigil/controlplane`, 'controlplane');
    const cp = new ControlPlane({
      store,
      tls: { bundle: path.join(certs, 'bundle.pem'), cert: server.cert, key: server.key, trustDomain: TD },
      agentIds: [`spiffe://${TD}/vigil/agent/*`],
      adminIds: [],
      policyKey: null,
      metrics,
      log: (l) => logs.push(l),
      identityPolicy: { ownership: shared },
    });
    const port = await cp.listen('127.0.0.1:0');
    closers.push(() => store.close());
    closers.push(() => cp.close());
    const raw = listen(port, 'node-3');
    const a = rawAgent(port, certs, TD, 'node-1');
    closers.push(() => a.close());
    a.write({ hello: { node: 'node-1', boot_id: 'b1', version: 't' } });
    const b = rawAgent(port, certs, TD, 'node-2');
    closers.push(() => b.close());
    b.write({ hello: { node: 'node-2', boot_id: 'b2', version: 't' } });
    await until('welcomed', () => [raw, a, b].every((x) => x.received.some((m) => m.msg === 'welcome')));
    const maps = (): ControlMessage__Output['identity_map'][] => raw.received.filter((m) => m.msg === 'identity_map').map((m) => m.identity_map);
    a.write({ identities: { entries: [{ cidr: '10.9.0.1', spiffe_id: `spiffe://${TD}/ns/a/sa/db` }, { cidr: '10.9.0.2', spiffe_id: `spiffe://${TD}/ns/a/sa/web` }] } });
    await until('node-1 in the map', () => maps().some((m) => m?.entries.some((e) => e.node === 'node-1')));
    b.write({ identities: { entries: [{ cidr: '10.9.0.1/32', spiffe_id: `spiffe://${TD}/ns/evil/sa/x` }] } });
    await until('conflict logged', () => logs.some((l) => /identity conflict: 10\.9\.0\.1\/32 is claimed by nodes node-1, node-2/.test(l)));
    await until('the delta arrived', () => (maps().at(-1)?.replaced_nodes ?? []).includes('node-1'));
    const d1 = maps().at(-1);
    assert.equal(d1?.delta, true);
    assert.deepEqual(d1?.entries.map((e) => `${e.node} ${e.cidr}`).sort(), ['node-1 10.9.0.2/32'], 'the contested address is in neither node\'s entries');
    assert.equal(await metric(metrics.registry, 'vigil_identity_conflicts'), 1);
    // node-2 withdraws its claim: node-1's address is back
    b.write({ identities: { entries: [] } });
    await until('node-1 has both again', () => {
      const m = maps().at(-1);
      return m?.delta === true && m.entries.filter((e) => e.node === 'node-1').length === 2;
    });
    assert.equal(await metric(metrics.registry, 'vigil_identity_conflicts'), 0);
  });

  it('the map reaches agents in chunks under the limit and changes as deltas (a 16 KiB limit, 3,000 entries)', async () => {
    const cp = await start({ nodeRanges: path.join(dir, 'ranges.yaml'), mapChunkBytes: 16 << 10, identityMaxEntries: 5000 });
    const report = Array.from({ length: 3000 }, (_, i) => ({ cidr: `10.3.${i >> 8}.${i & 255}`, spiffe_id: `spiffe://${TD}/ns/team-${i % 50}/sa/service-${i}` }));
    agent(cp.port, 'node-3', report);
    await until('stored', () => cp.store.addresses().length === 3000);
    const raw = listen(cp.port, 'node-1');
    await until('the whole map', () => raw.received.filter((m) => m.msg === 'identity_map').length > 0 && (raw.received.filter((m) => m.msg === 'identity_map').at(-1)?.identity_map?.chunk ?? -1) + 1 === (raw.received.filter((m) => m.msg === 'identity_map').at(-1)?.identity_map?.chunks ?? 0));
    const chunks = raw.received.filter((m) => m.msg === 'identity_map');
    assert.ok(chunks.length > 5, `in several chunks (${chunks.length})`);
    for (const c of chunks) assert.ok(encode(c) <= 17 << 10, `a chunk of ${encode(c)} bytes`);
    assert.equal(chunks.reduce((n, c) => n + (c.identity_map?.entries.length ?? 0), 0), 3000);
    assert.deepEqual(new Set(chunks.map((c) => c.identity_map?.version)).size, 1, 'one version');
  });

  it('a 1,250,000-entry fleet: the whole map in chunks each far under the 16 MiB limit, every entry once', () => {
    const state = new IdentityMapState();
    const nodes = 1250;
    for (let n = 0; n < nodes; n++) {
      const claims: Claim[] = [];
      for (let i = 0; i < 1000; i++) claims.push({ cidr: `10.${n >> 6}.${((n & 63) << 2) | (i >> 8)}.${i & 255}/32`, spiffe_id: `spiffe://${TD}/ns/ns-${n}/sa/s-${i % 20}` });
      state.set(`node-${n}`, claims);
    }
    const chunks = state.full(1 << 20);
    let total = 0;
    let biggest = 0;
    for (const c of chunks) total += c.entries?.length ?? 0;
    // the chunks hold entries of the same shape: the first, a middle and the last one encoded stand for all
    for (const c of [chunks[0], chunks[chunks.length >> 1], chunks[chunks.length - 1]]) {
      biggest = Math.max(biggest, encode({ msg: 'identity_map', identity_map: c } as unknown as ControlMessage__Output));
    }
    assert.equal(total, 1_250_000);
    assert.equal(state.conflicts().length, 0);
    assert.ok(biggest < 2 << 20, `the largest chunk is ${biggest} bytes`);
    assert.ok(chunks.length > 16, `${chunks.length} chunks`);
  });

  it('checkReport: the limits, one by one', () => {
    const own: AddressOwnership = { source: 't', check: () => null };
    const p = { trustDomains: [TD], maxPrefixWidth: 8, maxEntries: 3, ownership: own };
    const id = `spiffe://${TD}/ns/a/sa/b`;
    assert.deepEqual(checkReport('n', [{ cidr: '10.0.0.0/24', spiffe_id: id }], p).accepted, [{ cidr: '10.0.0.0/24', spiffe_id: id }]);
    assert.equal(checkReport('n', [{ cidr: '10.0.0.0/23', spiffe_id: id }], p).refused[0].reason, 'too_wide');
    assert.equal(checkReport('n', [{ cidr: '2001:db8::/120', spiffe_id: id }], p).accepted.length, 1);
    assert.equal(checkReport('n', [{ cidr: '2001:db8::/119', spiffe_id: id }], p).refused[0].reason, 'too_wide');
    // the other name for the same block: one canonical text
    assert.deepEqual(checkReport('n', [{ cidr: '::ffff:10.0.0.7/128', spiffe_id: id }], p).accepted, [{ cidr: '10.0.0.7/32', spiffe_id: id }]);
    assert.equal(formatCidr(parseCidr('10.0.0.7/24')!), '10.0.0.0/24');
    assert.equal(checkReport('n', Array.from({ length: 4 }, () => ({ cidr: '10.0.0.1', spiffe_id: id })), p).refused[0].reason, 'too_many_entries');
  });
});
