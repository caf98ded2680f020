// SBOMs in: CycloneDX 1.5/1.6 JSON and SPDX 2.3 JSON, in the shapes syft
// and trivy write them. Components become ComponentIn (controlplane/reach/
// store.ts) with the files each owns, from whatever the SBOM carries:
//   - CycloneDX components[].evidence.occurrences[].location (1.5+),
//   - syft's properties syft:location:N:path,
//   - trivy's aquasecurity:trivy:FilePath where it names the code itself
//     (a jar, a Go or Rust binary; for Python and npm packages it names a
//     metadata file no process loads, so those are left to the image's
//     package databases),
//   - SPDX files[] joined through CONTAINS relationships or hasFiles.
// Paths are made absolute and normal; a path that climbs out of the root is
// refused and counted, never guessed at.
//
// A location that is a package database or a package's metadata file
// (/var/lib/dpkg/status, *.dist-info/METADATA, package.json: where syft
// FOUND the package) is not a file OF the package: no process loads it, so
// counting it would make every such package look "never loaded". Those
// locations are dropped here, and the package's real files come from the
// image's package databases (the agent reads them).
import { createHash } from 'node:crypto';
import { parsePurl } from '../../../common/purl';
import type { ComponentIn, FileSource } from '../store';
import { At, imagePath, type Loaded } from './json-shape';

export interface ParsedSbom {
  /** cyclonedx-1.5, cyclonedx-1.6, spdx-2.3 */
  format: string;
  /** sha256 of the document's bytes (hex) */
  sha256: string;
  components: ComponentIn[];
  /** what was refused (paths out of the root, purls that are not purls), first few named, all counted */
  refused: { count: number; first: string[] };
}

const METADATA = [
  /^\/var\/lib\/dpkg\/(status|status\.d\/.*|info\/.*)$/,
  /^\/lib\/apk\/db\/.*$/,
  /^\/var\/lib\/rpm\/.*$/,
  /^\/usr\/lib\/sysimage\/rpm\/.*$/,
  /\.(dist-info|egg-info)\/(METADATA|RECORD|PKG-INFO|INSTALLER|WHEEL|top_level\.txt)$/,
  /\.egg-info$/,
  /\/(package\.json|package-lock\.json|yarn\.lock|pnpm-lock\.yaml|go\.mod|go\.sum|Cargo\.lock|Gemfile\.lock|composer\.lock|requirements\.txt|pom\.properties|pom\.xml)$/,
  /\.gemspec$/,
];

/** A package database or a package's metadata file: where a package was found, not code it runs. */
export function isPackageMetadata(p: string): boolean {
  return METADATA.some((re) => re.test(p));
}

class Refusals {
  count = 0;
  first: string[] = [];
  add(why: string): void {
    this.count++;
    if (this.first.length < 10) this.first.push(why);
  }
}

/** Which SBOM format a document is (null: not one we read). */
export function sbomFormat(root: At): string | null {
  if (!root.isObject()) return null;
  if (root.has('bomFormat')) return 'cyclonedx';
  if (root.has('spdxVersion')) return 'spdx';
  return null;
}

export function parseSbom(doc: Loaded): ParsedSbom {
  const root = At.root(doc);
  root.object();
  const sha256 = createHash('sha256').update(doc.bytes).digest('hex');
  switch (sbomFormat(root)) {
    case 'cyclonedx':
      return parseCycloneDx(root, sha256);
    case 'spdx':
      return parseSpdx(root, sha256);
    default:
      return root.fail('not an SBOM we read: expected CycloneDX JSON (bomFormat) or SPDX JSON (spdxVersion)');
  }
}

function checkedPurl(at: At, key: string, refused: Refusals): string {
  const p = at.str(key, '');
  if (!p) return '';
  if (!parsePurl(p)) {
    refused.add(`${at.path}.${key}: "${p.slice(0, 100)}" is not a package URL (ignored)`);
    return '';
  }
  return p;
}

// ---- CycloneDX ----------------------------------------------------------------

const CDX_VERSIONS = ['1.5', '1.6'];
const TRIVY_BINARY_TYPES = new Set(['gobinary', 'rustbinary', 'jar', 'pom', 'gradle']);

function parseCycloneDx(root: At, sha256: string): ParsedSbom {
  if (root.str('bomFormat') !== 'CycloneDX') root.get('bomFormat').fail(`expected "CycloneDX", got "${root.str('bomFormat').slice(0, 40)}"`);
  const v = root.str('specVersion');
  if (!CDX_VERSIONS.includes(v)) root.get('specVersion').fail(`CycloneDX ${v.slice(0, 20)} is not read: 1.5 and 1.6 are (JSON)`);
  const refused = new Refusals();
  const out: ComponentIn[] = [];
  const refs = new Set<string>();
  const walk = (list: At[]): void => {
    for (const c of list) {
      c.object();
      const type = c.str('type');
      // syft lists files as components of their own (type file): they are not packages
      if (type !== 'file') {
        const comp = cdxComponent(c, type, refused);
        if (refs.has(comp.ref)) c.get('bom-ref').fail(`"${comp.ref.slice(0, 100)}" appears twice`);
        refs.add(comp.ref);
        out.push(comp);
      }
      walk(c.list('components'));
    }
  };
  walk(root.list('components'));
  return { format: `cyclonedx-${v}`, sha256, components: out, refused: { count: refused.count, first: refused.first } };
}

