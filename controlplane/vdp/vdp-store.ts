// The vulnerability-disclosure tables in the control plane's SQLite file:
// advisories (as imported, one row per id, newest wins by `modified`),
// matches (advisory x image digest x component, with status and evidence),
// tickets (one per sink and fingerprint, with the remote key and state), the
// sink spool (ticket operations not yet done remotely: durable, retried, in
// order per fingerprint), quarantines, and how far alerts have been
// forwarded to the sinks and outputs. Imports and quarantines are audited in
// the same transaction as what they record.
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../common/canonical-json';
import { nowNs } from '../../common/time';
import type { AuditKind } from '../audit-log';
import type { Advisory } from './advisory';
import type { Match } from './match';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS advisories (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  severity TEXT NOT NULL,
  modified TEXT NOT NULL,
  json TEXT NOT NULL,
  origin TEXT NOT NULL,
  imported_ns INTEGER NOT NULL,
  imported_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vdp_matches (
  advisory TEXT NOT NULL,
  digest TEXT NOT NULL,
  purl TEXT NOT NULL,
  status TEXT NOT NULL,
  reachability TEXT NOT NULL,
  severity TEXT NOT NULL,
  json TEXT NOT NULL,
  first_ns INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL,
  PRIMARY KEY (advisory, digest, purl)
);
CREATE INDEX IF NOT EXISTS vdp_matches_digest ON vdp_matches (digest);
CREATE TABLE IF NOT EXISTS tickets (
  sink TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  kind TEXT NOT NULL,
  remote_key TEXT NOT NULL,
  url TEXT NOT NULL,
  state TEXT NOT NULL,
  evidence_sha TEXT NOT NULL,
  title TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL,
  PRIMARY KEY (sink, fingerprint)
);
CREATE TABLE IF NOT EXISTS sink_spool (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sink TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  op TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_ns INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sink_spool_sink ON sink_spool (sink, id);
CREATE TABLE IF NOT EXISTS quarantines (
  digest TEXT PRIMARY KEY,
  image TEXT NOT NULL,
  workloads TEXT NOT NULL,
  allow TEXT NOT NULL,
  reason TEXT NOT NULL,
  by TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  policy_version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS forward_marks (
  name TEXT PRIMARY KEY,
  last_alert_id INTEGER NOT NULL
);
`;

/** Run fn in one transaction with the audit chain (Store.audited). */
export type Audited = <T>(fn: (audit: (kind: AuditKind, data: unknown) => void) => T) => T;

export interface SpoolRow {
  id: number;
  sink: string;
  fingerprint: string;
  op: string;
  payload: string;
  attempts: number;
  next_ns: string;
  last_error: string;
}

export interface TicketRow {
  sink: string;
  fingerprint: string;
  kind: string;
  remote_key: string;
  url: string;
  /** open | closed | wont_fix */
  state: string;
  evidence_sha: string;
  title: string;
  created_ns: string;
  updated_ns: string;
}

export interface QuarantineRow {
  digest: string;
  image: string;
  workloads: string[];
  allow: string[];
  reason: string;
  by: string;
  created_ns: string;
  policy_version: number;
}

export interface ImportResult {
  added: number;
  updated: number;
  unchanged: number;
}

export class VdpStore {
  constructor(
    readonly db: Database.Database,
    private readonly audited: Audited,
  ) {
    db.exec(SCHEMA);
  }

  /** Store advisories (a newer `modified` replaces an older one); audited as one entry per import. */
  importAdvisories(list: readonly Advisory[], by: string, origin: string): ImportResult {
    return this.audited((audit) => {
      const r: ImportResult = { added: 0, updated: 0, unchanged: 0 };
      const get = this.db.prepare('SELECT modified, json FROM advisories WHERE id = ?');
      const put = this.db.prepare(
        `INSERT INTO advisories (id, source, severity, modified, json, origin, imported_ns, imported_by) VALUES (@id, @source, @severity, @modified, @json, @origin, @now, @by)
         ON CONFLICT (id) DO UPDATE SET source = @source, severity = @severity, modified = @modified, json = @json, origin = @origin, imported_ns = @now, imported_by = @by`,
      );
      const now = nowNs();
      const changed: string[] = [];
      for (const a of list) {
        const json = canonicalJson({ ...a, origin: undefined });
        const prev = get.get(a.id) as { modified: string; json: string } | undefined;
        if (prev && prev.json === json) {
          r.unchanged++;
          continue;
        }
        // an older copy of an advisory never replaces a newer one
        if (prev && a.modified && prev.modified && Date.parse(prev.modified) > Date.parse(a.modified)) {
          r.unchanged++;
          continue;
        }
        put.run({ id: a.id, source: a.source, severity: a.severity, modified: a.modified ?? '', json, origin: a.origin, now, by });
        if (prev) r.updated++;
        else r.added++;
        changed.push(a.id);
      }
      if (changed.length) {
        audit('advisory', {
          by,
          origin,
          added: r.added,
          updated: r.updated,
          ids: changed.slice(0, 100),
          sha256: createHash('sha256').update(changed.join('\n')).digest('hex'),
        });
      }
      return r;
    });
  }

  advisories(): Advisory[] {
    return (this.db.prepare('SELECT json, origin FROM advisories ORDER BY id').all() as { json: string; origin: string }[]).map((r) => ({ ...(JSON.parse(r.json) as Advisory), origin: r.origin }));
  }

  advisory(id: string): Advisory | null {
    const r = this.db.prepare('SELECT json, origin FROM advisories WHERE id = ?').get(id) as { json: string; origin: string } | undefined;
    return r ? { ...(JSON.parse(r.json) as Advisory), origin: r.origin } : null;
  }

  countAdvisories(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM advisories').get() as { n: number }).n;
  }

  /**
   * Replace the matches with a fresh computation; returns what changed
   * (new, changed status or evidence, gone) so that tickets follow.
   */
  putMatches(matches: readonly Match[]): { changed: Match[]; gone: Match[] } {
    return this.db.transaction(() => {
      const now = nowNs();
      const old = new Map<string, { json: string; status: string; first_ns: number }>();
      for (const r of this.db.prepare('SELECT advisory, digest, purl, json, status, first_ns FROM vdp_matches').all() as {
        advisory: string;
        digest: string;
        purl: string;
        json: string;
        status: string;
        first_ns: number;
      }[]) {
        old.set(`${r.advisory}\u0000${r.digest}\u0000${r.purl}`, r);
      }
      const put = this.db.prepare(
        `INSERT INTO vdp_matches (advisory, digest, purl, status, reachability, severity, json, first_ns, updated_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (advisory, digest, purl) DO UPDATE SET status = excluded.status, reachability = excluded.reachability, severity = excluded.severity, json = excluded.json, updated_ns = excluded.updated_ns`,
      );
      const changed: Match[] = [];
      for (const m of matches) {
        const k = `${m.advisory}\u0000${m.digest}\u0000${m.purl}`;
        const json = canonicalJson(m);
        const prev = old.get(k);
        old.delete(k);
        if (prev && prev.json === json) continue;
        put.run(m.advisory, m.digest, m.purl, m.status, m.reachability, m.severity, json, now, now);
        changed.push(m);
      }
      const gone: Match[] = [];
      const del = this.db.prepare('DELETE FROM vdp_matches WHERE advisory = ? AND digest = ? AND purl = ?');
      for (const [k, r] of old) {
        const [advisory, digest, purl] = k.split('\u0000');
        del.run(advisory, digest, purl);
        gone.push(JSON.parse(r.json) as Match);
      }
      return { changed, gone };
    })();
  }

  matches(digest?: string): Match[] {
    const rows = (digest
      ? this.db.prepare('SELECT json FROM vdp_matches WHERE digest = ? ORDER BY advisory, purl').all(digest)
      : this.db.prepare('SELECT json FROM vdp_matches ORDER BY digest, advisory, purl').all()) as { json: string }[];
    return rows.map((r) => JSON.parse(r.json) as Match);
  }

  // ---- tickets and the sink spool -------------------------------------------------

  ticket(sink: string, fingerprint: string): TicketRow | null {
    const r = this.db.prepare('SELECT * FROM tickets WHERE sink = ? AND fingerprint = ?').safeIntegers(false).get(sink, fingerprint) as TicketRow | undefined;
    return r ? { ...r, created_ns: String(r.created_ns), updated_ns: String(r.updated_ns) } : null;
  }

  tickets(sink?: string): TicketRow[] {
    const rows = (sink ? this.db.prepare('SELECT * FROM tickets WHERE sink = ? ORDER BY created_ns').all(sink) : this.db.prepare('SELECT * FROM tickets ORDER BY created_ns').all()) as TicketRow[];
    return rows.map((r) => ({ ...r, created_ns: String(r.created_ns), updated_ns: String(r.updated_ns) }));
  }

  putTicket(t: Omit<TicketRow, 'created_ns' | 'updated_ns'>): void {
    const now = nowNs();
    this.db
      .prepare(
        `INSERT INTO tickets (sink, fingerprint, kind, remote_key, url, state, evidence_sha, title, created_ns, updated_ns) VALUES (@sink, @fingerprint, @kind, @remote_key, @url, @state, @evidence_sha, @title, @now, @now)
         ON CONFLICT (sink, fingerprint) DO UPDATE SET remote_key = @remote_key, url = @url, state = @state, evidence_sha = @evidence_sha, title = @title, updated_ns = @now`,
      )
      .run({ ...t, now });
  }

  /** Queue an operation for a sink (durable before this returns). */
  spool(sink: string, fingerprint: string, op: string, payload: unknown): number {
    const now = nowNs();
    return Number(
      this.db.prepare('INSERT INTO sink_spool (sink, fingerprint, op, payload, next_ns, created_ns) VALUES (?, ?, ?, ?, ?, ?)').run(sink, fingerprint, op, JSON.stringify(payload), now, now).lastInsertRowid,
    );
  }

  /** The oldest operations of a sink (in order: one fingerprint's operations are done in the order queued). */
  spooled(sink: string, limit = 100): SpoolRow[] {
    return (this.db.prepare('SELECT * FROM sink_spool WHERE sink = ? ORDER BY id LIMIT ?').all(sink, limit) as SpoolRow[]).map((r) => ({ ...r, next_ns: String(r.next_ns) }));
  }

  spoolDepth(sink?: string): number {
    return (
      (sink ? this.db.prepare('SELECT COUNT(*) AS n FROM sink_spool WHERE sink = ?').get(sink) : this.db.prepare('SELECT COUNT(*) AS n FROM sink_spool').get()) as { n: number }
    ).n;
  }

  spoolHas(sink: string, fingerprint: string): boolean {
    return this.db.prepare('SELECT 1 FROM sink_spool WHERE sink = ? AND fingerprint = ? LIMIT 1').get(sink, fingerprint) !== undefined;
  }

  spoolDone(id: number): void {
    this.db.prepare('DELETE FROM sink_spool WHERE id = ?').run(id);
  }

  spoolRetry(id: number, nextNs: string, error: string): void {
    this.db.prepare('UPDATE sink_spool SET attempts = attempts + 1, next_ns = ?, last_error = ? WHERE id = ?').run(nextNs, error.slice(0, 2000), id);
  }

  // ---- alert forwarding progress ------------------------------------------------------

  mark(name: string): number {
    const r = this.db.prepare('SELECT last_alert_id FROM forward_marks WHERE name = ?').get(name) as { last_alert_id: number } | undefined;
    return r?.last_alert_id ?? -1;
  }

  setMark(name: string, id: number): void {
    this.db.prepare('INSERT INTO forward_marks (name, last_alert_id) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_alert_id = excluded.last_alert_id').run(name, id);
  }

  // ---- quarantines ---------------------------------------------------------------------

  quarantines(): QuarantineRow[] {
    return (this.db.prepare('SELECT * FROM quarantines ORDER BY created_ns').all() as (Omit<QuarantineRow, 'workloads' | 'allow'> & { workloads: string; allow: string })[]).map((r) => ({
      ...r,
      created_ns: String(r.created_ns),
      workloads: JSON.parse(r.workloads) as string[],
      allow: JSON.parse(r.allow) as string[],
    }));
  }

  /** Record a quarantine (or its lifting), audited in the same transaction; `apply` runs inside it (the policy push). */
  setQuarantine(q: Omit<QuarantineRow, 'created_ns' | 'policy_version'> | { lift: string; by: string; reason: string }, apply: () => number): number {
    return this.audited((audit) => {
      if ('lift' in q) {
        const gone = this.db.prepare('DELETE FROM quarantines WHERE digest = ?').run(q.lift).changes;
        if (!gone) throw new Error(`no quarantine of ${q.lift}`);
        const version = apply();
        audit('quarantine', { action: 'lift', digest: q.lift, by: q.by, reason: q.reason, policy_version: version });
        return version;
      }
      this.db
        .prepare(
          `INSERT INTO quarantines (digest, image, workloads, allow, reason, by, created_ns, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?, 0)
           ON CONFLICT (digest) DO UPDATE SET image = excluded.image, workloads = excluded.workloads, allow = excluded.allow, reason = excluded.reason, by = excluded.by`,
        )
        .run(q.digest, q.image, JSON.stringify(q.workloads), JSON.stringify(q.allow), q.reason, q.by, nowNs());
      const version = apply();
      this.db.prepare('UPDATE quarantines SET policy_version = ? WHERE digest = ?').run(version, q.digest);
      audit('quarantine', { action: 'quarantine', digest: q.digest, image: q.image, workloads: q.workloads, allow: q.allow, by: q.by, reason: q.reason, policy_version: version });
      return version;
    });
  }
}
