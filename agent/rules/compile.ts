// Rules compiled once: precompiled matchers (hash sets, prefix maps, globs)
// for user space, an index per event kind so that an event is checked only
// against the rules that could match it, and the enforcement mode each rule
// gets on this kernel.
import { COND_EXCEPTIONS, COND_TESTS, ExeFlag, KernelAccess, SETID_GID_SYSCALLS, type KindName } from '../kernel/abi';
import type { KernelEvent } from '../decode/events';
import { compileSpiffePattern, type SpiffePattern } from '../../common/spiffe/spiffe-id';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../../common/cidr';
import { compileGlob, type Glob } from './glob';
import {
  type Action,
  type MatchSpec,
  type Priority,
  type RuleKind,
  type RuleSetSpec,
  type RuleSpec,
  type StringMatch,
} from './spec';

/** How a rule is carried out on this kernel. */
export type Enforcement = 'alert' | 'kernel-kill' | 'user-kill' | 'kernel-deny';

/** What a rule is evaluated against. */
export interface EvalContext {
  ev: KernelEvent;
  /** the process's binary (for exec: the new one) */
  exe: string | null;
  args: readonly string[] | null;
  parentExe: string | null;
  /** the workload of the process, null = host / unknown */
  spiffeId: string | null;
  /** connect: the workload that owns the destination address */
  destSpiffeId: string | null;
  /** when the workload's first process started, CLOCK_REALTIME ns (null: unknown) */
  workloadStartNs?: bigint | null;
  /**
   * Other names rules use for the same file as the binary (and the parent's
   * binary): the watched names whose (device, inode) it has
   * (agent/enforce/file-ids.ts). A hard link, a chroot, a bind mount of a
   * named binary is that binary.
   */
  exeAliases?: readonly string[];
  parentAliases?: readonly string[];
}

/** A condition on a binary the kernel checks itself: in (or not in) a set of names, by path hash and by identity. */
export interface KernelBinTest {
  who: 'self' | 'parent' | 'fileless';
  /** the set's names (none for fileless) */
  names: string[];
  /** not_in; fileless: false */
  negate: boolean;
}

/**
 * How the kernel decides a kill rule that has conditions besides its key
 * (bpf/lib/rules.h cond_kill): the rule's key (its paths, or the whole kind)
 * names it, then every test must hold and no exception (each a conjunction
 * of tests) may.
 */
export interface KernelCond {
  key: 'paths' | 'any';
  tests: KernelBinTest[];
  exceptions: KernelBinTest[][];
}

type Test = (c: EvalContext) => boolean;

export interface CompiledRule {
  /** 1-based; what the kernel reports in enforced events */
  id: number;
  spec: RuleSpec;
  name: string;
  kind: RuleKind;
  action: Action;
  priority: Priority;
  tags: readonly string[];
  enforcement: Enforcement;
  /** one sentence: why this enforcement mode */
  enforcementWhy: string;
  appliesTo(spiffeId: string | null): boolean;
  /** the rule's own match, exceptions not applied */
  test: Test;
  /** name of the first exception that exempts the event, or null */
  exemptedBy(c: EvalContext): string | null;
  /** exact values and directory prefixes of the indexed field the kernel can check, or null */
  kernelPaths: { exact: string[]; prefixes: string[] } | null;
  /** open: access bits the rule needs (KernelAccess), 0 = any */
  access: number;
  /** a kernel kill with binary conditions or exceptions: what the kernel checks (null: none, or not a kernel kill) */
  kernelCond: KernelCond | null;
}


/** The KernelAccess bits of an open's flags (what `flags: {any: [...]}` matches). */
export function openAccessBits(flags: number): number {
  const acc = flags & 3; // O_ACCMODE
  return (
    (acc === 0 || acc === 2 ? KernelAccess.read : 0) |
    (acc === 1 || acc === 2 ? KernelAccess.write : 0) |
    (flags & 0o100 ? KernelAccess.create : 0) |
    (flags & 0o1000 ? KernelAccess.trunc : 0)
  );
}

