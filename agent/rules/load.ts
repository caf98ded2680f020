// Rules files: YAML in, checked RuleSpecs out, or every problem with its
// file:line:col, the rule's name and what was expected. Nothing half-loads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { errorMessage, VigilError } from '../../common/errors';
import { checkSpiffeId, compileSpiffePattern } from '../../common/spiffe/spiffe-id';
import { parseCidr } from '../../common/cidr';
import { formatAt, lineCol, type SourceFile } from '../../common/source-pos';
import { globError } from './glob';
import {
  ACCESS,
  ACTIONS,
  KEYS_FOR_KIND,
  MATCH_KEYS,
  PRIORITIES,
  RULE_KINDS,
  type Access,
  type Action,
  type DestinationMatch,
  type ExceptionSpec,
  type MatchSpec,
  type Priority,
  type RuleKind,
  type RuleSetSpec,
  type RuleSpec,
  type StringMatch,
  type UidMatch,
  type WorkloadSpec,
} from './spec';

export interface LoadOptions {
  /** BPF LSM is usable: exec and file events can be denied before they happen */
  lsm?: boolean;
}

/** The problems found in a set of rules files, each already formatted. */
export class RuleErrors extends VigilError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('RULES', problems.join('\n'));
    this.problems = problems;
  }
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const LIST_RE = /^[A-Za-z0-9_-]+$/;
const TOP_KEYS = ['lists', 'rules'];
const RULE_KEYS = ['name', 'description', 'workload', 'on', 'match', 'exceptions', 'action', 'priority', 'tags', 'enabled'];

/** Expand directories (their *.yaml / *.yml files, sorted) and keep the order given. */
export function expandRulePaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new RuleErrors([`${p}: no such file or directory`]);
    }
    if (st.isDirectory()) {
      const names = fs
        .readdirSync(p)
        .filter((n) => /\.ya?ml$/.test(n))
        .sort();
      if (names.length === 0) throw new RuleErrors([`${p}: directory holds no .yaml or .yml file`]);
      for (const n of names) out.push(path.join(p, n));
    } else {
      out.push(p);
    }
  }
  return out;
}

interface Ctx {
  file: SourceFile;
  rule: string | null;
  problems: string[];
  lists: Map<string, string[]>;
}

function fail(ctx: Ctx, node: Node | Pair | null | undefined, message: string, fallbackOffset = 0): void {
  const offset = nodeOffset(node) ?? fallbackOffset;
  const who = ctx.rule === null ? '' : `rule "${ctx.rule}": `;
  ctx.problems.push(formatAt(ctx.file, offset, who + message));
}

function nodeOffset(node: Node | Pair | null | undefined): number | undefined {
  if (!node) return undefined;
  if ('range' in node && node.range) return node.range[0];
  if ('key' in node && isScalar(node.key) && node.key.range) return node.key.range[0];
  return undefined;
}

