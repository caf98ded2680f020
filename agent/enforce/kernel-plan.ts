// Rules turned into kernel map entries: per-workload path entries (report,
// kill), the same by file identity (device, inode: every name of a rule's
// binary), kill rules with binary conditions and exceptions (slots, sets of
// binaries), connect refusals (LPM prefixes and per-rule ports), and the
// settings masks that tell each hook what to do.
import {
  BinKey,
  BinMember,
  BinTest,
  BinWho,
  COND_SLOTS,
  COND_TESTS,
  CondKey,
  EventKind,
  FileKey,
  PREFIX_DEPTH_KINDS,
  NET_PORTS,
  NET_SLOTS,
  NetPrefixKey,
  NetRule,
  NetRuleKey,
  RuleAction,
  RuleCond,
  RuleKey,
  RuleMatch,
  RuleVal,
} from '../kernel/abi';
import type { AddressIdentity } from '../workload/source';
import { compileSpiffePattern } from '../../common/spiffe/spiffe-id';
import { parseCidr, type Cidr } from '../../common/cidr';
import { PATH_KEYED_KINDS, PUT_IN_PLACE_KINDS, forbidsPutInPlace, type CompiledRule, type KernelBinTest, type RuleSet } from '../rules/compile';
import type { FileId } from './file-ids';
import { dirBloom } from './protected-dirs';
import { pathHash, prefixDepth } from './path-hash';
import type { RuleKind } from '../rules/spec';
import type { WorkloadTable } from '../workload/workload-table';

export interface MapEntries {
  keys: Uint8Array;
  values: Uint8Array;
  count: number;
}

export interface KernelPlan {
  kinds: Set<RuleKind>;
  /** every rule names its workloads: the kernel may drop everything else */
  scoped: boolean;
  killKinds: number;
  pathKinds: number;
  pathFilterKinds: number;
  urgentKinds: number;
  prefixDepths: number[];
  netActive: boolean;
  /** open rules that name write, create or trunc also judge the names link, symlink and rename put in place */
  createActive: boolean;
  /** kinds whose file is also looked up by identity (exec: the binary) */
  idKinds: number;
  /** every exec records its binary in task storage (parent conditions, the loader) */
  exeState: boolean;
  /** a program without an interpreter has its first executable mapping judged as an exec */
  loaderActive: boolean;
  rules: MapEntries;
  /** file_rules: exec binaries by identity (RM_EXACT), protected directories by identity (RM_PREFIX) */
  fileRules: MapEntries;
  /** some file_rules entry is a protected directory: file events' walks look for them (vigil_config.dir_active) */
  dirActive: boolean;
  /** vigil_config.dir_bloom: the protected directories' inode numbers (eight 32-bit words, low first) */
  dirBloom: number[];
  binSets: MapEntries;
  ruleConds: MapEntries;
  netRules: MapEntries;
  netPrefixes: MapEntries;
  /** things the kernel cannot do as written, for `vigil rules check` and the log */
  notes: string[];
}

/** The workload indices a rule applies to (0 = processes in no workload). */
function workloadsOf(rule: CompiledRule, table: WorkloadTable): number[] {
  const w = rule.spec.workload;
  const all = table.entries();
  if (w.any) return [0, ...all.map(([, i]) => i)];
  const out = w.host ? [0] : [];
  for (const [id, i] of all) if (rule.appliesTo(id)) out.push(i);
  return out;
}

interface RuleEntry {
  workload: number;
  kind: number;
  match: number;
  /** path hash, or inode number (file_rules) */
  hash: bigint;
  /** file_rules: the device */
  dev: number;
  killRule: number;
  actions: number;
  access: number;
  /** conditional kill rules (slots of this workload and kind) this key names */
  slots: number;
}

/** The names a rule gives its binaries, resolved to what the kernel calls them now. */
export type IdsOf = (name: string) => readonly FileId[];

const NO_IDS: IdsOf = () => [];

function bit(kind: RuleKind): number {
  return 1 << EventKind[kind];
}

/** The kinds whose records' walks look for protected directories by identity (bpf/syscalls/file.h). */
const DIR_ID_KINDS: ReadonlySet<RuleKind> = new Set<RuleKind>(['open', 'unlink', 'rename', 'chmod', 'link', 'symlink']);

/**
 * @param idsOf what a name is ((device, inode), agent/enforce/file-ids.ts): exec rules' binaries
 * @param dirIdsOf what a directory prefix's directory is (directories only: agent/enforce/protected-dirs.ts);
 *   without it, prefixes are checked by path only
 */
