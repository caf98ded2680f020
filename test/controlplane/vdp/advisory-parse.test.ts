// Advisory parsing: OSV JSON, GitHub advisory JSON and CycloneDX VDR/VEX,
// each written here from its documented format (OSV schema 1.6; GitHub REST
// "global security advisories" response; CycloneDX 1.5 vulnerabilities with
// affects and analysis), plus the hostile inputs.
import * as assert from 'node:assert/strict';
import { AdvisoryParseError, internalAdvisory, parseAdvisories } from '../../../controlplane/vdp/advisory-parse';
import { evaluate } from '../../../controlplane/vdp/osv-range';
import { OSV_LODASH } from '../../helpers/advisory-fixtures';


const GITHUB = [
  {
    ghsa_id: 'GHSA-p6mc-m468-83gw',
    cve_id: 'CVE-2020-8203',
    url: 'https://api.github.com/advisories/GHSA-p6mc-m468-83gw',
    summary: 'Prototype Pollution in lodash',
    description: 'Prototype pollution attack when using _.zipObjectDeep',
    type: 'reviewed',
    severity: 'high',
    identifiers: [
      { value: 'GHSA-p6mc-m468-83gw', type: 'GHSA' },
      { value: 'CVE-2020-8203', type: 'CVE' },
    ],
    references: ['https://github.com/lodash/lodash/issues/4874'],
    published_at: '2020-07-15T19:15:48Z',
    updated_at: '2023-09-11T00:00:00Z',
    vulnerabilities: [{ package: { ecosystem: 'npm', name: 'lodash' }, vulnerable_version_range: '>= 3.7.0, < 4.17.19', first_patched_version: '4.17.19', vulnerable_functions: [] }],
    cvss: { vector_string: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H', score: 7.4 },
  },
];

const CDX = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  version: 1,
  components: [
    { 'bom-ref': 'pkg:pypi/requests@2.25.0', type: 'library', name: 'requests', version: '2.25.0', purl: 'pkg:pypi/requests@2.25.0' },
    { 'bom-ref': 'urllib3', type: 'library', name: 'urllib3', version: '1.26.4', purl: 'pkg:pypi/urllib3@1.26.4' },
  ],
  vulnerabilities: [
    {
      id: 'CVE-2023-32681',
      source: { name: 'NVD', url: 'https://nvd.nist.gov/vuln/detail/CVE-2023-32681' },
      ratings: [{ source: { name: 'NVD' }, score: 6.1, severity: 'medium', method: 'CVSSv31', vector: 'AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N' }],
      description: 'Unintended leak of Proxy-Authorization header in requests',
      affects: [{ ref: 'pkg:pypi/requests@2.25.0', versions: [{ range: 'vers:pypi/>=2.3.0|<2.31.0', status: 'affected' }] }],
    },
    {
      id: 'CVE-2021-33503',
      ratings: [{ severity: 'high' }],
      description: 'ReDoS in urllib3',
      affects: [{ ref: 'urllib3' }],
      analysis: { state: 'not_affected', justification: 'code_not_reachable', detail: 'the proxy code path is never used' },
    },
  ],
};

