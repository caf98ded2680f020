// Advisories in their documented shapes, shared by the parsing tests and the
// end-to-end test. OSV_LODASH: an OSV 1.6 record as the GitHub Advisory
// Database exports GHSA-35jh-r3h4-6jhm (lodash command injection).
export const OSV_LODASH = {
  schema_version: '1.6.0',
  id: 'GHSA-35jh-r3h4-6jhm',
  modified: '2024-03-01T00:00:00Z',
  published: '2021-05-06T16:05:51Z',
  aliases: ['CVE-2021-23337'],
  summary: 'Command Injection in lodash',
  details: '`template` is vulnerable to Command Injection.',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H' }],
  affected: [
    {
      package: { ecosystem: 'npm', name: 'lodash', purl: 'pkg:npm/lodash' },
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }],
      database_specific: { source: 'https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/...' },
    },
  ],
  references: [{ type: 'ADVISORY', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-23337' }],
  database_specific: { severity: 'HIGH', cwe_ids: ['CWE-94'], github_reviewed: true },
};