function compileStringMatch(m: StringMatch): (v: string | null) => boolean {
  const inSet = m.in ? new Set(m.in) : null;
  const notIn = m.not_in ? new Set(m.not_in) : null;
  const prefixes = m.prefix ?? null;
  const globs: Glob[] | null = m.glob ? m.glob.map(compileGlob) : null;
  return (v) => {
    if (v === null) return !inSet && !prefixes && !globs;
    if (inSet && !inSet.has(v)) return false;
    if (notIn && notIn.has(v)) return false;
    if (prefixes && !prefixes.some((p) => v.startsWith(p))) return false;
    if (globs && !globs.some((g) => g.test(v))) return false;
    return true;
  };
}

/** The field a kind is indexed and kernel-filtered by. */
function keyField(kind: RuleKind): 'binary' | 'path' | null {
  if (kind === 'exec') return 'binary';
  if (kind === 'open' || kind === 'unlink' || kind === 'rename' || kind === 'chmod' || kind === 'mount' || kind === 'module') return 'path';
  return null;
}

export function eventPath(ev: KernelEvent): string | null {
  switch (ev.kind) {
    case 'open':
    case 'unlink':
    case 'rename':
    case 'chmod':
      return ev.path;
    case 'mount':
      return ev.str2;
    case 'module':
      return ev.str1 || null;
    default:
      return null;
  }
}

/** The value of a kind's indexed field in an event. */
export function eventKey(kind: RuleKind, c: EvalContext): string | null {
  const f = keyField(kind);
  return f === 'binary' ? c.exe : f === 'path' ? eventPath(c.ev) : null;
}

const NO_ALIASES: readonly string[] = [];

/**
 * binary / parent_binary: the path, and for in / not_in also every other
 * name rules use for the same file (its aliases): the kernel checks these by
 * path hash and by (device, inode), so must we.
 */
function compileBinaryMatch(m: StringMatch): (v: string | null, aliases: readonly string[]) => boolean {
  const inSet = m.in ? new Set(m.in) : null;
  const notIn = m.not_in ? new Set(m.not_in) : null;
  const prefixes = m.prefix ?? null;
  const globs: Glob[] | null = m.glob ? m.glob.map(compileGlob) : null;
  return (v, aliases) => {
    if (v === null && aliases.length === 0) return !inSet && !prefixes && !globs;
    if (inSet && !((v !== null && inSet.has(v)) || aliases.some((a) => inSet.has(a)))) return false;
    if (notIn && ((v !== null && notIn.has(v)) || aliases.some((a) => notIn.has(a)))) return false;
    if (prefixes && !(v !== null && prefixes.some((p) => v.startsWith(p)))) return false;
    if (globs && !(v !== null && globs.some((g) => g.test(v)))) return false;
    return true;
  };
}

/** exec: the executed file has no link (memfd, deleted, O_TMPFILE) */
export function isFileless(c: EvalContext): boolean {
  return c.ev.kind === 'exec' && (c.ev.exeFlags & ExeFlag.FILELESS) !== 0;
}

