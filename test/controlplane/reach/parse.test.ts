// controlplane/reach/parse/: SBOMs (CycloneDX 1.5/1.6, SPDX 2.3) and scanner reports (grype, trivy,
// CycloneDX vulnerabilities) in the shapes syft, trivy and grype write (fixtures in test/fixtures/reach,
// written by hand from the documented formats), and hostile documents: errors name the file and the JSON path.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../../common/repo';
import { parseJsonBytes, readJsonFile } from '../../../controlplane/reach/parse/json-shape';
import { parseSbom } from '../../../controlplane/reach/parse/sbom';
import { parseVulns } from '../../../controlplane/reach/parse/vulns';

const fixture = (name: string): string => path.join(repoRoot(), 'test', 'fixtures', 'reach', name);
const doc = (name: string, value: unknown): ReturnType<typeof parseJsonBytes> => parseJsonBytes(name, Buffer.from(JSON.stringify(value)));

describe('SBOM and scanner report parsers', () => {
  describe('CycloneDX', () => {
    it('syft 1.6: syft:location paths and evidence.occurrences are files; package databases, metadata, file components and escapes are not', () => {
      const s = parseSbom(readJsonFile(fixture('syft-cyclonedx-1.6.json')));
      assert.equal(s.format, 'cyclonedx-1.6');
      assert.match(s.sha256, /^[0-9a-f]{64}$/);
      assert.deepEqual(
        s.components.map((c) => [c.name, c.version, c.purl.split('?')[0], c.files.map((f) => `${f.source}:${f.path}`)]),
        [
          // found in /var/lib/dpkg/status: no file of its own (the package databases will say)
          ['libssl3', '3.0.11-1~deb12u2', 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2', []],
          ['python', '3.11.2', 'pkg:generic/python@3.11.2', ['syft-location:/usr/bin/python3.11', 'syft-location:/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0']],
          [
            'PyYAML',
            '6.0.1',
            'pkg:pypi/pyyaml@6.0.1',
            [
              'cyclonedx-occurrences:/usr/lib/python3/dist-packages/yaml/__init__.py',
              // a relative location is made absolute; METADATA is no code
              'cyclonedx-occurrences:/usr/lib/python3/dist-packages/yaml/_yaml.cpython-311-x86_64-linux-gnu.so',
            ],
          ],
          ['vendored-lib', '0.1', '', []],
        ],
      );
      assert.equal(s.refused.count, 1);
      assert.match(s.refused.first[0], /components\[2\]\.components\[0\]\.evidence\.occurrences\[0\]\.location: ".*etc\/shadow" is not a path inside the image/);
    });

    it('trivy 1.5: FilePath counts for a jar, not for a Python package (its METADATA is never loaded)', () => {
      const s = parseSbom(readJsonFile(fixture('trivy-cyclonedx-1.5.json')));
      assert.equal(s.format, 'cyclonedx-1.5');
      assert.deepEqual(
        s.components.map((c) => [c.name, c.files.map((f) => `${f.source}:${f.path}`)]),
        [
          ['curl', []],
          ['log4j-core', ['trivy-filepath:/app/lib/log4j-core-2.14.1.jar']],
          ['requests', []],
        ],
      );
    });

    it('refuses other CycloneDX versions and non-CycloneDX, naming the field', () => {
      assert.throws(() => parseSbom(doc('x.json', { bomFormat: 'CycloneDX', specVersion: '1.2' })), /^DocumentError: x\.json: specVersion: CycloneDX 1\.2 is not read: 1\.5 and 1\.6 are/);
      assert.throws(() => parseSbom(doc('x.json', { bomFormat: 'SWID', specVersion: '1.6' })), /x\.json: bomFormat: expected "CycloneDX"/);
      assert.throws(() => parseSbom(doc('x.json', { hello: 1 })), /x\.json: not an SBOM we read/);
      assert.throws(() => parseSbom(doc('x.json', [1, 2])), /x\.json: expected an object, got array/);
    });
  });

  describe('SPDX', () => {
    it('syft 2.3: files through CONTAINS, CONTAINED_BY and hasFiles; the image package and dpkg status left out', () => {
      const s = parseSbom(readJsonFile(fixture('syft-spdx-2.3.json')));
      assert.equal(s.format, 'spdx-2.3');
      assert.deepEqual(
        s.components.map((c) => [c.ref, c.name, c.version, c.purl, c.files.map((f) => f.path).sort()]),
        [
          ['SPDXRef-Package-deb-zlib1g-1', 'zlib1g', '1:1.2.13.dfsg-1', 'pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12', ['/usr/lib/x86_64-linux-gnu/libz.so.1.2.13', '/usr/share/doc/zlib1g/copyright']],
          ['SPDXRef-Package-deb-bash-2', 'bash', '5.2.15-2+b2', 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12', ['/bin/bash']],
        ],
      );
      assert.ok(s.components.every((c) => c.files.every((f) => f.source === 'spdx-contains')));
    });

    it('refuses SPDX 2.2 and duplicate SPDXIDs', () => {
      assert.throws(() => parseSbom(doc('s.json', { spdxVersion: 'SPDX-2.2' })), /s\.json: spdxVersion: SPDX-2\.2 is not read/);
      assert.throws(
        () => parseSbom(doc('s.json', { spdxVersion: 'SPDX-2.3', packages: [{ SPDXID: 'a', name: 'x' }, { SPDXID: 'a', name: 'y' }] })),
        /s\.json: packages\[1\]\.SPDXID: "a" appears twice/,
      );
    });
  });

  describe('scanner reports', () => {
    it('grype: one finding per (vulnerability, package), related CVEs as aliases', () => {
      const v = parseVulns(readJsonFile(fixture('grype.json')));
      assert.equal(v.format, 'grype');
      assert.deepEqual(
        v.findings.map((f) => [f.id, f.aliases, f.purl.split('?')[0], f.severity]),
        [
          ['CVE-2024-0727', [], 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2', 'Medium'],
          ['GHSA-8q59-q68h-6hv4', ['CVE-2020-14343'], 'pkg:pypi/pyyaml@6.0.1', 'High'],
        ],
      );
    });

    it('trivy: PkgIdentifier.PURL, or a purl built from the result type when the report has none', () => {
      const v = parseVulns(readJsonFile(fixture('trivy.json')));
      assert.equal(v.format, 'trivy');
      assert.deepEqual(
        v.findings.map((f) => [f.id, f.name, f.purl]),
        [
          ['CVE-2024-2398', 'curl', 'pkg:deb/debian/curl@7.88.1-10+deb12u5?arch=amd64&distro=debian-12.5'],
          ['CVE-2023-7104', 'libsqlite3-0', 'pkg:deb/debian/libsqlite3-0@3.40.1-2'],
          ['CVE-2021-44228', 'org.apache.logging.log4j:log4j-core', 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1'],
        ],
      );
    });

    it('CycloneDX vulnerabilities: affects refs resolved to components, or taken as purls', () => {
      const v = parseVulns(readJsonFile(fixture('cyclonedx-vulns.json')));
      assert.equal(v.format, 'cyclonedx');
      assert.deepEqual(
        v.findings.map((f) => [f.id, f.name, f.severity, f.aliases]),
        [
          ['CVE-2024-0727', 'libssl3', 'medium', ['GHSA-9v9h-cgj8-h64p']],
          ['CVE-2023-45853', 'zlib1g', 'critical', []],
          ['CVE-2023-45853', 'zlib1g', 'critical', []],
        ],
      );
    });

    it('hostile reports: ids that are not ids, refs to nothing, wrong types, each named by JSON path', () => {
      assert.throws(
        () => parseVulns(doc('g.json', { matches: [{ vulnerability: { id: 'CVE-1\u001b[2J' }, artifact: { name: 'x' } }] })),
        /g\.json: matches\[0\]\.vulnerability\.id: ".*" is not a vulnerability id/,
      );
      assert.throws(() => parseVulns(doc('g.json', { matches: [{ vulnerability: { id: 'CVE-2024-1' }, artifact: { name: 7 } }] })), /g\.json: matches\[0\]\.artifact\.name: expected a string, got number/);
      assert.throws(() => parseVulns(doc('g.json', { matches: [{ vulnerability: { id: 'CVE-2024-1' }, artifact: { name: 'x', purl: 'nope' } }] })), /g\.json: matches\[0\]\.artifact\.purl: "nope" is not a package URL/);
      assert.throws(() => parseVulns(doc('g.json', { matches: {} })), /g\.json: matches: expected an array, got object/);
      assert.throws(
        () => parseVulns(doc('c.json', { bomFormat: 'CycloneDX', specVersion: '1.5', vulnerabilities: [{ id: 'CVE-2024-1', affects: [{ ref: 'ghost' }] }] })),
        /c\.json: vulnerabilities\[0\]\.affects\[0\]\.ref: "ghost" names no component/,
      );
      assert.throws(() => parseVulns(doc('t.json', { SchemaVersion: 1, Results: [] })), /t\.json: SchemaVersion: trivy schema 1 is not read/);
      assert.throws(() => parseVulns(doc('t.json', { Results: [{ Vulnerabilities: [{ VulnerabilityID: 'CVE-2024-1', PkgName: 'x'.repeat(5000) }] }] })), /Results\[0\]\.Vulnerabilities\[0\]\.PkgName: 5000 characters/);
    });
  });

  describe('files', () => {
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-parse-'))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('not JSON, a directory, a missing file, an oversize file: named', () => {
      const bad = path.join(dir, 'bad.json');
      fs.writeFileSync(bad, '{"bomFormat": ');
      assert.throws(() => readJsonFile(bad), new RegExp(`^DocumentError: ${bad}: not JSON`));
      assert.throws(() => readJsonFile(dir), /not a regular file/);
      assert.throws(() => readJsonFile(path.join(dir, 'nope.json')), /nope\.json: cannot be read/);
      const big = path.join(dir, 'big.json');
      fs.writeFileSync(big, Buffer.alloc(2048, 0x20));
      assert.throws(() => readJsonFile(big, 1024), /2048 bytes, more than the 1024 read/);
    });
  });
});
