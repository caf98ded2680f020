// Signed notes (c2sp.org/signed-note), Ed25519 only (signature type 0x01):
// a text ending in a newline, a blank line, then lines "— NAME base64(keyID
// || signature)". The key ID is SHA-256(name || 0x0A || 0x01 || public key)[:4].
// A verifier key is written "NAME+KEYID(hex)+base64(0x01 || public key)", as
// golang.org/x/mod/sumdb/note writes it, so Go-ecosystem tools read ours.
//
// Hand-written: no npm package implements signed notes; Ed25519 itself is
// node:crypto's.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const ED25519_TYPE = 0x01;
/** the most signatures a note may carry (the spec asks verifiers to accept at least 16) */
export const MAX_SIGNATURES = 100;
/** the largest note read (a checkpoint is a few hundred bytes) */
export const MAX_NOTE_BYTES = 64 * 1024;

export class NoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoteError';
  }
}

/** A key that verifies notes: its name, its 32-bit ID, the Ed25519 public key. */
export interface NoteVerifier {
  name: string;
  id: number;
  key: KeyObject;
}

/** A key that signs notes. */
export interface NoteSigner extends NoteVerifier {
  privateKey: KeyObject;
}

/** Key names are non-empty, with no Unicode spaces and no '+'. */
export function checkKeyName(name: string): string | null {
  if (!name) return 'a key name is not empty';
  if (/[\s+]/u.test(name)) return `key name "${name}" holds a space or a '+'`;
  if (/[\u0000-\u001f\u007f]/.test(name)) return `key name "${name}" holds a control character`;
  return null;
}

/** The 32-byte Ed25519 public key of a key object. */
export function rawEd25519(pub: KeyObject): Buffer {
  if (pub.asymmetricKeyType !== 'ed25519') throw new NoteError(`an Ed25519 key is needed, this is ${pub.asymmetricKeyType ?? pub.type}`);
  const jwk = pub.export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url');
}

export function keyId(name: string, pub: KeyObject): number {
  const h = createHash('sha256').update(name).update(Buffer.from([0x0a, ED25519_TYPE])).update(rawEd25519(pub)).digest();
  return h.readUInt32BE(0);
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, '0');
}

/** A signer from an Ed25519 private key (PEM, or a KeyObject) and a key name. */
export function noteSigner(name: string, privateKey: KeyObject): NoteSigner {
  const bad = checkKeyName(name);
  if (bad) throw new NoteError(bad);
  const key = createPublicKey(privateKey);
  return { name, id: keyId(name, key), key, privateKey };
}

export function noteVerifier(name: string, key: KeyObject): NoteVerifier {
  const bad = checkKeyName(name);
  if (bad) throw new NoteError(bad);
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return { name, id: keyId(name, pub), key: pub };
}

/** "NAME+KEYID+base64(0x01 || key)": what a verifier is configured with. */
export function formatVerifierKey(v: NoteVerifier): string {
  return `${v.name}+${hex8(v.id)}+${Buffer.concat([Buffer.from([ED25519_TYPE]), rawEd25519(v.key)]).toString('base64')}`;
}

function strictBase64(s: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new NoteError(`${what} is not base64`);
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) throw new NoteError(`${what} is not canonical base64`);
  return b;
}

export function parseVerifierKey(s: string): NoteVerifier {
  const parts = s.trim().split('+');
  // the base64 part may itself hold '+': the name and the ID never do
  if (parts.length < 3) throw new NoteError(`verifier key "${s}": expected NAME+KEYID+KEY`);
  const [name, idHex] = parts;
  const b64 = parts.slice(2).join('+');
  const bad = checkKeyName(name);
  if (bad) throw new NoteError(`verifier key: ${bad}`);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new NoteError(`verifier key "${s}": the key ID "${idHex}" is not 8 hex digits`);
  const raw = strictBase64(b64, `verifier key "${s}": the key`);
  if (raw.length !== 33 || raw[0] !== ED25519_TYPE) throw new NoteError(`verifier key "${s}": not an Ed25519 key (type 0x01 and 32 bytes)`);
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') }, format: 'jwk' });
  const v = noteVerifier(name, key);
  if (hex8(v.id) !== idHex) throw new NoteError(`verifier key "${s}": the key ID ${idHex} is not the key's (${hex8(v.id)})`);
  return v;
}

