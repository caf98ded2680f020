// OpenVEX per image digest, from the runtime evidence (controlplane/reach/
// store.ts) and the scanner's findings: one statement per (vulnerability,
// component), the product the image (pkg:oci/...@sha256:...), the
// subcomponent the package.
//
//   affected             some file of the component was loaded (action statement: by how many
//                        processes, which files, since when);
//   not_affected         vulnerable_code_not_in_execute_path: none was loaded during a gap-free
//                        observation window at least --min-window long (impact statement: the
//                        window, the nodes and containers watched);
//   under_investigation  otherwise: the window is shorter, it had a gap, the component's files
//                        are unknown, or the scanner's package is not in the image's SBOM.
//
// Raise-only: a component once affected is affected in every later document
// (even if an SBOM re-import stopped mapping the loaded file to it). A
// document gets a new version (and timestamp) only when a statement's status
// changes; a load of a component that a document said not_affected issues a
// new version at once (the report that carries the load), and the
// revocation is recorded for `vigil vex --changes`. Every issued version is
// in the audit log.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { canonicalJson } from '../../common/canonical-json';
import { formatImageRef, ociPurl } from '../../common/image-ref';
import { makePurl, purlKey } from '../../common/purl';
import { nowNs, rfc3339Nanos } from '../../common/time';
import { VIGIL_VERSION } from '../../common/version';
import type { AuditKind } from '../audit-log';
import type { Reach } from './evidence';
import { OPENVEX_CONTEXT, type VexDocument, type VexStatement } from './openvex';
import type { Component, ReachStore } from './store';

export interface FindingIn {
  id: string;
  aliases: readonly string[];
  description: string;
  severity: string;
  purl: string;
  name: string;
  version: string;
}

export interface IssuedVex {
  document: VexDocument;
  /** the canonical JSON that is stored, audited and signed */
  json: string;
  version: number;
  /** a new version was issued now */
  issued: boolean;
}

