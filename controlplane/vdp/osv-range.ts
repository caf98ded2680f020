// Is this version of a package affected? The OSV schema's evaluation
// ("Evaluation" in the OSV schema): a version is affected when it is listed
// in `versions`, or when it falls in a range. In a range, events are sorted
// by version ("0" first, meaning "from the very beginning"); walking them,
// `introduced` at or below the version turns "affected" on, `fixed` at or
// below it turns it off, `last_affected` below it turns it off; a `limit`
// bounds the range (versions at or above every limit are outside it).
//
// What is evaluated: SEMVER ranges (SemVer 2.0), ECOSYSTEM ranges of the
// ecosystems in versions.ts. Not evaluated: GIT ranges (commit hashes: the
// component's version would have to be placed in the repository's history,
// which Vigil does not have; OSV's `versions` list, which osv.dev computes
// from them, is used instead) and ECOSYSTEM ranges of other ecosystems.
// Those give `unknown` with the reason, never a silent "not affected".
import type { AffectedPackage, AffectedRange, RangeEvent } from './advisory';
import { compareSemver, ecosystemCompare, type VersionCompare } from './versions';

export type Verdict =
  | { affected: true; why: string; fixed: string[] }
  | { affected: false; why: string; fixed: string[] }
  | { affected: 'unknown'; why: string; fixed: string[] };

function eventVersion(e: RangeEvent): string {
  return e.introduced ?? e.fixed ?? e.last_affected ?? e.limit ?? '';
}

/** One range, evaluated; null when its versions are not comparable (cannot tell). */
export function inRange(version: string, r: AffectedRange, cmp: VersionCompare): boolean | null {
  const zero = (e: RangeEvent): boolean => e.introduced === '0';
  const evs = [...r.events];
  // every event version must be comparable with the candidate
  for (const e of evs) if (!zero(e) && cmp(version, eventVersion(e)) === null) return null;
  evs.sort((a, b) => {
    if (zero(a)) return zero(b) ? 0 : -1;
    if (zero(b)) return 1;
    return cmp(eventVersion(a), eventVersion(b)) ?? 0;
  });
  let affected = false;
  for (const e of evs) {
    if (e.introduced !== undefined) {
      if (zero(e) || (cmp(version, e.introduced) ?? -1) >= 0) affected = true;
    } else if (e.fixed !== undefined) {
      if ((cmp(version, e.fixed) ?? -1) >= 0) affected = false;
    } else if (e.last_affected !== undefined) {
      if ((cmp(version, e.last_affected) ?? -1) > 0) affected = false;
    }
  }
  const limits = evs.filter((e) => e.limit !== undefined);
  if (affected && limits.length > 0 && !limits.some((e) => e.limit === '*' || (cmp(version, e.limit as string) ?? 1) < 0)) affected = false;
  return affected;
}

/** The fixed versions a package's ranges name (for tickets and the gate). */
export function fixedVersions(p: AffectedPackage): string[] {
  return p.ranges.flatMap((r) => r.events.filter((e) => e.fixed !== undefined).map((e) => e.fixed as string));
}

/** Is `version` of this package affected? */
export function evaluate(p: AffectedPackage, version: string): Verdict {
  const fixed = fixedVersions(p);
  if (p.versions.includes(version)) return { affected: true, why: `${version} is listed in the advisory's versions`, fixed };
  const unknown: string[] = [];
  let evaluated = false;
  for (const r of p.ranges) {
    let cmp: VersionCompare | undefined;
    if (r.type === 'SEMVER') cmp = compareSemver;
    else if (r.type === 'ECOSYSTEM') cmp = ecosystemCompare(p.ecosystem);
    if (!cmp) {
      unknown.push(r.type === 'GIT' ? 'GIT ranges (commit hashes) are not evaluated' : `ECOSYSTEM ranges of ${p.ecosystem || 'this ecosystem'} are not evaluated`);
      continue;
    }
    const hit = inRange(version, r, cmp);
    if (hit === null) {
      unknown.push(`"${version}" or a range bound is not a ${r.type === 'SEMVER' ? 'SemVer' : p.ecosystem} version`);
      continue;
    }
    evaluated = true;
    if (hit) return { affected: true, why: `${version} is in the ${r.type} range ${describeRange(r)}`, fixed };
  }
  if (unknown.length > 0 && !evaluated && p.versions.length === 0) return { affected: 'unknown', why: unknown.join('; '), fixed };
  if (unknown.length > 0 && !evaluated) return { affected: 'unknown', why: `${version} is not in the listed versions, and ${unknown.join('; ')}`, fixed };
  return { affected: false, why: p.ranges.length ? `${version} is outside ${p.ranges.map(describeRange).join(', ')}` : `${version} is not listed`, fixed };
}

export function describeRange(r: AffectedRange): string {
  return `[${r.events
    .map((e) => (e.introduced !== undefined ? `introduced ${e.introduced}` : e.fixed !== undefined ? `fixed ${e.fixed}` : e.last_affected !== undefined ? `last_affected ${e.last_affected}` : `limit ${e.limit}`))
    .join(', ')}]`;
}
