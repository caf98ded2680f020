// The control plane's store: SQLite (better-sqlite3), WAL, fsync on every
// commit. Alerts (each (node, boot id, sequence) once), agents, policy
// versions, workload addresses, and the hash-chained audit log, written in
// the same transactions as what they record.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../common/errors';
import { nowNs } from '../common/time';
import type { SpooledAlert } from '../common/alert-envelope';
import { CpError } from './errors';
import { entryHash, GENESIS, verifyChain, type AuditEntry, type AuditKind, type Verdict } from './audit';
import { ReachStore } from './reach/store';

/** An alert as the agent spooled it, and the node that sent it. */
export interface StoredAlert extends SpooledAlert {
  node: string;
}

export interface AlertRowOut {
  id: number;
  node: string;
  boot_id: string;
  sequence: number;
  json: string;
}

export interface AlertQuery {
  sinceNs?: string;
  rule?: string;
  workloadLike?: (spiffeId: string) => boolean;
  node?: string;
  afterId?: number;
  limit?: number;
}

export interface AgentRecord {
  node: string;
  spiffe_id: string;
  boot_id: string;
  version: string;
  capabilities: string;
  first_seen_ns: string;
  last_seen_ns: string;
  connected: number;
  policy_version: number;
  policy_error: string;
}

export interface PolicyRecord {
  version: number;
  payload: Buffer;
  signature: Buffer;
  key_id: string;
  created_ns: string;
  pushed_by: string;
}

