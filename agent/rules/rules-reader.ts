// A rules file being read: the YAML reader plus the lists (`$name`) defined
// so far, which any list-valued field may name.
import { isScalar, isSeq, type Node } from 'yaml';
import type { SourceFile } from '../../common/source-pos';
import { describe, YamlReader } from '../../common/yaml-reader';

/** A rules file being read, with the lists defined so far (in this and earlier files). */
export class RulesReader extends YamlReader {
  constructor(
    file: SourceFile,
    problems: string[],
    readonly lists: Map<string, string[]>,
  ) {
    super(file, problems);
  }

  /** The rule whose problems are being reported (null: none). */
  set rule(name: string | null) {
    this.prefix = name === null ? '' : `rule "${name}": `;
  }

  /** A list of strings: a YAML sequence (items may name lists as $name) or a whole `$name`. */
  strings(node: unknown, what: string): string[] | undefined {
    const expand = (n: unknown, into: string[]): boolean => {
      if (!isScalar(n) || (typeof n.value !== 'string' && typeof n.value !== 'number')) {
        this.fail(n as Node, `${what}: expected strings, got ${describe(n)}`);
        return false;
      }
      // a number keeps the digits as written (0755 stays "0755")
      const v = typeof n.value === 'number' && typeof n.source === 'string' ? n.source : String(n.value);
      if (typeof n.value === 'string' && v.startsWith('$')) {
        const list = this.lists.get(v.slice(1));
        if (!list) {
          this.fail(n as Node, `${what}: unknown list "${v.slice(1)}"${this.lists.size ? ` (lists: ${[...this.lists.keys()].join(', ')})` : ' (no lists are defined)'}`);
          return false;
        }
        // one by one: a spread of a list of a few hundred thousand items overflows the call stack
        for (const item of list) into.push(item);
        return true;
      }
      into.push(v);
      return true;
    };
    const out: string[] = [];
    if (isSeq(node)) {
      let ok = true;
      for (const item of node.items) ok = expand(item, out) && ok;
      if (!ok) return undefined;
      if (node.items.length === 0) {
        this.fail(node, `${what}: empty list`);
        return undefined;
      }
      return out;
    }
    if (isScalar(node) && typeof node.value === 'string' && node.value.startsWith('$')) {
      return expand(node, out) ? out : undefined;
    }
    this.fail(node as Node, `${what}: expected a list or a $list name, got ${describe(node)}`);
    return undefined;
  }

  ints(node: unknown, what: string, min: number, max: number): number[] | undefined {
    const items = isSeq(node) ? node.items : [node];
    if (isSeq(node) && node.items.length === 0) {
      this.fail(node, `${what}: empty list`);
      return undefined;
    }
    const out: number[] = [];
    for (const it of items) {
      if (isScalar(it) && typeof it.value === 'number' && Number.isInteger(it.value) && it.value >= min && it.value <= max) {
        out.push(it.value);
      } else if (isScalar(it) && typeof it.value === 'string' && it.value.startsWith('$')) {
        const list = this.lists.get(it.value.slice(1));
        if (!list) {
          this.fail(it, `${what}: unknown list "${it.value.slice(1)}"`);
          return undefined;
        }
        for (const v of list) {
          const n = /^\d+$/.test(v) ? Number(v) : NaN;
          if (!Number.isInteger(n) || n < min || n > max) {
            this.fail(it, `${what}: list "${it.value.slice(1)}" holds "${v}", expected whole numbers from ${min} to ${max}`);
            return undefined;
          }
          out.push(n);
        }
      } else {
        this.fail(it as Node, `${what}: expected whole numbers from ${min} to ${max}, got ${describe(it)}`);
        return undefined;
      }
    }
    return out;
  }
}