function compileMatch(kind: RuleKind, m: MatchSpec): Test {
  const tests: Test[] = [];
  if (m.binary) {
    const t = compileBinaryMatch(m.binary);
    tests.push((c) => t(c.exe, c.exeAliases ?? NO_ALIASES));
  }
  if (m.parent_binary) {
    const t = compileBinaryMatch(m.parent_binary);
    tests.push((c) => t(c.parentExe, c.parentAliases ?? NO_ALIASES));
  }
  if (m.fileless !== undefined) {
    const want = m.fileless;
    tests.push((c) => c.ev.kind === 'exec' && isFileless(c) === want);
  }
  if (m.path) {
    const t = compileStringMatch(m.path);
    tests.push((c) => t(eventPath(c.ev)));
  }
  if (m.new_path) {
    const t = compileStringMatch(m.new_path);
    tests.push((c) => t(c.ev.kind === 'rename' ? c.ev.newPath : null));
  }
  if (m.flags) {
    let want = 0;
    for (const a of m.flags.any) want |= KernelAccess[a];
    tests.push((c) => c.ev.kind === 'open' && (openAccessBits(c.ev.openFlags) & want) !== 0);
  }
  if (m.args) {
    const needles = m.args.contains;
    tests.push((c) => c.args !== null && c.args.some((a) => needles.some((n) => a.includes(n))));
  }
  if (m.uid) {
    const inSet = m.uid.in ? new Set(m.uid.in) : null;
    const notIn = m.uid.not_in ? new Set(m.uid.not_in) : null;
    // on a set*id event the uid is the one after the call: a call that sets group ids leaves it as it was, so it never matches a uid condition
    tests.push((c) => !(c.ev.kind === 'setuid' && SETID_GID_SYSCALLS.has(c.ev.syscallNr)) && (!inSet || inSet.has(c.ev.uid)) && (!notIn || !notIn.has(c.ev.uid)));
  }
  if (m.drift !== undefined) {
    const want = m.drift;
    tests.push((c) => {
      if (c.ev.kind !== 'exec' || c.workloadStartNs === null || c.workloadStartNs === undefined) return false;
      return c.ev.exeCtimeNs > c.workloadStartNs === want;
    });
  }
  if (m.destination) {
    const d = m.destination;
    const cidrs = d.cidr?.map((x) => parseCidr(x) as Cidr) ?? null;
    const notCidrs = d.not_cidr?.map((x) => parseCidr(x) as Cidr) ?? null;
    const ports = d.port ? new Set(d.port) : null;
    const wl = d.workload?.map(compileSpiffePattern) ?? null;
    const notWl = d.not_workload?.map(compileSpiffePattern) ?? null;
    tests.push((c) => {
      if (c.ev.kind !== 'connect') return false;
      const ip = parseIp(c.ev.daddr);
      if (!ip) return false;
      if (cidrs && !cidrs.some((x) => cidrContains(x, ip.family, ip.addr))) return false;
      if (notCidrs && notCidrs.some((x) => cidrContains(x, ip.family, ip.addr))) return false;
      if (ports && !ports.has(c.ev.dport)) return false;
      if (wl && !(c.destSpiffeId !== null && wl.some((p) => p.matches(c.destSpiffeId as string)))) return false;
      if (notWl && c.destSpiffeId !== null && notWl.some((p) => p.matches(c.destSpiffeId as string))) return false;
      return true;
    });
  }
  void kind;
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (c) => {
    for (const t of tests) if (!t(c)) return false;
    return true;
  };
}

/** in-only or directory-prefix-only matchers are what the kernel can check by hash. */
function kernelPathsOf(m: StringMatch | undefined): { exact: string[]; prefixes: string[] } | null {
  if (!m) return null;
  const keys = Object.keys(m);
  if (keys.length === 1 && m.in) return { exact: m.in, prefixes: [] };
  if (keys.length === 1 && m.prefix && m.prefix.every((p) => p.endsWith('/'))) return { exact: [], prefixes: m.prefix };
  return null;
}

/** Kinds whose kill verdict goes through the kernel's path lookup (bpf/lib/rules.h path_verdict), where conditions are checked. */
const COND_KINDS: ReadonlySet<RuleKind> = new Set<RuleKind>(['exec', 'open', 'unlink', 'rename', 'chmod', 'mount', 'module']);

/** A binary / parent_binary matcher as a kernel test: in-only or not_in-only lists. */
function binTest(who: 'self' | 'parent', m: StringMatch): KernelBinTest | string {
  const keys = Object.keys(m);
  if (keys.length === 1 && m.in) return { who, names: [...m.in], negate: false };
  if (keys.length === 1 && m.not_in) return { who, names: [...m.not_in], negate: true };
  return 'the kernel checks in or not_in lists of binaries only';
}

