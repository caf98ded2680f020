// agent/export/audit-witness.ts: the agent as the audit log's witness. The
// first checkpoint is kept (fsync + rename) and survives a restart; growth
// with a valid proof is accepted; a rollback, a rewrite (same size, other
// root; or a proof that does not lead from the old root), a forged
// signature and a proof from the wrong size are refused, the first three
// with one vigil:audit-log-inconsistent alert each carrying both signed
// checkpoints; a corrupt checkpoint file is named and set aside.
import * as assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUDIT_LOG_INCONSISTENT, AuditWitness } from '../../../agent/export/audit-witness';
import { signCheckpoint } from '../../../common/tlog/checkpoint';
import { consistencyProof, hashLeaf, LeafHashes, rootOf } from '../../../common/tlog/merkle';
import { noteSigner } from '../../../common/tlog/note';

describe('agent/export/audit-witness: checkpoints witnessed', () => {
  const signer = noteSigner('w.test/vigil/audit', generateKeyPairSync('ed25519').privateKey);
  const leaves = Array.from({ length: 30 }, (_, i) => hashLeaf(Buffer.from(`entry ${i}`)));
  const note = (ls: Buffer[], n: number): string => signCheckpoint({ origin: signer.name, size: n, root: rootOf(ls.slice(0, n)) }, signer).note;
  const proof = (ls: Buffer[], m: number, n: number): Buffer[] => consistencyProof(new LeafHashes(ls.slice(0, n)), m, n);
  let dir: string;
  const warnings: string[] = [];
  const witness = (): AuditWitness => new AuditWitness(dir, signer, 'node-a', (l) => warnings.push(l));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-witness-'));
    warnings.length = 0;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps the first checkpoint, accepts growth with a valid proof, and holds it across a restart', () => {
    const w = witness();
    assert.equal(w.size(), 0);
    const first = w.offer({ note: note(leaves, 10), fromSize: 0, consistency: [] });
    assert.deepEqual([first.accepted, first.alert], [true, null]);
    assert.match(first.log ?? '', /first checkpoint, trusted as it comes/);
    const grown = w.offer({ note: note(leaves, 25), fromSize: 10, consistency: proof(leaves, 10, 25) });
    assert.deepEqual([grown.accepted, grown.alert, w.size()], [true, null, 25]);
    assert.equal(fs.readFileSync(path.join(dir, 'audit-checkpoint'), 'utf8'), note(leaves, 25));
    assert.deepEqual(fs.readdirSync(dir), ['audit-checkpoint']);
    assert.equal(witness().size(), 25);
  });

  it('a rollback, a rewrite and a same-size fork each raise one alert with both checkpoints, and the old one is kept', () => {
    const w = witness();
    w.offer({ note: note(leaves, 20), fromSize: 0, consistency: [] });
    const back = w.offer({ note: note(leaves, 12), fromSize: 20, consistency: [] });
    assert.equal(back.accepted, false);
    assert.equal(back.alert?.rule, AUDIT_LOG_INCONSISTENT);
    assert.equal(back.alert?.priority, 'critical');
    assert.equal(back.alert?.event.problem, 'rollback');
    assert.equal(back.alert?.event.held_checkpoint, note(leaves, 20));
    assert.equal(back.alert?.event.offered_checkpoint, note(leaves, 12));
    assert.match(back.alert?.output ?? '', /went back from 20 entries to 12: entries were removed \(rollback\)/);
    // the same again: no second alert
    assert.equal(w.offer({ note: note(leaves, 12), fromSize: 20, consistency: [] }).alert, null);
    const rewritten = leaves.map((x, i) => (i === 5 ? hashLeaf(Buffer.from('forged')) : x));
    const re = w.offer({ note: note(rewritten, 28), fromSize: 20, consistency: proof(rewritten, 20, 28) });
    assert.equal(re.alert?.event.problem, 'inconsistent');
    assert.match(re.alert?.output ?? '', /not an extension of the one of 20 entries seen before .*: it was rewritten/);
    const fork = w.offer({ note: note(rewritten, 20), fromSize: 20, consistency: [] });
    assert.equal(fork.alert?.event.problem, 'inconsistent');
    assert.equal(w.size(), 20);
    assert.equal(fs.readFileSync(path.join(dir, 'audit-checkpoint'), 'utf8'), note(leaves, 20));
  });

  it('a checkpoint not signed by the pinned key is refused with an alert; a proof from another size is not checked', () => {
    const w = witness();
    w.offer({ note: note(leaves, 8), fromSize: 0, consistency: [] });
    const other = noteSigner(signer.name, generateKeyPairSync('ed25519').privateKey);
    const forged = w.offer({ note: signCheckpoint({ origin: signer.name, size: 9, root: rootOf(leaves.slice(0, 9)) }, other).note, fromSize: 8, consistency: proof(leaves, 8, 9) });
    assert.equal(forged.alert?.event.problem, 'signature');
    const wrongFrom = w.offer({ note: note(leaves, 15), fromSize: 9, consistency: proof(leaves, 9, 15) });
    assert.deepEqual([wrongFrom.accepted, wrongFrom.alert], [false, null]);
    assert.match(wrongFrom.log ?? '', /proves from 9, this agent holds 8/);
    assert.equal(w.size(), 8);
  });

  it('a corrupt checkpoint file is named and set aside, not silently used or dropped', () => {
    fs.writeFileSync(path.join(dir, 'audit-checkpoint'), note(leaves, 8).replace('\n8\n', '\n9\n'));
    const w = witness();
    assert.equal(w.size(), 0);
    assert.match(warnings[0], /audit-checkpoint does not verify .*: set aside as .*audit-checkpoint\.bad-\d+; the next one is trusted as the first/);
    assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('audit-checkpoint.bad-')).length, 1);
  });
});
