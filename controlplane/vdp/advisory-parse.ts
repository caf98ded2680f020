// Advisories in: OSV JSON (osv.dev, and the GitHub Advisory Database's own
// OSV files), GitHub advisory JSON (the REST API's global advisories:
// `GET /advisories`, one object or a list), and CycloneDX VDR/VEX
// (`vulnerabilities` with `affects` and `analysis`). Everything here is
// hostile input: sizes and counts bounded, each field's shape checked, and
// every problem names the file and the JSON path.
import { fromVector } from 'ae-cvss-calculator';
import { severityOfScore, type AffectedPackage, type AffectedRange, type Advisory, type RangeEvent, type Severity, type VexStatement } from './advisory';
import { ecosystemOfPurlType, parsePurl, purlOfOsvPackage } from './purl';

export const LIMITS = {
  fileBytes: 32 << 20,
  advisoriesPerFile: 50_000,
  affectedPerAdvisory: 2_000,
  eventsPerRange: 1_000,
  versionsPerPackage: 20_000,
  text: 64 << 10,
  id: 128,
};

export class AdvisoryParseError extends Error {
  constructor(
    readonly file: string,
    readonly at: string,
    message: string,
  ) {
    super(`${file}: ${at}: ${message}`);
    this.name = 'AdvisoryParseError';
  }
}

type Json = unknown;

class Reader {
  constructor(readonly file: string) {}

  fail(at: string, msg: string): never {
    throw new AdvisoryParseError(this.file, at, msg);
  }

  obj(v: Json, at: string): Record<string, Json> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(at, `expected an object, got ${kind(v)}`);
    return v as Record<string, Json>;
  }

  arr(v: Json, at: string, max: number): Json[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(at, `expected a list, got ${kind(v)}`);
    if (v.length > max) this.fail(at, `more than ${max} entries`);
    return v;
  }

  str(v: Json, at: string, max = LIMITS.text): string {
    if (typeof v !== 'string') this.fail(at, `expected a string, got ${kind(v)}`);
    if (v.length > max) this.fail(at, `longer than ${max} characters`);
    return v;
  }

  optStr(v: Json, at: string, max = LIMITS.text): string | null {
    return v === undefined || v === null ? null : this.str(v, at, max);
  }

  id(v: Json, at: string): string {
    const s = this.str(v, at, LIMITS.id);
    // ids reach ticket titles, labels and JQL: printable, no spaces or quotes
    if (!/^[A-Za-z0-9][A-Za-z0-9._:+-]*$/.test(s)) this.fail(at, `"${s}" is not an advisory id (letters, digits, . _ : + -)`);
    return s;
  }
}

