// Policy moves only forward and always fits: after the store is restored
// from an older backup the next push is numbered above what agents hold; a
// push too large is refused at push time naming the limit; a large policy
// reaches agents in chunks. Real control planes, real agent uplinks with the
// agent's own policy acceptance and state directory.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Spool } from '../../agent/export/spool';
import type { Uplink } from '../../agent/export/uplink';
import { loadPublicKey, PolicyState, type VerifiedPolicy } from '../../agent/rules/policy';
import { pushPolicy } from '../../cli/admin';
import { startControlPlane, type ControlPlaneConfig, type RunningControlPlane } from '../../controlplane/controlplane';
import { testAlert } from '../helpers/alerts';
import { testTrustDomain } from '../helpers/trust-domain';
import { testUplink } from '../helpers/uplink';
import { until } from '../helpers/wait';

const TD = 'push.vigil';
const RULES = (n: number): string => `rules:\n  - { name: rule-${n}, on: exec, match: { binary: { in: [/usr/bin/tool-${n}] } }, action: kill }\n`;

/** Valid rules of about `bytes` bytes: one list of many paths. */
function bigRules(bytes: number): string {
  const n = Math.ceil(bytes / 24);
  const items = Array.from({ length: n }, (_, i) => `/opt/tools/bin/t-${String(i).padStart(7, '0')}`);
  return `lists:\n  big: [${items.join(', ')}]\nrules:\n  - { name: big, on: exec, match: { binary: { in: $big } } }\n`;
}

