// OpenVEX 0.2.0 (https://github.com/openvex/spec, OPENVEX-SPEC.md): the
// document shape Vigil writes, and a check of the spec's field rules that
// every emitted document passes (tests) and `vigil vex verify` applies to
// what it is given:
//   document: @context, @id, author, timestamp, version (integer >= 1), statements required;
//   statement: vulnerability.name and status required; a product with an @id or identifiers;
//   status one of not_affected, affected, fixed, under_investigation;
//   not_affected: a justification label from the spec's list or an impact_statement;
//   affected: an action_statement;
//   justification only with not_affected; timestamps RFC 3339.

export const OPENVEX_CONTEXT = 'https://openvex.dev/ns/v0.2.0';
/** The in-toto predicate type of an OpenVEX attestation (spec ATTESTING.md; cosign's --type openvex) */
export const OPENVEX_PREDICATE = 'https://openvex.dev/ns';

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
export const JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
] as const;
export type Justification = (typeof JUSTIFICATIONS)[number];

export interface VexComponent {
  '@id': string;
  identifiers?: { purl?: string; cpe22?: string; cpe23?: string };
  hashes?: Record<string, string>;
}

export interface VexProduct extends VexComponent {
  subcomponents?: VexComponent[];
}

export interface VexStatement {
  vulnerability: { '@id'?: string; name: string; description?: string; aliases?: string[] };
  products: VexProduct[];
  status: VexStatus;
  status_notes?: string;
  justification?: Justification;
  impact_statement?: string;
  action_statement?: string;
  action_statement_timestamp?: string;
}

export interface VexDocument {
  '@context': string;
  '@id': string;
  author: string;
  role?: string;
  timestamp: string;
  last_updated?: string;
  version: number;
  tooling?: string;
  statements: VexStatement[];
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const STATUSES: readonly string[] = ['not_affected', 'affected', 'fixed', 'under_investigation'];
const HASHES = ['md5', 'sha1', 'sha-256', 'sha-384', 'sha-512', 'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512', 'blake2s-256', 'blake2b-256', 'blake2b-512'];
/** An IRI, loosely: a scheme, then no spaces or controls (purls and URNs are IRIs). */
const IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\u0000-\u001f\u007f]+$/;

/** Every violation of the OpenVEX 0.2.0 field rules in a document, as "path: problem" ([] = conforms). */
export function checkOpenVex(doc: unknown): string[] {
  const out: string[] = [];
  const bad = (p: string, m: string): void => void out.push(`${p}: ${m}`);
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const str = (o: Record<string, unknown>, k: string, p: string, required: boolean): string | undefined => {
    const v = o[k];
    if (v === undefined) {
      if (required) bad(`${p}${k}`, 'required, missing');
      return undefined;
    }
    if (typeof v !== 'string' || v === '') {
      bad(`${p}${k}`, 'must be a non-empty string');
      return undefined;
    }
    return v;
  };
  if (!isObj(doc)) return ['document: must be an object'];
  const ctx = str(doc, '@context', '', true);
  if (ctx !== undefined && !/^https:\/\/openvex\.dev\/ns\/v0\.2\.0$/.test(ctx)) bad('@context', `"${ctx}" is not the OpenVEX 0.2.0 context`);
  const id = str(doc, '@id', '', true);
  if (id !== undefined && !IRI.test(id)) bad('@id', 'must be an IRI');
  str(doc, 'author', '', true);
  str(doc, 'role', '', false);
  str(doc, 'tooling', '', false);
  for (const k of ['timestamp', 'last_updated']) {
    const t = str(doc, k, '', k === 'timestamp');
    if (t !== undefined && !RFC3339.test(t)) bad(k, `"${t}" is not an RFC 3339 timestamp`);
  }
  if (!Number.isInteger(doc.version) || (doc.version as number) < 1) bad('version', 'must be an integer from 1');
  const known = new Set(['@context', '@id', 'author', 'role', 'timestamp', 'last_updated', 'version', 'tooling', 'statements']);
  for (const k of Object.keys(doc)) if (!known.has(k)) bad(k, 'not a field of an OpenVEX document');
  if (!Array.isArray(doc.statements)) {
    bad('statements', 'required, must be an array');
    return out;
  }
  const component = (c: unknown, p: string, sub: boolean): void => {
    if (!isObj(c)) return bad(p, 'must be an object');
    const cid = str(c, '@id', `${p}.`, false);
    if (cid !== undefined && !IRI.test(cid)) bad(`${p}.@id`, 'must be an IRI');
    if (c.identifiers !== undefined) {
      if (!isObj(c.identifiers)) bad(`${p}.identifiers`, 'must be an object');
      else for (const k of Object.keys(c.identifiers)) if (!['purl', 'cpe22', 'cpe23'].includes(k)) bad(`${p}.identifiers.${k}`, 'not an identifier type of the spec (purl, cpe22, cpe23)');
    }
    if (c.hashes !== undefined) {
      if (!isObj(c.hashes)) bad(`${p}.hashes`, 'must be an object');
      else for (const k of Object.keys(c.hashes)) if (!HASHES.includes(k)) bad(`${p}.hashes.${k}`, 'not a hash name of the spec');
    }
    if (cid === undefined && c.identifiers === undefined && c.hashes === undefined) bad(p, 'identifies nothing (needs @id, identifiers or hashes)');
    if (c.subcomponents !== undefined) {
      if (sub) bad(`${p}.subcomponents`, 'a subcomponent has no subcomponents');
      else if (!Array.isArray(c.subcomponents)) bad(`${p}.subcomponents`, 'must be an array');
      else c.subcomponents.forEach((s, i) => component(s, `${p}.subcomponents[${i}]`, true));
    }
  };
  doc.statements.forEach((s: unknown, i: number) => {
    const p = `statements[${i}]`;
    if (!isObj(s)) return bad(p, 'must be an object');
    if (!isObj(s.vulnerability)) bad(`${p}.vulnerability`, 'required, must be an object');
    else str(s.vulnerability, 'name', `${p}.vulnerability.`, true);
    // products may cascade from an encapsulating document; ours never relies on it
    if (!Array.isArray(s.products) || s.products.length === 0) bad(`${p}.products`, 'required here (no encapsulating document gives one)');
    else s.products.forEach((x, j) => component(x, `${p}.products[${j}]`, false));
    const status = str(s, 'status', `${p}.`, true);
    if (status !== undefined && !STATUSES.includes(status)) bad(`${p}.status`, `"${status}" is not a status of the spec`);
    const just = str(s, 'justification', `${p}.`, false);
    const impact = str(s, 'impact_statement', `${p}.`, false);
    const action = str(s, 'action_statement', `${p}.`, false);
    if (just !== undefined && !(JUSTIFICATIONS as readonly string[]).includes(just)) bad(`${p}.justification`, `"${just}" is not a justification label of the spec`);
    if (status === 'not_affected' && just === undefined && impact === undefined) bad(p, 'not_affected needs a justification or an impact_statement');
    if (status !== 'not_affected' && just !== undefined) bad(`${p}.justification`, 'only a not_affected statement carries a justification');
    if (status === 'affected' && action === undefined) bad(p, 'affected needs an action_statement');
    for (const k of ['timestamp', 'last_updated', 'action_statement_timestamp']) {
      const t = str(s, k, `${p}.`, false);
      if (t !== undefined && !RFC3339.test(t)) bad(`${p}.${k}`, `"${t}" is not an RFC 3339 timestamp`);
    }
  });
  return out;
}
