// Signed policy (tampered, unsigned, foreign and invalid bundles refused, the
// last good one kept, also across a restart) and the audit log (edits,
// deletions, insertions and reorderings found and named).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initTrustDomain, issueSvid } from '../../common/spiffe/local-ca';
import { loadPrivateKey, loadPublicKey, PolicyState, signPolicy, verifyPolicy, type SignedPolicy, type VerifiedPolicy } from '../../agent/rules/policy';
import { acceptPolicy } from '../../agent/rules/policy';
import { repoRoot } from '../../common/repo';
import { entryHash } from '../../controlplane/audit';
import { startControlPlane } from '../../controlplane/controlplane';
import { pushPolicy } from '../../cli/admin';
import { Store } from '../../controlplane/store';

const RULES_V1 = 'rules:\n  - { name: one, on: exec, match: { binary: { in: [/usr/bin/nc] } } }\n';
const RULES_V2 = 'rules:\n  - { name: two, on: exec, match: { binary: { in: [/usr/bin/ncat] } }, action: kill }\n';

describe('signed policy', function () {
  this.timeout(30000);
  let dir: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-policy-'));
    await initTrustDomain(path.join(dir, 'certs'), 'policy.vigil');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const keys = () => ({
    priv: loadPrivateKey(path.join(dir, 'certs', 'policy.key')),
    pub: loadPublicKey(path.join(dir, 'certs', 'policy.pub')),
  });

  it('an agent applies a good bundle, refuses tampered, unsigned and foreign ones, keeps the last good across a restart', () => {
    const { priv, pub } = keys();
    const state = new PolicyState(path.join(dir, 'agent'));
    const applied: number[] = [];
    const o = {
      policyKey: pub,
      policyState: state,
      applyPolicy: (p: VerifiedPolicy) => {
        applied.push(p.version);
        return null;
      },
    };
    const good = signPolicy(1, [{ name: 'a.yaml', text: RULES_V1 }], priv);
    assert.deepEqual(acceptPolicy(good, o), { ok: true, version: 1 });

    const tampered: SignedPolicy = { ...good, version: 2, payload: Buffer.from(good.payload.toString().replace('/usr/bin/nc', '/usr/bin/xx').replace('"version":1', '"version":2')) };
    const t = acceptPolicy(tampered, o);
    assert.equal(t.ok, false);
    assert.match(t.error ?? '', /policy v2: bad signature: refused/);

    const unsigned: SignedPolicy = { ...signPolicy(3, [{ name: 'a.yaml', text: RULES_V2 }], priv), signature: Buffer.alloc(0) };
    assert.match(acceptPolicy(unsigned, o).error ?? '', /policy v3: bad signature/);

    const foreign = signPolicy(4, [{ name: 'a.yaml', text: RULES_V2 }], generateKeyPairSync('ed25519').privateKey);
    assert.match(acceptPolicy(foreign, o).error ?? '', /policy v4: signed by key .*, not the pinned key/);

    assert.deepEqual(applied, [1], 'only the good bundle reached the rules');
    // an agent restart finds the last good bundle and it still verifies
    const saved = new PolicyState(path.join(dir, 'agent')).load();
    assert.ok(saved);
    const again = verifyPolicy(saved, pub);
    assert.equal(again.version, 1);
    assert.deepEqual(again.rules.rules.map((r) => r.name), ['one']);
  });

  it('the control plane refuses to sign invalid rules, with their file:line:col', async () => {
    const certs = path.join(dir, 'certs');
    await issueSvid(certs, 'spiffe://policy.vigil/vigil/controlplane', 'controlplane');
    await issueSvid(certs, 'spiffe://policy.vigil/vigil/admin/a', 'admin');
    const cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'cp'), certsDir: certs, insecure: false, log: () => undefined });
    try {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, 'rules:\n  - name: x\n    on: exec\n    action: obliterate\n');
      await assert.rejects(pushPolicy({ address: `127.0.0.1:${cp.port}`, certsDir: certs, insecure: false }, [bad]), /bad\.yaml:4:13: rule "x": action: expected one of alert, kill, deny/);
      assert.equal(cp.store.latestPolicy(), undefined, 'no version was spent on it');
      const good = path.join(dir, 'good.yaml');
      fs.writeFileSync(good, RULES_V1);
      const r = await pushPolicy({ address: `127.0.0.1:${cp.port}`, certsDir: certs, insecure: false }, [good]);
      assert.equal(r.version, 1);
      const v = verifyPolicy(
        { version: 1, payload: cp.store.latestPolicy()!.payload, signature: cp.store.latestPolicy()!.signature, keyId: cp.store.latestPolicy()!.key_id },
        keys().pub,
      );
      assert.deepEqual(v.files, [{ name: 'good.yaml', text: RULES_V1 }]);
    } finally {
      await cp.close();
    }
  });
});

