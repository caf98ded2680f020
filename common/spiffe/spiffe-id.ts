// SPIFFE IDs (spiffe://trust-domain/path) and the segment globs that rules use
// to name them. Validation follows the SPIFFE-ID standard as go-spiffe's
// spiffeid package applies it: nothing is normalised, so a valid ID is already
// in its one canonical form and two IDs are equal exactly when their strings are.
import { VigilError } from '../errors';

/** Longest SPIFFE ID, in UTF-8 bytes (SPIFFE-ID standard, "Maximum SPIFFE ID Length"). */
export const MAX_SPIFFE_ID_BYTES = 2048;
/** Longest trust domain name, in bytes (it is ASCII-only, so bytes = characters). */
export const MAX_TRUST_DOMAIN_BYTES = 255;

const SCHEME = 'spiffe://';
// Pattern segments; never a literal segment, since '*' is not a path character.
const ONE = '*';
const ANY = '**';

export interface SpiffeId {
  /** e.g. "prod.example.org" */
  readonly trustDomain: string;
  /** "" (no path) or "/seg/seg..." */
  readonly path: string;
  /** the path split on "/": [] when there is no path */
  readonly segments: readonly string[];
  /** the ID as given, which is its canonical form */
  toString(): string;
}

export type SpiffeIdCheck = { ok: true; id: SpiffeId } | { ok: false; reason: string };

export interface SpiffePattern {
  /** the pattern as given */
  readonly source: string;
  /** literal, or "*" for every trust domain */
  readonly trustDomain: string;
  /** true when no segment is "*" or "**": matching is then string equality */
  readonly literal: boolean;
  /** A string is parsed first; a string that is not a valid SPIFFE ID never matches. */
  matches(id: SpiffeId | string): boolean;
}

/** Parse a SPIFFE ID; throws VigilError BAD_SPIFFE_ID saying what is wrong. */
export function parseSpiffeId(s: string): SpiffeId {
  const r = checkSpiffeId(s);
  if (!r.ok) throw new VigilError('BAD_SPIFFE_ID', `invalid SPIFFE ID ${show(s)}: ${r.reason}`);
  return r.id;
}

/** Parse a SPIFFE ID without throwing. */
export function checkSpiffeId(s: string): SpiffeIdCheck {
  const p = split(s, false);
  if (typeof p === 'string') return { ok: false, reason: p };
  return { ok: true, id: new ParsedSpiffeId(s, p.trustDomain, p.segments) };
}

/** A bare trust domain name ("example.org", not "spiffe://example.org"): null if valid, else why not. */
export function checkTrustDomain(td: string): string | null {
  if (typeof td !== 'string') return `expected a string, got ${typeof td}`;
  return trustDomainReason(td, 0, td.length, false);
}

export function isValidTrustDomain(td: string): boolean {
  return checkTrustDomain(td) === null;
}

/**
 * Compile a rule pattern: a SPIFFE ID whose path segments may be "*" (exactly
 * one segment) or "**" (zero or more segments). Throws VigilError BAD_SPIFFE_ID.
 */
export function compileSpiffePattern(p: string): SpiffePattern {
  const parts = split(p, true);
  if (typeof parts === 'string') throw new VigilError('BAD_SPIFFE_ID', `invalid SPIFFE ID pattern ${show(p)}: ${parts}`);
  return new CompiledSpiffePattern(p, parts.trustDomain, parts.segments);
}

class ParsedSpiffeId implements SpiffeId {
  readonly trustDomain: string;
  readonly path: string;
  readonly segments: readonly string[];
  readonly #text: string;

  constructor(text: string, trustDomain: string, segments: string[]) {
    this.#text = text;
    this.trustDomain = trustDomain;
    this.path = text.slice(SCHEME.length + trustDomain.length);
    this.segments = Object.freeze(segments);
    Object.freeze(this);
  }

  toString(): string {
    return this.#text;
  }
}

class CompiledSpiffePattern implements SpiffePattern {
  readonly source: string;
  readonly trustDomain: string;
  readonly literal: boolean;
  readonly #segments: readonly string[];
  readonly #path: string;

  constructor(source: string, trustDomain: string, segments: string[]) {
    this.source = source;
    this.trustDomain = trustDomain;
    this.literal = trustDomain !== '*' && !segments.some((g) => g === ONE || g === ANY);
    this.#segments = Object.freeze(segments);
    this.#path = source.slice(SCHEME.length + trustDomain.length);
    Object.freeze(this);
  }