export function buildKernelPlan(
  rs: RuleSet,
  table: WorkloadTable,
  addresses: readonly AddressIdentity[],
  gen: number,
  idsOf: IdsOf = NO_IDS,
  dirIdsOf: IdsOf = NO_IDS,
): KernelPlan {
  const notes: string[] = [];
  const kinds = rs.reportedKinds();
  const createActive = rs.putInPlaceJudged;
  const entries = new Map<string, RuleEntry>();
  const fileEntries = new Map<string, RuleEntry>();
  const depths = new Array<number>(PREFIX_DEPTH_KINDS).fill(0);
  let killKinds = 0;
  let pathKinds = 0;
  let urgentKinds = 0;
  let idKinds = 0;

  const add = (
    e: Omit<RuleEntry, 'killRule' | 'actions' | 'access' | 'slots' | 'dev'> & { dev?: number },
    actions: number,
    killRule: number,
    access: number,
    slots = 0,
    into: Map<string, RuleEntry> = entries,
  ): void => {
    const k = `${e.workload}/${e.kind}/${e.match}/${e.dev ?? 0}/${e.hash}`;
    const cur = into.get(k);
    if (!cur) {
      into.set(k, { dev: 0, ...e, actions, killRule: actions & RuleAction.kill ? killRule : 0, access: actions & RuleAction.kill ? access : 0, slots });
      return;
    }
    cur.slots |= slots;
    if (actions & RuleAction.kill) {
      if (cur.actions & RuleAction.kill) {
        cur.access = cur.access === 0 || access === 0 ? 0 : cur.access | access;
      } else {
        cur.killRule = killRule;
        cur.access = access;
      }
    }
    cur.actions |= actions;
  };

  // the kernel drops events of a path kind only when every rule of it names exact paths or directories
  // (a kind reported only for the open rules that judge the names it puts in place has no rule of its own:
  // its path finds nothing, and the new name decides, bpf/syscalls/file.h)
  let pathFilterKinds = 0;
  for (const kind of kinds) {
    if (!PATH_KEYED_KINDS.has(kind)) continue;
    const rules = rs.rules.filter((r) => r.kind === kind);
    if (rules.every((r) => r.kernelPaths !== null)) pathFilterKinds |= bit(kind);
    if (rules.length === 0) pathKinds |= bit(kind);
  }
  // a user-space kill rule on open that judges names put in place: those kinds wake the reader at once too
  if (rs.rules.some((r) => r.enforcement === 'user-kill' && forbidsPutInPlace(r.spec))) {
    for (const k of PUT_IN_PLACE_KINDS) urgentKinds |= bit(k);
  }

  // sets of binaries for conditions: one id per distinct list of names, members by path hash and by identity
  const sets = new Map<string, number>();
  const binKeys: Buffer[] = [];
  const setOf = (names: readonly string[]): number => {
    const key = JSON.stringify([...new Set(names)].sort());
    let id = sets.get(key);
    if (id !== undefined) return id;
    id = sets.size + 1;
    sets.set(key, id);
    const member = (type: number, dev: number, val: bigint): void => {
      const b = Buffer.alloc(BinKey.SIZE);
      b.writeUInt32LE(id as number, BinKey.set);
      b.writeUInt8(gen, BinKey.gen);
      b.writeUInt8(type, BinKey.type);
      b.writeUInt32LE(dev >>> 0, BinKey.dev);
      b.writeBigUInt64LE(val, BinKey.val);
      binKeys.push(b);
    };
    const seen = new Set<string>();
    for (const n of JSON.parse(key) as string[]) {
      member(BinMember.hash, 0, pathHash(n));
      for (const fid of idsOf(n)) {
        const k = `${fid.dev}:${fid.ino}`;
        if (seen.has(k)) continue;
        seen.add(k);
        member(BinMember.id, fid.dev, fid.ino);
      }
    }
    return id;
  };
  const condBufs: { key: Buffer; val: Buffer }[] = [];
  const slotsUsed = new Map<string, number>();
  let exeState = false;

  /** exec: every identity of the rule's exact binaries, as entries of file_rules */
  const addIds = (r: CompiledRule, w: number, k: number, actions: number, slots: number): void => {
    if (r.kind !== 'exec' || !r.kernelPaths) return;
    for (const p of r.kernelPaths.exact) {
      for (const fid of idsOf(p)) {
        add({ workload: w, kind: k, match: RuleMatch.exact, hash: fid.ino, dev: fid.dev }, actions, r.id, r.access, slots, fileEntries);
        idKinds |= bit(r.kind);
      }
    }
  };

  const addPaths = (r: CompiledRule, w: number, k: number, actions: number, slots: number): void => {
    if (!r.kernelPaths) return;
    for (const p of r.kernelPaths.exact) add({ workload: w, kind: k, match: RuleMatch.exact, hash: pathHash(p) }, actions, r.id, r.access, slots);
    for (const p of r.kernelPaths.prefixes) {
      const byId = addDirIds(r, w, k, p, actions, slots);
      const d = prefixDepth(p);
      if (d >= 16) {
        if (!byId && w === workloadsOf(r, table)[0]) {
          notes.push(`rule "${r.name}": prefix ${p} is deeper than the kernel checks by path (16 levels) and names no directory here: enforced in user space`);
        }
        continue;
      }
      depths[k] |= 1 << d;
      add({ workload: w, kind: k, match: RuleMatch.prefix, hash: pathHash(p) }, actions, r.id, r.access, slots);
    }
    addIds(r, w, k, actions, slots);
  };

  // protected directories by identity: whatever path leads to the directory (a chroot, a bind mount, a
  // clone, its old name), however deep the file below it; always reported (user space names the file by
  // the directory), killed for the kernel's kill rules (conditional ones by their slots)
  const dirIdsSeen = new Map<string, FileId>();
  const addDirIds = (r: CompiledRule, w: number, k: number, prefix: string, actions: number, slots: number): boolean => {
    if (!DIR_ID_KINDS.has(r.kind)) return false;
    const ids = dirIdsOf(prefix);
    for (const fid of ids) {
      dirIdsSeen.set(`${fid.dev}:${fid.ino}`, fid);
      add({ workload: w, kind: k, match: RuleMatch.prefix, hash: fid.ino, dev: fid.dev }, actions | RuleAction.report, r.id, r.access, slots, fileEntries);
    }
    return ids.length > 0;
  };

  const testBuf = (val: Buffer, at: number, t: KernelBinTest | undefined): void => {
    if (!t) return;
    val.writeUInt32LE(t.who === 'fileless' || t.who === 'upper' ? 0 : setOf(t.names), at + BinTest.set);
    val.writeUInt8(BinWho[t.who], at + BinTest.who);
    val.writeUInt8(t.negate ? 1 : 0, at + BinTest.negate);
  };

  for (const r of rs.rules) {
    const k = EventKind[r.kind];
    const kill = r.enforcement === 'kernel-kill';
    if (r.enforcement === 'user-kill') urgentKinds |= bit(r.kind);
    const ws = workloadsOf(r, table);
    const cond = kill ? r.kernelCond : null;
    if (cond) {
      // a kill rule with conditions: its key names slot i of the workload and kind; the kernel checks the rest
      for (const w of ws) {
        const sk = `${w}/${k}`;
        const slot = slotsUsed.get(sk) ?? 0;
        if (slot >= COND_SLOTS) {
          notes.push(`rule "${r.name}": workload ${w === 0 ? 'host' : table.spiffeId(w)} has more than ${COND_SLOTS} ${r.kind} kill rules with conditions: this one is killed from user space there`);
          urgentKinds |= bit(r.kind);
          continue;
        }
        slotsUsed.set(sk, slot + 1);
        if (cond.key === 'paths') {
          pathKinds |= bit(r.kind);
          addPaths(r, w, k, RuleAction.report, 1 << slot);
        } else {
          killKinds |= bit(r.kind);
          add({ workload: w, kind: k, match: RuleMatch.any, hash: 0n }, 0, 0, 0, 1 << slot);
        }
        const key = Buffer.alloc(CondKey.SIZE);
        key.writeUInt32LE(w, CondKey.workload);
        key.writeUInt8(k, CondKey.kind);
        key.writeUInt8(slot, CondKey.slot);
        key.writeUInt8(gen, CondKey.gen);
        const val = Buffer.alloc(RuleCond.SIZE);
        val.writeUInt32LE(r.id, RuleCond.rule);
        val.writeUInt8(r.access, RuleCond.access);
        cond.tests.forEach((t, i) => testBuf(val, RuleCond.match + i * BinTest.SIZE, t));
        cond.exceptions.forEach((e, i) => e.forEach((t, j) => testBuf(val, RuleCond.except + (i * COND_TESTS + j) * BinTest.SIZE, t)));
        condBufs.push({ key, val });
      }
      if ([...cond.tests, ...cond.exceptions.flat()].some((t) => t.who === 'parent' || (t.who === 'self' && r.kind !== 'exec'))) exeState = true;
      continue;
    }
    const report = (pathFilterKinds & bit(r.kind)) !== 0;
    if (!kill && !report) {
      // nothing to filter or kill by path, but the directories still name the files below them (user
      // space): the kernel looks their identities up only for a kind in pathKinds, so it is one here
      // too (else a bind mount or a chroot of the directory was not the directory to this rule)
      const prefixes = r.kernelPaths?.prefixes ?? [];
      if (prefixes.length > 0) pathKinds |= bit(r.kind);
      for (const w of ws) for (const p of prefixes) addDirIds(r, w, k, p, RuleAction.report, 0);
      continue;
    }
    const actions = (kill ? RuleAction.kill : 0) | RuleAction.report;
    if (kill) killKinds |= bit(r.kind);
    if (r.kernelPaths) {
      pathKinds |= bit(r.kind);
      for (const w of ws) addPaths(r, w, k, actions, 0);
    } else if (kill) {
      for (const w of ws) add({ workload: w, kind: k, match: RuleMatch.any, hash: 0n }, actions, r.id, r.access);
    }
  }

  // a program the loader maps is an exec: judged when some rule looks at execs
  const loaderActive = kinds.has('exec');
  if (loaderActive) exeState = true;
  // task storage keeps the hash of each binary's path (parent conditions): execs are hashed
  if (exeState) pathKinds |= bit('exec');

  // connect refusals
  const slots = new Map<number, number>();
  const netRuleBufs: { key: Buffer; val: Buffer }[] = [];
  const prefixBufs: Buffer[] = [];
  const addrsOf = (patterns: string[] | undefined): Cidr[] => {
    if (!patterns) return [];
    const ps = patterns.map(compileSpiffePattern);
    return addresses.filter((a) => ps.some((p) => p.matches(a.spiffeId))).map((a) => a.cidr);
  };
  for (const r of rs.rules) {
    if (r.enforcement !== 'kernel-deny') continue;
    const d = r.spec.match.destination ?? {};
    const pos = [...(d.cidr ?? []).map((c) => parseCidr(c) as Cidr), ...addrsOf(d.workload)];
    const neg = [...(d.not_cidr ?? []).map((c) => parseCidr(c) as Cidr), ...addrsOf(d.not_workload)];
    const hasPos = d.cidr !== undefined || d.workload !== undefined;
    const hasNeg = d.not_cidr !== undefined || d.not_workload !== undefined;
    if (d.workload && addrsOf(d.workload).length === 0) {
      notes.push(`rule "${r.name}": no address is known for ${d.workload.join(', ')}: nothing is refused until one is`);
    }
    const ports = d.port ?? [];
    if (ports.length > NET_PORTS) {
      notes.push(`rule "${r.name}": more than ${NET_PORTS} ports: the kernel checks the first ${NET_PORTS}`);
    }
    for (const w of workloadsOf(r, table)) {
      const slot = slots.get(w) ?? 0;
      if (slot >= NET_SLOTS) {
        notes.push(`rule "${r.name}": workload ${w === 0 ? 'host' : table.spiffeId(w)} has more than ${NET_SLOTS} deny rules: this one is not enforced`);
        continue;
      }
      slots.set(w, slot + 1);
      const key = Buffer.alloc(NetRuleKey.SIZE);
      key.writeUInt32LE(w, NetRuleKey.workload);
      key.writeUInt8(slot, NetRuleKey.slot);
      key.writeUInt8(gen, NetRuleKey.gen);
      const val = Buffer.alloc(NetRule.SIZE);
      val.writeUInt32LE(r.id, NetRule.rule);
      val.writeUInt8(hasPos ? 1 : 0, NetRule.has_pos);
      val.writeUInt8(hasNeg ? 1 : 0, NetRule.has_neg);
      val.writeUInt8(Math.min(ports.length, NET_PORTS), NetRule.nports);
      ports.slice(0, NET_PORTS).forEach((p, i) => val.writeUInt16LE(p, NetRule.ports + 2 * i));
      netRuleBufs.push({ key, val });
      for (const [polarity, list] of [
        [1, pos],
        [2, neg],
      ] as const) {
        for (const c of list) {
          const pk = Buffer.alloc(NetPrefixKey.SIZE);
          pk.writeUInt32LE(64 + c.prefix, NetPrefixKey.prefixlen);
          pk.writeUInt32LE(w, NetPrefixKey.workload);
          pk.writeUInt8(slot, NetPrefixKey.slot);
          pk.writeUInt8(gen, NetPrefixKey.gen);
          pk.writeUInt8(polarity, NetPrefixKey.polarity);
          pk.writeUInt8(c.family, NetPrefixKey.family);
          Buffer.from(c.addr).copy(pk, NetPrefixKey.addr);
          prefixBufs.push(pk);
        }
      }
    }
  }

  const fileList = [...fileEntries.values()];
  return {
    kinds,
    scoped: rs.rules.length > 0 && rs.rules.every((r) => !r.spec.workload.any && !r.spec.workload.host),
    killKinds,
    pathKinds,
    pathFilterKinds,
    urgentKinds,
    prefixDepths: depths,
    netActive: netRuleBufs.length > 0,
    createActive,
    idKinds,
    exeState,
    loaderActive,
    rules: packRules([...entries.values()], RuleKey, gen, (k, ko, e) => k.writeBigUInt64LE(e.hash, ko + RuleKey.hash)),
    fileRules: packRules(fileList, FileKey, gen, (k, ko, e) => {
      k.writeUInt32LE(e.dev >>> 0, ko + FileKey.dev);
      k.writeBigUInt64LE(e.hash, ko + FileKey.ino);
    }),
    dirActive: fileList.some((e) => e.match === RuleMatch.prefix),
    dirBloom: dirBloom([...dirIdsSeen.values()]),
    binSets: { keys: Buffer.concat(binKeys), values: Buffer.alloc(binKeys.length, 1), count: binKeys.length },
    ruleConds: {
      keys: Buffer.concat(condBufs.map((x) => x.key)),
      values: Buffer.concat(condBufs.map((x) => x.val)),
      count: condBufs.length,
    },
    netRules: {
      keys: Buffer.concat(netRuleBufs.map((x) => x.key)),
      values: Buffer.concat(netRuleBufs.map((x) => x.val)),
      count: netRuleBufs.length,
    },
    netPrefixes: {
      keys: Buffer.concat(prefixBufs),
      values: Buffer.alloc(prefixBufs.length, 1),
      count: prefixBufs.length,
    },
    notes,
  };
}