/**
 * The kernel's part of a kill rule's conditions: its key (the indexed
 * field's exact paths and directory prefixes, or the whole kind), the other
 * conditions as binary tests, its exceptions as conjunctions of them.
 * A string says why the kernel cannot.
 */
function kernelCondOf(spec: RuleSpec, kp: CompiledRule['kernelPaths']): KernelCond | string {
  const field = keyField(spec.on);
  const tests: KernelBinTest[] = [];
  let key: KernelCond['key'] = 'any';
  for (const k of Object.keys(spec.match) as (keyof MatchSpec)[]) {
    const m = spec.match;
    if (k === field) {
      if (kp) {
        key = 'paths';
        continue;
      }
      // exec: binary not_in is a test on the new binary
      if (k === 'binary' && m.binary) {
        const t = binTest('self', m.binary);
        if (typeof t === 'string') return `match.binary: the kernel checks exact paths, prefixes ending in "/" or a not_in list`;
        tests.push(t);
        continue;
      }
      return `match.${k}: the kernel checks exact paths and prefixes ending in "/" only`;
    }
    if (k === 'flags' && spec.on === 'open') continue;
    if ((k === 'binary' || k === 'parent_binary') && m[k]) {
      const t = binTest(k === 'binary' ? 'self' : 'parent', m[k] as StringMatch);
      if (typeof t === 'string') return `match.${k}: ${t}`;
      tests.push(t);
      continue;
    }
    if (k === 'fileless' && m.fileless !== undefined) {
      tests.push({ who: 'fileless', names: [], negate: !m.fileless });
      continue;
    }
    return `match.${k} is evaluated in user space`;
  }
  if (tests.length > COND_TESTS) return `more than ${COND_TESTS} binary conditions`;
  if (spec.exceptions.length > COND_EXCEPTIONS) return `more than ${COND_EXCEPTIONS} exceptions`;
  const exceptions: KernelBinTest[][] = [];
  for (const e of spec.exceptions) {
    const et: KernelBinTest[] = [];
    const keys = Object.keys(e.match) as (keyof MatchSpec)[];
    if (keys.length === 0) return `exception "${e.name}" exempts every event`;
    for (const k of keys) {
      if ((k === 'binary' || k === 'parent_binary') && e.match[k]) {
        const t = binTest(k === 'binary' ? 'self' : 'parent', e.match[k] as StringMatch);
        if (typeof t === 'string') return `exception "${e.name}": ${k}: ${t}`;
        et.push(t);
      } else if (k === 'fileless' && e.match.fileless !== undefined) {
        et.push({ who: 'fileless', names: [], negate: !e.match.fileless });
      } else {
        return `exception "${e.name}": ${k} is evaluated in user space`;
      }
    }
    if (et.length > COND_TESTS) return `exception "${e.name}" has more than ${COND_TESTS} conditions`;
    exceptions.push(et);
  }
  return { key, tests, exceptions };
}