  matches(id: SpiffeId | string): boolean {
    let parsed: SpiffeId;
    if (typeof id === 'string') {
      const r = checkSpiffeId(id);
      if (!r.ok) return false;
      parsed = r.id;
    } else {
      parsed = id;
    }
    if (this.trustDomain !== '*' && parsed.trustDomain !== this.trustDomain) return false;
    if (this.literal) return parsed.path === this.#path;
    return matchSegments(this.#segments, parsed.segments);
  }
}

// Wildcard matching with "*" as one segment and "**" as any run of segments.
// Only the latest "**" ever needs to be retried with one more segment, so this
// is O(pattern x id) at worst, with no recursion and no RegExp.
function matchSegments(pat: readonly string[], segs: readonly string[]): boolean {
  let p = 0;
  let s = 0;
  let anyP = -1; // index of the latest "**" seen
  let anyS = 0; // how far into segs that "**" currently reaches
  while (s < segs.length) {
    const g = pat[p];
    if (g === ANY) {
      anyP = p++;
      anyS = s;
    } else if (g !== undefined && (g === ONE || g === segs[s])) {
      p++;
      s++;
    } else if (anyP !== -1) {
      p = anyP + 1;
      s = ++anyS;
    } else {
      return false;
    }
  }
  while (pat[p] === ANY) p++;
  return p === pat.length;
}

interface Parts {
  trustDomain: string;
  segments: string[];
}

const COLON = 0x3a;
const PERCENT = 0x25;
const STAR = 0x2a;

// The reason s is not a SPIFFE ID (or, with globs, not a pattern), or its parts.
// Structural faults (length, scheme, query, fragment) are reported before the
// first bad character, then the trust domain and the path left to right.
function split(s: string, globs: boolean): Parts | string {
  if (typeof s !== 'string') return `expected a string, got ${typeof s}`;
  if (s.length === 0) return 'SPIFFE ID is empty';
  if (isTooLong(s)) return `SPIFFE ID is longer than ${MAX_SPIFFE_ID_BYTES} bytes`;
  if (!s.startsWith(SCHEME)) return 'scheme must be "spiffe://"';

  const q = s.indexOf('?');
  const h = s.indexOf('#');
  if (q !== -1 && (h === -1 || q < h)) return 'query is not allowed';
  if (h !== -1) return 'fragment is not allowed';

  let tdEnd = s.indexOf('/', SCHEME.length);
  if (tdEnd === -1) tdEnd = s.length;
  const tdReason = trustDomainReason(s, SCHEME.length, tdEnd, globs);
  if (tdReason !== null) return tdReason;

  const segments: string[] = [];
  let prevAny = false;
  // Each turn, s[i] is the "/" in front of a segment.
  for (let i = tdEnd; i < s.length; ) {
    const start = i + 1;
    let end = s.indexOf('/', start);
    if (end === -1) end = s.length;
    if (start === end) return end === s.length ? 'trailing slash is not allowed' : 'path has an empty segment';
    const seg = s.slice(start, end);
    if (globs && (seg === ONE || seg === ANY)) {
      if (seg === ANY && prevAny) return `"**" cannot follow "**" at offset ${start}: one "**" already matches any number of segments`;
      prevAny = seg === ANY;
    } else {
      prevAny = false;
      const r = segmentReason(s, start, end, globs);
      if (r !== null) return r;
      if (seg === '.' || seg === '..') return `path segment "${seg}" is not allowed`;
    }
    segments.push(seg);
    i = end;
  }
  return { trustDomain: s.slice(SCHEME.length, tdEnd), segments };
}

// Offsets in reasons are indexes into the whole string that was checked.
function trustDomainReason(s: string, start: number, end: number, globs: boolean): string | null {
  if (start === end) return 'trust domain is empty';
  // a pattern may name every trust domain at once: spiffe://*/...
  if (globs && end - start === 1 && s.charCodeAt(start) === STAR) return null;
  const at = s.indexOf('@', start);
  if (at !== -1 && at < end) return 'userinfo is not allowed in the trust domain';
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (isTrustDomainChar(c)) continue;
    if (c === COLON) return 'port is not allowed in the trust domain';
    if (c === PERCENT && isPercentEncoded(s, i, end)) {
      return `trust domain contains a percent-encoded character "${s.slice(i, i + 3)}" at offset ${i}: percent-encoding is not allowed`;
    }
    if (globs && c === STAR) {
      return `trust domain contains "*" at offset ${i}: a pattern's trust domain is literal or exactly "*", only whole path segments may be "*" or "**"`;
    }
    return `trust domain contains an invalid character ${showChar(s, i)} at offset ${i}: only a-z, 0-9, ".", "-" and "_" are allowed`;
  }
  if (end - start > MAX_TRUST_DOMAIN_BYTES) return `trust domain is longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`;
  return null;
}

function segmentReason(s: string, start: number, end: number, globs: boolean): string | null {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (isPathChar(c)) continue;
    if (c === PERCENT && isPercentEncoded(s, i, end)) {
      return `path contains a percent-encoded character "${s.slice(i, i + 3)}" at offset ${i}: percent-encoding is not allowed`;
    }
    if (globs && c === STAR) {
      return `path segment "${s.slice(start, end)}" at offset ${start} mixes "*" with other characters: a wildcard must be a whole segment, "*" or "**"`;
    }
    return `path contains an invalid character ${showChar(s, i)} at offset ${i}: only a-z, A-Z, 0-9, ".", "-" and "_" are allowed`;
  }
  return null;
}

function isTrustDomainChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x5f;
}

function isPathChar(c: number): boolean {
  return isTrustDomainChar(c) || (c >= 0x41 && c <= 0x5a);
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function isPercentEncoded(s: string, i: number, end: number): boolean {
  return i + 2 < end && isHexDigit(s.charCodeAt(i + 1)) && isHexDigit(s.charCodeAt(i + 2));
}

// Printable ASCII is shown as 'c'; anything else by code point (U+000A, U+00E9).
function showChar(s: string, i: number): string {
  const cp = s.codePointAt(i) ?? 0;
  if (cp >= 0x20 && cp <= 0x7e) return `'${String.fromCharCode(cp)}'`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

// JSON quoting keeps control characters and quotes in a bad input from
// breaking the message; for ordinary input it is just "...".
function show(s: unknown): string {
  return typeof s === 'string' ? JSON.stringify(s) : String(s);
}

// More than MAX_SPIFFE_ID_BYTES in UTF-8? Every UTF-16 unit takes one to three
// bytes, so only lengths in between need counting.
function isTooLong(s: string): boolean {
  if (s.length > MAX_SPIFFE_ID_BYTES) return true;
  if (s.length * 3 <= MAX_SPIFFE_ID_BYTES) return false;
  return Buffer.byteLength(s, 'utf8') > MAX_SPIFFE_ID_BYTES;
}