describe('audit log', function () {
  this.timeout(30000);
  let dir: string;
  const fresh = (): Store => {
    const s = new Store(path.join(fs.mkdtempSync(path.join(dir, 'db-')), 'vigil.db'));
    for (let i = 1; i <= 10; i++) {
      s.insertAlerts([{ node: 'n', bootId: 'b', sequence: i, timeNs: String(1_000 + i), rule: 'r', priority: 'p', action: 'a', outcome: 'o', spiffeId: '', json: `{"i":${i}}` }]);
    }
    return s;
  };
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an untouched chain verifies', () => {
    const s = fresh();
    assert.deepEqual(
      { ...s.verifyAudit(), head: s.verifyAudit().head.length },
      { intact: true, entries: 10, head: 64 },
    );
    s.close();
  });

  it('finds an edited entry', () => {
    const s = fresh();
    s.db.prepare("UPDATE audit SET data = replace(data, '\"sequence\":4', '\"sequence\":40') WHERE seq = 4").run();
    assert.equal(s.verifyAudit().problem, 'entry 4 was edited: its content does not give its hash');
    s.close();
  });

  it('finds a deleted entry', () => {
    const s = fresh();
    s.db.prepare('DELETE FROM audit WHERE seq = 6').run();
    assert.equal(s.verifyAudit().problem, 'entry 6 is missing (deleted): entry 7 follows entry 5');
    s.close();
  });

  it('finds an inserted entry, even one with a correct hash of its own', () => {
    const s = fresh();
    // make room after entry 3 and forge entry 4, well formed but not chained to entry 3
    s.db.prepare('UPDATE audit SET seq = seq + 1000 WHERE seq > 3').run();
    s.db.prepare('UPDATE audit SET seq = seq - 999 WHERE seq > 1000').run();
    const forged = { seq: 4, time_ns: '5', kind: 'alert' as const, data: { forged: true }, prev: 'f'.repeat(64) };
    s.db.prepare('INSERT INTO audit (seq, time_ns, kind, data, prev, hash) VALUES (?, ?, ?, ?, ?, ?)').run(4, 5, 'alert', JSON.stringify(forged.data), forged.prev, entryHash(forged));
    const v = s.verifyAudit();
    assert.equal(v.intact, false);
    assert.match(v.problem ?? '', /^entry 4 (does not follow entry 3|is out of order)/);
    s.close();
  });

  it('finds reordered entries', () => {
    const s = fresh();
    // swap entries 7 and 8
    s.db.prepare('UPDATE audit SET seq = -1 WHERE seq = 7').run();
    s.db.prepare('UPDATE audit SET seq = 7 WHERE seq = 8').run();
    s.db.prepare('UPDATE audit SET seq = 8 WHERE seq = -1').run();
    const v = s.verifyAudit();
    assert.equal(v.intact, false);
    assert.match(v.problem ?? '', /^entry 7 /);
    s.close();
  });

  it('vigil audit verify says so and fails; export writes every entry', () => {
    const data = fs.mkdtempSync(path.join(dir, 'cli-'));
    const s = new Store(path.join(data, 'vigil.db'));
    s.insertAlerts([{ node: 'n', bootId: 'b', sequence: 1, timeNs: '1', rule: 'r', priority: 'p', action: 'a', outcome: 'o', spiffeId: '', json: '{}' }]);
    s.insertAlerts([{ node: 'n', bootId: 'b', sequence: 2, timeNs: '2', rule: 'r', priority: 'p', action: 'a', outcome: 'o', spiffeId: '', json: '{}' }]);
    s.close();
    const vigil = path.join(repoRoot(), 'bin', 'vigil');
    const ok = spawnSync(vigil, ['audit', 'verify', '--data', data], { encoding: 'utf8' });
    assert.equal(ok.status, 0);
    assert.match(ok.stdout, /^audit log intact: 2 entries, head [0-9a-f]{64}$/m);
    const ex = spawnSync(vigil, ['audit', 'export', '--data', data], { encoding: 'utf8' });
    const lines = ex.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; kind: string });
    assert.deepEqual(lines.map((l) => [l.seq, l.kind]), [
      [1, 'alert'],
      [2, 'alert'],
    ]);
    const t = new Store(path.join(data, 'vigil.db'));
    t.db.prepare("UPDATE audit SET kind = 'policy' WHERE seq = 1").run();
    t.close();
    const bad = spawnSync(vigil, ['audit', 'verify', '--data', data], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /audit log TAMPERED: entry 1 was edited/);
  });
});