export interface AddressRecord {
  node: string;
  cidr: string;
  spiffe_id: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  node TEXT NOT NULL,
  boot_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  time_ns INTEGER NOT NULL,
  rule TEXT NOT NULL,
  priority TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  spiffe_id TEXT NOT NULL,
  json TEXT NOT NULL,
  received_ns INTEGER NOT NULL,
  UNIQUE (node, boot_id, sequence)
);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (time_ns);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts (rule, time_ns);
-- the workload filter is a SPIFFE ID pattern, applied in the query loop: no index serves it
DROP INDEX IF EXISTS alerts_workload;
CREATE INDEX IF NOT EXISTS alerts_node ON alerts (node, time_ns);
CREATE TABLE IF NOT EXISTS agents (
  node TEXT PRIMARY KEY,
  spiffe_id TEXT NOT NULL,
  boot_id TEXT NOT NULL,
  version TEXT NOT NULL,
  capabilities TEXT NOT NULL,
  first_seen_ns INTEGER NOT NULL,
  last_seen_ns INTEGER NOT NULL,
  connected INTEGER NOT NULL,
  policy_version INTEGER NOT NULL DEFAULT 0,
  policy_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS policies (
  version INTEGER PRIMARY KEY,
  payload BLOB NOT NULL,
  signature BLOB NOT NULL,
  key_id TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  pushed_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS addresses (
  node TEXT NOT NULL,
  cidr TEXT NOT NULL,
  spiffe_id TEXT NOT NULL,
  PRIMARY KEY (node, cidr)
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  kind TEXT NOT NULL,
  data TEXT NOT NULL,
  prev TEXT NOT NULL,
  hash TEXT NOT NULL
);
`;

export class Store {
  readonly db: Database.Database;
  private head: { seq: number; hash: string };
  private readonly insAlert: Database.Statement;
  private readonly insAudit: Database.Statement;
  /** SBOMs, components, what ran, per image digest (controlplane/reach/store.ts) */
  readonly reach: ReachStore;

  /**
   * busyTimeoutMs: how long one statement waits for another connection's
   * write lock before SQLITE_BUSY. The server keeps it short (it blocks the
   * event loop) and retries without blocking (ingest.ts).
   */
  constructor(
    readonly file: string,
    o: { busyTimeoutMs?: number } = {},
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      this.db = new Database(file, { timeout: o.busyTimeoutMs ?? 5000 });
      this.db.pragma('journal_mode = WAL');
      // every commit reaches the disk before it is acknowledged
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new CpError('STORE', `opening the store ${file}: ${errorMessage(err)}`);
    }
    const last = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    this.head = last ?? { seq: 0, hash: GENESIS };
    this.insAlert = this.db.prepare(
      // only a resend is skipped (OR IGNORE would skip any constraint failure, silently)
      `INSERT INTO alerts (node, boot_id, sequence, time_ns, rule, priority, action, outcome, spiffe_id, json, received_ns)
       VALUES (@node, @bootId, @sequence, @timeNs, @rule, @priority, @action, @outcome, @spiffeId, @json, @received)
       ON CONFLICT (node, boot_id, sequence) DO NOTHING`,
    );
    this.insAudit = this.db.prepare('INSERT INTO audit (seq, time_ns, kind, data, prev, hash) VALUES (?, ?, ?, ?, ?, ?)');
    this.reach = new ReachStore(this.db, (fn) => this.audited(fn));
  }

  /**
   * Run `fn` in one transaction in which `audit` appends to the chain: what
   * is recorded and its audit entries commit together or not at all (the
   * chain head is restored when it rolls back).
   */
  audited<T>(fn: (audit: (kind: AuditKind, data: unknown) => void) => T): T {
    const headBefore = this.head;
    try {
      return this.db.transaction(() => fn((kind, data) => this.audit(kind, data)))();
    } catch (err) {
      this.head = headBefore;
      throw err;
    }
  }

  /** Append to the audit chain (inside the caller's transaction). */
  private audit(kind: AuditKind, data: unknown): void {
    const e = { seq: this.head.seq + 1, time_ns: nowNs(), kind, data, prev: this.head.hash };
    const hash = entryHash(e);
    this.insAudit.run(e.seq, e.time_ns, kind, JSON.stringify(data), e.prev, hash);
    this.head = { seq: e.seq, hash };
  }

  /**
   * Store alerts, each (node, boot id, sequence) once, with their audit
   * entries, in one transaction. Returns how many were new.
   */
  insertAlerts(alerts: readonly StoredAlert[]): number {
    const received = nowNs();
    const headBefore = this.head;
    const tx = this.db.transaction((list: readonly StoredAlert[]) => {
      let added = 0;
      for (const a of list) {
        const r = this.insAlert.run({ ...a, received });
        if (r.changes === 1) {
          added++;
          this.audit('alert', {
            node: a.node,
            boot_id: a.bootId,
            sequence: a.sequence,
            rule: a.rule,
            sha256: createHash('sha256').update(a.json).digest('hex'),
          });
        }
      }
      return added;
    });
    try {
      return tx(alerts);
    } catch (err) {
      this.head = headBefore; // rolled back
      throw err;
    }
  }

  /** Highest stored sequence of a (node, boot) (the control plane numbering its own alerts). */
  storedSequence(node: string, bootId: string): number {
    const r = this.db.prepare('SELECT MAX(sequence) AS s FROM alerts WHERE node = ? AND boot_id = ?').get(node, bootId) as { s: number | null };
    return r.s ?? 0;
  }

  queryAlerts(q: AlertQuery): AlertRowOut[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.sinceNs) {
      where.push('time_ns >= ?');
      args.push(q.sinceNs);
    }
    if (q.rule) {
      where.push('rule = ?');
      args.push(q.rule);
    }
    if (q.node) {
      where.push('node = ?');
      args.push(q.node);
    }
    if (q.afterId !== undefined) {
      where.push('id > ?');
      args.push(q.afterId);
    }
    const sql = `SELECT id, node, boot_id, sequence, json, spiffe_id FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    const limit = q.limit && q.limit > 0 ? q.limit : Infinity;
    const out: AlertRowOut[] = [];
    for (const row of this.db.prepare(sql).iterate(...args) as Iterable<AlertRowOut & { spiffe_id: string }>) {
      if (q.workloadLike && !q.workloadLike(row.spiffe_id)) continue;
      out.push({ id: row.id, node: row.node, boot_id: row.boot_id, sequence: row.sequence, json: row.json });
      if (out.length >= limit) break;
    }
    return out;
  }

  countAlerts(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM alerts').get() as { n: number }).n;
  }

  /** An agent connected (enrolment is audited the first time and when its identity changes). */
  agentConnected(a: Omit<AgentRecord, 'first_seen_ns' | 'last_seen_ns' | 'connected' | 'policy_version' | 'policy_error'> & { policy_version: number }): void {
    const now = nowNs();
    this.db.transaction(() => {
      const prev = this.db.prepare('SELECT spiffe_id, boot_id FROM agents WHERE node = ?').get(a.node) as { spiffe_id: string; boot_id: string } | undefined;
      this.db
        .prepare(
          `INSERT INTO agents (node, spiffe_id, boot_id, version, capabilities, first_seen_ns, last_seen_ns, connected, policy_version)
           VALUES (@node, @spiffe_id, @boot_id, @version, @capabilities, @now, @now, 1, @policy_version)
           ON CONFLICT (node) DO UPDATE SET spiffe_id = @spiffe_id, boot_id = @boot_id, version = @version,
             capabilities = @capabilities, last_seen_ns = @now, connected = 1, policy_version = @policy_version`,
        )
        .run({ ...a, now });
      if (!prev || prev.spiffe_id !== a.spiffe_id || prev.boot_id !== a.boot_id) {
        this.audit('enrol', { node: a.node, spiffe_id: a.spiffe_id, boot_id: a.boot_id, version: a.version });
      }
    })();
  }

  agentSeen(node: string): void {
    this.db.prepare('UPDATE agents SET last_seen_ns = ? WHERE node = ?').run(nowNs(), node);
  }

  agentDisconnected(node: string): void {
    this.db.prepare('UPDATE agents SET connected = 0, last_seen_ns = ? WHERE node = ?').run(nowNs(), node);
  }

  agentPolicy(node: string, version: number, error: string): void {
    this.db.prepare('UPDATE agents SET policy_version = ?, policy_error = ? WHERE node = ?').run(version, error, node);
  }

  agents(): AgentRecord[] {
    return this.db.prepare('SELECT * FROM agents ORDER BY node').all() as AgentRecord[];
  }

  markAllDisconnected(): void {
    this.db.prepare('UPDATE agents SET connected = 0').run();
  }

  addPolicy(p: Omit<PolicyRecord, 'created_ns'>): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO policies (version, payload, signature, key_id, created_ns, pushed_by) VALUES (?, ?, ?, ?, ?, ?)')
        .run(p.version, p.payload, p.signature, p.key_id, nowNs(), p.pushed_by);
      this.audit('policy', {
        version: p.version,
        key_id: p.key_id,
        pushed_by: p.pushed_by,
        sha256: createHash('sha256').update(p.payload).digest('hex'),
      });
    })();
  }

  latestPolicy(): PolicyRecord | undefined {
    return this.db.prepare('SELECT * FROM policies ORDER BY version DESC LIMIT 1').get() as PolicyRecord | undefined;
  }

  /** Replace a node's workload addresses. Returns true when they changed. */
  setAddresses(node: string, list: readonly { cidr: string; spiffe_id: string }[]): boolean {
    return this.db.transaction(() => {
      const before = this.db.prepare('SELECT cidr, spiffe_id FROM addresses WHERE node = ? ORDER BY cidr').all(node) as { cidr: string; spiffe_id: string }[];
      const after = [...list].sort((a, b) => a.cidr.localeCompare(b.cidr));
      if (JSON.stringify(before) === JSON.stringify(after.map((x) => ({ cidr: x.cidr, spiffe_id: x.spiffe_id })))) return false;
      this.db.prepare('DELETE FROM addresses WHERE node = ?').run(node);
      const ins = this.db.prepare('INSERT OR REPLACE INTO addresses (node, cidr, spiffe_id) VALUES (?, ?, ?)');
      for (const x of after) ins.run(node, x.cidr, x.spiffe_id);
      this.audit('identity', { node, addresses: after.map((x) => `${x.cidr}=${x.spiffe_id}`) });
      return true;
    })();
  }

  addresses(): AddressRecord[] {
    return this.db.prepare('SELECT node, cidr, spiffe_id FROM addresses ORDER BY node, cidr').all() as AddressRecord[];
  }

  /** Delete alerts older than `beforeNs` (the audit log keeps their hashes). */
  retain(beforeNs: string): number {
    return this.db.prepare('DELETE FROM alerts WHERE time_ns < ?').run(beforeNs).changes;
  }

  *auditEntries(): Generator<AuditEntry> {
    const stmt = this.db.prepare('SELECT seq, time_ns, kind, data, prev, hash FROM audit ORDER BY rowid').safeIntegers(true);
    for (const r of stmt.iterate() as Iterable<{
      seq: bigint;
      time_ns: bigint;
      kind: AuditKind;
      data: string;
      prev: string;
      hash: string;
    }>) {
      let data: unknown;
      try {
        data = JSON.parse(r.data);
      } catch {
        data = r.data;
      }
      yield { seq: Number(r.seq), time_ns: String(r.time_ns), kind: r.kind, data, prev: r.prev, hash: r.hash };
    }
  }

  auditCount(): number {
    return this.head.seq;
  }

  verifyAudit(): Verdict {
    return verifyChain(this.auditEntries());
  }

  close(): void {
    this.db.close();
  }
}
