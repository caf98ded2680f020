// The reachability store: per image digest, its SBOMs (imported, or built
// by agents from the image's package databases), their components and the
// files each owns, what the agents saw loaded, and who watched when. Every
// node and pod of one digest merges into one record; everything is in the
// control plane's SQLite file, so it outlives restarts of either side.
//
// THE READ API (advisories, tickets, VEX and the CLI read only through it):
//   images()                       digests known, with name and when watched
//   components(digest)             components of an image: purl, name, version, which source
//   evidence(digest)               per component: loaded (when, by how many) / not loaded since / unknown
//   componentEvidence(digest, p)   one package (purl, any version/qualifiers): the above, or not_present
//   findComponents(purl)           every image holding a package (advisory matching)
import type Database from 'better-sqlite3';
import { nowNs } from '../../common/time';
import { packageKey, purlKey } from '../../common/purl';
import { canonicalPath, componentReach, observationWindow, type LoadedFile, type ObservationWindow, type Reach, type WatchRow } from './evidence';

/** Where a component's file list came from: the SBOM itself, or a package database read in a running container. */
export type FileSource =
  | 'cyclonedx-occurrences' // CycloneDX components[].evidence.occurrences[].location
  | 'syft-location' // syft's syft:location:N:path properties
  | 'trivy-filepath' // trivy's aquasecurity:trivy:FilePath, where it names the code (jars, Go and Rust binaries)
  | 'spdx-contains' // SPDX files + CONTAINS relationships (or hasFiles)
  | 'dpkg' // /var/lib/dpkg/info/PKG.list
  | 'apk' // /lib/apk/db/installed (F:/R: lines)
  | 'python-record' // site-packages/*.dist-info/RECORD
  | 'npm-package'; // node_modules/NAME/ (every file below the package.json)

/** What an SBOM parser or a package-database reader gives the store. */
export interface ComponentIn {
  /** unique within its SBOM: bom-ref, SPDXID, or the database's name */
  ref: string;
  name: string;
  version: string;
  /** '' when the SBOM gives none */
  purl: string;
  /** library, application, operating-system, deb, apk, python, npm... */
  type: string;
  files: readonly { path: string; source: FileSource }[];
}

export interface SbomIn {
  digest: string;
  /** repository name, '' if unknown */
  name: string;
  origin: 'import' | 'agent';
  /** cyclonedx-1.5, cyclonedx-1.6, spdx-2.3, package-databases */
  format: string;
  /** sha256 of the document as received (hex) */
  sha256: string;
  /** who: the admin's SPIFFE ID, or the node */
  by: string;
  components: readonly ComponentIn[];
}

export interface SbomRow {
  id: number;
  digest: string;
  origin: 'import' | 'agent';
  format: string;
  sha256: string;
  created_ns: string;
  created_by: string;
  components: number;
  files: number;
}

export interface ImageRow {
  digest: string;
  name: string;
  /** first and latest report of any agent watching it; '0' if never watched */
  first_seen_ns: string;
  last_seen_ns: string;
}

/** A component of an image as the read API gives it. */
export interface Component {
  id: number;
  digest: string;
  name: string;
  version: string;
  /** '' when the SBOM gave none */
  purl: string;
  /** type/namespace/name, lowercased ('' without a purl): compare packages with it */
  purl_key: string;
  type: string;
  /** the SBOM that named it: import (an SBOM given to vigil sbom import) or agent (package databases of the image) */
  origin: 'import' | 'agent';
  /** where its file list came from ('' when no source named any file) */
  file_source: FileSource | '';
  files: number;
}

export interface ComponentEvidence {
  component: Component;
  reach: Reach;
}

/** One container's share of a node's report: what it loaded and over which time it was watched. */
export interface WatchIn extends Omit<WatchRow, 'node' | 'run'> {
  /** a file as this container loaded it (LoadedFile before the merge across containers and nodes) */
  loads: readonly Omit<LoadedFile, 'containers' | 'nodes'>[];
}

