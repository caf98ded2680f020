// The audit log: append-only, each entry hash-chained to the one before
// (sha256 over canonical JSON), so that an edited, deleted, inserted or
// reordered entry is found and named.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../common/canonical-json';

export type AuditKind = 'alert' | 'policy' | 'enrol' | 'identity' | 'sbom' | 'findings' | 'vex' | 'advisory' | 'quarantine';

export interface AuditEntry {
  seq: number;
  time_ns: string;
  kind: AuditKind;
  data: unknown;
  prev: string;
  hash: string;
}

export const GENESIS = '0'.repeat(64);

export function entryHash(e: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256')
    .update(canonicalJson({ seq: e.seq, time_ns: e.time_ns, kind: e.kind, data: e.data, prev: e.prev }))
    .digest('hex');
}

export interface Verdict {
  intact: boolean;
  entries: number;
  head: string;
  /** the first problem, naming the entry */
  problem?: string;
}

/**
 * Walk the chain in the order stored. Each entry's number must follow the
 * one before, its `prev` must be the previous entry's hash, and its hash
 * must be what its content gives.
 */
export function verifyChain(entries: Iterable<AuditEntry>): Verdict {
  let prev = GENESIS;
  let expectSeq = 1;
  let n = 0;
  for (const e of entries) {
    n++;
    if (e.seq !== expectSeq) {
      if (e.seq > expectSeq) {
        return {
          intact: false,
          entries: n,
          head: prev,
          problem:
            e.seq === expectSeq + 1
              ? `entry ${expectSeq} is missing (deleted): entry ${e.seq} follows entry ${expectSeq - 1}`
              : `entries ${expectSeq} to ${e.seq - 1} are missing (deleted): entry ${e.seq} follows entry ${expectSeq - 1}`,
        };
      }
      return { intact: false, entries: n, head: prev, problem: `entry ${e.seq} is out of order (after entry ${expectSeq - 1}): reordered or inserted` };
    }
    const recomputed = entryHash(e);
    if (e.prev !== prev) {
      // the content is consistent with itself but not with the chain: inserted, or moved
      return {
        intact: false,
        entries: n,
        head: prev,
        problem:
          recomputed === e.hash
            ? `entry ${e.seq} does not follow entry ${e.seq - 1} (its prev is not that entry's hash): inserted or reordered`
            : `entry ${e.seq} was edited (its prev and its hash are both wrong)`,
      };
    }
    if (recomputed !== e.hash) {
      return { intact: false, entries: n, head: prev, problem: `entry ${e.seq} was edited: its content does not give its hash` };
    }
    prev = e.hash;
    expectSeq++;
  }
  return { intact: true, entries: n, head: prev };
}
