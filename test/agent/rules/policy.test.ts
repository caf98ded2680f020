// agent/rules/policy.ts: signed policy bundles, signed by the control plane, verified and kept by agents.
import * as assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initTrustDomain, issueSvid } from '../../../common/spiffe/local-ca';
import { acceptPolicy, loadPrivateKey, loadPublicKey, PolicyState, signPolicy, verifyPolicy, type SignedPolicy, type VerifiedPolicy } from '../../../agent/rules/policy';
import { startControlPlane } from '../../../controlplane/controlplane';
import { pushPolicy } from '../../../cli/admin';

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
