// Where the mTLS files come from: a `vigil certs` directory, or single files
// laid out as SPIRE's spiffe-helper (or a Kubernetes Secret) writes them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveTls } from '../../../common/spiffe/tls-files';
import { startControlPlane } from '../../../controlplane/controlplane';
import { listAgents } from '../../../cli/admin';
import { testTrustDomain } from '../../helpers/trust-domain';

const TD = 'spire.example.org';

describe('TLS files: a certs directory or single files', function () {
  this.timeout(20000);
  let dir: string;
  let spire: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tlscfg-'));
    await testTrustDomain(dir, TD, { admin: 'vigil/admin/ops', agent: 'ns/vigil/sa/vigil-agent' });
    // what spiffe-helper writes for a workload: svid.pem, svid_key.pem, svid_bundle.pem; no trust-domain file
    spire = path.join(dir, 'spire');
    fs.mkdirSync(spire);
    for (const who of ['controlplane', 'admin']) {
      fs.mkdirSync(path.join(spire, who));
      fs.copyFileSync(path.join(dir, `${who}.pem`), path.join(spire, who, 'svid.pem'));
      fs.copyFileSync(path.join(dir, `${who}.key`), path.join(spire, who, 'svid_key.pem'));
      fs.copyFileSync(path.join(dir, 'bundle.pem'), path.join(spire, who, 'svid_bundle.pem'));
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a certs directory: the role\'s SVID, the bundle, the trust-domain file, the policy and log keys of the role', () => {
    const a = resolveTls('vigil agent', 'agent', { certsDir: dir });
    assert.deepEqual(a, {
      trustDomain: TD,
      bundle: path.join(dir, 'bundle.pem'),
      cert: path.join(dir, 'agent.pem'),
      key: path.join(dir, 'agent.key'),
      policyKey: path.join(dir, 'policy.pub'),
      logKey: path.join(dir, 'log.pub'),
    });
    assert.equal(resolveTls('cp', 'controlplane', { certsDir: dir }).policyKey, path.join(dir, 'policy.key'));
    assert.equal(resolveTls('cp', 'controlplane', { certsDir: dir }).logKey, path.join(dir, 'log.key'));
    assert.equal(resolveTls('admin', 'admin', { certsDir: dir }).policyKey, null);
    assert.equal(resolveTls('admin', 'admin', { certsDir: dir }).logKey, path.join(dir, 'log.pub'));
    assert.throws(() => resolveTls('vigil agent', 'agent', { certsDir: dir, logKey: '/nonexistent.pub' }), /--log-key \/nonexistent\.pub: no such file/);
  });

  it('a certs directory from before log keys: the policy key stands in for the log key', () => {
    const old = fs.mkdtempSync(path.join(dir, 'old-'));
    for (const f of ['bundle.pem', 'agent.pem', 'agent.key', 'controlplane.pem', 'controlplane.key', 'policy.key', 'policy.pub', 'trust-domain']) fs.copyFileSync(path.join(dir, f), path.join(old, f));
    assert.equal(resolveTls('vigil agent', 'agent', { certsDir: old }).logKey, path.join(old, 'policy.pub'));
    assert.equal(resolveTls('cp', 'controlplane', { certsDir: old }).logKey, path.join(old, 'policy.key'));
  });

  it('single files win over the directory; the trust domain comes from our own SVID when nothing names it', () => {
    const s = path.join(spire, 'admin');
    const r = resolveTls('vigil alerts', 'admin', { bundle: path.join(s, 'svid_bundle.pem'), cert: path.join(s, 'svid.pem'), key: path.join(s, 'svid_key.pem') });
    assert.equal(r.trustDomain, TD);
    assert.equal(r.cert, path.join(s, 'svid.pem'));
    const mixed = resolveTls('vigil agent', 'agent', { certsDir: dir, cert: path.join(s, 'svid.pem'), trustDomain: 'other.example' });
    assert.equal(mixed.cert, path.join(s, 'svid.pem'));
    assert.equal(mixed.key, path.join(dir, 'agent.key'));
    assert.equal(mixed.trustDomain, 'other.example', '--trust-domain wins over the directory');
  });

  it('names the flag that is missing or wrong', () => {
    assert.throws(() => resolveTls('vigil agent: --controlplane', 'agent', {}), /vigil agent: --controlplane: --bundle FILE or --certs DIR is required \(or --insecure\)/);
    assert.throws(() => resolveTls('vigil agent', 'agent', { bundle: 'b', cert: 'c' }), /--key FILE or --certs DIR is required/);
    assert.throws(() => resolveTls('vigil agent', 'agent', { bundle: 'b', cert: '/nonexistent.pem', key: 'k' }), /no --trust-domain, and the SVID \/nonexistent\.pem to read it from cannot be read/);
    assert.throws(() => resolveTls('vigil agent', 'agent', { certsDir: dir, trustDomain: 'Not A Domain' }), /trust domain "Not A Domain" \(from --trust-domain\)/);
    assert.throws(() => resolveTls('vigil agent', 'agent', { certsDir: dir, policyKey: '/nonexistent.pub' }), /--policy-key \/nonexistent\.pub: no such file/);
    fs.writeFileSync(path.join(dir, 'garbage.pem'), 'not a certificate');
    assert.throws(() => resolveTls('x', 'agent', { bundle: 'b', key: 'k', cert: path.join(dir, 'garbage.pem') }), /garbage\.pem: not a PEM certificate/);
  });

  it('control plane and admin run over mTLS from SPIRE-style single files alone', async () => {
    const cpFiles = path.join(spire, 'controlplane');
    const adm = path.join(spire, 'admin');
    const cp = await startControlPlane({
      listen: '127.0.0.1:0',
      dataDir: fs.mkdtempSync(path.join(dir, 'data-')),
      insecure: false,
      bundle: path.join(cpFiles, 'svid_bundle.pem'),
      cert: path.join(cpFiles, 'svid.pem'),
      key: path.join(cpFiles, 'svid_key.pem'),
      policyKey: path.join(dir, 'policy.key'),
      agentIds: [`spiffe://${TD}/ns/vigil/sa/vigil-agent`],
      log: () => undefined,
    });
    try {
      assert.equal(cp.trustDomain, TD);
      const text = await listAgents({
        address: `127.0.0.1:${cp.port}`,
        insecure: false,
        bundle: path.join(adm, 'svid_bundle.pem'),
        cert: path.join(adm, 'svid.pem'),
        key: path.join(adm, 'svid_key.pem'),
      });
      assert.equal(text, '', 'the query was authorized and answered (no agents yet)');
    } finally {
      await cp.close();
    }
  });
});