export interface Revocation {
  digest: string;
  vulnerability: string;
  component: string;
  not_affected_version: number;
  revoked_version: number;
  loaded_path: string;
  loaded_ns: string;
  revoked_ns: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS vuln_reports (
  digest TEXT PRIMARY KEY,
  format TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  imported_ns INTEGER NOT NULL,
  imported_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vulns (
  digest TEXT NOT NULL,
  id TEXT NOT NULL,
  aliases TEXT NOT NULL,
  description TEXT NOT NULL,
  severity TEXT NOT NULL,
  purl TEXT NOT NULL,
  purl_key TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vulns_digest ON vulns (digest);
CREATE TABLE IF NOT EXISTS vex_documents (
  digest TEXT NOT NULL,
  version INTEGER NOT NULL,
  issued_ns INTEGER NOT NULL,
  min_window_ms INTEGER NOT NULL,
  json TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (digest, version)
);
CREATE TABLE IF NOT EXISTS vex_affected (
  digest TEXT NOT NULL,
  component TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (digest, component)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS vex_revocations (
  digest TEXT NOT NULL,
  vulnerability TEXT NOT NULL,
  component TEXT NOT NULL,
  not_affected_version INTEGER NOT NULL,
  revoked_version INTEGER NOT NULL,
  loaded_path TEXT NOT NULL,
  loaded_ns INTEGER NOT NULL,
  revoked_ns INTEGER NOT NULL
);
`;

export const DEFAULT_MIN_WINDOW_MS = 7 * 86400_000;
const MAX_FILES_NAMED = 5;

/** "3d 4h", "12m 5s": a duration for people. */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const parts: string[] = [];
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m && !d) parts.push(`${m}m`);
  if ((sec || parts.length === 0) && !d && !h) parts.push(`${sec}s`);
  return parts.join(' ');
}

const iso = (ns: string): string => rfc3339Nanos(BigInt(ns));

/** The key a statement is compared by across versions. */
interface Verdict {
  vuln: string;
  component: string;
  status: string;
}

export class VexIssuer {
  constructor(
    private readonly db: Database.Database,
    private readonly reach: ReachStore,
    private readonly audited: <T>(fn: (audit: (kind: AuditKind, data: unknown) => void) => T) => T,
    /** the document's author (the control plane's SPIFFE ID) */
    private readonly author: string,
  ) {
    db.exec(SCHEMA);
  }

  /** Replace the findings of an image with a scanner report's. */
  importFindings(digest: string, format: string, sha256: string, by: string, findings: readonly FindingIn[]): number {
    return this.audited((audit) => {
      this.db.prepare('DELETE FROM vulns WHERE digest = ?').run(digest);
      const ins = this.db.prepare('INSERT INTO vulns (digest, id, aliases, description, severity, purl, purl_key, name, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const f of findings) ins.run(digest, f.id, JSON.stringify(f.aliases), f.description, f.severity, f.purl, f.purl ? (purlKey(f.purl) ?? '') : '', f.name, f.version);
      this.db
        .prepare('INSERT OR REPLACE INTO vuln_reports (digest, format, sha256, imported_ns, imported_by) VALUES (?, ?, ?, ?, ?)')
        .run(digest, format, sha256, nowNs(), by);
      audit('findings', { digest, format, sha256, by, findings: findings.length });
      return findings.length;
    });
  }

  findings(digest: string): FindingIn[] {
    return (this.db.prepare('SELECT id, aliases, description, severity, purl, name, version FROM vulns WHERE digest = ? ORDER BY rowid').all(digest) as (Omit<FindingIn, 'aliases'> & { aliases: string })[]).map((r) => ({
      ...r,
      aliases: JSON.parse(r.aliases) as string[],
    }));
  }

  latest(digest: string): { version: number; json: string; min_window_ms: number } | null {
    const r = this.db.prepare('SELECT version, json, min_window_ms FROM vex_documents WHERE digest = ? ORDER BY version DESC LIMIT 1').get(digest) as
      | { version: number; json: string; min_window_ms: number }
      | undefined;
    return r ?? null;
  }

  /**
   * The document for an image now: the latest version when no statement's
   * status changed, else a new version (stored, audited).
   */
  issue(digest: string, minWindowMs: number, now = nowNs()): IssuedVex {
    return this.audited((audit) => {
      const latest = this.latest(digest);
      const statements = this.statements(digest, minWindowMs, now);
      const verdicts = statements.map((s) => verdictOf(s));
      if (latest) {
        const prev = JSON.parse(latest.json) as VexDocument;
        if (sameVerdicts(prev.statements.map(verdictOf), verdicts)) return { document: prev, json: latest.json, version: latest.version, issued: false };
      }
      const version = (latest?.version ?? 0) + 1;
      const doc = this.document(digest, version, now, statements);
      const json = canonicalJson(doc);
      const sha256 = createHash('sha256').update(json).digest('hex');
      this.db.prepare('INSERT INTO vex_documents (digest, version, issued_ns, min_window_ms, json, sha256) VALUES (?, ?, ?, ?, ?, ?)').run(digest, version, now, minWindowMs, json, sha256);
      const insA = this.db.prepare('INSERT OR IGNORE INTO vex_affected (digest, component, version) VALUES (?, ?, ?)');
      for (const s of statements) if (s.status === 'affected') insA.run(digest, subcomponentOf(s), version);
      // what a previous version said not_affected and this one does not: revoked
      if (latest) this.recordRevocations(digest, JSON.parse(latest.json) as VexDocument, latest.version, doc, version, now);
      audit('vex', {
        digest,
        version,
        sha256,
        statements: statements.length,
        affected: statements.filter((s) => s.status === 'affected').length,
        not_affected: statements.filter((s) => s.status === 'not_affected').length,
        under_investigation: statements.filter((s) => s.status === 'under_investigation').length,
      });
      return { document: doc, json, version, issued: true };
    });
  }

  /**
   * New loads arrived for an image: if its latest document says
   * not_affected for a component that is now affected, issue the next
   * version at once (revocation). Returns the new version, or null.
   */
  onLoads(digest: string, now = nowNs()): IssuedVex | null {
    const latest = this.latest(digest);
    if (!latest) return null;
    const prev = JSON.parse(latest.json) as VexDocument;
    const notAffected = new Set(prev.statements.filter((s) => s.status === 'not_affected').map((s) => subcomponentOf(s)));
    if (notAffected.size === 0) return null;
    const loaded = this.reach.evidence(digest).filter((e) => e.reach.state === 'loaded' && notAffected.has(componentId(e.component)));
    if (loaded.length === 0) return null;
    const r = this.issue(digest, latest.min_window_ms, now);
    return r.issued ? r : null;
  }

  revocations(digest?: string): Revocation[] {
    const rows = (
      digest
        ? this.db.prepare('SELECT * FROM vex_revocations WHERE digest = ? ORDER BY revoked_ns, rowid').safeIntegers(true).all(digest)
        : this.db.prepare('SELECT * FROM vex_revocations ORDER BY revoked_ns, rowid').safeIntegers(true).all()
    ) as Record<string, bigint | string>[];
    return rows.map((r) => ({
      digest: String(r.digest),
      vulnerability: String(r.vulnerability),
      component: String(r.component),
      not_affected_version: Number(r.not_affected_version),
      revoked_version: Number(r.revoked_version),
      loaded_path: String(r.loaded_path),
      loaded_ns: String(r.loaded_ns),
      revoked_ns: String(r.revoked_ns),
    }));
  }

  private recordRevocations(digest: string, prev: VexDocument, prevVersion: number, next: VexDocument, version: number, now: string): void {
    const nextStatus = new Map(next.statements.map((s) => [`${s.vulnerability.name}\u0000${subcomponentOf(s)}`, s.status]));
    const evidence = new Map(this.reach.evidence(digest).map((e) => [componentId(e.component), e.reach]));
    const ins = this.db.prepare(
      'INSERT INTO vex_revocations (digest, vulnerability, component, not_affected_version, revoked_version, loaded_path, loaded_ns, revoked_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const s of prev.statements) {
      if (s.status !== 'not_affected') continue;
      const comp = subcomponentOf(s);
      const now2 = nextStatus.get(`${s.vulnerability.name}\u0000${comp}`);
      if (now2 !== 'affected') continue;
      const r = evidence.get(comp);
      const first = r?.state === 'loaded' ? r.files[0] : null;
      ins.run(digest, s.vulnerability.name, comp, prevVersion, version, first?.path ?? '', first?.first_ns ?? '0', now);
    }
  }

  /** The statements for an image now, in a stable order. */
  statements(digest: string, minWindowMs: number, now: string): VexStatement[] {
    const image = this.reach.image(digest);
    const ref = { name: image?.name || null, tag: null, digest };
    const product = { '@id': ociPurl(ref) ?? digest, identifiers: { purl: ociPurl(ref) ?? digest }, hashes: { 'sha-256': digest.slice('sha256:'.length) } };
    const evidence = this.reach.evidence(digest);
    const everAffected = new Map(
      (this.db.prepare('SELECT component, version FROM vex_affected WHERE digest = ?').all(digest) as { component: string; version: number }[]).map((r) => [r.component, r.version]),
    );
    const byKey = new Map<string, { component: Component; reach: Reach }>();
    for (const e of evidence) {
      if (e.component.purl_key) byKey.set(`k:${e.component.purl_key}@${e.component.version}`, e);
      byKey.set(`n:${e.component.name}@${e.component.version}`, e);
    }
    const out: VexStatement[] = [];
    const seen = new Set<string>();
    for (const f of this.findings(digest)) {
      const key = f.purl ? purlKey(f.purl) : null;
      const hit = (key ? byKey.get(`k:${key}@${f.version}`) : undefined) ?? byKey.get(`n:${f.name}@${f.version}`) ?? null;
      const subPurl = hit ? componentId(hit.component) : f.purl || safePurl(f.name, f.version);
      const dedupe = `${f.id}\u0000${subPurl}`;
      if (seen.has(dedupe)) continue;
      seen.add(dedupe);
      const vulnerability = { name: f.id, ...(f.aliases.length ? { aliases: [...f.aliases] } : {}), ...(f.description ? { description: f.description } : {}) };
      const products = [{ ...product, subcomponents: [{ '@id': subPurl, identifiers: { purl: subPurl } }] }];
      const base = { vulnerability, products };
      if (!hit) {
        out.push({ ...base, status: 'under_investigation', status_notes: `the scanner's package ${f.name}@${f.version} is not among this image's components (no SBOM names it): no runtime evidence` });
        continue;
      }
      const earlier = everAffected.get(subPurl);
      out.push({ ...base, ...verdictFor(hit.reach, minWindowMs, now, earlier) });
    }
    out.sort((a, b) => (a.vulnerability.name + subcomponentOf(a)).localeCompare(b.vulnerability.name + subcomponentOf(b)));
    return out;
  }

  private document(digest: string, version: number, now: string, statements: VexStatement[]): VexDocument {
    const image = this.reach.image(digest);
    return {
      '@context': OPENVEX_CONTEXT,
      '@id': `urn:vigil:vex:${digest}:v${version}`,
      author: this.author,
      role: 'runtime observer',
      timestamp: iso(now),
      version,
      tooling: `Vigil ${VIGIL_VERSION} runtime reachability (files executed, opened as code or mapped executable, per image ${formatImageRef({ name: image?.name || null, tag: null, digest })})`,
      statements,
    };
  }
}

/** The status, justification and evidence text of one component's statement. */
function verdictFor(r: Reach, minWindowMs: number, now: string, affectedInVersion: number | undefined): Pick<VexStatement, 'status' | 'justification' | 'impact_statement' | 'action_statement' | 'action_statement_timestamp' | 'status_notes'> {
  if (r.state === 'loaded') {
    const named = r.files
      .slice(0, MAX_FILES_NAMED)
      .map((f) => `${f.path} (${f.how}, first ${iso(f.first_ns)})`)
      .join(', ');
    const more = r.files.length > MAX_FILES_NAMED ? ` and ${r.files.length - MAX_FILES_NAMED} more` : '';
    return {
      status: 'affected',
      action_statement:
        `Loaded at run time: ${r.processes} process${r.processes === 1 ? '' : 'es'} (the first per container; later loads are deduplicated) in ${r.containers} container${r.containers === 1 ? '' : 's'} ` +
        `on ${r.nodes} node${r.nodes === 1 ? '' : 's'} loaded ${r.files.length} of its files, first seen ${iso(r.first_ns)}: ${named}${more}. ` +
        'Update the package to a fixed version, or remove it from the image if it is not needed.',
      action_statement_timestamp: iso(now),
    };
  }
  if (affectedInVersion !== undefined) {
    // raise-only: the evidence that made it affected is in that version
    return {
      status: 'affected',
      action_statement: `A file of this component was loaded at run time (recorded in version ${affectedInVersion} of this document); a component once loaded stays affected. Update the package to a fixed version, or remove it from the image.`,
      action_statement_timestamp: iso(now),
    };
  }
  if (r.state === 'unknown') return { status: 'under_investigation', status_notes: r.reason };
  const w = r.window;
  const len = Number(BigInt(w.until_ns) - BigInt(w.since_ns)) / 1e6;
  const gaps = w.gaps.length ? ` The window restarted after ${w.gaps.length} gap${w.gaps.length === 1 ? '' : 's'} in observation (latest: ${w.gaps[w.gaps.length - 1].why} on ${w.gaps[w.gaps.length - 1].node}).` : '';
  const watched = `watched on ${w.nodes.length} node${w.nodes.length === 1 ? '' : 's'} (${w.nodes.join(', ')}) in ${w.containers} container${w.containers === 1 ? '' : 's'}`;
  if (len < minWindowMs) {
    return {
      status: 'under_investigation',
      status_notes: `None of its ${r.files} files was loaded between ${iso(w.since_ns)} and ${iso(w.until_ns)} (${duration(len)}, ${watched}), shorter than the ${duration(minWindowMs)} required before saying not_affected.${gaps}`,
    };
  }
  return {
    status: 'not_affected',
    justification: 'vulnerable_code_not_in_execute_path',
    impact_statement:
      `No file of this component (${r.files} known) was executed, opened as code or mapped executable by any process of this image ` +
      `from ${iso(w.since_ns)} to ${iso(w.until_ns)} (${duration(len)}, at least the ${duration(minWindowMs)} required), ${watched}, without a gap in observation.${gaps} ` +
      'File-level evidence: code loaded from another file (a static binary, an archive) is not seen; see Vigil docs/vex.md.',
  };
}

/** The subcomponent purl a component is named by in statements. */
function componentId(c: Component): string {
  return c.purl || safePurl(c.name, c.version);
}

function safePurl(name: string, version: string): string {
  try {
    return makePurl('generic', null, name, version || null);
  } catch {
    return `pkg:generic/${encodeURIComponent(name)}`;
  }
}

function subcomponentOf(s: VexStatement): string {
  return s.products[0]?.subcomponents?.[0]?.['@id'] ?? '';
}

function verdictOf(s: VexStatement): Verdict {
  return { vuln: s.vulnerability.name, component: subcomponentOf(s), status: `${s.status}/${s.justification ?? ''}` };
}

function sameVerdicts(a: Verdict[], b: Verdict[]): boolean {
  const k = (v: Verdict): string => `${v.vuln}\u0000${v.component}\u0000${v.status}`;
  const sa = a.map(k).sort();
  const sb = b.map(k).sort();
  return sa.length === sb.length && sa.every((x, i) => x === sb[i]);
}
