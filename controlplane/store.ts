// The control plane's store: SQLite (better-sqlite3), WAL, fsync on every
// commit. Alerts (each (node, boot id, sequence) once), agents, policy
// versions, workload addresses, and the audit log (a transparency log:
// audit-log.ts), written in the same transactions as what they record.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../common/errors';
import { nowNs } from '../common/time';
import type { SpooledAlert } from '../common/alert-envelope';
import { CpError } from './errors';
import { AuditLog, rowToEntry, type AuditEntry, type AuditKind } from './audit-log';
import { verifyAuditDb, type VerifyOptions, type VerifyReport } from './audit-verify';
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
`;

export class Store {
  readonly db: Database.Database;
  readonly log: AuditLog;
  /** after each commit that appended to the audit log (checkpoints.ts signs the new head) */
  onAudit: (() => void) | null = null;
  private readonly insAlert: Database.Statement;
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
    try {
      this.log = new AuditLog(this.db);
    } catch (err) {
      throw new CpError('STORE', `opening the audit log in ${file}: ${errorMessage(err)}`);
    }
    this.insAlert = this.db.prepare(
      // only a resend is skipped (OR IGNORE would skip any constraint failure, silently)
      `INSERT INTO alerts (node, boot_id, sequence, time_ns, rule, priority, action, outcome, spiffe_id, json, received_ns)
       VALUES (@node, @bootId, @sequence, @timeNs, @rule, @priority, @action, @outcome, @spiffeId, @json, @received)
       ON CONFLICT (node, boot_id, sequence) DO NOTHING`,
    );
    this.reach = new ReachStore(this.db, (fn) => this.audited(fn));
  }

  /**
   * Run `fn` in one transaction in which `audit` appends to the audit log:
   * what is recorded and its entries commit together or not at all (the
   * tree in memory follows a rollback).
   */
  audited<T>(fn: (audit: (kind: AuditKind, data: unknown) => void) => T): T {
    return this.tx(() =>
      fn((kind, data) => {
        this.audit(kind, data);
      }),
    );
  }

  /** Append to the audit log (inside the caller's transaction). */
  private audit(kind: AuditKind, data: unknown, timeNs: string = nowNs()): number {
    return this.log.append(kind, data, timeNs);
  }

  /** Run fn in a transaction; the audit log's tree in memory follows a rollback. */
  private tx<T>(fn: () => T): T {
    const mark = this.log.mark();
    const size = this.log.size;
    let out: T;
    try {
      out = this.db.transaction(fn)();
    } catch (err) {
      this.log.reset(mark);
      throw err;
    }
    if (this.log.size !== size) this.onAudit?.();
    return out;
  }

  /**
   * Store alerts, each (node, boot id, sequence) once, with their audit
   * entries, in one transaction. Returns how many were new.
   */
  insertAlerts(alerts: readonly StoredAlert[]): number {
    const received = nowNs();
    return this.tx(() => {
      let added = 0;
      for (const a of alerts) {
        const r = this.insAlert.run({ ...a, received });
        if (r.changes === 1) {
          added++;
          this.audit('alert', alertLeaf(a), received);
        }
      }
      return added;
    });
  }

  /** Highest stored sequence of a (node, boot) (the control plane numbering its own alerts). */
  storedSequence(node: string, bootId: string): number {
    const r = this.db.prepare('SELECT MAX(sequence) AS s FROM alerts WHERE node = ? AND boot_id = ?').get(node, bootId) as { s: number | null };
    return r.s ?? 0;
  }

  /**
   * One page of alerts after `afterId`: at most `limit` rows and about
   * `maxBytes` of JSON, after scanning at most `maxScan` rows (a filter that
   * rarely matches costs a bounded amount per call). `lastId` is where the
   * next page starts; `more` says whether there may be one.
   */
  alertPage(q: AlertQuery & { limit: number; maxBytes: number; maxScan: number }): { rows: AlertRowOut[]; lastId: number; more: boolean } {
    const rows: AlertRowOut[] = [];
    let lastId = q.afterId ?? 0;
    let scanned = 0;
    let bytes = 0;
    for (const row of this.selectAlerts(q, q.maxScan)) {
      scanned++;
      lastId = row.id;
      if (q.workloadLike && !q.workloadLike(row.spiffe_id)) continue;
      rows.push({ id: row.id, node: row.node, boot_id: row.boot_id, sequence: row.sequence, json: row.json });
      bytes += row.json.length + 64;
      if (rows.length >= q.limit || bytes >= q.maxBytes) return { rows, lastId, more: true };
    }
    return { rows, lastId, more: scanned >= q.maxScan };
  }

  private selectAlerts(q: AlertQuery, limit: number): Iterable<AlertRowOut & { spiffe_id: string }> {
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
    const sql = `SELECT id, node, boot_id, sequence, json, spiffe_id FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
    return this.db.prepare(sql).iterate(...args, limit) as Iterable<AlertRowOut & { spiffe_id: string }>;
  }

  queryAlerts(q: AlertQuery): AlertRowOut[] {
    const limit = q.limit && q.limit > 0 ? q.limit : Infinity;
    const out: AlertRowOut[] = [];
    // -1: no SQL limit (SQLite); the workload filter below decides how many rows it takes
    for (const row of this.selectAlerts(q, -1)) {
      if (q.workloadLike && !q.workloadLike(row.spiffe_id)) continue;
      out.push({ id: row.id, node: row.node, boot_id: row.boot_id, sequence: row.sequence, json: row.json });
      if (out.length >= limit) break;
    }
    return out;
  }

  countAlerts(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM alerts').get() as { n: number }).n;
  }

  /** An agent connected (audited: who, which boot, which version). */
  agentConnected(a: Omit<AgentRecord, 'first_seen_ns' | 'last_seen_ns' | 'connected' | 'policy_version' | 'policy_error'> & { policy_version: number }): void {
    const now = nowNs();
    this.tx(() => {
      this.db
        .prepare(
          `INSERT INTO agents (node, spiffe_id, boot_id, version, capabilities, first_seen_ns, last_seen_ns, connected, policy_version)
           VALUES (@node, @spiffe_id, @boot_id, @version, @capabilities, @now, @now, 1, @policy_version)
           ON CONFLICT (node) DO UPDATE SET spiffe_id = @spiffe_id, boot_id = @boot_id, version = @version,
             capabilities = @capabilities, last_seen_ns = @now, connected = 1, policy_version = @policy_version`,
        )
        .run({ ...a, now });
      this.audit('connect', { node: a.node, spiffe_id: a.spiffe_id, boot_id: a.boot_id, version: a.version, policy_version: a.policy_version }, now);
    });
  }

  agentSeen(node: string): void {
    this.db.prepare('UPDATE agents SET last_seen_ns = ? WHERE node = ?').run(nowNs(), node);
  }

  agentDisconnected(node: string): void {
    const now = nowNs();
    this.tx(() => {
      this.db.prepare('UPDATE agents SET connected = 0, last_seen_ns = ? WHERE node = ?').run(now, node);
      this.audit('disconnect', { node }, now);
    });
  }

  agentPolicy(node: string, version: number, error: string): void {
    this.db.prepare('UPDATE agents SET policy_version = ?, policy_error = ? WHERE node = ?').run(version, error, node);
  }

  agents(): AgentRecord[] {
    return this.db.prepare('SELECT * FROM agents ORDER BY node').all() as AgentRecord[];
  }

  /** The control plane starts: no agent is connected (audited once, with what started). */
  started(what: Record<string, string | number>): void {
    this.tx(() => {
      this.db.prepare('UPDATE agents SET connected = 0').run();
      this.audit('start', what);
    });
  }

  addPolicy(p: Omit<PolicyRecord, 'created_ns'>): void {
    const now = nowNs();
    this.tx(() => {
      this.db
        .prepare('INSERT INTO policies (version, payload, signature, key_id, created_ns, pushed_by) VALUES (?, ?, ?, ?, ?, ?)')
        .run(p.version, p.payload, p.signature, p.key_id, now, p.pushed_by);
      this.audit('policy', policyLeaf({ ...p, created_ns: now }), now);
    });
  }

  /** The highest policy version any agent has reported (0: none). */
  maxAgentPolicyVersion(): number {
    return (this.db.prepare('SELECT MAX(policy_version) AS v FROM agents').get() as { v: number | null }).v ?? 0;
  }

  latestPolicy(): PolicyRecord | undefined {
    return this.db.prepare('SELECT * FROM policies ORDER BY version DESC LIMIT 1').get() as PolicyRecord | undefined;
  }

  /** Replace a node's workload addresses. Returns true when they changed. */
  setAddresses(node: string, list: readonly { cidr: string; spiffe_id: string }[]): boolean {
    return this.tx(() => {
      const before = this.db.prepare('SELECT cidr, spiffe_id FROM addresses WHERE node = ? ORDER BY cidr').all(node) as { cidr: string; spiffe_id: string }[];
      const after = [...list].sort((a, b) => a.cidr.localeCompare(b.cidr));
      if (JSON.stringify(before) === JSON.stringify(after.map((x) => ({ cidr: x.cidr, spiffe_id: x.spiffe_id })))) return false;
      this.db.prepare('DELETE FROM addresses WHERE node = ?').run(node);
      const ins = this.db.prepare('INSERT OR REPLACE INTO addresses (node, cidr, spiffe_id) VALUES (?, ?, ?)');
      for (const x of after) ins.run(node, x.cidr, x.spiffe_id);
      this.audit('identity', identityLeaf(node, after));
      return true;
    });
  }

  addresses(): AddressRecord[] {
    return this.db.prepare('SELECT node, cidr, spiffe_id FROM addresses ORDER BY node, cidr').all() as AddressRecord[];
  }

  /** Delete alerts older than `beforeNs` (audited: the log keeps their leaves, verify knows why their rows are gone). */
  retain(beforeNs: string, reason: string): number {
    return this.tx(() => {
      const n = this.db.prepare('DELETE FROM alerts WHERE time_ns < ?').run(beforeNs).changes;
      if (n) this.audit('retention', { before_ns: beforeNs, deleted: n, reason });
      return n;
    });
  }

  /** The audit log's entries in order, from `from` (a leaf index). */
  *auditEntries(from = 0): Generator<AuditEntry> {
    const stmt = this.db.prepare('SELECT idx, time_ns, kind, leaf, hash FROM audit_log WHERE idx >= ? ORDER BY idx').safeIntegers(true);
    for (const r of stmt.iterate(from) as Iterable<{ idx: bigint; time_ns: bigint; kind: AuditKind; leaf: string; hash: Buffer }>) yield rowToEntry(r);
  }

  auditCount(): number {
    return this.log.size;
  }

  /** Recompute the audit log and check every row against it (what `vigil audit verify` does, on this connection). */
  verifyAudit(o: VerifyOptions = {}): VerifyReport {
    return verifyAuditDb(this.db, o);
  }

  /** An alert by its row id, with when it was received (its audit entry's time). */
  alertById(id: number): (AlertRowOut & { received_ns: string }) | undefined {
    const r = this.db.prepare('SELECT id, node, boot_id, sequence, json, received_ns FROM alerts WHERE id = ?').safeIntegers(true).get(id) as
      | { id: bigint; node: string; boot_id: string; sequence: bigint; json: string; received_ns: bigint }
      | undefined;
    return r ? { id: Number(r.id), node: r.node, boot_id: r.boot_id, sequence: Number(r.sequence), json: r.json, received_ns: String(r.received_ns) } : undefined;
  }

  close(): void {
    this.db.close();
  }
}

