// Reading hostile JSON documents (SBOMs, scanner reports): bounded size,
// shapes checked field by field, and every error names the file and the
// JSON path of what was wrong ("sbom.json: components[3].purl: expected a
// string, got number").
import * as fs from 'node:fs';
import { errorMessage } from '../../../common/errors';

export class DocumentError extends Error {
  constructor(
    readonly file: string,
    readonly jsonPath: string,
    what: string,
  ) {
    super(`${file}: ${jsonPath ? `${jsonPath}: ` : ''}${what}`);
    this.name = 'DocumentError';
  }
}

/** Largest document read (syft SBOMs with file lists of big images reach tens of MiB). */
export const MAX_DOCUMENT_BYTES = 256 << 20;
/** Longest string kept from a document (names, versions, purls, paths). */
export const MAX_STRING = 4096;
/** Most entries of one array (components, files, findings). */
export const MAX_ENTRIES = 2_000_000;

export interface Loaded {
  file: string;
  value: unknown;
  /** the bytes as read, for their sha256 */
  bytes: Buffer;
}

/** Read and parse a JSON file, refusing what is too big or not JSON. */
export function readJsonFile(file: string, maxBytes = MAX_DOCUMENT_BYTES): Loaded {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new DocumentError(file, '', `cannot be read: ${errorMessage(err)}`);
  }
  if (!st.isFile()) throw new DocumentError(file, '', 'not a regular file');
  if (st.size > maxBytes) throw new DocumentError(file, '', `${st.size} bytes, more than the ${maxBytes} read`);
  const bytes = fs.readFileSync(file);
  if (bytes.length > maxBytes) throw new DocumentError(file, '', `more than the ${maxBytes} bytes read`);
  return parseJsonBytes(file, bytes);
}

export function parseJsonBytes(file: string, bytes: Buffer): Loaded {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new DocumentError(file, '', `not JSON: ${errorMessage(err)}`);
  }
  return { file, value, bytes };
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A cursor into a document: where it is (for errors) and typed accessors. */
export class At {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly value: unknown,
  ) {}

  static root(l: Loaded): At {
    return new At(l.file, '', l.value);
  }

  fail(what: string): never {
    throw new DocumentError(this.file, this.path, what);
  }

  private child(key: string | number, value: unknown): At {
    const p = typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
    return new At(this.file, p, value);
  }

  isObject(): boolean {
    return this.value !== null && typeof this.value === 'object' && !Array.isArray(this.value);
  }

  object(): Record<string, unknown> {
    if (!this.isObject()) this.fail(`expected an object, got ${kind(this.value)}`);
    return this.value as Record<string, unknown>;
  }

  has(key: string): boolean {
    return this.isObject() && (this.value as Record<string, unknown>)[key] !== undefined && (this.value as Record<string, unknown>)[key] !== null;
  }

  /** A field of this object (undefined inside when absent). */
  get(key: string): At {
    return this.child(key, this.object()[key]);
  }

  /** The elements of an array field; [] when absent (null counts as absent). */
  list(key: string): At[] {
    const f = this.get(key);
    const v: unknown = f.value;
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return f.fail(`expected an array, got ${kind(v)}`);
    if (v.length > MAX_ENTRIES) f.fail(`${v.length} entries, more than ${MAX_ENTRIES}`);
    return v.map((x: unknown, i: number) => f.child(i, x));
  }

  /** A string field; `fallback` when absent, an error when present and not a string or too long. */
  str(key: string, fallback?: string): string {
    const f = this.get(key);
    const v: unknown = f.value;
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      return f.fail('required, missing');
    }
    if (typeof v !== 'string') return f.fail(`expected a string, got ${kind(v)}`);
    if (v.length > MAX_STRING) f.fail(`${v.length} characters, more than ${MAX_STRING}`);
    return v;
  }

  /** A number field (integers from JSON). */
  num(key: string, fallback?: number): number {
    const f = this.get(key);
    const v: unknown = f.value;
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      return f.fail('required, missing');
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) return f.fail(`expected a number, got ${kind(v)}`);
    return v;
  }
}

/**
 * A path from an SBOM or package database made absolute and normal
 * ("usr/bin/x" and "/usr//bin/./x" -> "/usr/bin/x"); null when it leaves
 * the root ("..") or is empty, NUL-bearing or too long.
 */
export function imagePath(p: string): string | null {
  if (!p || p.length > MAX_STRING || p.includes('\0')) return null;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') return null;
    out.push(seg);
  }
  return out.length ? `/${out.join('/')}` : null;
}