function cdxComponent(c: At, type: string, refused: Refusals): ComponentIn {
  const name = c.str('name');
  const version = c.str('version', '');
  const purl = checkedPurl(c, 'purl', refused);
  const ref = c.str('bom-ref', '') || purl || `${name}@${version}`;
  const files = new Map<string, FileSource>();
  const add = (at: At, raw: string, source: FileSource): void => {
    const p = imagePath(raw);
    if (!p) {
      refused.add(`${at.path}: "${raw.slice(0, 100)}" is not a path inside the image (ignored)`);
      return;
    }
    if (isPackageMetadata(p)) return;
    if (!files.has(p)) files.set(p, source);
  };
  if (c.has('evidence')) {
    const ev = c.get('evidence');
    for (const o of ev.list('occurrences')) add(o.get('location'), o.str('location'), 'cyclonedx-occurrences');
  }
  let trivyType = '';
  const trivyPaths: [At, string][] = [];
  for (const p of c.list('properties')) {
    const pname = p.str('name');
    if (/^syft:location:\d+:path$/.test(pname)) add(p.get('value'), p.str('value'), 'syft-location');
    else if (pname === 'aquasecurity:trivy:PkgType') trivyType = p.str('value', '');
    else if (pname === 'aquasecurity:trivy:FilePath') trivyPaths.push([p.get('value'), p.str('value', '')]);
  }
  for (const [at, raw] of trivyPaths) {
    if (TRIVY_BINARY_TYPES.has(trivyType) || /\.(jar|war|ear)$/.test(raw)) add(at, raw, 'trivy-filepath');
  }
  return { ref, name, version, purl, type, files: [...files].map(([path, source]) => ({ path, source })) };
}

// ---- SPDX ---------------------------------------------------------------------

function parseSpdx(root: At, sha256: string): ParsedSbom {
  const v = root.str('spdxVersion');
  if (v !== 'SPDX-2.3') root.get('spdxVersion').fail(`${v.slice(0, 20)} is not read: SPDX-2.3 is (JSON)`);
  const refused = new Refusals();
  const files = new Map<string, string>();
  for (const f of root.list('files')) {
    const id = f.str('SPDXID');
    const raw = f.str('fileName');
    const p = imagePath(raw);
    if (!p) refused.add(`${f.path}.fileName: "${raw.slice(0, 100)}" is not a path inside the image (ignored)`);
    else if (!isPackageMetadata(p)) files.set(id, p);
  }
  const owned = new Map<string, Set<string>>();
  const own = (pkg: string, file: string): void => {
    const p = files.get(file);
    if (!p) return;
    let s = owned.get(pkg);
    if (!s) owned.set(pkg, (s = new Set()));
    s.add(p);
  };
  for (const r of root.list('relationships')) {
    const t = r.str('relationshipType');
    if (t === 'CONTAINS') own(r.str('spdxElementId'), r.str('relatedSpdxElement'));
    else if (t === 'CONTAINED_BY') own(r.str('relatedSpdxElement'), r.str('spdxElementId'));
  }
  const out: ComponentIn[] = [];
  const ids = new Set<string>();
  for (const p of root.list('packages')) {
    const id = p.str('SPDXID');
    if (ids.has(id)) p.get('SPDXID').fail(`"${id.slice(0, 100)}" appears twice`);
    ids.add(id);
    for (const f of p.list('hasFiles')) {
      const fid: unknown = f.value;
      if (typeof fid !== 'string') return f.fail('expected a string (an SPDXID)');
      own(id, fid);
    }
    let purl = '';
    for (const ref of p.list('externalRefs')) {
      const cat = ref.str('referenceCategory', '');
      if (ref.str('referenceType', '') === 'purl' && (cat === 'PACKAGE-MANAGER' || cat === 'PACKAGE_MANAGER')) {
        purl = checkedPurl(ref, 'referenceLocator', refused);
        if (purl) break;
      }
    }
    const name = p.str('name');
    // the document's own subject (the image, a directory) owns files too but is no package
    const purpose = p.str('primaryPackagePurpose', '');
    if (purpose === 'CONTAINER' || purpose === 'OPERATING-SYSTEM' || purpose === 'FILE') {
      if (!purl || purpose !== 'OPERATING-SYSTEM') continue;
    }
    out.push({
      ref: id,
      name,
      version: p.str('versionInfo', ''),
      purl,
      type: purl ? (parsePurl(purl)?.type ?? 'library') : 'library',
      files: [...(owned.get(id) ?? [])].map((path) => ({ path, source: 'spdx-contains' as const })),
    });
  }
  return { format: 'spdx-2.3', sha256, components: out, refused: { count: refused.count, first: refused.first } };
}
