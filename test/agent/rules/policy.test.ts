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

  it('policy only moves forward: an agent on v2 refuses a validly signed v1, also after a restart and with policy.json torn or gone', () => {
    const { priv, pub } = keys();
    const stateDir = path.join(dir, 'forward');
    let inForce = 0;
    const said: string[] = [];
    const agent = (): Parameters<typeof acceptPolicy>[1] => ({
      policyKey: pub,
      policyState: new PolicyState(stateDir, (l) => said.push(l)),
      applyPolicy: (p: VerifiedPolicy) => {
        inForce = p.version;
        return null;
      },
      currentPolicyVersion: () => inForce,
    });
    const v1 = signPolicy(1, [{ name: 'a.yaml', text: RULES_V1 }], priv);
    const v2 = signPolicy(2, [{ name: 'a.yaml', text: RULES_V2 }], priv);
    const o = agent();
    assert.equal(acceptPolicy(v1, o).ok, true);
    assert.equal(acceptPolicy(v2, o).ok, true);
    const back = acceptPolicy(v1, o);
    assert.equal(back.ok, false);
    assert.match(back.error ?? '', /policy v1 is older than v2, the highest applied on this node: refused/);
    assert.match(acceptPolicy(v2, o).error ?? '', /policy v2 is not newer than v2 in force/);
    assert.equal(inForce, 2);
    // a restart: in force again from disk, the floor too
    inForce = 0;
    const after = agent();
    assert.equal(after.policyState?.load()?.version, 2);
    assert.match(acceptPolicy(v1, after).error ?? '', /older than v2/);
    // policy.json torn: named, set aside, and the floor still holds
    fs.writeFileSync(path.join(stateDir, 'policy.json'), '{"version": 2, "payl');
    const torn = agent();
    assert.equal(torn.policyState?.load(), null);
    assert.match(said.join('\n'), /policy\.json is corrupt \(.*\); set aside as .*policy\.json\.corrupt-.*the control plane sends the latest policy/);
    assert.match(acceptPolicy(v1, torn).error ?? '', /older than v2/);
    // the latest again (what the control plane sends at connection) is taken: in force nothing, v2 is not below the floor
    assert.equal(acceptPolicy(v2, torn).ok, true);
    assert.equal(inForce, 2);
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