export interface ReachReportIn {
  node: string;
  run: string;
  digest: string;
  name: string;
  watches: readonly WatchIn[];
  /** directory symlinks of the image (/lib -> /usr/lib); null: not reported this time */
  aliases: readonly { link: string; target: string }[] | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS images (
  digest TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  first_seen_ns INTEGER NOT NULL DEFAULT 0,
  last_seen_ns INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sboms (
  id INTEGER PRIMARY KEY,
  digest TEXT NOT NULL,
  origin TEXT NOT NULL,
  format TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  components INTEGER NOT NULL,
  files INTEGER NOT NULL,
  UNIQUE (digest, origin)
);
CREATE TABLE IF NOT EXISTS components (
  id INTEGER PRIMARY KEY,
  sbom_id INTEGER NOT NULL,
  digest TEXT NOT NULL,
  ref TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  purl TEXT NOT NULL,
  purl_key TEXT NOT NULL,
  type TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS components_sbom ON components (sbom_id);
CREATE INDEX IF NOT EXISTS components_purl ON components (purl_key);
CREATE TABLE IF NOT EXISTS component_files (
  component_id INTEGER NOT NULL,
  path TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (component_id, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reach_watches (
  digest TEXT NOT NULL,
  node TEXT NOT NULL,
  run TEXT NOT NULL,
  container TEXT NOT NULL,
  workload TEXT NOT NULL,
  since_ns INTEGER NOT NULL,
  until_ns INTEGER NOT NULL,
  lost INTEGER NOT NULL,
  lost_at_ns INTEGER NOT NULL,
  PRIMARY KEY (digest, node, run, container)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reach_loads (
  digest TEXT NOT NULL,
  path TEXT NOT NULL,
  node TEXT NOT NULL,
  run TEXT NOT NULL,
  container TEXT NOT NULL,
  first_ns INTEGER NOT NULL,
  how TEXT NOT NULL,
  processes INTEGER NOT NULL,
  PRIMARY KEY (digest, path, node, run, container)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reach_aliases (
  digest TEXT NOT NULL,
  link TEXT NOT NULL,
  target TEXT NOT NULL,
  PRIMARY KEY (digest, link)
) WITHOUT ROWID;
`;

/** Bounds on what one report may carry (a node is not trusted beyond itself). */
export const REACH_LIMITS = {
  path: 4096,
  loadsPerReport: 20000,
  watchesPerReport: 1000,
  aliases: 256,
  text: 512,
};

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const NS = /^[0-9]{1,20}$/;

export class ReachStore {
  constructor(
    readonly db: Database.Database,
    /** one transaction whose audit entries commit with it (Store.audited) */
    private readonly audited: <T>(fn: (audit: (kind: 'sbom', data: unknown) => void) => T) => T,
  ) {
    db.exec(SCHEMA);
  }

  // ---- writes ----------------------------------------------------------------

  /** Store an SBOM, replacing the previous one of the same digest and origin. Returns its id. */
  putSbom(s: SbomIn): number {
    if (!DIGEST.test(s.digest)) throw new Error(`putSbom: "${s.digest}" is not a sha256 digest`);
    return this.audited((audit) => {
      const old = this.db.prepare('SELECT id FROM sboms WHERE digest = ? AND origin = ?').get(s.digest, s.origin) as { id: number } | undefined;
      if (old) {
        this.db.prepare('DELETE FROM component_files WHERE component_id IN (SELECT id FROM components WHERE sbom_id = ?)').run(old.id);
        this.db.prepare('DELETE FROM components WHERE sbom_id = ?').run(old.id);
        this.db.prepare('DELETE FROM sboms WHERE id = ?').run(old.id);
      }
      const files = s.components.reduce((n, c) => n + c.files.length, 0);
      const id = Number(
        this.db
          .prepare('INSERT INTO sboms (digest, origin, format, sha256, created_ns, created_by, components, files) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(s.digest, s.origin, s.format, s.sha256, nowNs(), s.by, s.components.length, files).lastInsertRowid,
      );
      const insC = this.db.prepare('INSERT INTO components (sbom_id, digest, ref, name, version, purl, purl_key, type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      const insF = this.db.prepare('INSERT OR IGNORE INTO component_files (component_id, path, source) VALUES (?, ?, ?)');
      for (const c of s.components) {
        const key = c.purl ? (purlKey(c.purl) ?? '') : '';
        const cid = Number(insC.run(id, s.digest, c.ref, c.name, c.version, c.purl, key, c.type).lastInsertRowid);
        for (const f of c.files) insF.run(cid, f.path, f.source);
      }
      this.touchImage(s.digest, s.name, null);
      audit('sbom', { digest: s.digest, origin: s.origin, format: s.format, sha256: s.sha256, by: s.by, components: s.components.length, files });
      return id;
    });
  }

  /** The sha256 of the SBOM stored for (digest, origin), to skip resending an unchanged one. */
  sbomSha(digest: string, origin: 'import' | 'agent'): string | null {
    const r = this.db.prepare('SELECT sha256 FROM sboms WHERE digest = ? AND origin = ?').get(digest, origin) as { sha256: string } | undefined;
    return r?.sha256 ?? null;
  }

  /**
   * Merge a node's report for one image: watches (cumulative per run and
   * container: a resent report changes nothing), loads (first time, process
   * count), directory aliases. Returns the paths loaded for the first time
   * for this digest (anywhere), for revocation checks. Throws on a report
   * that breaks the bounds or shapes, naming the field.
   */
  recordReport(r: ReachReportIn): string[] {
    validateReport(r);
    return this.db.transaction(() => {
      const fresh: string[] = [];
      const upW = this.db.prepare(
        `INSERT INTO reach_watches (digest, node, run, container, workload, since_ns, until_ns, lost, lost_at_ns)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (digest, node, run, container) DO UPDATE SET
           workload = excluded.workload,
           since_ns = MIN(since_ns, excluded.since_ns),
           until_ns = MAX(until_ns, excluded.until_ns),
           lost = MAX(lost, excluded.lost),
           lost_at_ns = MAX(lost_at_ns, excluded.lost_at_ns)`,
      );
      const seen = this.db.prepare('SELECT 1 FROM reach_loads WHERE digest = ? AND path = ? LIMIT 1');
      const upL = this.db.prepare(
        `INSERT INTO reach_loads (digest, path, node, run, container, first_ns, how, processes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (digest, path, node, run, container) DO UPDATE SET
           how = CASE WHEN excluded.first_ns < first_ns THEN excluded.how ELSE how END,
           first_ns = MIN(first_ns, excluded.first_ns),
           processes = MAX(processes, excluded.processes)`,
      );
      let first: string | null = null;
      let last: string | null = null;
      for (const w of r.watches) {
        upW.run(r.digest, r.node, r.run, w.container, w.workload, w.since_ns, w.until_ns, w.lost, w.lost_at_ns);
        first = first === null || BigInt(w.since_ns) < BigInt(first) ? w.since_ns : first;
        last = last === null || BigInt(w.until_ns) > BigInt(last) ? w.until_ns : last;
        for (const l of w.loads) {
          if (!seen.get(r.digest, l.path)) fresh.push(l.path);
          upL.run(r.digest, l.path, r.node, r.run, w.container, l.first_ns, l.how, l.processes);
        }
      }
      if (r.aliases) {
        this.db.prepare('DELETE FROM reach_aliases WHERE digest = ?').run(r.digest);
        const ins = this.db.prepare('INSERT OR REPLACE INTO reach_aliases (digest, link, target) VALUES (?, ?, ?)');
        for (const a of r.aliases) ins.run(r.digest, a.link, a.target);
      }
      this.touchImage(r.digest, r.name, first === null ? null : { first, last: last ?? first });
      return [...new Set(fresh)];
    })();
  }

  private touchImage(digest: string, name: string, seen: { first: string; last: string } | null): void {
    this.db
      .prepare(
        `INSERT INTO images (digest, name, first_seen_ns, last_seen_ns) VALUES (?, ?, ?, ?)
         ON CONFLICT (digest) DO UPDATE SET
           name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END,
           first_seen_ns = CASE WHEN first_seen_ns = 0 THEN excluded.first_seen_ns WHEN excluded.first_seen_ns = 0 THEN first_seen_ns ELSE MIN(first_seen_ns, excluded.first_seen_ns) END,
           last_seen_ns = MAX(last_seen_ns, excluded.last_seen_ns)`,
      )
      .run(digest, name, seen?.first ?? 0, seen?.last ?? 0);
  }

  // ---- the read API ----------------------------------------------------------

  /** Every image digest known (from an SBOM or a watching agent). */
  images(): ImageRow[] {
    return (this.db.prepare('SELECT digest, name, first_seen_ns, last_seen_ns FROM images ORDER BY digest').safeIntegers(true).all() as {
      digest: string;
      name: string;
      first_seen_ns: bigint;
      last_seen_ns: bigint;
    }[]).map((r) => ({ digest: r.digest, name: r.name, first_seen_ns: String(r.first_seen_ns), last_seen_ns: String(r.last_seen_ns) }));
  }

  image(digest: string): ImageRow | null {
    return this.images().find((i) => i.digest === digest) ?? null;
  }

  sboms(digest: string): SbomRow[] {
    return (this.db.prepare('SELECT * FROM sboms WHERE digest = ? ORDER BY origin').safeIntegers(true).all(digest) as (Omit<SbomRow, 'id' | 'created_ns' | 'components' | 'files'> & {
      id: bigint;
      created_ns: bigint;
      components: bigint;
      files: bigint;
    })[]).map((r) => ({ ...r, id: Number(r.id), created_ns: String(r.created_ns), components: Number(r.components), files: Number(r.files) }));
  }

  /**
   * The components of an image: those of the imported SBOM when there is
   * one, else those the agents read from the image's package databases.
   * Files come from the SBOM when it lists them for a component, else from
   * the same package in the package databases (matched by purl, else by name
   * and version); `file_source` says which.
   */
  components(digest: string): Component[] {
    return this.componentsWithFiles(digest).map((c) => c.component);
  }

  /** Components with their files (canonical paths), for SBOM output. */
  componentFiles(digest: string): { component: Component; files: string[] }[] {
    return this.componentsWithFiles(digest);
  }

  /** Runtime evidence for every component of an image. */
  evidence(digest: string): ComponentEvidence[] {
    const comps = this.componentsWithFiles(digest);
    const loaded = this.loadedFiles(digest);
    const window = this.window(digest);
    return comps.map((c) => ({ component: c.component, reach: componentReach({ files: c.files }, loaded, window) }));
  }

  /**
   * Evidence for one package of an image, named by purl (version and
   * qualifiers ignored: every version of it in the image is returned).
   * `not_present`: the image's SBOM has no such package.
   */
  componentEvidence(digest: string, purl: string): ComponentEvidence[] | 'not_present' {
    const key = purlKey(purl);
    if (key === null) throw new Error(`componentEvidence: "${purl}" is not a package URL`);
    const hits = this.evidence(digest).filter((e) => e.component.purl_key === key);
    return hits.length ? hits : 'not_present';
  }

  /** Every component, in any image, that is this package (purl without version), for matching advisories. */
  findComponents(purl: string): Component[] {
    const key = purlKey(purl);
    if (key === null) throw new Error(`findComponents: "${purl}" is not a package URL`);
    return this.findByKey(key);
  }

  /** The same by type, namespace and name (OSV's ecosystem and package name, mapped to a purl type by the caller). */
  findByPackage(type: string, namespace: string | null, name: string): Component[] {
    return this.findByKey(packageKey(type, namespace, name));
  }

  private findByKey(key: string): Component[] {
    const digests = (this.db.prepare('SELECT DISTINCT digest FROM components WHERE purl_key = ?').all(key) as { digest: string }[]).map((r) => r.digest);
    return digests.flatMap((d) => this.components(d).filter((c) => c.purl_key === key));
  }

  /** The observation window of an image, null if no agent watched it. */
  window(digest: string): ObservationWindow | null {
    const rows = this.db
      .prepare('SELECT node, run, container, workload, since_ns, until_ns, lost, lost_at_ns FROM reach_watches WHERE digest = ?')
      .safeIntegers(true)
      .all(digest) as { node: string; run: string; container: string; workload: string; since_ns: bigint; until_ns: bigint; lost: bigint; lost_at_ns: bigint }[];
    const watches: WatchRow[] = rows.map((r) => ({
      node: r.node,
      run: r.run,
      container: r.container,
      workload: r.workload,
      since_ns: String(r.since_ns),
      until_ns: String(r.until_ns),
      lost: Number(r.lost),
      lost_at_ns: String(r.lost_at_ns),
    }));
    return observationWindow(watches);
  }

  /** Files of an image loaded anywhere, by canonical path. */
  loadedFiles(digest: string): Map<string, LoadedFile> {
    const rows = this.db
      .prepare('SELECT path, node, container, first_ns, how, processes FROM reach_loads WHERE digest = ? ORDER BY path, first_ns')
      .safeIntegers(true)
      .all(digest) as { path: string; node: string; container: string; first_ns: bigint; how: string; processes: bigint }[];
    const out = new Map<string, LoadedFile & { cs: Set<string>; ns: Set<string> }>();
    for (const r of rows) {
      let f = out.get(r.path);
      if (!f) {
        f = { path: r.path, first_ns: String(r.first_ns), how: r.how, processes: 0, containers: 0, nodes: 0, cs: new Set(), ns: new Set() };
        out.set(r.path, f);
      }
      f.processes += Number(r.processes);
      f.cs.add(`${r.node}\u0000${r.container}`);
      f.ns.add(r.node);
    }
    const res = new Map<string, LoadedFile>();
    for (const [p, f] of out) res.set(p, { path: f.path, first_ns: f.first_ns, how: f.how, processes: f.processes, containers: f.cs.size, nodes: f.ns.size });
    return res;
  }

  aliases(digest: string): { link: string; target: string }[] {
    const rows = this.db.prepare('SELECT link, target FROM reach_aliases WHERE digest = ?').all(digest) as { link: string; target: string }[];
    return rows.sort((a, b) => b.link.length - a.link.length);
  }

  private componentsWithFiles(digest: string): { component: Component; files: string[] }[] {
    const sboms = this.sboms(digest);
    const imported = sboms.find((s) => s.origin === 'import');
    const agent = sboms.find((s) => s.origin === 'agent');
    const primary = imported ?? agent;
    if (!primary) return [];
    const aliases = this.aliases(digest);
    const load = (sbomId: number): { row: { id: number; name: string; version: string; purl: string; purl_key: string; type: string }; files: { path: string; source: FileSource }[] }[] => {
      const comps = this.db.prepare('SELECT id, name, version, purl, purl_key, type FROM components WHERE sbom_id = ? ORDER BY id').all(sbomId) as {
        id: number;
        name: string;
        version: string;
        purl: string;
        purl_key: string;
        type: string;
      }[];
      const files = this.db
        .prepare('SELECT f.component_id AS id, f.path AS path, f.source AS source FROM component_files f JOIN components c ON c.id = f.component_id WHERE c.sbom_id = ?')
        .all(sbomId) as { id: number; path: string; source: FileSource }[];
      const by = new Map<number, { path: string; source: FileSource }[]>();
      for (const f of files) {
        const l = by.get(f.id);
        if (l) l.push(f);
        else by.set(f.id, [f]);
      }
      return comps.map((row) => ({ row, files: by.get(row.id) ?? [] }));
    };
    const mine = load(primary.id);
    // package databases fill in files the imported SBOM does not list
    const fill = new Map<string, { path: string; source: FileSource }[]>();
    if (imported && agent) {
      for (const a of load(agent.id)) {
        if (a.files.length === 0) continue;
        if (a.row.purl_key) fill.set(`k:${a.row.purl_key}@${a.row.version}`, a.files);
        fill.set(`n:${a.row.name}@${a.row.version}`, a.files);
      }
    }
    return mine.map(({ row, files }) => {
      let fs = files;
      if (fs.length === 0 && fill.size) fs = fill.get(`k:${row.purl_key}@${row.version}`) ?? fill.get(`n:${row.name}@${row.version}`) ?? [];
      const paths = [...new Set(fs.map((f) => canonicalPath(f.path, aliases)))];
      return {
        component: {
          id: row.id,
          digest,
          name: row.name,
          version: row.version,
          purl: row.purl,
          purl_key: row.purl_key,
          type: row.type,
          origin: primary.origin,
          file_source: fs.length ? fs[0].source : '',
          files: paths.length,
        },
        files: paths,
      };
    });
  }
}

function validateReport(r: ReachReportIn): void {
  const bad = (where: string, what: string): never => {
    throw new Error(`reach report from ${r.node}: ${where}: ${what}`);
  };
  if (!DIGEST.test(r.digest)) bad('digest', `"${r.digest.slice(0, 80)}" is not sha256: and 64 hex digits`);
  if (r.name.length > REACH_LIMITS.text) bad('name', `longer than ${REACH_LIMITS.text}`);
  if (!r.run || r.run.length > REACH_LIMITS.text) bad('run', `1 to ${REACH_LIMITS.text} characters`);
  if (r.watches.length > REACH_LIMITS.watchesPerReport) bad('watches', `more than ${REACH_LIMITS.watchesPerReport}`);
  let loads = 0;
  r.watches.forEach((w, i) => {
    const at = `watches[${i}]`;
    if (!w.container || w.container.length > REACH_LIMITS.text) bad(`${at}.container`, `1 to ${REACH_LIMITS.text} characters`);
    if (w.workload.length > REACH_LIMITS.text) bad(`${at}.workload`, `longer than ${REACH_LIMITS.text}`);
    for (const k of ['since_ns', 'until_ns', 'lost_at_ns'] as const) if (!NS.test(w[k])) bad(`${at}.${k}`, `"${String(w[k]).slice(0, 40)}" is not nanoseconds`);
    if (BigInt(w.until_ns) < BigInt(w.since_ns)) bad(`${at}.until_ns`, 'before since_ns');
    if (!Number.isSafeInteger(w.lost) || w.lost < 0) bad(`${at}.lost`, 'not a count');
    loads += w.loads.length;
    if (loads > REACH_LIMITS.loadsPerReport) bad(`${at}.loads`, `more than ${REACH_LIMITS.loadsPerReport} in one report`);
    w.loads.forEach((l, j) => {
      const lat = `${at}.loads[${j}]`;
      if (!isAbsolutePath(l.path)) bad(`${lat}.path`, 'not an absolute path (1 to 4096 bytes, no NUL, no . or .. segments)');
      if (!NS.test(l.first_ns)) bad(`${lat}.first_ns`, 'not nanoseconds');
      if (!['exec', 'open', 'mmap', 'maps'].includes(l.how)) bad(`${lat}.how`, `"${l.how.slice(0, 20)}" is not exec, open, mmap or maps`);
      if (!Number.isSafeInteger(l.processes) || l.processes < 1) bad(`${lat}.processes`, 'not a positive count');
    });
  });
  if (r.aliases) {
    if (r.aliases.length > REACH_LIMITS.aliases) bad('aliases', `more than ${REACH_LIMITS.aliases}`);
    r.aliases.forEach((a, i) => {
      if (!isAbsolutePath(a.link) || a.link === '/') bad(`aliases[${i}].link`, 'not an absolute path below /');
      if (!isAbsolutePath(a.target)) bad(`aliases[${i}].target`, 'not an absolute path');
      if (a.target === a.link || a.target.startsWith(a.link + '/')) bad(`aliases[${i}]`, 'a link into itself');
    });
  }
}

/** An absolute, normalized path: what the kernel reports and SBOM paths are made into. */
export function isAbsolutePath(p: string): boolean {
  if (typeof p !== 'string' || p.length === 0 || p.length > REACH_LIMITS.path || p[0] !== '/' || p.includes('\0')) return false;
  if (p === '/') return true;
  if (p.endsWith('/')) return false;
  return p
    .slice(1)
    .split('/')
    .every((s) => s !== '' && s !== '.' && s !== '..');
}
