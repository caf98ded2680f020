// Scanner findings in: grype JSON (`grype -o json`), trivy JSON (`trivy
// image -f json`, schema 2) and CycloneDX `vulnerabilities` (1.5/1.6, as
// grype and trivy write them with -o cyclonedx-json / -f cyclonedx). Each
// finding is one (vulnerability, package) pair; the package is named by purl
// when the report gives one, else by name, version and ecosystem.
import { createHash } from 'node:crypto';
import { makePurl, parsePurl } from '../../../common/purl';
import { At, type Loaded } from './json-shape';

export interface Finding {
  /** CVE-..., GHSA-..., as the scanner names it */
  id: string;
  aliases: string[];
  description: string;
  severity: string;
  /** '' when the report gives none and none could be built */
  purl: string;
  name: string;
  version: string;
}

export interface ParsedVulns {
  /** grype, trivy, cyclonedx */
  format: string;
  sha256: string;
  findings: Finding[];
}

/** Vulnerability ids: CVE-2024-1234, GHSA-xxxx-xxxx-xxxx, DSA-..., GO-..., and the like (no spaces, no control characters). */
const VULN_ID = /^[A-Za-z][A-Za-z0-9._:-]{1,127}$/;
const MAX_TEXT = 2000;

export function parseVulns(doc: Loaded): ParsedVulns {
  const root = At.root(doc);
  root.object();
  const sha256 = createHash('sha256').update(doc.bytes).digest('hex');
  let findings: Finding[];
  let format: string;
  if (root.has('matches')) {
    format = 'grype';
    findings = grype(root);
  } else if (root.has('SchemaVersion') || root.has('Results')) {
    format = 'trivy';
    findings = trivy(root);
  } else if (root.has('bomFormat')) {
    format = 'cyclonedx';
    findings = cycloneDxVulns(root);
  } else {
    return root.fail('not a scanner report we read: expected grype JSON (matches), trivy JSON (Results) or CycloneDX with vulnerabilities');
  }
  // one finding per (vulnerability, package): scanners repeat a package found in several places
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    const k = `${f.id}\u0000${f.purl || `${f.name}@${f.version}`}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return { format, sha256, findings: out };
}

function vulnId(at: At, key: string): string {
  const id = at.str(key);
  if (!VULN_ID.test(id)) at.get(key).fail(`"${id.slice(0, 60)}" is not a vulnerability id`);
  return id;
}

const text = (s: string): string => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}...` : s);

function purlOf(at: At, key: string): string {
  const p = at.str(key, '');
  if (p && !parsePurl(p)) at.get(key).fail(`"${p.slice(0, 100)}" is not a package URL`);
  return p;
}

// grype: matches[].vulnerability + relatedVulnerabilities + artifact
function grype(root: At): Finding[] {
  return root.list('matches').map((m) => {
    const v = m.get('vulnerability');
    const a = m.get('artifact');
    const aliases = m
      .list('relatedVulnerabilities')
      .map((r) => r.str('id'))
      .filter((x) => VULN_ID.test(x));
    return {
      id: vulnId(v, 'id'),
      aliases: [...new Set(aliases)].filter((x) => x !== v.str('id')),
      description: text(v.str('description', '')),
      severity: v.str('severity', ''),
      purl: purlOf(a, 'purl'),
      name: a.str('name'),
      version: a.str('version', ''),
    };
  });
}

/** trivy's Result.Type (the OS family or language) -> a purl type, for reports without PkgIdentifier */
const TRIVY_TYPES: Record<string, [string, string | null]> = {
  debian: ['deb', 'debian'],
  ubuntu: ['deb', 'ubuntu'],
  alpine: ['apk', 'alpine'],
  wolfi: ['apk', 'wolfi'],
  redhat: ['rpm', 'redhat'],
  centos: ['rpm', 'centos'],
  rocky: ['rpm', 'rocky-linux'],
  alma: ['rpm', 'almalinux'],
  amazon: ['rpm', 'amazon'],
  'python-pkg': ['pypi', null],
  pip: ['pypi', null],
  pipenv: ['pypi', null],
  poetry: ['pypi', null],
  'node-pkg': ['npm', null],
  npm: ['npm', null],
  yarn: ['npm', null],
  gobinary: ['golang', null],
  gomod: ['golang', null],
  jar: ['maven', null],
  cargo: ['cargo', null],
};

// trivy: Results[].Vulnerabilities[]
function trivy(root: At): Finding[] {
  const sv = root.num('SchemaVersion', 2);
  if (sv !== 2) root.get('SchemaVersion').fail(`trivy schema ${sv} is not read: 2 is`);
  const out: Finding[] = [];
  for (const r of root.list('Results')) {
    const type = r.str('Type', '');
    for (const v of r.list('Vulnerabilities')) {
      const name = v.str('PkgName');
      const version = v.str('InstalledVersion', '');
      let purl = v.has('PkgIdentifier') ? purlOf(v.get('PkgIdentifier'), 'PURL') : '';
      if (!purl && TRIVY_TYPES[type]) {
        const [t, ns] = TRIVY_TYPES[type];
        try {
          purl = makePurl(t, ns, name, version || null);
        } catch {
          purl = '';
        }
      }
      out.push({
        id: vulnId(v, 'VulnerabilityID'),
        aliases: [],
        description: text(v.str('Title', '') || v.str('Description', '')),
        severity: v.str('Severity', ''),
        purl,
        name,
        version,
      });
    }
  }
  return out;
}

// CycloneDX: vulnerabilities[].affects[].ref -> components[bom-ref]
function cycloneDxVulns(root: At): Finding[] {
  const v = root.str('specVersion');
  if (!['1.4', '1.5', '1.6'].includes(v)) root.get('specVersion').fail(`CycloneDX ${v.slice(0, 20)} is not read: 1.4 to 1.6 are`);
  const byRef = new Map<string, { name: string; version: string; purl: string }>();
  const walk = (list: At[]): void => {
    for (const c of list) {
      const ref = c.str('bom-ref', '');
      if (ref) byRef.set(ref, { name: c.str('name'), version: c.str('version', ''), purl: purlOf(c, 'purl') });
      walk(c.list('components'));
    }
  };
  walk(root.list('components'));
  const out: Finding[] = [];
  for (const vu of root.list('vulnerabilities')) {
    const id = vulnId(vu, 'id');
    const severity = vu.list('ratings').map((r) => r.str('severity', ''))[0] ?? '';
    const aliases = vu
      .list('references')
      .map((r) => r.str('id', ''))
      .filter((x) => VULN_ID.test(x) && x !== id);
    for (const a of vu.list('affects')) {
      const ref = a.str('ref');
      const asPurl = parsePurl(ref);
      const c = byRef.get(ref) ?? (asPurl ? { name: asPurl.name, version: asPurl.version ?? '', purl: ref } : null);
      if (!c) return a.get('ref').fail(`"${ref.slice(0, 100)}" names no component of this document`);
      out.push({ id, aliases, description: text(vu.str('description', '')), severity, purl: c.purl, name: c.name, version: c.version });
    }
  }
  if (out.length === 0 && !root.has('vulnerabilities')) root.fail('a CycloneDX document without vulnerabilities: import it with vigil sbom import');
  return out;
}