describe('advisory parsing (controlplane/vdp/advisory-parse.ts)', () => {
  it('OSV: id, aliases, CVSS severity, package by purl, ranges', () => {
    const r = parseAdvisories('lodash.json', JSON.stringify(OSV_LODASH));
    assert.equal(r.format, 'osv');
    const [a] = r.advisories;
    assert.equal(a.id, 'GHSA-35jh-r3h4-6jhm');
    assert.deepEqual(a.aliases, ['CVE-2021-23337']);
    assert.equal(a.score, 7.2);
    assert.equal(a.severity, 'high');
    assert.equal(a.affected[0].purl, 'npm//lodash');
    assert.equal(evaluate(a.affected[0], '4.17.20').affected, true);
    assert.equal(evaluate(a.affected[0], '4.17.21').affected, false);
  });

  it('OSV: a list of records, and the package key from ecosystem and name when no purl is given', () => {
    const rec = { id: 'PYSEC-2023-74', modified: '2023-05-26T00:00:00Z', affected: [{ package: { ecosystem: 'PyPI', name: 'Requests' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.3.0' }, { fixed: '2.31.0' }] }] }] };
    const r = parseAdvisories('list.json', JSON.stringify([rec, { ...rec, id: 'PYSEC-2023-75' }]));
    assert.equal(r.advisories.length, 2);
    assert.equal(r.advisories[0].affected[0].purl, 'pypi//requests');
    assert.equal(r.advisories[0].severity, 'medium', 'no severity given: medium');
  });

  it('GitHub advisory JSON: vulnerable_version_range becomes OSV events', () => {
    const r = parseAdvisories('gh.json', JSON.stringify(GITHUB));
    assert.equal(r.format, 'github');
    const [a] = r.advisories;
    assert.equal(a.id, 'GHSA-p6mc-m468-83gw');
    assert.deepEqual(a.aliases, ['CVE-2020-8203']);
    assert.equal(a.severity, 'high');
    assert.deepEqual(a.affected[0].ranges[0].events, [{ introduced: '3.7.0' }, { fixed: '4.17.19' }]);
    assert.equal(evaluate(a.affected[0], '4.17.15').affected, true);
    assert.equal(evaluate(a.affected[0], '3.6.0').affected, false);
  });

  it('CycloneDX VDR: affects by bom-ref or purl, vers ranges; VEX: analysis.state not_affected', () => {
    const r = parseAdvisories('bom.json', JSON.stringify(CDX));
    assert.equal(r.format, 'cyclonedx');
    const [vdr, vex] = r.advisories;
    assert.equal(vdr.id, 'CVE-2023-32681');
    assert.equal(vdr.severity, 'medium');
    assert.equal(vdr.affected[0].purl, 'pypi//requests');
    assert.equal(evaluate(vdr.affected[0], '2.25.0').affected, true);
    assert.equal(evaluate(vdr.affected[0], '2.31.0').affected, false);
    assert.equal(vex.severity, 'high');
    assert.deepEqual(vex.vex, [{ product: 'pkg:pypi/urllib3@1.26.4', status: 'not_affected', justification: 'code_not_reachable', detail: 'the proxy code path is never used' }]);
  });

  it('internal reports: --purl and --affected (GitHub-style constraints or vers)', () => {
    const a = internalAdvisory({ id: 'VIGIL-2026-0001', purl: 'pkg:npm/left-pad', affected: '>= 1.0.0, < 1.3.1', severity: 'critical', summary: 'reported by a researcher' });
    assert.equal(a.source, 'internal');
    assert.equal(evaluate(a.affected[0], '1.3.0').affected, true);
    assert.equal(evaluate(a.affected[0], '1.3.1').affected, false);
    const b = internalAdvisory({ id: 'VIGIL-2026-0002', purl: 'pkg:generic/acme-agent', affected: 'vers:generic/<=2.0.0', severity: 'high', summary: 's' });
    assert.equal(evaluate(b.affected[0], '2.0.0').affected, true, 'a type with no OSV ecosystem reads its versions as SemVer');
    assert.equal(evaluate(b.affected[0], '2.0.1').affected, false);
    assert.throws(() => internalAdvisory({ id: 'X-1', purl: 'pkg:npm/a@1.0.0', affected: '< 2', severity: 'low', summary: '' }), /without a version/);
  });

  it('both constraint grammars give the same events: every operator, no lower bound, "*", "!=", escapes', () => {
    const conv = (affected: string): { events: unknown; versions: unknown } => {
      const a = internalAdvisory({ id: 'VIGIL-2026-0003', purl: 'pkg:npm/x', affected, severity: 'low', summary: 's' }).affected[0];
      return { events: a.ranges[0]?.events ?? [], versions: a.versions };
    };
    const both = { events: [{ introduced: '1.0.0' }, { last_affected: '2.0.0' }, { fixed: '2.5.0' }], versions: ['3.0.0'] };
    assert.deepEqual(conv('> 1.0.0, <= 2.0.0, < 2.5.0, = 3.0.0'), both, 'GitHub: "> X" is read as introduced X');
    assert.deepEqual(conv('vers:npm/>1.0.0|<=2.0.0|<2.5.0|3.0.0'), both, 'vers: a bare version is "="');
    assert.deepEqual(conv('< 2'), { events: [{ introduced: '0' }, { fixed: '2' }], versions: [] }, 'no lower bound: from 0');
    assert.deepEqual(conv('= 1.2.3'), { events: [], versions: ['1.2.3'] }, 'one version: no range');
    assert.deepEqual(conv('vers:npm/*'), { events: [{ introduced: '0' }], versions: [] }, '"*": every version');
    assert.deepEqual(conv('vers:npm/!=1.5.0|>=1.0.0|<2.0.0'), { events: [{ introduced: '1.0.0' }, { fixed: '2.0.0' }], versions: [] }, '"!=" is dropped');
    assert.deepEqual(conv('vers:npm/1.0.0%2Bbuild'), { events: [], versions: ['1.0.0+build'] }, 'vers versions are percent-decoded');
    assert.throws(() => conv('~> 1.0'), /is not a version constraint/);
  });

  describe('hostile input: refused with the file and the JSON path', () => {
    const refuse = (text: string, re: RegExp): void => {
      assert.throws(
        () => parseAdvisories('evil.json', text),
        (e: unknown) => e instanceof AdvisoryParseError && re.test(e.message),
      );
    };
    it('not JSON, not an advisory', () => {
      refuse('{', /evil\.json: \$: not JSON/);
      refuse('{"hello":1}', /not an advisory/);
    });
    it('an id that would inject into labels, titles or JQL', () => {
      refuse(JSON.stringify({ ...OSV_LODASH, id: 'X" OR project = "OTHER' }), /\$\.id: .* is not an advisory id/);
      refuse(JSON.stringify({ ...OSV_LODASH, id: 'A\n\u001b[31mB' }), /is not an advisory id/);
    });
    it('wrong shapes name their path', () => {
      refuse(JSON.stringify({ ...OSV_LODASH, affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ fixed: '1.0.0' }] }] }] }), /\$\.affected\[0\]\.ranges\[0\]\.events: a range needs at least one "introduced"/);
      refuse(JSON.stringify({ ...OSV_LODASH, affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1' }] }] }] }), /events\[0\]: expected exactly one/);
      refuse(JSON.stringify({ ...OSV_LODASH, affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'RANGE', events: [] }] }] }), /type: expected SEMVER, ECOSYSTEM or GIT/);
      refuse(JSON.stringify({ ...OSV_LODASH, affected: 'everything' }), /\$\.affected: expected a list/);
      refuse(JSON.stringify({ ...OSV_LODASH, summary: 'x'.repeat(2000) }), /\$\.summary: longer than 1024/);
    });
    it('oversize: too many advisories, too many events', () => {
      refuse(JSON.stringify(Array.from({ length: 50_001 }, () => ({ id: 'A', modified: 'x' }))), /more than 50000 advisories/);
      const events = [{ introduced: '0' }, ...Array.from({ length: 1001 }, (_, i) => ({ fixed: `1.0.${i}` }))];
      refuse(JSON.stringify({ ...OSV_LODASH, affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events }] }] }), /more than 1000 entries/);
    });
    it('a CycloneDX affects ref that names no component', () => {
      refuse(JSON.stringify({ ...CDX, vulnerabilities: [{ id: 'CVE-1', affects: [{ ref: 'nope' }] }] }), /vulnerabilities\[0\]\.affects\[0\]\.ref: "nope" names no component/);
    });
  });
});