/** What an alert's leaf records: every column a person or a query reads, and the hash of the alert itself. */
export function alertLeaf(a: StoredAlert): Record<string, string | number> {
  return {
    node: a.node,
    boot_id: a.bootId,
    sequence: a.sequence,
    time_ns: String(a.timeNs),
    rule: a.rule,
    priority: a.priority,
    action: a.action,
    outcome: a.outcome,
    spiffe_id: a.spiffeId,
    json_sha256: createHash('sha256').update(a.json).digest('hex'),
  };
}

/** A policy version's leaf: who pushed it, the key, and the hashes of what was signed. */
export function policyLeaf(p: PolicyRecord): Record<string, string | number> {
  return {
    version: p.version,
    key_id: p.key_id,
    pushed_by: p.pushed_by,
    created_ns: String(p.created_ns),
    payload_sha256: createHash('sha256').update(p.payload).digest('hex'),
    signature_sha256: createHash('sha256').update(p.signature).digest('hex'),
  };
}

/** A node's addresses as stored (sorted), in its identity leaf. */
export function identityLeaf(node: string, list: readonly { cidr: string; spiffe_id: string }[]): { node: string; addresses: string[] } {
  return { node, addresses: [...list].sort((a, b) => a.cidr.localeCompare(b.cidr)).map((x) => `${x.cidr}=${x.spiffe_id}`) };
}
