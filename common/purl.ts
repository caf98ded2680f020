// Package URLs (purl spec) through packageurl-js, the reference
// implementation: building them for packages read from an image, and the
// key that says two purls name the same package whatever their version and
// qualifiers (an SBOM's pkg:deb/debian/libssl3@3.0.11?arch=amd64&distro=debian-12
// and a scanner's pkg:deb/debian/libssl3@3.0.11 are one package).
import { PackageURL } from 'packageurl-js';

export interface PurlParts {
  type: string;
  namespace: string | null;
  name: string;
  version: string | null;
}

const MAX_PURL = 2048;

/** Parse a purl; null when it is not one (or absurdly long). Names come out normalized per type (pypi lowercases, ...). */
export function parsePurl(s: string): PurlParts | null {
  if (s.length === 0 || s.length > MAX_PURL) return null;
  try {
    const p = PackageURL.fromString(s);
    return { type: p.type, namespace: p.namespace ?? null, name: p.name, version: p.version ?? null };
  } catch {
    return null;
  }
}

/** "type/namespace/name", lowercased: what joins components across SBOMs, package databases and scanner reports. Null for a string that is not a purl. */
export function purlKey(s: string): string | null {
  const p = parsePurl(s);
  return p ? packageKey(p.type, p.namespace, p.name) : null;
}

export function packageKey(type: string, namespace: string | null, name: string): string {
  return `${type}/${namespace ?? ''}/${name}`.toLowerCase();
}

/** A purl for a package found in an image; qualifiers with empty values are left out. */
export function makePurl(type: string, namespace: string | null, name: string, version: string | null, qualifiers?: Record<string, string>): string {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(qualifiers ?? {})) if (v) q[k] = v;
  return new PackageURL(type, namespace ?? undefined, name, version ?? undefined, Object.keys(q).length ? q : undefined, undefined).toString();
}