describe('policy push: forward only, within limits, in chunks', function () {
  this.timeout(60000);
  let dir: string;
  let certs: string;
  const closers: (() => Promise<void> | void)[] = [];
  const logs: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-push-'));
    certs = path.join(dir, 'certs');
    await testTrustDomain(certs, TD, { admin: 'vigil/admin/ann', 'agent-node-1': 'vigil/agent/node-1' });
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    logs.length = 0;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const start = async (data: string, extra: Partial<ControlPlaneConfig> = {}, port = 0): Promise<RunningControlPlane> => {
    const cp = await startControlPlane({ listen: `127.0.0.1:${port}`, dataDir: data, certsDir: certs, insecure: false, log: (l) => logs.push(l), ...extra });
    const close = cp.close.bind(cp);
    let closed = false;
    const once = async (): Promise<void> => {
      if (!closed) await close();
      closed = true;
    };
    closers.push(once);
    return Object.assign(cp, { close: once });
  };

  /** An agent's uplink with the agent's own policy state; `applied` is the version in force. */
  const agent = (port: () => number, stateDir: string, maxPolicyBytes?: number): { up: Uplink; applied: () => number } => {
    let inForce = 0;
    const state = new PolicyState(stateDir);
    inForce = state.load()?.version ?? 0;
    const spool = new Spool(path.join(stateDir, 'spool'), 'boot-1');
    const up = testUplink({
      address: `127.0.0.1:${port()}`,
      certs,
      trustDomain: TD,
      node: 'node-1',
      bootId: 'boot-1',
      spool,
      backoffMs: 20,
      maxBackoffMs: 200,
      policyKey: loadPublicKey(path.join(certs, 'policy.pub')),
      policyState: state,
      applyPolicy: (p: VerifiedPolicy) => {
        inForce = p.version;
        return null;
      },
      currentPolicyVersion: () => inForce,
      maxPolicyBytes,
    });
    up.start();
    closers.push(async () => {
      await up.stop();
      spool.close();
    });
    return { up, applied: () => inForce };
  };

  const push = async (port: number, text: string): Promise<number> => {
    const f = path.join(dir, `rules-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(f, text);
    return (await pushPolicy({ address: `127.0.0.1:${port}`, certsDir: certs, insecure: false }, [f])).version;
  };

  it('a store restored from an older backup: the agent keeps v2, the control plane says so, and the next push is v3', async () => {
    const data = path.join(dir, 'restore');
    let cp = await start(data);
    const a = agent(() => cp.port, path.join(dir, 'agent-restore'));
    await until('connected', () => a.up.stats.connected);
    assert.equal(await push(cp.port, RULES(1)), 1);
    await until('v1 applied', () => a.applied() === 1);
    // the backup, taken while v1 was the latest
    await cp.store.db.backup(path.join(dir, 'backup.db'));
    assert.equal(await push(cp.port, RULES(2)), 2);
    await until('v2 applied', () => a.applied() === 2);
    const port = cp.port;
    await cp.close();
    for (const f of fs.readdirSync(data)) if (f.startsWith('vigil.db')) fs.rmSync(path.join(data, f));
    fs.copyFileSync(path.join(dir, 'backup.db'), path.join(data, 'vigil.db'));
    cp = await start(data, {}, port);
    assert.equal(cp.store.latestPolicy()?.version, 1, 'the restored store knows only v1');
    await until('the agent is back', () => a.up.stats.connected && a.up.stats.connects === 2, 20000);
    await until('the control plane noticed', () => logs.some((l) => /agent node-1 has applied policy v2, newer than the latest this control plane holds \(v1\)/.test(l)));
    assert.equal(a.applied(), 2, 'v1 was not taken back');
    assert.equal(await push(cp.port, RULES(3)), 3, 'numbered above what the agent holds');
    await until('v3 applied', () => a.applied() === 3);
    const ahead = (await cp.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'vigil_policy_agents_ahead_total');
    assert.equal(ahead?.values[0]?.value, 1);
  });

  it('a push larger than the limit is refused at push time, naming it; nothing is signed or sent', async () => {
    const cp = await start(path.join(dir, 'big'), { maxPolicyBytes: 100_000 });
    await assert.rejects(push(cp.port, bigRules(150_000)), /refused: the signed policy would be \d+ bytes, over the limit of 100000 bytes \(--max-policy-bytes\): nothing signed or sent/);
    assert.equal(cp.store.latestPolicy(), undefined);
    // an agent that takes less than the control plane's limit is the limit
    const a = agent(() => cp.port, path.join(dir, 'agent-small'), 50_000);
    await until('connected', () => a.up.stats.connected);
    await assert.rejects(push(cp.port, bigRules(70_000)), /over the 50000 bytes agent node-1 takes: nothing signed or sent/);
    assert.ok(logs.some((l) => /policy push by spiffe:\/\/push\.vigil\/vigil\/admin\/ann refused: the signed policy would be/.test(l)));
  });

  it('an 8.5 MB push with the default limits: validated off the event loop (alerts keep being stored meanwhile), delivered in chunks and applied; the agent never loses its stream', async () => {
    const cp = await start(path.join(dir, 'default-limits'));
    const a = agent(() => cp.port, path.join(dir, 'agent-default'));
    await until('connected', () => a.up.stats.connected);
    let sent = 0;
    const raise = (n: number): void => {
      for (let i = 0; i < n; i++) a.up.send(testAlert(++sent, 'node-1', TD));
    };
    raise(20);
    await until('first alerts stored', () => cp.store.countAlerts() === sent);
    const text = bigRules(8.5e6);
    assert.ok(text.length > 8.5e6);
    let pushed: number | null = null;
    const pushing = push(cp.port, text).then((v) => (pushed = v));
    await new Promise((r) => setTimeout(r, 300));
    raise(20);
    // the rules take seconds to validate: ingestion goes on meanwhile
    await until('alerts raised during the push stored', () => cp.store.countAlerts() === sent, 1500);
    assert.equal(pushed, null, 'stored while the push was still being validated');
    const v = await pushing;
    await until('the 8.5 MB policy applied', () => a.applied() === v, 40000);
    assert.ok(cp.store.latestPolicy()!.payload.length > 8.5e6);
    raise(20);
    await until('every alert stored', () => cp.store.countAlerts() === sent, 20000);
    assert.equal(a.up.stats.connects, 1, 'the agent never lost its stream');
    assert.equal(a.up.stats.policyRefused, 0);
  });

  it('a large policy reaches the agent in chunks and is applied whole', async () => {
    const cp = await start(path.join(dir, 'chunks'), { policyChunkBytes: 64 << 10 });
    const a = agent(() => cp.port, path.join(dir, 'agent-chunks'));
    await until('connected', () => a.up.stats.connected);
    const v = await push(cp.port, bigRules(300_000));
    await until('applied', () => a.applied() === v, 20000);
    assert.ok(cp.store.latestPolicy()!.payload.length > 4 * (64 << 10), 'more than four chunks');
    assert.equal(a.up.stats.policyRefused, 0);
  });
});
