// Signed VEX: the OpenVEX document as the predicate of an in-toto statement
// (v1; subject: the image, by its sha256 digest), in a DSSE envelope
// (https://github.com/secure-systems-lab/dsse, protocol.md) signed with the
// control plane's VEX key.
//
// The key is ECDSA P-256 with SHA-256, DER signatures: the key type
// `cosign generate-key-pair` makes, which `cosign verify-blob-attestation
// --key` loads from a PEM public key (sigstore's LoadVerifier also takes RSA
// and Ed25519 keys; for Ed25519 cosign's sign-blob and verify-blob differ
// between versions, pre-hashed ed25519ph or not, so Vigil does not use it).
// DSSE and PAE are a page of code: written here rather than pulling a
// signing framework into the control plane.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../../common/errors';
import { CpError } from '../errors';

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const INTOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the payload bytes */
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

export interface IntotoStatement {
  _type: string;
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: unknown;
}

/** DSSE's pre-authentication encoding: what is signed. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const t = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

/** sha256 of the public key's DER (SubjectPublicKeyInfo), hex: the envelope's keyid. */
export function keyId(pub: KeyObject): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function signEnvelope(payload: Buffer, payloadType: string, key: KeyObject): DsseEnvelope {
  const pub = createPublicKey(key);
  const sig = sign('sha256', pae(payloadType, payload), key);
  return { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: keyId(pub), sig: sig.toString('base64') }] };
}

/**
 * Check an envelope against a public key. Returns the payload, or throws
 * naming what is wrong: the shape, the payload type, no signature by this
 * key, or a signature that does not verify.
 */
export function verifyEnvelope(env: unknown, pub: KeyObject, wantType = INTOTO_PAYLOAD_TYPE): Buffer {
  const e = env as Partial<DsseEnvelope> | null;
  if (!e || typeof e !== 'object' || typeof e.payloadType !== 'string' || typeof e.payload !== 'string' || !Array.isArray(e.signatures)) {
    throw new Error('not a DSSE envelope (payloadType, payload, signatures)');
  }
  if (e.payloadType !== wantType) throw new Error(`payloadType is "${e.payloadType.slice(0, 80)}", expected ${wantType}`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(e.payload)) throw new Error('payload is not base64');
  const payload = Buffer.from(e.payload, 'base64');
  const id = keyId(pub);
  const msg = pae(e.payloadType, payload);
  let tried = 0;
  for (const s of e.signatures) {
    if (!s || typeof s.sig !== 'string') continue;
    // a keyid, when given, must be ours; an empty one is tried too (DSSE makes it optional)
    if (typeof s.keyid === 'string' && s.keyid !== '' && s.keyid !== id) continue;
    tried++;
    if (verify('sha256', msg, pub, Buffer.from(s.sig, 'base64'))) return payload;
  }
  throw new Error(tried ? 'the signature does not verify with this key (the document was changed, or another key signed it)' : `no signature by this key (keyid ${id})`);
}

/** The in-toto statement of a predicate about an image. */
export function intotoStatement(subjectName: string, digest: string, predicateType: string, predicate: unknown): IntotoStatement {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new Error(`in-toto subject: "${digest}" is not a sha256 digest`);
  return { _type: INTOTO_STATEMENT_V1, subject: [{ name: subjectName, digest: { sha256: m[1] } }], predicateType, predicate };
}

/**
 * The control plane's VEX signing key: the file given, else
 * DATA/vex-signing.key, made at first start (ECDSA P-256, PKCS#8 PEM, mode
 * 0600) with its public half beside it (vex-signing.pub, for `vigil vex
 * verify` and cosign).
 */
export function loadOrCreateVexKey(dataDir: string, given?: string): { key: KeyObject; pub: KeyObject; file: string } {
  const file = given ?? path.join(dataDir, 'vex-signing.key');
  let key: KeyObject;
  if (fs.existsSync(file)) {
    try {
      key = createPrivateKey(fs.readFileSync(file));
    } catch (err) {
      throw new CpError('CONFIG', `the VEX signing key ${file}: ${errorMessage(err)}`);
    }
    const d = key.asymmetricKeyDetails;
    if (key.asymmetricKeyType !== 'ec' || d?.namedCurve !== 'prime256v1') {
      throw new CpError('CONFIG', `the VEX signing key ${file} is ${key.asymmetricKeyType}${d?.namedCurve ? ` (${d.namedCurve})` : ''}: it must be ECDSA P-256 (what cosign verify-blob-attestation --key checks with SHA-256)`);
    }
  } else {
    if (given) throw new CpError('CONFIG', `the VEX signing key ${file} does not exist`);
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    key = pair.privateKey;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file + '.tmp', key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.renameSync(file + '.tmp', file);
  }
  const pub = createPublicKey(key);
  const pubFile = file.replace(/\.key$/, '') + '.pub';
  const pem = pub.export({ type: 'spki', format: 'pem' }).toString();
  if (!fs.existsSync(pubFile) || fs.readFileSync(pubFile, 'utf8') !== pem) fs.writeFileSync(pubFile, pem, { mode: 0o644 });
  return { key, pub, file };
}
