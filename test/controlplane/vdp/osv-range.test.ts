// OSV range matching on the shapes real advisories have (each row names the
// advisory whose `affected` entry it copies): SEMVER and ECOSYSTEM ranges,
// introduced "0", several introduced/fixed pairs in one range, last_affected,
// limit, pre-releases, the explicit versions list, and what is not evaluated
// (GIT ranges, Maven) said as "unknown", never as "not affected".
import * as assert from 'node:assert/strict';
import type { AffectedPackage } from '../../../controlplane/vdp/advisory';
import { evaluate } from '../../../controlplane/vdp/osv-range';
import { compareDebian, comparePep440, compareSemver } from '../../../controlplane/vdp/versions';

const pkg = (ecosystem: string, ranges: AffectedPackage['ranges'], versions: string[] = []): AffectedPackage => ({ ecosystem, name: 'x', purl: 'x', ranges, versions });

interface Row {
  advisory: string;
  p: AffectedPackage;
  affected: string[];
  not: string[];
  unknown?: string[];
}

const TABLE: Row[] = [
  {
    // GHSA-35jh-r3h4-6jhm (lodash command injection, CVE-2021-23337): npm, introduced 0, fixed 4.17.21
    advisory: 'GHSA-35jh-r3h4-6jhm',
    p: pkg('npm', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }]),
    affected: ['0.1.0', '4.17.20', '4.17.21-pre'],
    not: ['4.17.21', '4.18.0', '5.0.0'],
  },
  {
    // PYSEC-2023-100-style Django: two ECOSYSTEM ranges (3.2 line and 4.x line), PEP 440 order
    advisory: 'PYSEC (django, two lines)',
    p: pkg('PyPI', [
      { type: 'ECOSYSTEM', events: [{ introduced: '3.2' }, { fixed: '3.2.19' }] },
      { type: 'ECOSYSTEM', events: [{ introduced: '4.0' }, { fixed: '4.1.9' }] },
    ]),
    affected: ['3.2', '3.2.18', '4.0', '4.1.8', '4.1.9rc1'],
    not: ['3.1.9', '3.2.19', '3.2.20', '4.1.9', '4.2'],
  },
  {
    // GO-2022-0493 (golang.org/x/sys): SEMVER, introduced 0, fixed 0.0.0-20220412211240-33da011f77ad (a pseudo-version)
    advisory: 'GO-2022-0493',
    p: pkg('Go', [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.0.0-20220412211240-33da011f77ad' }] }]),
    affected: ['0.0.0-20210101000000-aaaaaaaaaaaa', 'v0.0.0-20220101000000-bbbbbbbbbbbb'],
    not: ['0.0.0-20220412211240-33da011f77ad', '0.1.0', 'v0.5.0'],
  },
  {
    // one range with two introduced/fixed pairs (OSV allows it; osv.dev's Go records use it)
    advisory: 'GO-2023-1571 (net/http, two pairs in one range)',
    p: pkg('Go', [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.19.6' }, { introduced: '1.20.0' }, { fixed: '1.20.1' }] }]),
    affected: ['1.18.0', '1.19.5', '1.20.0'],
    // a pre-release of 1.20.0 sorts before the introduced 1.20.0, after the fix 1.19.6
    not: ['1.19.6', '1.19.9', '1.20.0-rc.1', '1.20.1', '1.21.0'],
  },
  {
    // RUSTSEC/GHSA crates.io record with last_affected (no fix released)
    advisory: 'RUSTSEC-2020-0071-style (last_affected)',
    p: pkg('crates.io', [{ type: 'SEMVER', events: [{ introduced: '0.1.0' }, { last_affected: '0.2.3' }] }]),
    affected: ['0.1.0', '0.2.0', '0.2.3'],
    not: ['0.0.9', '0.2.4', '1.0.0'],
  },
  {
    // a range bounded by limit (OSV: versions at or above every limit are outside)
    advisory: 'limit-bounded range',
    p: pkg('npm', [{ type: 'SEMVER', events: [{ introduced: '0' }, { limit: '2.0.0' }] }]),
    affected: ['0.0.1', '1.9.9'],
    not: ['2.0.0', '3.1.0'],
  },
  {
    // DSA-5532-1 (openssl, Debian 12): dpkg order, "~" sorts before everything
    advisory: 'DSA-5532-1',
    p: pkg('Debian:12', [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.11-1~deb12u2' }] }]),
    affected: ['3.0.9-1', '3.0.11-1~deb12u1', '3.0.11-1~deb12u1+b1'],
    not: ['3.0.11-1~deb12u2', '3.0.11-1', '3.0.13-1~deb12u1', '1:1.0-1'],
  },
  {
    // an explicit versions list only (osv.dev's expansion of GIT ranges)
    advisory: 'OSV-2022-1 (versions only)',
    p: pkg('Maven', [], ['2.14.1', '2.15.0']),
    affected: ['2.14.1', '2.15.0'],
    not: ['2.16.0'],
  },
  {
    // GIT ranges: commit hashes cannot be placed in a package's versions: unknown, unless the versions list names it
    advisory: 'OSV GIT range (oss-fuzz shape)',
    p: pkg('', [{ type: 'GIT', repo: 'https://example.org/x.git', events: [{ introduced: '0' }, { fixed: 'deadbeef' }] }], ['1.0.0']),
    affected: ['1.0.0'],
    not: [],
    unknown: ['1.0.1'],
  },
  {
    // Maven ECOSYSTEM ranges: Maven's version order is not implemented
    advisory: 'GHSA-jfh8-c2jp-5v3q (log4j, Maven)',
    p: pkg('Maven', [{ type: 'ECOSYSTEM', events: [{ introduced: '2.13.0' }, { fixed: '2.15.0' }] }]),
    affected: [],
    not: [],
    unknown: ['2.14.1'],
  },
];

describe('OSV range matching (controlplane/vdp/osv-range.ts)', () => {
  for (const row of TABLE) {
    it(row.advisory, () => {
      for (const v of row.affected) assert.equal(evaluate(row.p, v).affected, true, `${v} should be affected`);
      for (const v of row.not) assert.equal(evaluate(row.p, v).affected, false, `${v} should not be affected: ${evaluate(row.p, v).why}`);
      for (const v of row.unknown ?? []) {
        const r = evaluate(row.p, v);
        assert.equal(r.affected, 'unknown', `${v} should be unknown`);
        assert.match(r.why, /not evaluated/);
      }
    });
  }

  it('a version that is not a version of the ecosystem is unknown, not "not affected"', () => {
    const r = evaluate(pkg('npm', [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }]), 'not-a-version');
    assert.equal(r.affected, 'unknown');
  });

  it('names the range and the fixed versions', () => {
    const r = evaluate(TABLE[0].p, '4.17.20');
    assert.match(r.why, /introduced 0, fixed 4\.17\.21/);
    assert.deepEqual(r.fixed, ['4.17.21']);
  });

  it('version orders: semver pre-releases, PEP 440, dpkg epochs and tildes', () => {
    assert.equal(compareSemver('1.0.0-rc.1', '1.0.0'), -1);
    assert.equal(compareSemver('v1.2.3', '1.2.3'), 0);
    assert.equal(compareSemver('1.2', '1.2.0'), null);
    assert.equal(comparePep440('1.0a1', '1.0'), -1);
    assert.equal(comparePep440('1.0.post1', '1.0'), 1);
    assert.equal(compareDebian('1:0.1', '9.9'), 1);
    assert.equal(compareDebian('1.0~rc1', '1.0'), -1);
    assert.equal(compareDebian('1.0-1', '1.0-1+b1'), -1);
    assert.equal(compareDebian('2.36-9+deb12u4', '2.36-9+deb12u10'), -1);
    assert.equal(compareDebian('not a version!', '1.0'), null);
  });
});
