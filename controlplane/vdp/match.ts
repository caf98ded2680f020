// Advisories x the fleet: every component of every running image whose
// package and version an advisory names (OSV range semantics,
// osv-range.ts), graded with the runtime evidence:
//   affected             a file of the component was loaded (it runs)
//   not_affected         a VEX source says so, or none of its files was loaded during an
//                        observation window without gaps at least `minWindowMs` long
//                        (justification vulnerable_code_not_in_execute_path)
//   under_investigation  otherwise: a shorter or broken window, files unknown, or a range
//                        that cannot be evaluated for this ecosystem
import type { Advisory, Severity, VexStatement } from './advisory';
import type { ComponentReach, ImageInventory, InventoryComponent } from './inventory';
import { evaluate } from './osv-range';
import { parsePurl } from './purl';

export type MatchStatus = 'affected' | 'not_affected' | 'under_investigation';

export interface Match {
  advisory: string;
  severity: Severity;
  digest: string;
  image: string;
  purl: string;
  version: string;
  status: MatchStatus;
  /** the VEX justification of not_affected */
  justification: string | null;
  reachability: ComponentReach['state'];
  /** why the version is affected (the range it falls in) */
  why: string;
  /** one sentence of runtime evidence, for people and tickets */
  evidence: string;
  fixed: string[];
  reach: ComponentReach;
}

const DAY_NS = 86_400_000_000_000n;

function nsAge(fromNs: string, toNs: string): string {
  const d = BigInt(toNs) - BigInt(fromNs);
  if (d >= DAY_NS) return `${(Number(d / 3_600_000_000_000n) / 24).toFixed(1)} days`;
  if (d >= 3_600_000_000_000n) return `${(Number(d / 60_000_000_000n) / 60).toFixed(1)} hours`;
  return `${(Number(d / 1_000_000n) / 1000).toFixed(1)} s`;
}

function isoOf(ns: string): string {
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
}

export function evidenceSentence(r: ComponentReach): string {
  switch (r.state) {
    case 'loaded':
      return `loaded and running: ${r.files.slice(0, 5).join(', ')}${r.files.length > 5 ? ` and ${r.files.length - 5} more files` : ''} loaded by ${r.processes} process${r.processes === 1 ? '' : 'es'} in ${r.containers} container${r.containers === 1 ? '' : 's'} on ${r.nodes} node${r.nodes === 1 ? '' : 's'}, first at ${isoOf(r.first_ns)}`;
    case 'not_loaded':
      return `present but never loaded: none of its ${r.files} files loaded since ${isoOf(r.since_ns)} (${nsAge(r.since_ns, r.until_ns)} watched in ${r.containers} container${r.containers === 1 ? '' : 's'} on ${r.nodes.length} node${r.nodes.length === 1 ? '' : 's'}${r.gaps ? `, after ${r.gaps} gap${r.gaps === 1 ? '' : 's'}` : ''})`;
    case 'unknown':
      return `no runtime evidence: ${r.reason}`;
  }
}

/** The advisory's own VEX word on this component, if any (by purl with version, then by package). */
function vexFor(a: Advisory, key: string, version: string): VexStatement | null {
  let byPackage: VexStatement | null = null;
  for (const s of a.vex) {
    const p = parsePurl(s.product);
    if ('error' in p || p.key !== key) continue;
    if (p.version === version) return s;
    if (p.version === null) byPackage = s;
  }
  return byPackage;
}

export interface MatchOptions {
  /** how long a component must have been watched without a load to be not_affected */
  minWindowMs: number;
}

/** Grade one affected component. */
export function grade(a: Advisory, c: InventoryComponent, rangeKnown: boolean, opts: MatchOptions): { status: MatchStatus; justification: string | null } {
  const vex = vexFor(a, c.purl_key, c.version);
  if (vex && vex.status === 'not_affected') return { status: 'not_affected', justification: vex.justification ?? 'vex' };
  if (vex && vex.status === 'fixed') return { status: 'not_affected', justification: 'fixed' };
  const r = c.reach;
  if (r.state === 'loaded') return { status: 'affected', justification: null };
  if (!rangeKnown) return { status: 'under_investigation', justification: null };
  if (r.state === 'not_loaded') {
    const watchedMs = Number((BigInt(r.until_ns) - BigInt(r.since_ns)) / 1_000_000n);
    if (watchedMs >= opts.minWindowMs) return { status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' };
  }
  return { status: 'under_investigation', justification: null };
}

/** Every match of these advisories in the inventory's images. */
export function matchAll(advisories: readonly Advisory[], inv: ImageInventory, opts: MatchOptions): Match[] {
  // package key -> (advisory, package) pairs
  const byKey = new Map<string, { a: Advisory; i: number }[]>();
  for (const a of advisories) {
    a.affected.forEach((p, i) => {
      const l = byKey.get(p.purl);
      if (l) l.push({ a, i });
      else byKey.set(p.purl, [{ a, i }]);
    });
  }
  const out: Match[] = [];
  for (const img of inv.images()) {
    const seen = new Set<string>();
    for (const c of inv.components(img.digest)) {
      if (!c.purl_key) continue;
      for (const { a, i } of byKey.get(c.purl_key) ?? []) {
        const k = `${a.id}\u0000${c.purl_key}\u0000${c.version}`;
        if (seen.has(k)) continue;
        const v = evaluate(a.affected[i], c.version);
        if (v.affected === false) continue;
        seen.add(k);
        const g = grade(a, c, v.affected === true, opts);
        out.push({
          advisory: a.id,
          severity: a.severity,
          digest: img.digest,
          image: img.name,
          purl: c.purl || `pkg:${c.purl_key}@${c.version}`,
          version: c.version,
          status: g.status,
          justification: g.justification,
          reachability: c.reach.state,
          why: v.why,
          evidence: evidenceSentence(c.reach),
          fixed: v.fixed,
          reach: c.reach,
        });
      }
    }
  }
  return out;
}
