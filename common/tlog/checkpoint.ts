// Checkpoints (c2sp.org/tlog-checkpoint): the signed head of a transparency
// log. The note text is the origin (the log's name), the tree size in
// decimal and the base64 root hash, one per line; the signature's key name
// is the origin. Agents keep the latest they accepted and check that each
// new one is consistent with it (they are the log's witnesses); an auditor
// checks a log against one (vigil audit verify --checkpoint).
import { errorMessage } from '../errors';
import { HASH_SIZE, ProofError, verifyConsistency } from './merkle';
import { NoteError, openNote, signNote, type NoteSigner, type NoteVerifier } from './note';

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

/** A checkpoint with the signed note it came in. */
export interface SignedCheckpoint extends Checkpoint {
  note: string;
}

export function checkpointText(c: Checkpoint): string {
  if (c.root.length !== HASH_SIZE) throw new NoteError(`a checkpoint root is ${HASH_SIZE} bytes, not ${c.root.length}`);
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new NoteError(`a tree size is a whole number, not ${c.size}`);
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

/** Parse a checkpoint's note text (strictly: no leading zeros, canonical base64, a 32-byte root). */
export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new NoteError('a checkpoint is at least three lines, each ending in a newline');
  const [origin, sizeText, rootText] = lines;
  if (!origin) throw new NoteError('the checkpoint has no origin');
  if (lines.slice(3, -1).some((l) => l === '')) throw new NoteError('a checkpoint extension line is not empty');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new NoteError(`the checkpoint size "${sizeText}" is not a decimal number without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new NoteError(`the checkpoint size ${sizeText} is too large`);
  const root = Buffer.from(rootText, 'base64');
  if (root.toString('base64') !== rootText || root.length !== HASH_SIZE) throw new NoteError(`the checkpoint root "${rootText}" is not the base64 of ${HASH_SIZE} bytes`);
  return { origin, size, root };
}

export function signCheckpoint(c: Checkpoint, signer: NoteSigner): SignedCheckpoint {
  if (signer.name !== c.origin) throw new NoteError(`the log key is named ${signer.name}, the checkpoint's origin is ${c.origin}: they must be the same`);
  return { ...c, note: signNote(checkpointText(c), [signer]) };
}

/** Verify a signed checkpoint with the log's key: its origin must be the key's name. Throws NoteError. */
export function openCheckpoint(note: string | Buffer, log: NoteVerifier): SignedCheckpoint {
  const opened = openNote(note, [log]);
  const c = parseCheckpointText(opened.text);
  if (c.origin !== log.name) throw new NoteError(`the checkpoint's origin is "${c.origin}", the log key is "${log.name}"`);
  return { ...c, note: typeof note === 'string' ? note : note.toString('utf8') };
}

/** Read a checkpoint without checking its signature (what it says, for a message or a comparison). */
export function readCheckpointUnsigned(note: string): Checkpoint {
  const split = note.lastIndexOf('\n\n');
  return parseCheckpointText(split < 0 ? note : note.slice(0, split + 1));
}

export type ConsistencyVerdict =
  | { ok: true }
  | { ok: false; kind: 'rollback' | 'inconsistent' | 'origin'; reason: string };

/**
 * Is `next` an extension of `prev` (what a witness checks)? A smaller tree is
 * a rollback; the same size with another root, or a proof that does not
 * lead from one root to the other, is an inconsistent (rewritten) log.
 */
export function checkConsistency(prev: Checkpoint, next: Checkpoint, proof: readonly Uint8Array[]): ConsistencyVerdict {
  if (prev.origin !== next.origin) return { ok: false, kind: 'origin', reason: `the log changed its name from ${prev.origin} to ${next.origin}` };
  if (next.size < prev.size) {
    return { ok: false, kind: 'rollback', reason: `the log went back from ${prev.size} entries to ${next.size}: entries were removed (rollback)` };
  }
  try {
    verifyConsistency(prev.size, next.size, proof, prev.root, next.root);
    return { ok: true };
  } catch (err) {
    if (!(err instanceof ProofError)) throw err;
    return {
      ok: false,
      kind: 'inconsistent',
      reason: `the log of ${next.size} entries is not an extension of the one of ${prev.size} entries seen before (${errorMessage(err)}): it was rewritten`,
    };
  }
}
