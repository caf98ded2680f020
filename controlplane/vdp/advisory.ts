// An advisory as Vigil keeps it, whatever it came as (OSV, GitHub advisory
// JSON, CycloneDX VDR/VEX, or `vigil advisories add`): which packages and
// versions it affects (OSV's `affected` model), how severe it is, and what
// a VEX source says about products that are not affected.

export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** CVSS base score to its qualitative rating (CVSS v3.1 / v4.0 specification, "Qualitative Severity Rating Scale"). */
export function severityOfScore(score: number): Severity {
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

export type RangeType = 'SEMVER' | 'ECOSYSTEM' | 'GIT';

/** One OSV range event: exactly one key is set. */
export interface RangeEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface AffectedRange {
  type: RangeType;
  /** GIT: the repository */
  repo?: string;
  events: RangeEvent[];
}

export interface AffectedPackage {
  /** OSV ecosystem ("npm", "PyPI", "Debian:12", ...), empty when only a purl was given */
  ecosystem: string;
  name: string;
  /** the package key ("type/namespace/name" lowercased, purl.ts packageKey): what components are matched by */
  purl: string;
  ranges: AffectedRange[];
  /** versions listed one by one (OSV `versions`) */
  versions: string[];
}

/** A VEX source's word on one product (CycloneDX `analysis`): not_affected etc., with its justification. */
export interface VexStatement {
  /** the purl (with or without version) or the image reference the statement is about */
  product: string;
  status: 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
  justification?: string;
  detail?: string;
}

export interface Advisory {
  id: string;
  aliases: string[];
  summary: string;
  details: string;
  severity: Severity;
  /** a CVSS score when one was given or computed */
  score: number | null;
  /** CVSS vector as given */
  vector: string | null;
  published: string | null;
  modified: string | null;
  /** osv | ghsa | cyclonedx | internal */
  source: 'osv' | 'ghsa' | 'cyclonedx' | 'internal';
  affected: AffectedPackage[];
  vex: VexStatement[];
  references: string[];
  /** the file it was read from (or "vigil advisories add") */
  origin: string;
}