function classify(spec: RuleSpec): { enforcement: Enforcement; why: string; kernelPaths: CompiledRule['kernelPaths']; kernelCond: KernelCond | null } {
  const field = keyField(spec.on);
  const keys = Object.keys(spec.match) as (keyof MatchSpec)[];
  const kp = field ? kernelPathsOf(spec.match[field]) : null;
  if (spec.action === 'alert') return { enforcement: 'alert', why: 'alert only', kernelPaths: kp, kernelCond: null };
  if (spec.action === 'deny') {
    return { enforcement: 'kernel-deny', why: 'refused in the kernel by cgroup/connect (EPERM)', kernelPaths: null, kernelCond: null };
  }
  const where =
    spec.on === 'exec'
      ? 'at exec: the new program never runs'
      : spec.on === 'migrate'
        ? 'when it is moved out of its workload'
        : 'at syscall exit: the syscall itself completes';
  if (spec.on === 'connect') return { enforcement: 'user-kill', why: 'user-space kill (pidfd) after the connect', kernelPaths: null, kernelCond: null };
  // kill: in the kernel when every condition is one the kernel can check
  if (COND_KINDS.has(spec.on)) {
    const cond = kernelCondOf(spec, kp);
    if (typeof cond === 'string') return { enforcement: 'user-kill', why: `user-space kill (pidfd): ${cond}`, kernelPaths: kp, kernelCond: null };
    if (cond.tests.length === 0 && cond.exceptions.length === 0) {
      return { enforcement: 'kernel-kill', why: `SIGKILL from the kernel ${where}`, kernelPaths: kp, kernelCond: null };
    }
    return {
      enforcement: 'kernel-kill',
      why: `SIGKILL from the kernel ${where}; its binary conditions${cond.exceptions.length ? ' and exceptions' : ''} are checked there`,
      kernelPaths: cond.key === 'paths' ? kp : null,
      kernelCond: cond,
    };
  }
  if (spec.exceptions.length) {
    return { enforcement: 'user-kill', why: 'user-space kill (pidfd): exceptions are evaluated in user space', kernelPaths: kp, kernelCond: null };
  }
  const blocker = keys[0];
  if (blocker) {
    return { enforcement: 'user-kill', why: `user-space kill (pidfd): match.${blocker} is evaluated in user space`, kernelPaths: kp, kernelCond: null };
  }
  return { enforcement: 'kernel-kill', why: `SIGKILL from the kernel ${where}`, kernelPaths: kp, kernelCond: null };
}

export function compileRule(spec: RuleSpec, id: number): CompiledRule {
  const patterns: SpiffePattern[] = spec.workload.patterns.map(compileSpiffePattern);
  const appliesCache = new Map<string, boolean>();
  const appliesTo = (spiffeId: string | null): boolean => {
    if (spec.workload.any) return true;
    if (spiffeId === null) return spec.workload.host;
    let v = appliesCache.get(spiffeId);
    if (v === undefined) {
      v = patterns.some((p) => p.matches(spiffeId));
      if (appliesCache.size > 10000) appliesCache.clear();
      appliesCache.set(spiffeId, v);
    }
    return v;
  };
  const test = compileMatch(spec.on, spec.match);
  const exceptions = spec.exceptions.map((e) => ({ name: e.name, test: compileMatch(spec.on, e.match) }));
  const c = classify(spec);
  let access = 0;
  for (const a of spec.match.flags?.any ?? []) access |= KernelAccess[a];
  return {
    id,
    spec,
    name: spec.name,
    kind: spec.on,
    action: spec.action,
    priority: spec.priority,
    tags: spec.tags,
    enforcement: c.enforcement,
    enforcementWhy: c.why,
    appliesTo,
    test,
    exemptedBy: (ctx) => {
      for (const e of exceptions) if (e.test(ctx)) return e.name;
      return null;
    },
    kernelPaths: c.kernelPaths,
    access,
    kernelCond: c.kernelCond,
  };
}

/** Candidate rules for one kind, indexed by the kind's key field. */
class KindIndex {
  private readonly exact = new Map<string, CompiledRule[]>();
  private readonly prefixes = new Map<number, Map<string, CompiledRule[]>>();
  private readonly rest: CompiledRule[] = [];
  private lengths: number[] = [];

  add(rule: CompiledRule, key: StringMatch | undefined): void {
    const push = (m: Map<string, CompiledRule[]>, k: string): void => {
      const l = m.get(k);
      if (l) l.push(rule);
      else m.set(k, [rule]);
    };
    if (key?.in) {
      for (const v of key.in) push(this.exact, v);
      return;
    }
    const pre = key?.prefix ?? key?.glob?.map((g) => compileGlob(g).literalPrefix);
    if (pre && pre.every((p) => p.length > 0)) {
      for (const p of pre) {
        let m = this.prefixes.get(p.length);
        if (!m) this.prefixes.set(p.length, (m = new Map()));
        push(m, p);
      }
      this.lengths = [...this.prefixes.keys()].sort((a, b) => a - b);
      return;
    }
    this.rest.push(rule);
  }

