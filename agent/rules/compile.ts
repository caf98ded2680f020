// Rules compiled once: precompiled matchers (hash sets, prefix maps, globs)
// for user space, an index per event kind so that an event is checked only
// against the rules that could match it, and the enforcement mode each rule
// gets on this kernel.
import { AF_NAMES, CLONE_NEW_NAMES, COND_EXCEPTIONS, COND_TESTS, ExeFlag, KernelAccess, ProcFlag, PTRACE_REQUEST_NAMES, SETID_GID_SYSCALLS, SOCK_TYPE_NAMES, uapiNumber, type KindName } from '../kernel/abi';
import type { KernelEvent } from '../decode/events';
import { compileSpiffePattern, type SpiffePattern } from '../../common/spiffe/spiffe-id';
import { cidrContains, parseCidr, parseIp, type Cidr } from '../../common/cidr';
import { compileGlob, type Glob } from './glob';
import { normalizeImageName, type ImageRef } from '../../common/image-ref';
import {
  type Action,
  type ModeBit,
  type NameSetMatch,
  type ArgsMatch,
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
   * file events: the paths by the protected directory they are in, by identity
   * (agent/enforce/protected-dirs.ts), where that differs from the path reported
   * (a chroot, a bind mount, a clone, a path cut): rules match either
   */
  identity?: { path: string | null; newPath: string | null } | null;
  /** the process name (the kernel's comm), null: unknown */
  name?: string | null;
  /** the parent's arguments, null: unknown */
  parentArgs?: readonly string[] | null;
  /** the ancestors' executables, nearest first (parent, grandparent, ...); called only when a rule asks */
  ancestors?: () => readonly string[];
  /** the workload's container image, null: unknown */
  image?: ImageRef | null;
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
  who: 'self' | 'parent' | 'fileless' | 'upper';
  /** the set's names (none for fileless and upper: writable_layer) */
  names: string[];
  /** not_in; fileless: false; writable_layer: false */
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


/** open(2) flags a name put in place is judged with by the open rules that name write, create or trunc (bpf/lib/rules.h create_judge). */
export const PUT_IN_PLACE_FLAGS = 0o1 | 0o100 | 0o1000; // O_WRONLY | O_CREAT | O_TRUNC

/** The kinds that put a file in place under a new name; the open rules that forbid writes judge that name too. */
export const PUT_IN_PLACE_KINDS: readonly RuleKind[] = ['rename', 'link', 'symlink'];

/** An open rule that names write, create or trunc access: it also judges every other way to put a file in place. */
export function forbidsPutInPlace(spec: RuleSpec): boolean {
  return spec.on === 'open' && (spec.match.flags?.any ?? []).some((a) => a === 'write' || a === 'create' || a === 'trunc');
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

/** args, parent_args: each key given must hold for some argument. */
function compileArgsMatch(m: ArgsMatch): (args: readonly string[] | null | undefined) => boolean {
  const tests: ((args: readonly string[]) => boolean)[] = [];
  if (m.contains) {
    const needles = m.contains;
    tests.push((args) => args.some((a) => needles.some((n) => a.includes(n))));
  }
  if (m.icontains) {
    const needles = m.icontains.map((n) => n.toLowerCase());
    tests.push((args) =>
      args.some((a) => {
        const l = a.toLowerCase();
        return needles.some((n) => l.includes(n));
      }),
    );
  }
  if (m.prefix) {
    const prefixes = m.prefix;
    tests.push((args) => args.some((a) => prefixes.some((p) => a.startsWith(p))));
  }
  return (args) => {
    if (!args) return false;
    for (const t of tests) if (!t(args)) return false;
    return true;
  };
}

/** Image names as rules compare them (normalized once per image). */
const normalizedNames = new WeakMap<ImageRef, string | null>();
function imageName(r: ImageRef | null | undefined): string | null {
  if (!r) return null;
  let n = normalizedNames.get(r);
  if (n === undefined) {
    n = r.name === null ? null : normalizeImageName(r.name);
    normalizedNames.set(r, n);
  }
  return n;
}

/** Mode bits a rule names, each as a test of a mode (docs/rules.md "Modes"). */
const MODE_TEST: Record<ModeBit, (mode: number) => boolean> = {
  setuid: (m) => (m & 0o4000) !== 0,
  setgid: (m) => (m & 0o2000) !== 0,
  sticky: (m) => (m & 0o1000) !== 0,
  executable: (m) => (m & 0o111) !== 0,
  world_writable: (m) => (m & 0o002) !== 0,
  world_readable: (m) => (m & 0o004) !== 0,
  group_writable: (m) => (m & 0o020) !== 0,
};

function modeTests(bits: readonly ModeBit[]): ((mode: number) => boolean)[] {
  return bits.map((b) => MODE_TEST[b]);
}

const O_CREAT = 0o100;
const O_TMPFILE = 0o20200000;

/**
 * The permission bits an event gives a file: chmod's new mode; for an open
 * that may create one (O_CREAT, O_TMPFILE), the mode asked for without the
 * process's umask bits (what a new file gets; an existing file keeps its
 * own). null: the event sets no mode.
 */
export function effectiveMode(ev: KernelEvent): number | null {
  if (ev.kind === 'chmod') return ev.mode & 0o7777;
  if (ev.kind === 'open' && (ev.openFlags & O_CREAT || (ev.openFlags & O_TMPFILE) === O_TMPFILE)) return ev.mode & 0o7777 & ~(ev.umask ?? 0);
  return null;
}

/** The socket facts an event carries (family, type), or null. */
function socketFacts(ev: KernelEvent): { family: number; type: number } | null {
  switch (ev.kind) {
    case 'connect':
    case 'socket':
    case 'bind':
    case 'listen':
    case 'dup':
      return { family: ev.family, type: ev.sockType };
    case 'io_uring':
      // only IORING_OP_SOCKET says what it makes
      return ev.family !== 0 ? { family: ev.family, type: ev.sockType } : null;
    default:
      return null;
  }
}

/** in / not_in of kernel names, compared as the numbers the records carry. */
function compileNameSet(m: NameSetMatch, table: Readonly<Record<number, string>>, prefix: string): (v: number | null) => boolean {
  const inSet = m.in ? new Set(m.in.map((n) => uapiNumber(table, prefix, n))) : null;
  const notIn = m.not_in ? new Set(m.not_in.map((n) => uapiNumber(table, prefix, n))) : null;
  return (v) => v !== null && (!inSet || inSet.has(v)) && (!notIn || !notIn.has(v));
}

/** The kinds indexed and kernel-filtered by path (eventPath: the file, the mount point, the module). */
export const PATH_KEYED_KINDS: ReadonlySet<RuleKind> = new Set<RuleKind>(['open', 'unlink', 'rename', 'chmod', 'link', 'symlink', 'mount', 'module', 'chown', 'setxattr']);

/** The field a kind is indexed and kernel-filtered by. */
function keyField(kind: RuleKind): 'binary' | 'path' | null {
  if (kind === 'exec') return 'binary';
  return PATH_KEYED_KINDS.has(kind) ? 'path' : null;
}

export function eventPath(ev: KernelEvent): string | null {
  switch (ev.kind) {
    case 'open':
    case 'unlink':
    case 'rename':
    case 'chmod':
    case 'link':
    case 'symlink':
    case 'chown':
    case 'setxattr':
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

/** exec: the executed file's data is in an overlayfs upper layer (the kernel's EXE_UPPER: bpf/lib/overlay.h) */
export function isWritableLayer(c: EvalContext): boolean {
  return c.ev.kind === 'exec' && (c.ev.exeFlags & ExeFlag.UPPER) !== 0;
}

function compileMatch(kind: RuleKind, m: MatchSpec): Test {
  // cheap tests first (a flag or a set lookup), the lineage last: all must hold, in any order
  const tests: { cost: number; t: Test }[] = [];
  const push = (cost: number, t: Test): void => {
    tests.push({ cost, t });
  };
  if (m.binary) {
    const t = compileBinaryMatch(m.binary);
    push(1, (c) => t(c.exe, c.exeAliases ?? NO_ALIASES));
  }
  if (m.parent_binary) {
    const t = compileBinaryMatch(m.parent_binary);
    push(1, (c) => t(c.parentExe, c.parentAliases ?? NO_ALIASES));
  }
  if (m.fileless !== undefined) {
    const want = m.fileless;
    push(0, (c) => c.ev.kind === 'exec' && isFileless(c) === want);
  }
  if (m.writable_layer !== undefined) {
    const want = m.writable_layer;
    push(0, (c) => c.ev.kind === 'exec' && isWritableLayer(c) === want);
  }
  if (m.path) {
    const t = compileStringMatch(m.path);
    push(1, (c) => t(eventPath(c.ev)));
  }
  if (m.new_path) {
    const t = compileStringMatch(m.new_path);
    push(1, (c) => t(c.ev.kind === 'rename' || c.ev.kind === 'link' || c.ev.kind === 'symlink' ? c.ev.newPath : null));
  }
  if (m.flags) {
    let want = 0;
    for (const a of m.flags.any) want |= KernelAccess[a];
    push(0, (c) => c.ev.kind === 'open' && (openAccessBits(c.ev.openFlags) & want) !== 0);
  }
  if (m.args) {
    const t = compileArgsMatch(m.args);
    push(2, (c) => t(c.args));
  }
  if (m.parent_args) {
    const t = compileArgsMatch(m.parent_args);
    push(2, (c) => t(c.parentArgs));
  }
  if (m.name) {
    const t = compileStringMatch(m.name);
    push(1, (c) => t(c.name ?? null));
  }
  if (m.ancestor_binary) {
    // some ancestor satisfies every key given (the loader requires in, prefix or glob)
    const t = compileStringMatch(m.ancestor_binary);
    push(3, (c) => {
      const chain = c.ancestors?.();
      return chain !== undefined && chain.some((x) => t(x));
    });
  }
  if (m.image) {
    const t = compileStringMatch(m.image);
    push(1, (c) => t(imageName(c.image)));
  }
  if (m.image_digest) {
    const t = compileStringMatch(m.image_digest);
    push(1, (c) => t(c.image?.digest ?? null));
  }
  if (m.uid) {
    const inSet = m.uid.in ? new Set(m.uid.in) : null;
    const notIn = m.uid.not_in ? new Set(m.uid.not_in) : null;
    // on a set*id event the uid is the one after the call: a call that sets group ids leaves it as it was, so it never matches a uid condition
    push(0, (c) => !(c.ev.kind === 'setuid' && SETID_GID_SYSCALLS.has(c.ev.syscallNr)) && (!inSet || inSet.has(c.ev.uid)) && (!notIn || !notIn.has(c.ev.uid)));
  }
  if (m.drift !== undefined) {
    const want = m.drift;
    push(0, (c) => {
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
    push(2, (c) => {
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
  if (m.tty !== undefined) {
    const want = m.tty;
    push(0, (c) => ((c.ev.procFlags & ProcFlag.TTY) !== 0) === want);
  }
  if (m.cwd) {
    const t = compileStringMatch(m.cwd);
    push(1, (c) => t(c.ev.kind === 'exec' ? (c.ev.cwd ?? null) : null));
  }
  if (m.mode) {
    const any = modeTests(m.mode.any ?? []);
    const all = modeTests(m.mode.all ?? []);
    push(1, (c) => {
      const mode = effectiveMode(c.ev);
      return mode !== null && (any.length === 0 || any.some((t) => t(mode))) && all.every((t) => t(mode));
    });
  }
  if (m.family) {
    const t = compileNameSet(m.family, AF_NAMES, 'AF_');
    push(1, (c) => t(socketFacts(c.ev)?.family ?? null));
  }
  if (m.type) {
    const t = compileNameSet(m.type, SOCK_TYPE_NAMES, 'SOCK_');
    push(1, (c) => t(socketFacts(c.ev)?.type ?? null));
  }
  if (m.request) {
    const t = compileNameSet(m.request, PTRACE_REQUEST_NAMES, 'PTRACE_');
    push(1, (c) => t(c.ev.kind === 'ptrace' ? c.ev.arg[0] : null));
  }
  if (m.fstype) {
    const t = compileStringMatch(m.fstype);
    push(1, (c) => t(c.ev.kind === 'mount' ? c.ev.str3 : null));
  }
  if (m.source) {
    const t = compileStringMatch(m.source);
    push(1, (c) => t(c.ev.kind === 'mount' ? c.ev.str1 : null));
  }
  if (m.namespaces) {
    let want = 0;
    for (const n of m.namespaces.any) want |= CLONE_NEW_NAMES.find(([, x]) => x === n)?.[0] ?? 0;
    // asked for (unshare, clone, clone3, setns's nstype), or the type of the namespace setns joined
    push(0, (c) => c.ev.kind === 'namespace' && ((c.ev.arg[0] | c.ev.arg[1]) & want) !== 0);
  }
  if (m.port) {
    const inSet = m.port.in ? new Set(m.port.in) : null;
    const notIn = m.port.not_in ? new Set(m.port.not_in) : null;
    push(1, (c) => {
      if (c.ev.kind !== 'bind' && c.ev.kind !== 'listen' && c.ev.kind !== 'dup') return false;
      return (!inSet || inSet.has(c.ev.port)) && (!notIn || !notIn.has(c.ev.port));
    });
  }
  if (m.attribute) {
    const t = compileStringMatch(m.attribute);
    push(1, (c) => t(c.ev.kind === 'setxattr' ? c.ev.name : null));
  }
  void kind;
  const ordered = tests.sort((a, b) => a.cost - b.cost).map((x) => x.t);
  if (ordered.length === 0) return () => true;
  if (ordered.length === 1) return ordered[0];
  return (c) => {
    for (const t of ordered) if (!t(c)) return false;
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

/** Kinds whose kill verdict goes through the kernel's path lookup (bpf/lib/rules.h path_judge), where conditions are checked: exec and the path kinds. */
function condKind(kind: RuleKind): boolean {
  return keyField(kind) !== null;
}

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
    if (k === 'writable_layer' && m.writable_layer !== undefined) {
      tests.push({ who: 'upper', names: [], negate: !m.writable_layer });
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
      } else if (k === 'writable_layer' && e.match.writable_layer !== undefined) {
        et.push({ who: 'upper', names: [], negate: !e.match.writable_layer });
      } else {
        return `exception "${e.name}": ${k} is evaluated in user space`;
      }
    }
    if (et.length > COND_TESTS) return `exception "${e.name}" has more than ${COND_TESTS} conditions`;
    exceptions.push(et);
  }
  return { key, tests, exceptions };
}

/**
 * For a rule the kernel only reports for (alert, user-space kill): the exact
 * paths or directories that hold every path the rule can match, a superset
 * the kernel filters by while user space checks the rest (a glob's directory
 * before its first wildcard, prefixes next to a glob or not_in). Null when
 * there is none short of "/" (the kernel would have to report every path),
 * or one is deeper than the kernel checks.
 */
function kernelFilterOf(m: StringMatch | undefined): { exact: string[]; prefixes: string[] } | null {
  if (!m) return null;
  let out: { exact: string[]; prefixes: string[] } | null = null;
  if (m.in) out = { exact: m.in, prefixes: [] };
  else if (m.prefix && m.prefix.every((p) => p.endsWith('/'))) out = { exact: [], prefixes: m.prefix };
  else if (m.glob) {
    const dirs = m.glob.map((g) => {
      const lit = compileGlob(g).literalPrefix;
      return lit === g ? null : lit.slice(0, lit.lastIndexOf('/') + 1);
    });
    const exact = m.glob.filter((_g, i) => dirs[i] === null);
    const prefixes = dirs.filter((d): d is string => d !== null);
    out = { exact, prefixes: [...new Set(prefixes)] };
  }
  if (!out || out.prefixes.some((p) => p === '/' || p === '' || p.split('/').length - 2 >= KERNEL_PREFIX_DEPTH)) return null;
  return out;
}

/** path-hash.ts checks prefixes up to this depth ("/a/b/" is 2) */
const KERNEL_PREFIX_DEPTH = 16;

function classify(spec: RuleSpec): { enforcement: Enforcement; why: string; kernelPaths: CompiledRule['kernelPaths']; kernelCond: KernelCond | null } {
  const field = keyField(spec.on);
  const keys = Object.keys(spec.match) as (keyof MatchSpec)[];
  const kp = field ? kernelPathsOf(spec.match[field]) : null;
  // what the kernel may filter by when it only reports: exact when it can, else a superset
  const filter = kp ?? (field ? kernelFilterOf(spec.match[field]) : null);
  if (spec.action === 'alert') return { enforcement: 'alert', why: 'alert only', kernelPaths: filter, kernelCond: null };
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
  if (condKind(spec.on)) {
    const cond = kernelCondOf(spec, kp);
    if (typeof cond === 'string') return { enforcement: 'user-kill', why: `user-space kill (pidfd): ${cond}`, kernelPaths: filter, kernelCond: null };
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
    return { enforcement: 'user-kill', why: 'user-space kill (pidfd): exceptions are evaluated in user space', kernelPaths: filter, kernelCond: null };
  }
  const blocker = keys[0];
  if (blocker) {
    return { enforcement: 'user-kill', why: `user-space kill (pidfd): match.${blocker} is evaluated in user space`, kernelPaths: filter, kernelCond: null };
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
  /** prefixes that end in "/": looked up at each "/" of a key (a path's depth, not the number of prefix lengths) */
  private readonly dirs = new Map<string, CompiledRule[]>();
  /** other prefixes (a glob's literal start, "/etc/cron"), by length */
  private readonly prefixes = new Map<number, Map<string, CompiledRule[]>>();
  private readonly rest: CompiledRule[] = [];
  private lengths: number[] = [];
  /** candidates by key: the same files and programs come back all the time (bounded: cleared when full) */
  private readonly memo = new Map<string, CompiledRule[]>();

  add(rule: CompiledRule, key: StringMatch | undefined): void {
    const push = (m: Map<string, CompiledRule[]>, k: string): void => {
      const l = m.get(k);
      if (l) l.push(rule);
      else m.set(k, [rule]);
    };
    this.memo.clear();
    if (key?.in) {
      for (const v of key.in) push(this.exact, v);
      return;
    }
    const pre = key?.prefix ?? key?.glob?.map((g) => compileGlob(g).literalPrefix);
    if (pre && pre.every((p) => p.length > 0)) {
      for (const p of pre) {
        if (p.endsWith('/')) {
          push(this.dirs, p);
          continue;
        }
        let m = this.prefixes.get(p.length);
        if (!m) this.prefixes.set(p.length, (m = new Map()));
        push(m, p);
      }
      this.lengths = [...this.prefixes.keys()].sort((a, b) => a - b);
      return;
    }
    this.rest.push(rule);
  }

  /** Rules that could match a key (each at most once, in rule order). Callers must not change the array. */
  candidates(key: string | null): CompiledRule[] {
    if (key === null) return this.rest;
    let out = this.memo.get(key);
    if (out === undefined) {
      out = this.compute(key);
      if (this.memo.size >= MEMO_MAX) this.memo.clear();
      this.memo.set(key, out);
    }
    return out;
  }

  private compute(key: string): CompiledRule[] {
    const out: CompiledRule[] = [];
    const e = this.exact.get(key);
    if (e) out.push(...e);
    if (this.dirs.size) {
      for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) {
        const hit = this.dirs.get(key.slice(0, i + 1));
        if (hit) out.push(...hit);
      }
    }
    for (const len of this.lengths) {
      if (len > key.length) break;
      const hit = this.prefixes.get(len)?.get(key.slice(0, len));
      if (hit) out.push(...hit);
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

/** distinct keys remembered per kind (a flood of unique names costs the lookups, never memory) */
const MEMO_MAX = 4096;

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


  /** Some open rule forbids writes, creation or truncation: link, symlink and rename names are judged by it too. */
  get putInPlaceJudged(): boolean {
    return this.rules.some((r) => forbidsPutInPlace(r.spec));
  }

  /** The kinds the kernel must report for these rules: their own, and those whose names the open rules judge. */
  reportedKinds(): Set<RuleKind> {
    const k = this.kinds();
    if (this.putInPlaceJudged) for (const p of PUT_IN_PLACE_KINDS) k.add(p);
    return k;
  }

  /**
   * Every rule that matches, exceptions applied, in rule order. A name put in
   * place (link, symlink, rename: the new name) is also an open of that name
   * for writing, creation and truncation, judged by the open rules that name
   * one of those; an exchange (RENAME_EXCHANGE) moves both files, so each
   * name is judged as the old one and as the new one.
   */
  evaluate(c: EvalContext): { rule: CompiledRule; exemptedBy: string | null }[] {
    const kind = c.ev.kind as RuleKind;
    const out = this.evaluateKind(kind, c, EVERY_RULE);
    const ev = c.ev;
    const id = c.identity;
    const two = ev.kind === 'rename' || ev.kind === 'link' || ev.kind === 'symlink';
    if (!two && !id) return out;
    if (ev.kind !== 'open' && ev.kind !== 'unlink' && ev.kind !== 'chmod' && !two) return out;
    const views: { kind: RuleKind; ctx: EvalContext; only: (r: CompiledRule) => boolean }[] = [];
    const all = (): boolean => true;
    // every name each path has: the one reported, and the one by identity
    const names1 = id?.path && id.path !== ev.path ? [ev.path, id.path] : [ev.path];
    const names2 = two && id?.newPath && id.newPath !== ev.newPath ? [ev.newPath, id.newPath] : [ev.newPath];
    for (const p1 of names1) {
      for (const p2 of names2) {
        if (p1 !== ev.path || p2 !== ev.newPath) views.push({ kind, ctx: { ...c, ev: { ...ev, path: p1, newPath: p2 } }, only: all });
      }
    }
    if (two) {
      const putInPlace = (name: string): void => {
        views.push({ kind: 'open', ctx: { ...c, ev: { ...ev, kind: 'open', path: name, newPath: '', openFlags: PUT_IN_PLACE_FLAGS } }, only: (r) => forbidsPutInPlace(r.spec) });
      };
      for (const p2 of names2) putInPlace(p2);
      if (ev.kind === 'rename' && ev.openFlags & RENAME_EXCHANGE) {
        for (const p1 of names1) for (const p2 of names2) views.push({ kind: 'rename', ctx: { ...c, ev: { ...ev, path: p2, newPath: p1 } }, only: all });
        for (const p1 of names1) putInPlace(p1);
      }
    }
    const seen = new Map(out.map((m, i) => [m.rule.id, i]));
    for (const v of views) {
      for (const m of this.evaluateKind(v.kind, v.ctx, v.only)) {
        const at = seen.get(m.rule.id);
        if (at === undefined) {
          seen.set(m.rule.id, out.length);
          out.push(m);
        } else if (out[at].exemptedBy && !m.exemptedBy) {
          // exempt only when every way the rule matched is
          out[at] = m;
        }
      }
    }
    if (out.length > 1) out.sort((a, b) => a.rule.id - b.rule.id);
    return out;
  }

  private evaluateKind(kind: RuleKind, c: EvalContext, only: (r: CompiledRule) => boolean): { rule: CompiledRule; exemptedBy: string | null }[] {
    const idx = this.index.get(kind);
    if (!idx) return [];
    const out: { rule: CompiledRule; exemptedBy: string | null }[] = [];
    for (const r of this.candidatesOf(idx, kind, c)) {
      if (!only(r) || !r.appliesTo(c.spiffeId) || !r.test(c)) continue;
      out.push({ rule: r, exemptedBy: r.exemptedBy(c) });
    }
    return out;
  }
}

const RENAME_EXCHANGE = 2;
const EVERY_RULE = (): boolean => true;
