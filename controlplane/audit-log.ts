// The audit log is a transparency log: every entry (a stored alert, a policy
// push and who pushed it, an agent's connection, an identity report, an
// admin action) is a leaf of an RFC 6962 Merkle tree (common/tlog/merkle.ts),
// written in the same SQLite transaction as what it records. The control
// plane signs checkpoints of the tree (checkpoints.ts); agents keep the
// latest and check that each new one extends it; `vigil audit verify`
// recomputes the tree from the rows (audit-verify.ts).
//
// A leaf's data is the canonical JSON {"data":...,"index":N,"kind":K,"time_ns":T}:
// self-describing and bound to its position. The table keeps the text as
// hashed, its leaf hash (so that the control plane starts without rehashing),
// and kind/time for queries. In memory: the tree's right edge (appends) and
// the hashes of perfect subtrees of CACHE_LEVEL and above; proofs read the
// few leaf hashes below that from the table.
import type Database from 'better-sqlite3';
import { canonicalJson } from '../common/canonical-json';
import { consistencyProof, hashLeaf, inclusionProof, LeafHashes, subtreeHash, TreeFrontier, type PerfectNodes } from '../common/tlog/merkle';

export type AuditKind =
  | 'alert' // an alert stored
  | 'policy' // a signed policy version, with who pushed it
  | 'connect' // an agent connected (node, SPIFFE ID, boot, version)
  | 'disconnect' // its stream ended
  | 'identity' // a node's workload addresses, as stored
  | 'retention' // alerts older than a time deleted (an admin setting)
  | 'start' // the control plane started (every agent counts as disconnected)
  | 'sbom' // an SBOM imported (docs/vex.md)
  | 'findings' // a scanner's findings imported
  | 'vex' // a VEX document version issued
  | 'advisory' // an advisory imported or changed (docs/vdp.md)
  | 'quarantine'; // a workload quarantined or released

export const AUDIT_KINDS: readonly AuditKind[] = ['alert', 'policy', 'connect', 'disconnect', 'identity', 'retention', 'start', 'sbom', 'findings', 'vex', 'advisory', 'quarantine'];