/**
 * Rule entries as the keys and rule_vals of one map: rule_key and file_key begin alike
 * (workload, kind, match, gen, each at its own layout's offset); `tail` writes the rest of a key.
 */
function packRules(
  list: readonly RuleEntry[],
  key: { workload: number; kind: number; match: number; gen: number; SIZE: number },
  gen: number,
  tail: (keys: Buffer, ko: number, e: RuleEntry) => void,
): MapEntries {
  const keys = Buffer.alloc(list.length * key.SIZE);
  const values = Buffer.alloc(list.length * RuleVal.SIZE);
  list.forEach((e, i) => {
    const ko = i * key.SIZE;
    keys.writeUInt32LE(e.workload, ko + key.workload);
    keys.writeUInt8(e.kind, ko + key.kind);
    keys.writeUInt8(e.match, ko + key.match);
    keys.writeUInt8(gen, ko + key.gen);
    tail(keys, ko, e);
    const vo = i * RuleVal.SIZE;
    values.writeUInt32LE(e.killRule, vo + RuleVal.kill_rule);
    values.writeUInt8(e.actions, vo + RuleVal.actions);
    values.writeUInt8(e.access, vo + RuleVal.access);
    values.writeUInt16LE(e.slots, vo + RuleVal.slots);
  });
  return { keys, values, count: list.length };
}

/** One line for the log: how many rules, enforced where, and the kernel's scope. */
export function planSummary(rs: RuleSet, plan: KernelPlan): string {
  const k = rs.rules.filter((r) => r.enforcement === 'kernel-kill' || r.enforcement === 'kernel-deny').length;
  const u = rs.rules.filter((r) => r.enforcement === 'user-kill').length;
  return `${rs.rules.length} rules (${k} enforced in the kernel, ${u} by user-space kill, ${rs.rules.length - k - u} alert only${
    rs.disabled.length ? `, ${rs.disabled.length} disabled` : ''
  }; ${plan.scoped ? 'kernel scope: the rules\' workloads only' : 'kernel scope: every process'})`;
}