function kind(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

/** Severity from a CVSS vector (any version ae-cvss-calculator knows: 2.0, 3.0, 3.1, 4.0). */
function cvss(vector: string): { score: number; severity: Severity } | null {
  try {
    const v = fromVector(vector);
    if (!v) return null;
    const s = v.calculateScores() as { base?: number; overall?: number };
    const score = s.base ?? s.overall;
    if (typeof score !== 'number' || !Number.isFinite(score)) return null;
    return { score, severity: severityOfScore(score) };
  } catch {
    return null;
  }
}

const WORDS: Record<string, Severity> = { critical: 'critical', high: 'high', moderate: 'medium', medium: 'medium', low: 'low', none: 'none', info: 'none', informational: 'none' };

function severityWord(s: string | null): Severity | null {
  return s ? (WORDS[s.toLowerCase()] ?? null) : null;
}

// ---- OSV ---------------------------------------------------------------------

const RANGE_TYPES = ['SEMVER', 'ECOSYSTEM', 'GIT'] as const;

function osvRange(r: Reader, v: Json, at: string): AffectedRange {
  const o = r.obj(v, at);
  const type = r.str(o.type, `${at}.type`);
  if (!(RANGE_TYPES as readonly string[]).includes(type)) r.fail(`${at}.type`, `expected SEMVER, ECOSYSTEM or GIT, got "${type}"`);
  const events = r.arr(o.events, `${at}.events`, LIMITS.eventsPerRange).map((e, i): RangeEvent => {
    const eo = r.obj(e, `${at}.events[${i}]`);
    const keys = Object.keys(eo).filter((k) => ['introduced', 'fixed', 'last_affected', 'limit'].includes(k));
    if (keys.length !== 1) r.fail(`${at}.events[${i}]`, 'expected exactly one of introduced, fixed, last_affected, limit');
    const k = keys[0] as keyof RangeEvent;
    return { [k]: r.str(eo[k], `${at}.events[${i}].${k}`, 256) };
  });
  if (!events.some((e) => e.introduced !== undefined)) r.fail(`${at}.events`, 'a range needs at least one "introduced" event');
  const repo = r.optStr(o.repo, `${at}.repo`, 2048);
  return { type: type as AffectedRange['type'], ...(repo ? { repo } : {}), events };
}

function osvAdvisory(r: Reader, v: Json, at: string, origin: string): Advisory {
  const o = r.obj(v, at);
  const id = r.id(o.id, `${at}.id`);
  let severity: Severity | null = null;
  let score: number | null = null;
  let vector: string | null = null;
  for (const [i, s] of r.arr(o.severity, `${at}.severity`, 16).entries()) {
    const so = r.obj(s, `${at}.severity[${i}]`);
    const sv = r.str(so.score, `${at}.severity[${i}].score`, 512);
    const c = cvss(sv);
    if (c && (score === null || c.score > score)) {
      score = c.score;
      severity = c.severity;
      vector = sv;
    }
  }
  const dbs = o.database_specific && typeof o.database_specific === 'object' ? (o.database_specific as Record<string, Json>) : {};
  severity ??= severityWord(typeof dbs.severity === 'string' ? dbs.severity : null);
  const affected: AffectedPackage[] = [];
  for (const [i, a] of r.arr(o.affected, `${at}.affected`, LIMITS.affectedPerAdvisory).entries()) {
    const ao = r.obj(a, `${at}.affected[${i}]`);
    const pkg = r.obj(ao.package, `${at}.affected[${i}].package`);
    const ecosystem = r.str(pkg.ecosystem, `${at}.affected[${i}].package.ecosystem`, 128);
    const name = r.str(pkg.name, `${at}.affected[${i}].package.name`, 512);
    const given = r.optStr(pkg.purl, `${at}.affected[${i}].package.purl`, 1024);
    let purl = purlOfOsvPackage(ecosystem, name);
    if (given) {
      const p = parsePurl(given);
      if ('error' in p) r.fail(`${at}.affected[${i}].package.purl`, p.error);
      purl = p.key;
    }
    if (!purl) continue; // an ecosystem with no purl type: nothing in an SBOM can be it
    const ranges = r.arr(ao.ranges, `${at}.affected[${i}].ranges`, 256).map((x, j) => osvRange(r, x, `${at}.affected[${i}].ranges[${j}]`));
    const versions = r.arr(ao.versions, `${at}.affected[${i}].versions`, LIMITS.versionsPerPackage).map((x, j) => r.str(x, `${at}.affected[${i}].versions[${j}]`, 256));
    if (ranges.length === 0 && versions.length === 0) r.fail(`${at}.affected[${i}]`, 'neither ranges nor versions: it affects nothing that can be named');
    affected.push({ ecosystem, name, purl, ranges, versions });
  }
  return {
    id,
    aliases: r.arr(o.aliases, `${at}.aliases`, 64).map((x, i) => r.id(x, `${at}.aliases[${i}]`)),
    summary: r.optStr(o.summary, `${at}.summary`, 1024) ?? '',
    details: r.optStr(o.details, `${at}.details`) ?? '',
    severity: severity ?? 'medium',
    score,
    vector,
    published: r.optStr(o.published, `${at}.published`, 64),
    modified: r.optStr(o.modified, `${at}.modified`, 64),
    source: id.startsWith('GHSA-') ? 'ghsa' : 'osv',
    affected,
    vex: [],
    references: r
      .arr(o.references, `${at}.references`, 256)
      .map((x, i) => r.str(r.obj(x, `${at}.references[${i}]`).url, `${at}.references[${i}].url`, 2048)),
    origin,
  };
}

// ---- GitHub advisory JSON (REST: global security advisories) ---------------------

/** GitHub's ecosystem names (REST API) -> OSV's. */
const GH_ECOSYSTEMS: Record<string, string> = {
  npm: 'npm',
  pip: 'PyPI',
  maven: 'Maven',
  nuget: 'NuGet',
  composer: 'Packagist',
  rubygems: 'RubyGems',
  go: 'Go',
  rust: 'crates.io',
  erlang: 'Hex',
  pub: 'Pub',
};

/**
 * GitHub's `vulnerable_version_range` (">= 1.0.0, < 1.2.3", "<= 2.0", "= 1.0.1") as OSV events.
 * A "> X" lower bound has no OSV event: it is read as "introduced X" (X itself counts as affected),
 * as GitHub's own OSV export does.
 */
export function ghRangeToEvents(r: Reader, s: string, at: string): { events: RangeEvent[]; versions: string[] } {
  return constraintEvents(
    s.split(',').map((x) => x.trim()).filter(Boolean).map((part): Constraint => {
      const m = /^(>=|<=|>|<|=)\s*(\S+)$/.exec(part);
      if (!m) r.fail(at, `"${part}" is not a version constraint (>=, >, <, <=, = and a version)`);
      return [m[1] as Constraint[0], m[2]];
    }),
  );
}

/** A version constraint: an operator and the version it bounds. */
type Constraint = readonly ['>=' | '>' | '<' | '<=' | '=', string];

/**
 * Constraints (GitHub ranges, vers) as OSV events and exact versions: a lower bound is
 * "introduced" ("> X" too: X itself counts as affected), "<" "fixed", "<=" "last_affected",
 * "=" one version; with no lower bound the range starts at "introduced 0".
 */
function constraintEvents(constraints: readonly Constraint[]): { events: RangeEvent[]; versions: string[] } {
  const events: RangeEvent[] = [];
  const versions: string[] = [];
  let lower = false;
  for (const [op, ver] of constraints) {
    if (op === '=') versions.push(ver);
    else if (op === '>=' || op === '>') {
      events.push({ introduced: ver });
      lower = true;
    } else if (op === '<') events.push({ fixed: ver });
    else events.push({ last_affected: ver });
  }
  if (!lower && events.length) events.unshift({ introduced: '0' });
  return { events, versions };
}

function ghAdvisory(r: Reader, v: Json, at: string, origin: string): Advisory {
  const o = r.obj(v, at);
  const id = r.id(o.ghsa_id, `${at}.ghsa_id`);
  const cve = r.optStr(o.cve_id, `${at}.cve_id`, LIMITS.id);
  let score: number | null = null;
  let vector: string | null = null;
  const cvssO = o.cvss && typeof o.cvss === 'object' ? (o.cvss as Record<string, Json>) : null;
  const vs = cvssO ? r.optStr(cvssO.vector_string, `${at}.cvss.vector_string`, 512) : null;
  if (vs) {
    const c = cvss(vs);
    if (c) {
      score = c.score;
      vector = vs;
    }
  }
  const word = severityWord(r.optStr(o.severity, `${at}.severity`, 32));
  const affected: AffectedPackage[] = [];
  for (const [i, x] of r.arr(o.vulnerabilities, `${at}.vulnerabilities`, LIMITS.affectedPerAdvisory).entries()) {
    const vo = r.obj(x, `${at}.vulnerabilities[${i}]`);
    const pkg = r.obj(vo.package, `${at}.vulnerabilities[${i}].package`);
    const ghEco = r.str(pkg.ecosystem, `${at}.vulnerabilities[${i}].package.ecosystem`, 64);
    const ecosystem = GH_ECOSYSTEMS[ghEco] ?? ghEco;
    const name = r.str(pkg.name, `${at}.vulnerabilities[${i}].package.name`, 512);
    const purl = purlOfOsvPackage(ecosystem, name);
    if (!purl) continue;
    const range = r.optStr(vo.vulnerable_version_range, `${at}.vulnerabilities[${i}].vulnerable_version_range`, 1024);
    if (!range) r.fail(`${at}.vulnerabilities[${i}].vulnerable_version_range`, 'missing: the affected versions are not known');
    const { events, versions } = ghRangeToEvents(r, range, `${at}.vulnerabilities[${i}].vulnerable_version_range`);
    const fp = vo.first_patched_version;
    const patched = typeof fp === 'string' ? fp : fp && typeof fp === 'object' ? (fp as Record<string, Json>).identifier : null;
    if (typeof patched === 'string' && !events.some((e) => e.fixed !== undefined || e.last_affected !== undefined) && events.length) events.push({ fixed: patched });
    affected.push({ ecosystem, name, purl, ranges: events.length ? [{ type: 'ECOSYSTEM', events }] : [], versions });
  }
  return {
    id,
    aliases: cve ? [r.id(cve, `${at}.cve_id`)] : [],
    summary: r.optStr(o.summary, `${at}.summary`, 1024) ?? '',
    details: r.optStr(o.description, `${at}.description`) ?? '',
    severity: word ?? (score !== null ? severityOfScore(score) : 'medium'),
    score,
    vector,
    published: r.optStr(o.published_at, `${at}.published_at`, 64),
    modified: r.optStr(o.updated_at, `${at}.updated_at`, 64),
    source: 'ghsa',
    affected,
    vex: [],
    references: r.arr(o.references, `${at}.references`, 256).map((x, i) => r.str(x, `${at}.references[${i}]`, 2048)),
    origin,
  };
}

// ---- CycloneDX VDR / VEX ------------------------------------------------------------

/** A vers range ("vers:npm/>=1.0.0|<2.0.0", purl-spec VERSION-RANGE-SPEC) as OSV events; "*" is every version. */
export function versToEvents(r: Reader, s: string, at: string): { ecosystemType: string; events: RangeEvent[]; versions: string[] } {
  const m = /^vers:([a-z0-9.+-]+)\/(.+)$/.exec(s);
  if (!m) r.fail(at, `"${s}" is not a vers range (vers:TYPE/CONSTRAINTS)`);
  const constraints: Constraint[] = [];
  for (const c of m[2].split('|').map((x) => x.trim())) {
    if (c === '*') {
      constraints.push(['>=', '0']);
      continue;
    }
    const cm = /^(>=|<=|!=|>|<|=)?(.+)$/.exec(c);
    if (!cm) r.fail(at, `"${c}" is not a vers constraint`);
    const op = cm[1] ?? '=';
    const ver = decodeURIComponent(cm[2]);
    if (op === '!=') continue; // an exclusion narrows a range; not representable as an OSV event: ignored (errs towards affected)
    constraints.push([op as Constraint[0], ver]);
  }
  return { ecosystemType: m[1], ...constraintEvents(constraints) };
}

const VEX_STATES: Record<string, VexStatement['status']> = {
  not_affected: 'not_affected',
  false_positive: 'not_affected',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: 'affected',
  in_triage: 'under_investigation',
};

function cdxVulnerabilities(r: Reader, doc: Record<string, Json>, origin: string): Advisory[] {
  const refs = new Map<string, string>();
  const walk = (list: Json, at: string): void => {
    for (const [i, c] of r.arr(list, at, 100_000).entries()) {
      const co = r.obj(c, `${at}[${i}]`);
      const ref = r.optStr(co['bom-ref'], `${at}[${i}].bom-ref`, 1024);
      const purl = r.optStr(co.purl, `${at}[${i}].purl`, 1024);
      if (ref && purl) refs.set(ref, purl);
      if (co.components) walk(co.components, `${at}[${i}].components`);
    }
  };
  walk(doc.components, 'components');
  const meta = doc.metadata && typeof doc.metadata === 'object' ? (doc.metadata as Record<string, Json>) : null;
  const metaComp = meta?.component && typeof meta.component === 'object' ? (meta.component as Record<string, Json>) : null;
  if (metaComp && typeof metaComp['bom-ref'] === 'string' && typeof metaComp.purl === 'string') refs.set(metaComp['bom-ref'], metaComp.purl);
  const out: Advisory[] = [];
  for (const [i, v] of r.arr(doc.vulnerabilities, 'vulnerabilities', LIMITS.advisoriesPerFile).entries()) {
    const at = `vulnerabilities[${i}]`;
    const o = r.obj(v, at);
    const id = r.id(o.id, `${at}.id`);
    let severity: Severity | null = null;
    let score: number | null = null;
    let vector: string | null = null;
    for (const [j, x] of r.arr(o.ratings, `${at}.ratings`, 32).entries()) {
      const ro = r.obj(x, `${at}.ratings[${j}]`);
      const vs = r.optStr(ro.vector, `${at}.ratings[${j}].vector`, 512);
      const c = vs ? cvss(vs.startsWith('CVSS:') || !/^AV:/.test(vs) ? vs : `CVSS:3.1/${vs}`) : null;
      const sc = typeof ro.score === 'number' && Number.isFinite(ro.score) ? ro.score : (c?.score ?? null);
      const word = severityWord(r.optStr(ro.severity, `${at}.ratings[${j}].severity`, 32));
      const sev = word ?? (sc !== null ? severityOfScore(sc) : null);
      if (sev && (severity === null || SEV_ORDER[sev] > SEV_ORDER[severity])) {
        severity = sev;
        score = sc;
        vector = vs;
      }
    }
    const analysis = o.analysis && typeof o.analysis === 'object' ? (o.analysis as Record<string, Json>) : null;
    const state = analysis ? r.optStr(analysis.state, `${at}.analysis.state`, 64) : null;
    const status = state ? VEX_STATES[state] : undefined;
    if (state && !status) r.fail(`${at}.analysis.state`, `"${state}" is not a CycloneDX analysis state`);
    const justification = analysis ? (r.optStr(analysis.justification, `${at}.analysis.justification`, 128) ?? undefined) : undefined;
    const detail = analysis ? (r.optStr(analysis.detail, `${at}.analysis.detail`) ?? undefined) : undefined;
    const affected: AffectedPackage[] = [];
    const vex: VexStatement[] = [];
    for (const [j, a] of r.arr(o.affects, `${at}.affects`, LIMITS.affectedPerAdvisory).entries()) {
      const ao = r.obj(a, `${at}.affects[${j}]`);
      const ref = r.str(ao.ref, `${at}.affects[${j}].ref`, 1024);
      const purlText = refs.get(ref) ?? (ref.startsWith('pkg:') ? ref : null);
      if (!purlText) r.fail(`${at}.affects[${j}].ref`, `"${ref}" names no component with a purl in this document`);
      const p = parsePurl(purlText);
      if ('error' in p) r.fail(`${at}.affects[${j}].ref`, p.error);
      const versions: string[] = [];
      const ranges: AffectedRange[] = [];
      const unaffected: string[] = [];
      for (const [k, vv] of r.arr(ao.versions, `${at}.affects[${j}].versions`, LIMITS.versionsPerPackage).entries()) {
        const vo = r.obj(vv, `${at}.affects[${j}].versions[${k}]`);
        const st = r.optStr(vo.status, `${at}.affects[${j}].versions[${k}].status`, 32) ?? 'affected';
        const ver = r.optStr(vo.version, `${at}.affects[${j}].versions[${k}].version`, 256);
        const range = r.optStr(vo.range, `${at}.affects[${j}].versions[${k}].range`, 2048);
        if (st === 'unaffected') {
          if (ver) unaffected.push(ver);
          continue;
        }
        if (st !== 'affected') continue; // unknown: says nothing
        if (ver) versions.push(ver);
        if (range) {
          const e = versToEvents(r, range, `${at}.affects[${j}].versions[${k}].range`);
          versions.push(...e.versions);
          if (e.events.length) ranges.push({ type: 'ECOSYSTEM', events: e.events });
        }
      }
      // no versions given: the component named, at its own version
      if (versions.length === 0 && ranges.length === 0 && p.version && status !== 'not_affected') versions.push(p.version);
      const ecosystem = ecosystemOfPurlType(p.type, p.key.split('/')[1] || undefined);
      if (!ecosystem) for (const rg of ranges) rg.type = 'SEMVER';
      if (versions.length || ranges.length) affected.push({ ecosystem, name: p.key, purl: p.key, ranges, versions });
      for (const u of unaffected) vex.push({ product: `${p.key}@${u}`, status: 'not_affected', ...(justification ? { justification } : {}), ...(detail ? { detail } : {}) });
      if (status) vex.push({ product: purlText, status, ...(justification ? { justification } : {}), ...(detail ? { detail } : {}) });
    }
    const src = o.source && typeof o.source === 'object' ? (o.source as Record<string, Json>) : null;
    out.push({
      id,
      aliases: [],
      summary: r.optStr(o.description, `${at}.description`, 1024) ?? '',
      details: r.optStr(o.detail, `${at}.detail`) ?? '',
      severity: severity ?? 'medium',
      score,
      vector,
      published: r.optStr(o.published, `${at}.published`, 64),
      modified: r.optStr(o.updated, `${at}.updated`, 64),
      source: 'cyclonedx',
      affected,
      vex,
      references: src && typeof src.url === 'string' ? [r.str(src.url, `${at}.source.url`, 2048)] : [],
      origin,
    });
  }
  return out;
}

const SEV_ORDER: Record<Severity, number> = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

// ---- format detection ---------------------------------------------------------------

export type AdvisoryFormat = 'osv' | 'github' | 'cyclonedx';

/** Parse one file's text: OSV (one record or a list), GitHub advisory JSON (one or a list), or a CycloneDX BOM with vulnerabilities. */
export function parseAdvisories(file: string, text: string): { format: AdvisoryFormat; advisories: Advisory[] } {
  const r: Reader = new Reader(file);
  if (Buffer.byteLength(text) > LIMITS.fileBytes) r.fail('$', `larger than ${LIMITS.fileBytes} bytes`);
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    r.fail('$', `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const list = Array.isArray(doc) ? doc : [doc];
  if (list.length > LIMITS.advisoriesPerFile) r.fail('$', `more than ${LIMITS.advisoriesPerFile} advisories in one file`);
  const first = list[0];
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    const f = first as Record<string, Json>;
    if (!Array.isArray(doc) && f.bomFormat === 'CycloneDX') return { format: 'cyclonedx', advisories: cdxVulnerabilities(r, f, file) };
    if ('ghsa_id' in f && 'vulnerabilities' in f) {
      return { format: 'github', advisories: list.map((x, i) => ghAdvisory(r, x, Array.isArray(doc) ? `$[${i}]` : '$', file)) };
    }
    if ('id' in f && ('affected' in f || 'modified' in f || 'schema_version' in f)) {
      return { format: 'osv', advisories: list.map((x, i) => osvAdvisory(r, x, Array.isArray(doc) ? `$[${i}]` : '$', file)) };
    }
  }
  return r.fail('$', 'not an advisory: expected OSV JSON (id, affected), GitHub advisory JSON (ghsa_id, vulnerabilities) or a CycloneDX BOM (bomFormat) with vulnerabilities');
}

/** `vigil advisories add`: an internal report (security.txt intake after triage), the same kind of advisory. */
export function internalAdvisory(a: { id: string; purl: string; affected: string; severity: Severity; summary: string; fixed?: string }): Advisory {
  const r: Reader = new Reader('vigil advisories add');
  const id = r.id(a.id, '--id');
  const p = parsePurl(a.purl);
  if ('error' in p) r.fail('--purl', p.error);
  if (p.version) r.fail('--purl', 'give the package without a version (the versions go in --affected)');
  const affectedText = r.str(a.affected, '--affected', 1024);
  const { events, versions } = affectedText.startsWith('vers:') ? versToEvents(r, affectedText, '--affected') : ghRangeToEvents(r, affectedText, '--affected');
  if (a.fixed && !events.some((e) => e.fixed !== undefined)) events.push({ fixed: r.str(a.fixed, '--fixed', 256) });
  const ecosystem = ecosystemOfPurlType(p.type, p.key.split('/')[1] || undefined);
  return {
    id,
    aliases: [],
    summary: r.str(a.summary, '--summary', 1024),
    details: '',
    severity: a.severity,
    score: null,
    vector: null,
    published: new Date().toISOString(),
    modified: new Date().toISOString(),
    source: 'internal',
    // a purl type with no OSV ecosystem here (generic, oci, ...): its versions are read as SemVer
    affected: [{ ecosystem, name: p.key, purl: p.key, ranges: events.length ? [{ type: ecosystem ? 'ECOSYSTEM' : 'SEMVER', events }] : [], versions }],
    vex: [],
    references: [],
    origin: 'vigil advisories add',
  };
}