  /** Rules that could match a key (each at most once, in rule order). */
  candidates(key: string | null): CompiledRule[] {
    const out: CompiledRule[] = [];
    if (key !== null) {
      const e = this.exact.get(key);
      if (e) out.push(...e);
      for (const len of this.lengths) {
        if (len > key.length) break;
        const hit = this.prefixes.get(len)?.get(key.slice(0, len));
        if (hit) out.push(...hit);
      }
    }
    if (out.length === 0) return this.rest;
    out.push(...this.rest);
    if (out.length > 1) {
      out.sort((a, b) => a.id - b.id);
      // a rule indexed under two matching keys appears twice
      return out.filter((r, i) => i === 0 || out[i - 1] !== r);
    }
    return out;
  }
}

export interface RuleMatch {
  rule: CompiledRule;
}

export class RuleSet {
  readonly spec: RuleSetSpec;
  /** enabled rules, in file order; rule.id is its position + 1 among all rules */
  readonly rules: CompiledRule[];
  readonly disabled: string[];
  /** a rule or an exception looks at drift: exec events need their workload's start time */
  readonly usesDrift: boolean;
  private readonly index = new Map<KindName, KindIndex>();

  constructor(spec: RuleSetSpec) {
    this.spec = spec;
    this.rules = [];
    this.disabled = [];
    this.usesDrift = spec.rules.some((r) => r.enabled && [r.match, ...r.exceptions.map((e) => e.match)].some((m) => m.drift !== undefined));
    spec.rules.forEach((r, i) => {
      if (!r.enabled) {
        this.disabled.push(r.name);
        return;
      }
      const c = compileRule(r, i + 1);
      this.rules.push(c);
      let idx = this.index.get(r.on);
      if (!idx) this.index.set(r.on, (idx = new KindIndex()));
      const f = keyField(r.on);
      idx.add(c, f ? r.match[f] : undefined);
    });
  }

  kinds(): Set<RuleKind> {
    return new Set(this.rules.map((r) => r.kind));
  }

  /**
   * Every name of a binary the rules list (binary and parent_binary in /
   * not_in, exceptions included): the files whose other names are the same
   * binary (agent/enforce/file-ids.ts resolves and watches them).
   */
  binaryNames(): string[] {
    const out = new Set<string>();
    for (const r of this.rules) {
      for (const m of [r.spec.match, ...r.spec.exceptions.map((e) => e.match)]) {
        for (const b of [m.binary, m.parent_binary]) for (const n of [...(b?.in ?? []), ...(b?.not_in ?? [])]) out.add(n);
      }
    }
    return [...out].filter((n) => n.startsWith('/')).sort();
  }

  /** Rules that may match an exec of this binary: by its path and by every other name of the same file. */
  private candidatesOf(idx: KindIndex, kind: RuleKind, c: EvalContext): CompiledRule[] {
    const first = idx.candidates(eventKey(kind, c));
    if (kind !== 'exec' || !c.exeAliases || c.exeAliases.length === 0) return first;
    const all = new Set(first);
    for (const a of c.exeAliases) for (const r of idx.candidates(a)) all.add(r);
    return [...all].sort((a, b) => a.id - b.id);
  }

  /** Every rule that matches, exceptions applied, in rule order. */
  evaluate(c: EvalContext): { rule: CompiledRule; exemptedBy: string | null }[] {
    const kind = c.ev.kind as RuleKind;
    const idx = this.index.get(kind);
    if (!idx) return [];
    const out: { rule: CompiledRule; exemptedBy: string | null }[] = [];
    for (const r of this.candidatesOf(idx, kind, c)) {
      if (!r.appliesTo(c.spiffeId) || !r.test(c)) continue;
      out.push({ rule: r, exemptedBy: r.exemptedBy(c) });
    }
    return out;
  }
}