/** An Ed25519 signer from the 'PRIVATE+KEY+NAME+KEYID+base64(0x01 || seed)' form Go tools write. */
export function parseSignerKey(s: string): NoteSigner {
  const m = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(s.trim());
  if (!m) throw new NoteError('signer key: expected PRIVATE+KEY+NAME+KEYID+KEY');
  const raw = strictBase64(m[3], 'signer key');
  if (raw.length !== 33 || raw[0] !== ED25519_TYPE) throw new NoteError('signer key: not an Ed25519 seed (type 0x01 and 32 bytes)');
  // PKCS#8 for an Ed25519 seed: a fixed 16-byte prefix, then the 32 bytes
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), raw.subarray(1)]);
  const signer = noteSigner(m[1], createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  if (hex8(signer.id) !== m[2]) throw new NoteError(`signer key: the key ID ${m[2]} is not the key's (${hex8(signer.id)})`);
  return signer;
}

function checkText(text: string, what: string): void {
  if (!text.endsWith('\n')) throw new NoteError(`${what} does not end with a newline`);
  // control characters other than newline are refused (they hide what a person reads)
  const c = /[\u0000-\u0009\u000b-\u001f\u007f]/.exec(text);
  if (c) throw new NoteError(`${what} holds the control character 0x${c[0].charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Sign a text: the note, text + blank line + one signature line per signer. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text, 'the note text');
  if (text.split('\n').slice(0, -1).some((l) => l.startsWith('— '))) throw new NoteError('the note text holds a line that looks like a signature');
  const lines = signers.map((s) => {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.id);
    const sig = sign(null, Buffer.from(text, 'utf8'), s.privateKey);
    return `— ${s.name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

export interface NoteSignature {
  name: string;
  id: number;
  /** signed by one of the verifiers given */
  verified: boolean;
}

export interface OpenedNote {
  text: string;
  signatures: NoteSignature[];
}

/**
 * Check a signed note against known keys: at least one known key must have
 * signed it, every signature by a known key must verify, unknown keys are
 * ignored (c2sp.org/signed-note). Throws NoteError saying why.
 */
export function openNote(note: string | Buffer, verifiers: readonly NoteVerifier[]): OpenedNote {
  const bytes = typeof note === 'string' ? Buffer.from(note, 'utf8') : note;
  if (bytes.length > MAX_NOTE_BYTES) throw new NoteError(`the note is ${bytes.length} bytes, more than ${MAX_NOTE_BYTES}`);
  const s = bytes.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(bytes)) throw new NoteError('the note is not valid UTF-8');
  checkText(s, 'the note');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('the note has no blank line before its signatures');
  const text = s.slice(0, split + 1);
  const sigLines = s.slice(split + 2).split('\n').slice(0, -1);
  if (sigLines.length === 0) throw new NoteError('the note has no signature');
  if (sigLines.length > MAX_SIGNATURES) throw new NoteError(`the note has ${sigLines.length} signatures, more than ${MAX_SIGNATURES}`);
  const out: NoteSignature[] = [];
  for (const [i, line] of sigLines.entries()) {
    const m = /^— (\S+) (\S+)$/u.exec(line);
    if (!m) throw new NoteError(`signature line ${i + 1} is not "— NAME SIGNATURE"`);
    const [, name, b64] = m;
    if (checkKeyName(name)) throw new NoteError(`signature line ${i + 1}: ${checkKeyName(name)}`);
    const raw = strictBase64(b64, `signature line ${i + 1}`);
    if (raw.length < 5) throw new NoteError(`signature line ${i + 1} is too short for a key ID and a signature`);
    const id = raw.readUInt32BE(0);
    const known = verifiers.find((v) => v.name === name && v.id === id);
    if (!known) {
      out.push({ name, id, verified: false });
      continue;
    }
    if (raw.length !== 4 + 64 || !verify(null, Buffer.from(text, 'utf8'), known.key, raw.subarray(4))) {
      throw new NoteError(`the signature by ${name} (key ${hex8(id)}) does not verify: the note was changed or not signed by that key`);
    }
    out.push({ name, id, verified: true });
  }
  if (!out.some((x) => x.verified)) {
    throw new NoteError(`no signature by a known key (signed by ${out.map((x) => `${x.name}+${hex8(x.id)}`).join(', ')}; known: ${verifiers.map((v) => `${v.name}+${hex8(v.id)}`).join(', ') || 'none'})`);
  }
  return { text, signatures: out };
}