function keyOf(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

function describe(node: unknown): string {
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

function str(ctx: Ctx, node: unknown, what: string): string | undefined {
  if (isScalar(node) && typeof node.value === 'string') return node.value;
  fail(ctx, node as Node, `${what}: expected a string, got ${describe(node)}`);
  return undefined;
}

function bool(ctx: Ctx, node: unknown, what: string): boolean | undefined {
  if (isScalar(node) && typeof node.value === 'boolean') return node.value;
  fail(ctx, node as Node, `${what}: expected true or false, got ${describe(node)}`);
  return undefined;
}

function oneOf<T extends string>(ctx: Ctx, node: unknown, what: string, allowed: readonly T[]): T | undefined {
  const s = str(ctx, node, what);
  if (s === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(s)) {
    fail(ctx, node as Node, `${what}: expected one of ${allowed.join(', ')}, got "${s}"`);
    return undefined;
  }
  return s as T;
}

/** A list of strings: a YAML sequence (items may name lists as $name) or a whole `$name`. */
function strings(ctx: Ctx, node: unknown, what: string): string[] | undefined {
  const expand = (n: unknown, into: string[]): boolean => {
    if (!isScalar(n) || (typeof n.value !== 'string' && typeof n.value !== 'number')) {
      fail(ctx, n as Node, `${what}: expected strings, got ${describe(n)}`);
      return false;
    }
    // a number keeps the digits as written (0755 stays "0755")
    const v = typeof n.value === 'number' && typeof n.source === 'string' ? n.source : String(n.value);
    if (typeof n.value === 'string' && v.startsWith('$')) {
      const list = ctx.lists.get(v.slice(1));
      if (!list) {
        fail(ctx, n as Node, `${what}: unknown list "${v.slice(1)}"${ctx.lists.size ? ` (lists: ${[...ctx.lists.keys()].join(', ')})` : ' (no lists are defined)'}`);
        return false;
      }
      into.push(...list);
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
      fail(ctx, node, `${what}: empty list`);
      return undefined;
    }
    return out;
  }
  if (isScalar(node) && typeof node.value === 'string' && node.value.startsWith('$')) {
    return expand(node, out) ? out : undefined;
  }
  fail(ctx, node as Node, `${what}: expected a list or a $list name, got ${describe(node)}`);
  return undefined;
}

function ints(ctx: Ctx, node: unknown, what: string, min: number, max: number): number[] | undefined {
  const items = isSeq(node) ? node.items : [node];
  if (isSeq(node) && node.items.length === 0) {
    fail(ctx, node, `${what}: empty list`);
    return undefined;
  }
  const out: number[] = [];
  for (const it of items) {
    if (isScalar(it) && typeof it.value === 'number' && Number.isInteger(it.value) && it.value >= min && it.value <= max) {
      out.push(it.value);
    } else if (isScalar(it) && typeof it.value === 'string' && it.value.startsWith('$')) {
      const list = ctx.lists.get(it.value.slice(1));
      if (!list) {
        fail(ctx, it, `${what}: unknown list "${it.value.slice(1)}"`);
        return undefined;
      }
      for (const v of list) {
        const n = /^\d+$/.test(v) ? Number(v) : NaN;
        if (!Number.isInteger(n) || n < min || n > max) {
          fail(ctx, it, `${what}: list "${it.value.slice(1)}" holds "${v}", expected whole numbers from ${min} to ${max}`);
          return undefined;
        }
        out.push(n);
      }
    } else {
      fail(ctx, it as Node, `${what}: expected whole numbers from ${min} to ${max}, got ${describe(it)}`);
      return undefined;
    }
  }
  return out;
}

function mapPairs(ctx: Ctx, node: unknown, what: string, allowed: readonly string[]): Pair[] | undefined {
  if (!isMap(node)) {
    fail(ctx, node as Node, `${what}: expected a map, got ${describe(node)}`);
    return undefined;
  }
  let ok = true;
  for (const p of node.items) {
    const k = keyOf(p);
    if (!allowed.includes(k)) {
      fail(ctx, p.key as Node, `${what}: unknown key "${k}" (expected ${allowed.join(', ')})`);
      ok = false;
    }
  }
  return ok ? node.items : undefined;
}

function stringMatch(ctx: Ctx, node: unknown, what: string, kind: 'path' | 'binary'): StringMatch | undefined {
  const pairs = mapPairs(ctx, node, what, ['in', 'not_in', 'prefix', 'glob']);
  if (!pairs) return undefined;
  if (pairs.length === 0) {
    fail(ctx, node as Node, `${what}: expected at least one of in, not_in, prefix, glob`);
    return undefined;
  }
  const m: StringMatch = {};
  let ok = true;
  for (const p of pairs) {
    const k = keyOf(p) as keyof StringMatch;
    const vals = strings(ctx, p.value, `${what}.${k}`);
    if (!vals) {
      ok = false;
      continue;
    }
    for (const v of vals) {
      if ((kind === 'path' || kind === 'binary') && !v.startsWith('/') && k !== 'glob') {
        fail(ctx, p.value as Node, `${what}.${k}: "${v}" is not an absolute path`);
        ok = false;
      }
      if (k === 'glob') {
        const e = globError(v);
        if (e) {
          fail(ctx, p.value as Node, `${what}.glob: ${e}`);
          ok = false;
        }
      }
    }
    m[k] = vals;
  }
  return ok ? m : undefined;
}

function workloadPatterns(ctx: Ctx, node: unknown, what: string, allowHost: boolean): string[] | undefined {
  const items = isSeq(node) ? node.items : [node];
  if (isSeq(node) && node.items.length === 0) {
    fail(ctx, node, `${what}: empty list`);
    return undefined;
  }
  const out: string[] = [];
  let ok = true;
  for (const it of items) {
    const s = str(ctx, it, what);
    if (s === undefined) {
      ok = false;
      continue;
    }
    if (allowHost && s === 'host') {
      out.push(s);
      continue;
    }
    try {
      compileSpiffePattern(s);
      out.push(s);
    } catch (err) {
      const check = checkSpiffeId(s);
      const reason = errorMessage(err);
      fail(ctx, it as Node, `${what}: ${check.ok ? reason : reason.replace(/^invalid SPIFFE ID /, 'invalid SPIFFE ID ')}`);
      ok = false;
    }
  }
  return ok ? out : undefined;
}

function matchSpec(ctx: Ctx, node: unknown, what: string, kind: RuleKind): MatchSpec | undefined {
  const pairs = mapPairs(ctx, node, what, MATCH_KEYS);
  if (!pairs) return undefined;
  const m: MatchSpec = {};
  let ok = true;
  for (const p of pairs) {
    const k = keyOf(p) as keyof MatchSpec;
    if (!KEYS_FOR_KIND[kind].includes(k)) {
      fail(ctx, p.key as Node, `${what}.${k} does not apply to ${kind} events (${kind} rules can match ${KEYS_FOR_KIND[kind].join(', ')})`);
      ok = false;
      continue;
    }
    const sub = `${what}.${k}`;
    switch (k) {
      case 'binary':
      case 'parent_binary':
      case 'path':
      case 'new_path': {
        const v = stringMatch(ctx, p.value, sub, k === 'binary' || k === 'parent_binary' ? 'binary' : 'path');
        if (v) m[k] = v;
        else ok = false;
        break;
      }
      case 'flags': {
        const fp = mapPairs(ctx, p.value, sub, ['any']);
        const anyPair = fp?.find((x) => keyOf(x) === 'any');
        if (!fp || !anyPair) {
          if (fp) fail(ctx, p.value as Node, `${sub}: expected {any: [${ACCESS.join(', ')}]}`);
          ok = false;
          break;
        }
        const vals = strings(ctx, anyPair.value, `${sub}.any`);
        if (!vals) {
          ok = false;
          break;
        }
        const bad = vals.find((v) => !(ACCESS as readonly string[]).includes(v));
        if (bad !== undefined) {
          fail(ctx, anyPair.value as Node, `${sub}.any: unknown access "${bad}" (expected ${ACCESS.join(', ')})`);
          ok = false;
          break;
        }
        m.flags = { any: vals as Access[] };
        break;
      }
      case 'args': {
        const ap = mapPairs(ctx, p.value, sub, ['contains']);
        const c = ap?.find((x) => keyOf(x) === 'contains');
        if (!ap || !c) {
          if (ap) fail(ctx, p.value as Node, `${sub}: expected {contains: [...]}`);
          ok = false;
          break;
        }
        const vals = strings(ctx, c.value, `${sub}.contains`);
        if (vals) m.args = { contains: vals };
        else ok = false;
        break;
      }
      case 'uid': {
        let u: UidMatch | undefined;
        if (isMap(p.value)) {
          const up = mapPairs(ctx, p.value, sub, ['in', 'not_in']);
          if (up && up.length === 0) {
            fail(ctx, p.value as Node, `${sub}: expected in and/or not_in`);
          } else if (up) {
            u = {};
            for (const x of up) {
              const vals = ints(ctx, x.value, `${sub}.${keyOf(x)}`, 0, 0xffffffff);
              if (vals) u[keyOf(x) as 'in' | 'not_in'] = vals;
              else u = undefined;
              if (!u) break;
            }
          }
        } else {
          const vals = ints(ctx, p.value, sub, 0, 0xffffffff);
          if (vals) u = { in: vals };
        }
        if (u) m.uid = u;
        else ok = false;
        break;
      }
      case 'drift': {
        const v = bool(ctx, p.value, sub);
        if (v === undefined) ok = false;
        else m.drift = v;
        break;
      }
      case 'destination': {
        const dp = mapPairs(ctx, p.value, sub, ['cidr', 'not_cidr', 'port', 'workload', 'not_workload']);
        if (!dp) {
          ok = false;
          break;
        }
        const d: DestinationMatch = {};
        for (const x of dp) {
          const dk = keyOf(x) as keyof DestinationMatch;
          if (dk === 'port') {
            const vals = ints(ctx, x.value, `${sub}.port`, 1, 65535);
            if (vals) d.port = vals;
            else ok = false;
          } else if (dk === 'cidr' || dk === 'not_cidr') {
            const vals = strings(ctx, x.value, `${sub}.${dk}`);
            if (!vals) {
              ok = false;
              continue;
            }
            const bad = vals.find((v) => parseCidr(v) === null);
            if (bad !== undefined) {
              fail(ctx, x.value as Node, `${sub}.${dk}: "${bad}" is not an IP address or CIDR block`);
              ok = false;
              continue;
            }
            d[dk] = vals;
          } else {
            const vals = workloadPatterns(ctx, x.value, `${sub}.${dk}`, false);
            if (vals) d[dk] = vals;
            else ok = false;
          }
        }
        if (dp.length === 0) {
          fail(ctx, p.value as Node, `${sub}: expected at least one of cidr, not_cidr, port, workload, not_workload`);
          ok = false;
        }
        m.destination = d;
        break;
      }
    }
  }
  return ok ? m : undefined;
}

function loadRule(ctx: Ctx, node: unknown, index: number, seen: Map<string, string>, opts: LoadOptions): RuleSpec | undefined {
  ctx.rule = null;
  if (!isMap(node)) {
    fail(ctx, node as Node, `rules[${index}]: expected a map with name, on, match, action..., got ${describe(node)}`);
    return undefined;
  }
  const get = (k: string): Pair | undefined => (node as YAMLMap).items.find((p) => keyOf(p) === k);
  const nameP = get('name');
  if (!nameP) {
    ctx.rule = `#${index + 1}`;
    fail(ctx, node, 'missing required key "name"');
    return undefined;
  }
  const name = str(ctx, nameP.value, 'name');
  if (name === undefined) return undefined;
  ctx.rule = name;
  if (!NAME_RE.test(name)) {
    fail(ctx, nameP.value as Node, 'name: use letters, digits, ".", "-" and "_", starting with a letter or digit');
    return undefined;
  }
  const prev = seen.get(name);
  if (prev) {
    fail(ctx, nameP.value as Node, `duplicate rule name (first defined at ${prev})`);
    return undefined;
  }
  let ok = true;
  for (const p of node.items) {
    const k = keyOf(p);
    if (!RULE_KEYS.includes(k)) {
      fail(ctx, p.key as Node, `unknown key "${k}" (expected ${RULE_KEYS.join(', ')})`);
      ok = false;
    }
  }
  const onP = get('on');
  if (!onP) {
    fail(ctx, node, 'missing required key "on" (one of ' + RULE_KINDS.join(', ') + ')');
    return undefined;
  }
  const on = oneOf(ctx, onP.value, 'on', RULE_KINDS);
  if (!on) return undefined;

  let description = '';
  const dP = get('description');
  if (dP) description = str(ctx, dP.value, 'description') ?? ((ok = false), '');

  const workload: WorkloadSpec = { any: true, host: false, patterns: [] };
  const wP = get('workload');
  if (wP) {
    const pats = workloadPatterns(ctx, wP.value, 'workload', true);
    if (pats) {
      workload.any = false;
      workload.host = pats.includes('host');
      workload.patterns = pats.filter((p) => p !== 'host');
    } else {
      ok = false;
    }
  }

  let match: MatchSpec = {};
  const mP = get('match');
  if (mP) {
    const m = matchSpec(ctx, mP.value, 'match', on);
    if (m) match = m;
    else ok = false;
  }

  const exceptions: ExceptionSpec[] = [];
  const eP = get('exceptions');
  if (eP) {
    if (!isSeq(eP.value)) {
      fail(ctx, eP.value as Node, `exceptions: expected a list of {name, match}, got ${describe(eP.value)}`);
      ok = false;
    } else {
      eP.value.items.forEach((item, i) => {
        const pairs = mapPairs(ctx, item, `exceptions[${i}]`, ['name', 'match']);
        if (!pairs) {
          ok = false;
          return;
        }
        const n = pairs.find((x) => keyOf(x) === 'name');
        const mm = pairs.find((x) => keyOf(x) === 'match');
        if (!n || !mm) {
          fail(ctx, item as Node, `exceptions[${i}]: expected both name and match`);
          ok = false;
          return;
        }
        const en = str(ctx, n.value, `exceptions[${i}].name`);
        const em = matchSpec(ctx, mm.value, `exceptions[${i}].match`, on);
        if (en === undefined || !em) ok = false;
        else exceptions.push({ name: en, match: em });
      });
    }
  }

  let action: Action = 'alert';
  const aP = get('action');
  if (aP) {
    const a = oneOf(ctx, aP.value, 'action', ACTIONS);
    if (a) action = a;
    else ok = false;
  }
  let priority: Priority = 'warning';
  const pP = get('priority');
  if (pP) {
    const p = oneOf(ctx, pP.value, 'priority', PRIORITIES);
    if (p) priority = p;
    else ok = false;
  }
  let tags: string[] = [];
  const tP = get('tags');
  if (tP) {
    const t = strings(ctx, tP.value, 'tags');
    if (t) tags = t;
    else ok = false;
  }
  let enabled = true;
  const enP = get('enabled');
  if (enP) {
    const e = bool(ctx, enP.value, 'enabled');
    if (e === undefined) ok = false;
    else enabled = e;
  }

  // combinations the kernel cannot honour
  if (action === 'deny' && on !== 'connect' && !opts.lsm) {
    fail(
      ctx,
      aP?.value as Node,
      `action deny: ${on} events cannot be denied on this kernel (no BPF LSM): use kill (the process dies at the ${on === 'exec' ? 'exec' : 'syscall'}) or alert`,
    );
    ok = false;
  }
  if (action === 'deny' && on === 'connect') {
    const extra = Object.keys(match).filter((k) => k !== 'destination');
    if (extra.length) {
      fail(
        ctx,
        mP?.value as Node,
        `action deny: a connect is refused in the kernel, which sees only the workload and the destination; match.${extra[0]} cannot be evaluated there (use kill, or drop the condition)`,
      );
      ok = false;
    }
    if (exceptions.length) {
      fail(ctx, eP?.value as Node, 'action deny: exceptions cannot be evaluated in the kernel for connect rules: fold them into destination.not_cidr / not_workload');
      ok = false;
    }
  }
  if (!ok) return undefined;
  const where = lineCol(ctx.file.text, nodeOffset(nameP.value as Node) ?? 0);
  seen.set(name, `${ctx.file.name}:${where.line}:${where.col}`);
  return {
    name,
    description,
    workload,
    on,
    match,
    exceptions,
    action,
    priority,
    tags,
    enabled,
    file: ctx.file,
    offset: nodeOffset(node) ?? 0,
    at: {
      action: nodeOffset(aP?.value as Node),
      workload: nodeOffset(wP?.value as Node),
      on: nodeOffset(onP.value as Node),
      match: nodeOffset(mP?.value as Node),
    },
  };
}

/** Load rules from text (tests, policy bundles). */
export function loadRuleSources(sources: SourceFile[], opts: LoadOptions = {}): RuleSetSpec {
  const problems: string[] = [];
  const lists = new Map<string, string[]>();
  const rules: RuleSpec[] = [];
  const seen = new Map<string, string>();
  for (const file of sources) {
    const ctx: Ctx = { file, rule: null, problems, lists };
    const doc = parseDocument(file.text, { lineCounter: new LineCounter(), uniqueKeys: true, prettyErrors: false });
    if (doc.errors.length) {
      for (const e of doc.errors) fail(ctx, null, `malformed YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`, e.pos[0]);
      continue;
    }
    const root = doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) continue; // an empty file
    const pairs = mapPairs(ctx, root, 'top level', TOP_KEYS);
    if (!pairs) continue;
    const listsP = pairs.find((p) => keyOf(p) === 'lists');
    if (listsP) {
      if (!isMap(listsP.value)) {
        fail(ctx, listsP.value as Node, `lists: expected a map of list names to lists, got ${describe(listsP.value)}`);
      } else {
        for (const p of listsP.value.items) {
          const n = keyOf(p);
          if (!LIST_RE.test(n)) {
            fail(ctx, p.key as Node, `lists: "${n}" is not a valid list name (letters, digits, "-", "_")`);
            continue;
          }
          if (lists.has(n)) {
            fail(ctx, p.key as Node, `lists: list "${n}" is defined twice`);
            continue;
          }
          const vals = strings(ctx, p.value, `lists.${n}`);
          if (vals) lists.set(n, vals);
        }
      }
    }
    const rulesP = pairs.find((p) => keyOf(p) === 'rules');
    if (rulesP) {
      if (!isSeq(rulesP.value)) {
        fail(ctx, rulesP.value as Node, `rules: expected a list of rules, got ${describe(rulesP.value)}`);
      } else {
        rulesP.value.items.forEach((item, i) => {
          const r = loadRule(ctx, item, i, seen, opts);
          if (r) rules.push(r);
        });
      }
    }
  }
  if (problems.length) throw new RuleErrors(problems);
  return { files: sources.map((s) => s.name), lists, rules };
}

/** Load rules from files and directories, in order. Throws RuleErrors with every problem. */
export function loadRuleFiles(paths: string[], opts: LoadOptions = {}): RuleSetSpec {
  const files = expandRulePaths(paths);
  const sources: SourceFile[] = files.map((f) => {
    try {
      return { name: f, text: fs.readFileSync(f, 'utf8') };
    } catch (err) {
      throw new RuleErrors([`${f}: cannot read: ${errorMessage(err)}`]);
    }
  });
  return loadRuleSources(sources, opts);
}
