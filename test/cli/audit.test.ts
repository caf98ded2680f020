// vigil audit checkpoint, prove, check-proof and export against a real
// control plane over mTLS (its store written by the control plane's own
// code): the checkpoint printed verifies with log.pub; an inclusion proof
// checks offline and fails when the proof, the alert or the checkpoint is
// changed; the evidence bundle holds the period's alerts, the policy change
// with who pushed it, the agents and their coverage gaps, the anchoring
// checkpoint, and a manifest whose hashes are the files'.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCheckpoint } from '../../common/tlog/checkpoint';
import { auditLogOrigin, loadLogVerifier } from '../../common/tlog/keys';
import { hashLeaf, verifyInclusion } from '../../common/tlog/merkle';
import { startControlPlane, type RunningControlPlane } from '../../controlplane/controlplane';
import { spawnVigil } from '../helpers/cli';
import { testTrustDomain } from '../helpers/trust-domain';

const TD = 'audit-cli.vigil';

describe('vigil audit checkpoint, prove, check-proof, export', function () {
  this.timeout(60000);
  let dir: string;
  let certs: string;
  let data: string;
  let cp: RunningControlPlane;
  const link = (): string[] => ['--controlplane', `127.0.0.1:${cp.port}`, '--certs', certs, '--cert', path.join(certs, 'admin.pem'), '--key', path.join(certs, 'admin.key')];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-cli-'));
    certs = path.join(dir, 'certs');
    data = path.join(dir, 'cp');
    await testTrustDomain(certs, TD, { admin: 'vigil/admin/alice' });
    cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: data, certsDir: certs, insecure: false, log: () => undefined, checkpointMs: 50 });
    const s = cp.store;
    s.agentConnected({ node: 'n1', spiffe_id: `spiffe://${TD}/vigil/agent/n1`, boot_id: 'b1', version: 'test', capabilities: '{}', policy_version: 0 });
    for (let i = 1; i <= 5; i++) {
      // sequence 4 never arrives: a gap in the agent's coverage
      if (i === 4) continue;
      s.insertAlerts([{ node: 'n1', bootId: 'b1', sequence: i, timeNs: String(BigInt(Date.now()) * 1_000_000n), rule: 'r', priority: 'high', action: 'alert', outcome: 'alerted', spiffeId: '', json: `{"rule":"r","i":${i}}` }]);
    }
    s.addPolicy({ version: 1, payload: Buffer.from('{"files":[{"name":"a.yaml","text":"rules: []"}],"version":1}'), signature: Buffer.from('sig'), key_id: 'k', pushed_by: `spiffe://${TD}/vigil/admin/alice` });
    s.agentDisconnected('n1');
  });

  after(async () => {
    if (cp) await cp.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('vigil audit checkpoint prints the signed checkpoint of the current log, which verifies with log.pub', async () => {
    const r = await spawnVigil(['audit', 'checkpoint', ...link()]);
    assert.equal(r.code, 0, r.err);
    const c = openCheckpoint(r.out, loadLogVerifier(path.join(certs, 'log.pub'), auditLogOrigin(TD)));
    assert.equal(c.origin, `${TD}/vigil/audit`);
    assert.equal(c.size, cp.store.log.size);
    assert.equal(c.root.toString('hex'), cp.store.log.root().toString('hex'));
  });

  it('vigil audit prove gives an inclusion proof that checks offline, and a changed proof, alert or checkpoint does not', async () => {
    const id = cp.store.db.prepare('SELECT id FROM alerts WHERE sequence = 3').pluck().get() as number;
    const r = await spawnVigil(['audit', 'prove', '--alert', String(id), ...link()]);
    assert.equal(r.code, 0, r.err);
    const proof = JSON.parse(r.out) as { leaf_index: number; leaf: string; proof: string[]; checkpoint: string; alert: { json: string; sequence: number } };
    assert.equal(proof.alert.sequence, 3);
    // by hand, as an auditor would: RFC 9162 inclusion against the signed root
    const c = openCheckpoint(proof.checkpoint, loadLogVerifier(path.join(certs, 'log.pub'), auditLogOrigin(TD)));
    verifyInclusion(proof.leaf_index, c.size, hashLeaf(Buffer.from(proof.leaf)), proof.proof.map((h) => Buffer.from(h, 'hex')), c.root);
    const file = path.join(dir, 'proof.json');
    fs.writeFileSync(file, r.out);
    const ok = await spawnVigil(['audit', 'check-proof', file, '--log-key', path.join(certs, 'log.pub')]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, new RegExp(`^inclusion proof valid: alert ${id} \\(node n1, boot b1, sequence 3\\) is entry ${proof.leaf_index} of the log ${TD}/vigil/audit at ${c.size} entries`));
    const bad: [string, (p: typeof proof) => void, RegExp][] = [
      ['a flipped proof hash', (p) => (p.proof[0] = (p.proof[0][0] === '0' ? '1' : '0') + p.proof[0].slice(1)), /gives root .*, not/],
      ['another alert', (p) => (p.alert.json = '{"rule":"r","i":30}'), /the entry is not this alert/],
      ['a changed checkpoint', (p) => (p.checkpoint = p.checkpoint.replace(`\n${c.size}\n`, `\n${c.size + 1}\n`)), /does not verify/],
      ['another index', (p) => (p.leaf_index += 1), /gives root|not in a tree|too (long|short)/],
    ];
    for (const [what, change, why] of bad) {
      const p = JSON.parse(r.out) as typeof proof;
      change(p);
      fs.writeFileSync(file, JSON.stringify(p));
      const x = await spawnVigil(['audit', 'check-proof', file, '--log-key', path.join(certs, 'log.pub')]);
      assert.equal(x.code, 1, what);
      assert.match(x.err, /^inclusion proof INVALID: /, what);
      assert.match(x.err, why, what);
    }
    const none = await spawnVigil(['audit', 'prove', '--alert', '999999', ...link()]);
    assert.equal(none.code, 4);
    assert.match(none.err, /refused: no alert with id 999999 \(deleted by retention, or never stored\)/);
  });

  it('vigil audit export writes the period\'s evidence with a manifest of hashes, anchored in a signed checkpoint', async () => {
    cp.checkpoints.publish();
    const out = path.join(dir, 'evidence');
    const r = await spawnVigil(['audit', 'export', '--data', data, '--from', '1h', '--out', out, '--log-key', path.join(certs, 'log.pub')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /: \d+ entries, 4 alerts, 1 policy changes, 1 agents, anchored in the checkpoint of \d+ entries\n$/);
    const policy = JSON.parse(fs.readFileSync(path.join(out, 'policy-changes.jsonl'), 'utf8')) as { version: number; pushed_by: string; files: { name: string }[] };
    assert.deepEqual([policy.version, policy.pushed_by, policy.files.map((f) => f.name)], [1, `spiffe://${TD}/vigil/admin/alice`, ['a.yaml']]);
    const files = fs.readdirSync(out).sort();
    assert.deepEqual(files, ['SHA256SUMS', 'agents.json', 'alerts.jsonl', 'anchor-checkpoint.txt', 'checkpoints.jsonl', 'entries.jsonl', 'manifest.json', 'policy-changes.jsonl', 'verification.txt']);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { files: { name: string; sha256: string }[]; verification: { intact: boolean }; anchor: { size: number; signature: string } };
    assert.equal(manifest.verification.intact, true);
    assert.equal(manifest.anchor.signature, 'verified with the log key');
    for (const f of manifest.files) assert.equal(createHash('sha256').update(fs.readFileSync(path.join(out, f.name))).digest('hex'), f.sha256, f.name);
    assert.equal(manifest.files.length, files.length - 2);
    const alerts = fs.readFileSync(path.join(out, 'alerts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sequence: number; alert: { i: number }; audit_index: number });
    assert.deepEqual(alerts.map((a) => [a.sequence, a.alert.i]), [
      [1, 1],
      [2, 2],
      [3, 3],
      [5, 5],
    ]);
    const agents = JSON.parse(fs.readFileSync(path.join(out, 'agents.json'), 'utf8')) as { agents: { node: string; coverage_gaps: { alert_sequence_gaps: unknown[]; not_connected: unknown[] }; connected_in_period: unknown[] }[] };
    assert.equal(agents.agents[0].node, 'n1');
    assert.deepEqual(agents.agents[0].coverage_gaps.alert_sequence_gaps, [{ boot_id: 'b1', missing_from: 4, missing_to: 4 }]);
    assert.equal(agents.agents[0].connected_in_period.length, 1);
    assert.equal(agents.agents[0].coverage_gaps.not_connected.length, 1);
    // every entry's inclusion proof leads to the anchor's signed root
    const anchor = openCheckpoint(fs.readFileSync(path.join(out, 'anchor-checkpoint.txt'), 'utf8'), loadLogVerifier(path.join(certs, 'log.pub'), auditLogOrigin(TD)));
    for (const l of fs.readFileSync(path.join(out, 'entries.jsonl'), 'utf8').trim().split('\n')) {
      const e = JSON.parse(l) as { index: number; leaf: string; inclusion_proof: string[] };
      verifyInclusion(e.index, anchor.size, hashLeaf(Buffer.from(e.leaf)), e.inclusion_proof.map((h) => Buffer.from(h, 'hex')), anchor.root);
    }
    // a non-empty directory is refused, nothing overwritten
    const again = await spawnVigil(['audit', 'export', '--data', data, '--out', out]);
    assert.equal(again.code, 2);
    assert.match(again.err, /--out .*evidence: not empty/);
  });
});
