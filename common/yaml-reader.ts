// Reading YAML written by people (rules, identities), with every problem
// reported as `file:line:col: message` plus the source line and a ^: the
// document is parsed once (eemeli/yaml keeps each node's offsets), each
// reader call checks one node and records what is wrong instead of throwing,
// so that a file's problems are all reported together.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { formatAt, type SourceFile } from './source-pos';

export type YamlNode = Node | Pair | null | undefined;

/** Where a node starts in the text, if the parser kept it. */
export function nodeOffset(node: YamlNode): number | undefined {
  if (!node) return undefined;
  if ('range' in node && node.range) return node.range[0];
  if ('key' in node && isScalar(node.key) && node.key.range) return node.key.range[0];
  return undefined;
}

/** A map key as text. */
export function keyOf(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

/** What a node is, for "expected X, got Y". */
export function describe(node: unknown): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'string') return `"${v}"`;
    return `${typeof v} ${String(v)}`;
  }
  return 'something else';
}

export class YamlReader {
  /** put before each message (e.g. `rule "x": `) */
  prefix = '';

  constructor(
    readonly file: SourceFile,
    readonly problems: string[] = [],
  ) {}

  /** The document's root node; malformed YAML is reported and gives undefined. Duplicate keys are errors. */
  parse(): Node | null | undefined {
    const doc = parseDocument(this.file.text, { lineCounter: new LineCounter(), uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length) {
      for (const e of doc.errors) this.fail(null, `malformed YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`, e.pos[0]);
      return undefined;
    }
    return doc.contents as Node | null;
  }

  fail(node: YamlNode, message: string, fallbackOffset = 0): void {
    this.problems.push(formatAt(this.file, nodeOffset(node) ?? fallbackOffset, this.prefix + message));
  }

  str(node: unknown, what: string): string | undefined {
    if (isScalar(node) && typeof node.value === 'string') return node.value;
    this.fail(node as Node, `${what}: expected a string, got ${describe(node)}`);
    return undefined;
  }

  bool(node: unknown, what: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.fail(node as Node, `${what}: expected true or false, got ${describe(node)}`);
    return undefined;
  }

  oneOf<T extends string>(node: unknown, what: string, allowed: readonly T[]): T | undefined {
    const s = this.str(node, what);
    if (s === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(s)) {
      this.fail(node as Node, `${what}: expected one of ${allowed.join(', ')}, got "${s}"`);
      return undefined;
    }
    return s as T;
  }

  /** A map's pairs, every key one of `allowed` (each unknown key is reported). */
  mapPairs(node: unknown, what: string, allowed: readonly string[]): Pair[] | undefined {
    if (!isMap(node)) {
      this.fail(node as Node, `${what}: expected a map, got ${describe(node)}`);
      return undefined;
    }
    let ok = true;
    for (const p of node.items) {
      const k = keyOf(p);
      if (!allowed.includes(k)) {
        this.fail(p.key as Node, `${what}: unknown key "${k}" (expected ${allowed.join(', ')})`);
        ok = false;
      }
    }
    return ok ? node.items : undefined;
  }

  /** mapPairs, and at least one pair: an empty map is reported as `what: expected <expected>`. */
  somePairs(node: unknown, what: string, allowed: readonly string[], expected: string): Pair[] | undefined {
    const pairs = this.mapPairs(node, what, allowed);
    if (pairs?.length === 0) {
      this.fail(node as Node, `${what}: expected ${expected}`);
      return undefined;
    }
    return pairs;
  }
}
