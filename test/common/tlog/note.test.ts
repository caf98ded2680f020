// common/tlog/note.ts and checkpoint.ts: the signed-note vector of the Go
// reference implementation (golang.org/x/mod/sumdb/note: Ed25519 is
// deterministic, so our signature must be byte for byte theirs), refusals of
// changed, forged, unknown-key and malformed notes, and checkpoints.
import * as assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { checkConsistency, checkpointText, openCheckpoint, parseCheckpointText, signCheckpoint } from '../../../common/tlog/checkpoint';
import { consistencyProof, hashLeaf, LeafHashes, rootOf } from '../../../common/tlog/merkle';
import { formatVerifierKey, NoteError, noteSigner, openNote, parseSignerKey, parseVerifierKey, signNote } from '../../../common/tlog/note';

const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

describe('tlog/note: signed notes (c2sp.org/signed-note)', () => {
  it('key ID, verifier key and signature match the Go reference vector byte for byte', () => {
    const signer = parseSignerKey(SKEY);
    assert.equal(signer.id.toString(16), 'c74f20a3');
    assert.equal(formatVerifierKey(signer), VKEY);
    assert.equal(signNote(TEXT, [signer]), `${TEXT}\n${SIG}`);
    const opened = openNote(`${TEXT}\n${SIG}`, [parseVerifierKey(VKEY)]);
    assert.equal(opened.text, TEXT);
    assert.deepEqual(opened.signatures, [{ name: 'PeterNeumann', id: 0xc74f20a3, verified: true }]);
  });

  it('refuses a changed text, a signature by an unknown key, a wrong key with the same name, and malformed notes', () => {
    const v = parseVerifierKey(VKEY);
    const note = `${TEXT}\n${SIG}`;
    assert.throws(() => openNote(note.replace('cryptography', 'cryptographY'), [v]), /does not verify/);
    const other = noteSigner('PeterNeumann', generateKeyPairSync('ed25519').privateKey);
    // same name, another key: its ID differs, so it is unknown and ignored; no known key signed
    assert.throws(() => openNote(signNote(TEXT, [other]), [v]), /no signature by a known key/);
    // a known key's signature that fails rejects the note even when another known key signed
    const forged = `${TEXT}\n— PeterNeumann ${Buffer.concat([Buffer.from('c74f20a3', 'hex'), Buffer.alloc(64)]).toString('base64')}\n`;
    assert.throws(() => openNote(forged, [v]), /does not verify/);
    const malformed: [string, string | Buffer][] = [
      ['no blank line', `${TEXT}${SIG}`],
      ['no signature', `${TEXT}\n`],
      ['no final newline', `${TEXT}\n${SIG.trimEnd()}`],
      ['a control character', `${TEXT.replace('If', 'If\u001b[2J')}\n${SIG}`],
      ['a carriage return', `${TEXT.replace('\n', '\r\n')}\n${SIG}`],
      ['bad base64', `${TEXT}\n— PeterNeumann not*base64\n`],
      ['a bare dash line', `${TEXT}\n- PeterNeumann x08go/ZJk=\n`],
      ['invalid UTF-8', Buffer.concat([Buffer.from(TEXT), Buffer.from([0xff, 0x0a, 0x0a]), Buffer.from(SIG)])],
      ['oversize', `${'x'.repeat(70 * 1024)}\n\n${SIG}`],
    ];
    for (const [what, n] of malformed) assert.throws(() => openNote(n, [v]), NoteError, what);
  });

  it('refuses verifier keys that are mangled, of another type, or whose ID is not the key\'s', () => {
    for (const k of [
      VKEY.slice(1),
      VKEY.slice(0, -1),
      VKEY.replace('c74f20a3', 'c74f20a4'),
      VKEY.replace('+ARpc', '+Appc'),
      'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+c74f20a3',
    ]) {
      assert.throws(() => parseVerifierKey(k), NoteError, k);
    }
    assert.throws(() => noteSigner('a+b', generateKeyPairSync('ed25519').privateKey), NoteError);
    assert.throws(() => signNote('no newline', [parseSignerKey(SKEY)]), NoteError);
    assert.throws(() => signNote('a\n— forged line\n', [parseSignerKey(SKEY)]), NoteError);
  });
});

describe('tlog/checkpoint: checkpoints (c2sp.org/tlog-checkpoint)', () => {
  const key = generateKeyPairSync('ed25519').privateKey;
  const signer = noteSigner('example.org/vigil/audit', key);
  const leaves = Array.from({ length: 20 }, (_, i) => hashLeaf(Buffer.from(`e${i}`)));
  const at = (n: number) => ({ origin: signer.name, size: n, root: rootOf(leaves.slice(0, n)) });

  it('formats origin, size and base64 root, signs with the key named after the origin, and opens again', () => {
    const c = signCheckpoint(at(20), signer);
    assert.equal(c.note, `${signer.name}\n20\n${at(20).root.toString('base64')}\n\n— ${signer.name} ${c.note.split(' ').pop()}`);
    const back = openCheckpoint(c.note, signer);
    assert.deepEqual({ ...back, root: back.root.toString('hex') }, { ...at(20), root: at(20).root.toString('hex'), note: c.note });
    assert.throws(() => signCheckpoint({ ...at(3), origin: 'another/log' }, signer), /must be the same/);
    const other = noteSigner('another/log', key);
    assert.throws(() => openCheckpoint(signCheckpoint({ ...at(3), origin: 'another/log' }, other).note, signer), /no signature by a known key/);
  });

  it('parses strictly: leading zeros, short roots, non-canonical base64, missing lines', () => {
    const root = at(2).root.toString('base64');
    for (const t of [`o\n02\n${root}\n`, `o\n2\n${root.slice(4)}\n`, `o\n2\n`, `\n2\n${root}\n`, `o\n-1\n${root}\n`, `o\n2\n${root}`, `o\n2\n${root}\n\n`, `o\n1e3\n${root}\n`]) {
      assert.throws(() => parseCheckpointText(t), NoteError, JSON.stringify(t));
    }
    assert.equal(parseCheckpointText(checkpointText(at(0))).size, 0);
  });

  it('a witness accepts growth with a valid proof, and names a rollback, a rewrite and a change of name', () => {
    const src = new LeafHashes(leaves);
    assert.deepEqual(checkConsistency(at(7), at(20), consistencyProof(src, 7, 20)), { ok: true });
    assert.deepEqual(checkConsistency(at(0), at(20), []), { ok: true });
    const back = checkConsistency(at(20), at(7), []);
    assert.equal(back.ok ? '' : back.kind, 'rollback');
    const rewritten = leaves.slice(0, 15).map((x, i) => (i === 3 ? hashLeaf(Buffer.from('forged')) : x));
    const re = { origin: signer.name, size: 15, root: rootOf(rewritten) };
    const v = checkConsistency(at(7), re, consistencyProof(new LeafHashes(rewritten), 7, 15));
    assert.equal(v.ok ? '' : v.kind, 'inconsistent');
    const same = checkConsistency(at(7), { ...at(7), root: rootOf(rewritten.slice(0, 7)) }, []);
    assert.equal(same.ok ? '' : same.kind, 'inconsistent');
    const renamed = checkConsistency(at(7), { ...at(20), origin: 'x' }, consistencyProof(src, 7, 20));
    assert.equal(renamed.ok ? '' : renamed.kind, 'origin');
  });
});
