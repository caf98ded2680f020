// Version order per ecosystem, for OSV ranges (osv-range.ts). OSV says a
// range's events are versions "in the ecosystem's own ordering": SEMVER
// ranges use Semantic Versioning 2.0 (the semver package), ECOSYSTEM ranges
// the package manager's rules. What is here:
//   npm, Go, crates.io, NuGet, Packagist, Hex, Pub: SemVer 2.0 (a leading "v" is dropped)
//   PyPI: PEP 440 (@renovatebot/pep440, Renovate's implementation)
//   Debian, Ubuntu: dpkg's order (epoch, upstream, revision; "~" before
//     everything), written here from Debian Policy 5.6.12: no npm library does it
// Everything else (Maven, RubyGems, Alpine, ...): no order, so only the
// advisory's explicit `versions` list can match (osv-range.ts says so in the match).
import { compare as pep440Compare, valid as pep440Valid } from '@renovatebot/pep440';
import * as semver from 'semver';

/** -1, 0, 1; or null when either side is not a version of this ecosystem. */
export type VersionCompare = (a: string, b: string) => number | null;

function semverOf(v: string): semver.SemVer | null {
  const s = v.startsWith('v') ? v.slice(1) : v;
  return semver.valid(s) ? new semver.SemVer(s) : null;
}

export const compareSemver: VersionCompare = (a, b) => {
  const x = semverOf(a);
  const y = semverOf(b);
  if (!x || !y) return null;
  return semver.compare(x, y);
};

export const comparePep440: VersionCompare = (a, b) => {
  if (!pep440Valid(a) || !pep440Valid(b)) return null;
  const c = pep440Compare(a, b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
};

// ---- dpkg (Debian Policy 5.6.12 "Version") ----------------------------------

const DEB = /^(?:(\d+):)?([0-9][A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9+.~]+))?$/;

/** dpkg's character order in the non-digit parts: "~" first, then the end of the part, then letters, then the rest. */
function debOrder(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function debPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // the non-digit prefix, character by character
    while ((i < a.length && !/\d/.test(a[i])) || (j < b.length && !/\d/.test(b[j]))) {
      const ca = i < a.length && !/\d/.test(a[i]) ? a[i] : undefined;
      const cb = j < b.length && !/\d/.test(b[j]) ? b[j] : undefined;
      const d = debOrder(ca) - debOrder(cb);
      if (d !== 0) return d < 0 ? -1 : 1;
      if (ca !== undefined) i++;
      if (cb !== undefined) j++;
    }
    // then the digits, as numbers
    let na = '';
    let nb = '';
    while (i < a.length && /\d/.test(a[i])) na += a[i++];
    while (j < b.length && /\d/.test(b[j])) nb += b[j++];
    const x = BigInt(na || '0');
    const y = BigInt(nb || '0');
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export const compareDebian: VersionCompare = (a, b) => {
  const x = DEB.exec(a);
  const y = DEB.exec(b);
  if (!x || !y) return null;
  const e = BigInt(x[1] ?? '0') - BigInt(y[1] ?? '0');
  if (e !== 0n) return e < 0n ? -1 : 1;
  return debPart(x[2], y[2]) || debPart(x[3] ?? '0', y[3] ?? '0');
};

/** OSV ecosystem names ("Debian:12" -> "Debian") to their order; undefined: not supported here. */
export function ecosystemCompare(ecosystem: string): VersionCompare | undefined {
  const base = ecosystem.split(':')[0];
  switch (base) {
    case 'npm':
    case 'Go':
    case 'crates.io':
    case 'NuGet':
    case 'Packagist':
    case 'Hex':
    case 'Pub':
      return compareSemver;
    case 'PyPI':
      return comparePep440;
    case 'Debian':
    case 'Ubuntu':
      return compareDebian;
    default:
      return undefined;
  }
}
