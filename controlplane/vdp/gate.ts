// `vigil gate`: should this image be deployed? It fails when the image has
// an advisory at or above the policy's severity that is neither fixed (no
// match) nor not_affected with evidence, unless an exception that has not
// expired covers it. The policy file (YAML):
//   min_severity: high                         # none | low | medium | high | critical
//   fail_on: [affected, under_investigation]   # statuses that fail (not_affected never does)
//   unknown_image: fail                        # an image the control plane has no SBOM or evidence for: fail | pass
//   exceptions:
//     - advisory: GHSA-xxxx-xxxx-xxxx
//       image: registry.example/shop           # optional: a name or a sha256 digest
//       expires: 2026-12-31                    # required: exceptions end
//       reason: waiting for the upstream fix
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { errorMessage, VigilError } from '../../common/errors';
import { SEVERITIES, severityRank, type Severity } from './advisory';
import type { Match, MatchStatus } from './match';

export interface GateException {
  advisory: string;
  image: string | null;
  expires: string;
  reason: string;
}

export interface GatePolicy {
  minSeverity: Severity;
  failOn: MatchStatus[];
  unknownImage: 'fail' | 'pass';
  exceptions: GateException[];
}

export const DEFAULT_GATE: GatePolicy = { minSeverity: 'high', failOn: ['affected', 'under_investigation'], unknownImage: 'fail', exceptions: [] };

export function parseGatePolicy(file: string, text: string): GatePolicy {
  const fail = (at: string, m: string): never => {
    throw new VigilError('BAD_ARGUMENT', `${file}: ${at}: ${m}`);
  };
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (err) {
    return fail('$', `malformed YAML: ${errorMessage(err).split('\n')[0]}`);
  }
  const o = (doc ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) fail('$', 'expected a map');
  for (const k of Object.keys(o)) if (!['min_severity', 'fail_on', 'unknown_image', 'exceptions'].includes(k)) fail(k, 'unknown key (expected min_severity, fail_on, unknown_image, exceptions)');
  const p: GatePolicy = { ...DEFAULT_GATE, exceptions: [] };
  if (o.min_severity !== undefined) {
    if (!(SEVERITIES as readonly unknown[]).includes(o.min_severity)) fail('min_severity', `expected one of ${SEVERITIES.join(', ')}`);
    p.minSeverity = o.min_severity as Severity;
  }
  if (o.fail_on !== undefined) {
    if (!Array.isArray(o.fail_on) || o.fail_on.some((s) => s !== 'affected' && s !== 'under_investigation')) fail('fail_on', 'expected a list of affected, under_investigation');
    p.failOn = o.fail_on as MatchStatus[];
  }
  if (o.unknown_image !== undefined) {
    if (o.unknown_image !== 'fail' && o.unknown_image !== 'pass') fail('unknown_image', 'expected fail or pass');
    p.unknownImage = o.unknown_image as 'fail' | 'pass';
  }
  if (o.exceptions !== undefined) {
    if (!Array.isArray(o.exceptions)) fail('exceptions', 'expected a list');
    (o.exceptions as unknown[]).forEach((e, i) => {
      const x = (e ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(x)) if (!['advisory', 'image', 'expires', 'reason'].includes(k)) fail(`exceptions[${i}]`, `unknown key "${k}"`);
      if (typeof x.advisory !== 'string' || !x.advisory) fail(`exceptions[${i}].advisory`, 'expected an advisory id');
      // YAML reads 2026-12-31 as a date unless quoted: take either
      const exp = x.expires instanceof Date ? x.expires.toISOString().slice(0, 10) : x.expires;
      if (typeof exp !== 'string' || Number.isNaN(Date.parse(exp))) fail(`exceptions[${i}].expires`, 'expected a date (2026-12-31): every exception ends');
      if (typeof x.reason !== 'string' || !x.reason.trim()) fail(`exceptions[${i}].reason`, 'expected a reason');
      if (x.image !== undefined && (typeof x.image !== 'string' || !x.image)) fail(`exceptions[${i}].image`, 'expected an image name or digest');
      p.exceptions.push({ advisory: x.advisory as string, image: (x.image as string | undefined) ?? null, expires: exp as string, reason: x.reason as string });
    });
  }
  return p;
}

export function loadGatePolicy(file: string): GatePolicy {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  return parseGatePolicy(file, text);
}

export interface GateVerdict {
  pass: boolean;
  /** one line per finding: why it fails, or why it does not */
  lines: string[];
}

/** An exception's end: the whole day it names (UTC). */
function expiresAt(e: GateException): number {
  return /^\d{4}-\d\d-\d\d$/.test(e.expires) ? Date.parse(`${e.expires}T23:59:59.999Z`) : Date.parse(e.expires);
}

export function evaluateGate(image: { digest: string; name: string; known: boolean }, matches: readonly Match[], p: GatePolicy, now = Date.now()): GateVerdict {
  const lines: string[] = [];
  let pass = true;
  const ref = `${image.name || 'image'}@${image.digest}`;
  if (!image.known) {
    const fails = p.unknownImage === 'fail';
    lines.push(`${fails ? 'FAIL' : 'pass'}: ${ref} is unknown to the control plane (no SBOM, never watched): import its SBOM with vigil sbom import${fails ? '' : ' (unknown_image: pass)'}`);
    if (fails) pass = false;
  }
  for (const m of [...matches].sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.advisory.localeCompare(b.advisory))) {
    const what = `${m.advisory} (${m.severity}) in ${m.purl}: ${m.status}${m.justification ? ` (${m.justification})` : ''}; ${m.evidence}${m.fixed.length ? `; fixed in ${m.fixed.join(', ')}` : ''}`;
    if (severityRank(m.severity) < severityRank(p.minSeverity)) {
      lines.push(`ok: ${what} (below ${p.minSeverity})`);
      continue;
    }
    if (!p.failOn.includes(m.status)) {
      lines.push(`ok: ${what}`);
      continue;
    }
    const ex = p.exceptions.find((e) => e.advisory === m.advisory && (e.image === null || e.image === image.digest || e.image === image.name));
    if (ex && expiresAt(ex) >= now) {
      lines.push(`excepted until ${ex.expires}: ${what} (${ex.reason})`);
      continue;
    }
    pass = false;
    lines.push(`FAIL: ${what}${ex ? ` (the exception expired ${ex.expires})` : ''}`);
  }
  if (matches.length === 0 && image.known) lines.push(`ok: no advisory matches ${ref}`);
  lines.push(pass ? `gate passed for ${ref}` : `gate FAILED for ${ref}`);
  return { pass, lines };
}
