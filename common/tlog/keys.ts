// The audit log's keys on disk: the control plane's Ed25519 private key
// (PEM, as `vigil certs init` writes log.key), and what agents and auditors
// verify with: the public key (PEM, log.pub) or a verifier key line
// ("NAME+KEYID+KEY", c2sp.org/signed-note). The key name is the log's origin.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import * as fs from 'node:fs';
import { errorMessage, VigilError } from '../errors';
import { noteSigner, noteVerifier, parseVerifierKey, type NoteSigner, type NoteVerifier } from './note';

/** The audit log's name (checkpoint origin and key name) in a trust domain. */
export function auditLogOrigin(trustDomain: string): string {
  return `${trustDomain || 'insecure.vigil.invalid'}/vigil/audit`;
}

export function loadLogSigner(file: string, origin: string): NoteSigner {
  try {
    return noteSigner(origin, createPrivateKey(fs.readFileSync(file)));
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `audit log key ${file}: ${errorMessage(err)}`);
  }
}

/** A PEM public (or private) key named `origin`, or a verifier key line (which carries its own name). */
export function loadLogVerifier(file: string, origin: string): NoteVerifier {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `audit log key ${file}: ${errorMessage(err)}`);
  }
  try {
    if (!text.includes('-----BEGIN')) return parseVerifierKey(text.trim());
    return noteVerifier(origin, createPublicKey(text));
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `audit log key ${file}: ${errorMessage(err)}`);
  }
}