export const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  idx INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  kind TEXT NOT NULL,
  leaf TEXT NOT NULL,
  hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
  id INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  time_ns INTEGER NOT NULL,
  note TEXT NOT NULL
);
`;

/** Perfect subtrees this high and higher are kept in memory (one hash per 2^CACHE_LEVEL leaves). */
export const CACHE_LEVEL = 8;

export interface AuditEntry {
  index: number;
  time_ns: string;
  kind: AuditKind;
  data: unknown;
  /** the leaf's data, as hashed */
  leaf: string;
  hash: Buffer;
}

export function leafText(index: number, timeNs: string, kind: AuditKind, data: unknown): string {
  return canonicalJson({ index, time_ns: timeNs, kind, data });
}

interface Mark {
  frontier: TreeFrontier;
  cacheLengths: number[];
}

export class AuditLog implements PerfectNodes {
  private frontier = new TreeFrontier();
  /** cache[level - CACHE_LEVEL][index]: perfect subtree hashes */
  private cache: Buffer[][] = [];
  private readonly ins: Database.Statement;
  private readonly hashesFrom: Database.Statement;
  private readonly one: Database.Statement;
  /** what was wrong with the stored log when it was loaded (gaps in the numbering), or null */
  readonly damage: string | null;

  constructor(private readonly db: Database.Database) {
    db.exec(AUDIT_SCHEMA);
    migrateHashChain(db);
    this.ins = db.prepare('INSERT INTO audit_log (idx, time_ns, kind, leaf, hash) VALUES (?, ?, ?, ?, ?)');
    this.hashesFrom = db.prepare('SELECT hash FROM audit_log WHERE idx >= ? AND idx < ? ORDER BY idx').pluck();
    this.one = db.prepare('SELECT idx, time_ns, kind, leaf, hash FROM audit_log WHERE idx = ?').safeIntegers(true);
    let expect = 0;
    let damage: string | null = null;
    for (const r of db.prepare('SELECT idx, hash FROM audit_log ORDER BY idx').iterate() as Iterable<{ idx: number; hash: Buffer }>) {
      if (r.idx !== expect) {
        // a log with a hole cannot be extended honestly: keep the leaves in order, say so
        damage ??= `entry ${expect} is missing (the next stored entry is ${r.idx})`;
      }
      this.push(r.hash);
      expect = r.idx + 1;
    }
    this.damage = damage;
  }

  get size(): number {
    return this.frontier.size;
  }

  root(): Buffer {
    return this.frontier.root();
  }

  private push(h: Buffer): void {
    for (const n of this.frontier.append(h)) {
      if (n.level < CACHE_LEVEL) continue;
      const row = (this.cache[n.level - CACHE_LEVEL] ??= []);
      row[n.index] = n.hash;
    }
  }

  /** Append an entry (inside the caller's transaction); returns its leaf index. */
  append(kind: AuditKind, data: unknown, timeNs: string): number {
    const index = this.frontier.size;
    const leaf = leafText(index, timeNs, kind, data);
    const hash = hashLeaf(Buffer.from(leaf, 'utf8'));
    this.ins.run(index, timeNs, kind, leaf, hash);
    this.push(hash);
    return index;
  }

  /** Before a transaction: what to go back to if it rolls back. */
  mark(): Mark {
    return { frontier: this.frontier.clone(), cacheLengths: this.cache.map((r) => r.length) };
  }

  reset(m: Mark): void {
    this.frontier = m.frontier;
    this.cache = this.cache.slice(0, m.cacheLengths.length).map((r, i) => r.slice(0, m.cacheLengths[i]));
  }

  perfect(level: number, index: number): Buffer {
    const width = 2 ** level;
    if ((index + 1) * width > this.size) throw new RangeError(`audit log: no complete subtree at level ${level} index ${index} in ${this.size} entries`);
    if (level >= CACHE_LEVEL) {
      const h = this.cache[level - CACHE_LEVEL]?.[index];
      if (!h) throw new Error(`audit log: the subtree at level ${level} index ${index} is not cached`);
      return h;
    }
    const leaves = this.hashesFrom.all(index * width, (index + 1) * width) as Buffer[];
    if (leaves.length !== width) throw new Error(`audit log: entries ${index * width} to ${(index + 1) * width - 1} are not all stored`);
    return new LeafHashes(leaves).perfect(level, 0);
  }

  /** The root of the first `size` entries. */
  rootAt(size: number): Buffer {
    if (size > this.size) throw new RangeError(`audit log: ${size} entries asked, ${this.size} stored`);
    return subtreeHash(this, 0, size);
  }

  inclusionProof(index: number, size = this.size): Buffer[] {
    return inclusionProof(this, index, size);
  }

  consistencyProof(size1: number, size2 = this.size): Buffer[] {
    return consistencyProof(this, size1, size2);
  }

  /**
   * The entry of a stored alert. Its entry was written at the alert's
   * received time: binary search by time (entries are appended in time
   * order), then the entries of that instant; a full scan if the clock ever
   * went back.
   */
  findAlert(node: string, bootId: string, sequence: number, receivedNs: string): AuditEntry | null {
    const timeAt = this.db.prepare('SELECT time_ns FROM audit_log WHERE idx = ?').pluck().safeIntegers(true);
    const want = BigInt(receivedNs);
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const t = timeAt.get(mid) as bigint | undefined;
      if (t !== undefined && t < want) lo = mid + 1;
      else hi = mid;
    }
    const matches = (e: AuditEntry): boolean => {
      const d = e.data as { node?: unknown; boot_id?: unknown; sequence?: unknown } | null;
      return e.kind === 'alert' && d !== null && d.node === node && d.boot_id === bootId && d.sequence === sequence;
    };
    const from = this.db.prepare('SELECT idx, time_ns, kind, leaf, hash FROM audit_log WHERE idx >= ? ORDER BY idx').safeIntegers(true);
    for (const r of from.iterate(lo) as Iterable<{ idx: bigint; time_ns: bigint; kind: AuditKind; leaf: string; hash: Buffer }>) {
      if (r.time_ns !== want) break;
      const e = rowToEntry(r);
      if (matches(e)) return e;
    }
    const all = this.db.prepare("SELECT idx, time_ns, kind, leaf, hash FROM audit_log WHERE kind = 'alert' ORDER BY idx").safeIntegers(true);
    for (const r of all.iterate() as Iterable<{ idx: bigint; time_ns: bigint; kind: AuditKind; leaf: string; hash: Buffer }>) {
      const e = rowToEntry(r);
      if (matches(e)) return e;
    }
    return null;
  }

  entry(index: number): AuditEntry | null {
    const r = this.one.get(index) as { idx: bigint; time_ns: bigint; kind: AuditKind; leaf: string; hash: Buffer } | undefined;
    return r ? rowToEntry(r) : null;
  }
}

export function rowToEntry(r: { idx: bigint | number; time_ns: bigint | number; kind: AuditKind; leaf: string; hash: Buffer }): AuditEntry {
  let data: unknown = null;
  try {
    data = (JSON.parse(r.leaf) as { data?: unknown }).data ?? null;
  } catch {
    // verify names it; here the text is what it is
  }
  return { index: Number(r.idx), time_ns: String(r.time_ns), kind: r.kind, data, leaf: r.leaf, hash: r.hash };
}

/**
 * Stores made before the transparency log kept a hash chain in `audit`
 * (seq, time_ns, kind, data, prev, hash): its entries become the first
 * leaves, in their order, and the chain table goes.
 */
function migrateHashChain(db: Database.Database): void {
  const cols = db.prepare("SELECT name FROM pragma_table_info('audit')").pluck().all() as string[];
  if (!cols.includes('prev')) return;
  const has = db.prepare('SELECT COUNT(*) FROM audit_log').pluck().get() as number;
  db.transaction(() => {
    if (has === 0) {
      const ins = db.prepare('INSERT INTO audit_log (idx, time_ns, kind, leaf, hash) VALUES (?, ?, ?, ?, ?)');
      let i = 0;
      const rows = db.prepare('SELECT time_ns, kind, data FROM audit ORDER BY seq').safeIntegers(true).all() as { time_ns: bigint; kind: string; data: string }[];
      for (const r of rows) {
        let data: unknown;
        try {
          data = JSON.parse(r.data);
        } catch {
          data = r.data;
        }
        const kind = (r.kind === 'enrol' ? 'connect' : r.kind) as AuditKind;
        const leaf = leafText(i, String(r.time_ns), kind, data);
        ins.run(i, r.time_ns, kind, leaf, hashLeaf(Buffer.from(leaf, 'utf8')));
        i++;
      }
    }
    db.exec('DROP TABLE audit');
  })();
}
