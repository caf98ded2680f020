// Rules files: YAML in, checked RuleSpecs out, or every problem with its
// file:line:col, the rule's name and what was expected. Nothing half-loads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { errorMessage, VigilError } from '../../common/errors';
import { lineCol, type SourceFile } from '../../common/source-pos';
import { describe, keyOf, nodeOffset } from '../../common/yaml-reader';
import { matchSpec, workloadPatterns } from './load-match';
import { RulesReader } from './rules-reader';
import { ACTIONS, PRIORITIES, RULE_KINDS, type Action, type ExceptionSpec, type MatchSpec, type Priority, type RuleSetSpec, type RuleSpec, type WorkloadSpec } from './spec';

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

function loadRule(ctx: RulesReader, node: unknown, index: number, seen: Map<string, string>, opts: LoadOptions): RuleSpec | undefined {
  ctx.rule = null;
  if (!isMap(node)) {
    ctx.fail(node as Node, `rules[${index}]: expected a map with name, on, match, action..., got ${describe(node)}`);
    return undefined;
  }
  const get = (k: string): Pair | undefined => (node as YAMLMap).items.find((p) => keyOf(p) === k);
  const nameP = get('name');
  if (!nameP) {
    ctx.rule = `#${index + 1}`;
    ctx.fail(node, 'missing required key "name"');
    return undefined;
  }
  const name = ctx.str(nameP.value, 'name');
  if (name === undefined) return undefined;
  ctx.rule = name;
  if (!NAME_RE.test(name)) {
    ctx.fail(nameP.value as Node, 'name: use letters, digits, ".", "-" and "_", starting with a letter or digit');
    return undefined;
  }
  const prev = seen.get(name);
  if (prev) {
    ctx.fail(nameP.value as Node, `duplicate rule name (first defined at ${prev})`);
    return undefined;
  }
  let ok = true;
  for (const p of node.items) {
    const k = keyOf(p);
    if (!RULE_KEYS.includes(k)) {
      ctx.fail(p.key as Node, `unknown key "${k}" (expected ${RULE_KEYS.join(', ')})`);
      ok = false;
    }
  }
  const onP = get('on');
  if (!onP) {
    ctx.fail(node, 'missing required key "on" (one of ' + RULE_KINDS.join(', ') + ')');
    return undefined;
  }
  const on = ctx.oneOf(onP.value, 'on', RULE_KINDS);
  if (!on) return undefined;

  /** An optional key: `absent` when it is not there, else what `read` makes of it (a failure is reported by `read`, and clears ok). */
  const opt = <T>(key: string, absent: T, read: (v: unknown) => T | undefined): T => {
    const p = get(key);
    if (!p) return absent;
    const v = read(p.value);
    if (v === undefined) ok = false;
    return v ?? absent;
  };
  const description = opt('description', '', (v) => ctx.str(v, 'description'));

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

  const match = opt<MatchSpec>('match', {}, (v) => matchSpec(ctx, v, 'match', on));

  const exceptions: ExceptionSpec[] = [];
  const eP = get('exceptions');
  if (eP) {
    if (!isSeq(eP.value)) {
      ctx.fail(eP.value as Node, `exceptions: expected a list of {name, match}, got ${describe(eP.value)}`);
      ok = false;
    } else {
      eP.value.items.forEach((item, i) => {
        const pairs = ctx.mapPairs(item, `exceptions[${i}]`, ['name', 'match']);
        if (!pairs) {
          ok = false;
          return;
        }
        const n = pairs.find((x) => keyOf(x) === 'name');
        const mm = pairs.find((x) => keyOf(x) === 'match');
        if (!n || !mm) {
          ctx.fail(item as Node, `exceptions[${i}]: expected both name and match`);
          ok = false;
          return;
        }
        const en = ctx.str(n.value, `exceptions[${i}].name`);
        const em = matchSpec(ctx, mm.value, `exceptions[${i}].match`, on);
        if (en === undefined || !em) ok = false;
        else exceptions.push({ name: en, match: em });
      });
    }
  }

  const action = opt<Action>('action', 'alert', (v) => ctx.oneOf(v, 'action', ACTIONS));
  const priority = opt<Priority>('priority', 'warning', (v) => ctx.oneOf(v, 'priority', PRIORITIES));
  const tags = opt<string[]>('tags', [], (v) => ctx.strings(v, 'tags'));
  const enabled = opt('enabled', true, (v) => ctx.bool(v, 'enabled'));
  const aP = get('action');
  const mP = get('match');

  // combinations the kernel cannot honour
  if (action === 'deny' && on !== 'connect' && !opts.lsm) {
    ctx.fail(
      aP?.value as Node,
      `action deny: ${on} events cannot be denied on this kernel (no BPF LSM): use kill (the process dies at the ${on === 'exec' ? 'exec' : 'syscall'}) or alert`,
    );
    ok = false;
  }
  if (action === 'deny' && on === 'connect') {
    const extra = Object.keys(match).filter((k) => k !== 'destination');
    if (extra.length) {
      ctx.fail(
        mP?.value as Node,
        `action deny: a connect is refused in the kernel, which sees only the workload and the destination; match.${extra[0]} cannot be evaluated there (use kill, or drop the condition)`,
      );
      ok = false;
    }
    if (exceptions.length) {
      ctx.fail(eP?.value as Node, 'action deny: exceptions cannot be evaluated in the kernel for connect rules: fold them into destination.not_cidr / not_workload');
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
    const ctx = new RulesReader(file, problems, lists);
    const root = ctx.parse();
    if (root === undefined) continue;
    if (root === null || (isScalar(root) && root.value === null)) continue; // an empty file
    const pairs = ctx.mapPairs(root, 'top level', TOP_KEYS);
    if (!pairs) continue;
    const listsP = pairs.find((p) => keyOf(p) === 'lists');
    if (listsP) {
      if (!isMap(listsP.value)) {
        ctx.fail(listsP.value as Node, `lists: expected a map of list names to lists, got ${describe(listsP.value)}`);
      } else {
        for (const p of listsP.value.items) {
          const n = keyOf(p);
          if (!LIST_RE.test(n)) {
            ctx.fail(p.key as Node, `lists: "${n}" is not a valid list name (letters, digits, "-", "_")`);
            continue;
          }
          if (lists.has(n)) {
            ctx.fail(p.key as Node, `lists: list "${n}" is defined twice`);
            continue;
          }
          const vals = ctx.strings(p.value, `lists.${n}`);
          if (vals) lists.set(n, vals);
        }
      }
    }
    const rulesP = pairs.find((p) => keyOf(p) === 'rules');
    if (rulesP) {
      if (!isSeq(rulesP.value)) {
        ctx.fail(rulesP.value as Node, `rules: expected a list of rules, got ${describe(rulesP.value)}`);
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
