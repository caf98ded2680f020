// Package URLs (purl spec, parsed by packageurl-js, the reference
// implementation) as advisories and SBOM components name packages: the
// version-less key that an advisory's package and a component must share,
// and the OSV ecosystem <-> purl type table (OSV schema, "Affected package"
// ecosystems; purl-spec PURL-TYPES).
import { PackageURL } from 'packageurl-js';
import { packageKey, parsePurl as parseCommonPurl } from '../../common/purl';

export interface ParsedPurl {
  /** "type/namespace/name" lowercased (common/purl.ts packageKey): the package, whatever its version */
  key: string;
  type: string;
  version: string | null;
}

/** A purl as advisories need it (common/purl.ts parses), or why it is not one. */
export function parsePurl(s: string): ParsedPurl | { error: string } {
  const p = parseCommonPurl(s);
  if (!p) return { error: `"${s.slice(0, 200)}" is not a package URL (pkg:type/namespace/name@version)` };
  return { key: packageKey(p.type, p.namespace, p.name), type: p.type, version: p.version };
}

/** OSV ecosystem (the part before ":") -> purl type and namespace. */
const ECOSYSTEM_TYPES: Record<string, { type: string; namespace?: string }> = {
  npm: { type: 'npm' },
  PyPI: { type: 'pypi' },
  Go: { type: 'golang' },
  'crates.io': { type: 'cargo' },
  Maven: { type: 'maven' },
  RubyGems: { type: 'gem' },
  NuGet: { type: 'nuget' },
  Packagist: { type: 'composer' },
  Hex: { type: 'hex' },
  Pub: { type: 'pub' },
  Debian: { type: 'deb', namespace: 'debian' },
  Ubuntu: { type: 'deb', namespace: 'ubuntu' },
  Alpine: { type: 'apk', namespace: 'alpine' },
};

/** The package key of an OSV package ({ecosystem, name}); null for an ecosystem without a purl type here. */
export function purlOfOsvPackage(ecosystem: string, name: string): string | null {
  const t = ECOSYSTEM_TYPES[ecosystem.split(':')[0]];
  if (!t || !name) return null;
  let namespace: string | undefined = t.namespace;
  let n = name;
  if (t.type === 'maven') {
    // Maven names are group:artifact
    const i = name.indexOf(':');
    if (i <= 0) return null;
    namespace = name.slice(0, i);
    n = name.slice(i + 1);
  } else if (t.type === 'npm' || t.type === 'golang' || t.type === 'composer') {
    // @scope/name, github.com/org/mod, vendor/name: the last segment is the name
    const i = name.lastIndexOf('/');
    if (i > 0) {
      namespace = name.slice(0, i);
      n = name.slice(i + 1);
    }
  }
  try {
    // through PackageURL: the type's own normalization (pypi lower case and "-", ...)
    const p = new PackageURL(t.type, namespace, n, undefined, undefined, undefined);
    return packageKey(p.type, p.namespace ?? null, p.name);
  } catch {
    return null;
  }
}

/** The OSV ecosystem a purl type stands for (for advisories entered by purl). */
export function ecosystemOfPurlType(type: string, namespace?: string): string {
  for (const [eco, t] of Object.entries(ECOSYSTEM_TYPES)) {
    if (t.type === type && (t.namespace === undefined || t.namespace === namespace)) return eco;
  }
  return '';
}
