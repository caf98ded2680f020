// Rules turned into kernel map entries: per-workload path entries (report,
// kill), connect refusals (LPM prefixes and per-rule ports), and the
// settings masks that tell each hook what to do.
import { EventKind, FileKey, PREFIX_DEPTH_KINDS, NET_PORTS, NET_SLOTS, NetPrefixKey, NetRule, NetRuleKey, RuleAction, RuleKey, RuleMatch, RuleVal } from '../kernel/abi';
import type { FileId } from './file-ids';
import { dirBloom } from './protected-dirs';
import type { AddressIdentity } from '../workload/source';
import { compileSpiffePattern } from '../../common/spiffe/spiffe-id';
import { parseCidr, type Cidr } from '../../common/cidr';
import { PUT_IN_PLACE_KINDS, forbidsPutInPlace, type CompiledRule, type RuleSet } from '../rules/compile';
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
  rules: MapEntries;
  /** directory prefixes by identity: file_rules entries (RM_PREFIX, device and inode of the directory) */
  dirRules: MapEntries;
  /** vigil_config.dir_bloom: the protected directories' inode numbers (eight 32-bit words) */
  dirBloom: number[];
  netRules: MapEntries;
  netPrefixes: MapEntries;
  /** things the kernel cannot do as written, for `vigil rules check` and the log */
  notes: string[];
}

const FILE_LIKE: ReadonlySet<RuleKind> = new Set<RuleKind>(['open', 'unlink', 'rename', 'chmod', 'link', 'symlink', 'mount', 'module', 'chown', 'setxattr']);

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
  hash: bigint;
  killRule: number;
  actions: number;
  access: number;
}

function bit(kind: RuleKind): number {
  return 1 << EventKind[kind];
}

/**
 * @param dirIds what a directory prefix's directory is ((device, inode): agent/enforce/protected-dirs.ts);
 *   without it, prefixes are checked by path only
 */
export function buildKernelPlan(
  rs: RuleSet,
  table: WorkloadTable,
  addresses: readonly AddressIdentity[],
  gen: number,
  dirIds?: (prefix: string) => FileId[],
): KernelPlan {
  const notes: string[] = [];
  const dirEntries = new Map<string, RuleEntry & { dev: number; ino: bigint }>();
  const dirIdsSeen: FileId[] = [];
  const kinds = rs.reportedKinds();
  const createActive = rs.putInPlaceJudged;
  const entries = new Map<string, RuleEntry>();
  const depths = new Array<number>(PREFIX_DEPTH_KINDS).fill(0);
  let killKinds = 0;
  let pathKinds = 0;
  let urgentKinds = 0;

  const add = (e: Omit<RuleEntry, 'killRule' | 'actions' | 'access'>, actions: number, killRule: number, access: number): void => {
    const k = `${e.workload}/${e.kind}/${e.match}/${e.hash}`;
    const cur = entries.get(k);
    if (!cur) {
      entries.set(k, { ...e, actions, killRule: actions & RuleAction.kill ? killRule : 0, access: actions & RuleAction.kill ? access : 0 });
      return;
    }
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
  // the same entry by the directory's identity (merged the same way)
  const addDir = (w: number, k: number, id: FileId, actions: number, killRule: number, access: number): void => {
    const key = `${w}/${k}/${id.dev}:${id.ino}`;
    const cur = dirEntries.get(key);
    if (!cur) {
      dirEntries.set(key, {
        workload: w, kind: k, match: RuleMatch.prefix, hash: 0n, dev: id.dev, ino: id.ino,
        actions, killRule: actions & RuleAction.kill ? killRule : 0, access: actions & RuleAction.kill ? access : 0,
      });
      return;
    }
    if (actions & RuleAction.kill) {
      if (cur.actions & RuleAction.kill) cur.access = cur.access === 0 || access === 0 ? 0 : cur.access | access;
      else {
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
    if (!FILE_LIKE.has(kind)) continue;
    const rules = rs.rules.filter((r) => r.kind === kind);
    if (rules.every((r) => r.kernelPaths !== null)) pathFilterKinds |= bit(kind);
    if (rules.length === 0) pathKinds |= bit(kind);
  }
  // a user-space kill rule on open that judges names put in place: those kinds wake the reader at once too
  if (rs.rules.some((r) => r.enforcement === 'user-kill' && forbidsPutInPlace(r.spec))) {
    for (const k of PUT_IN_PLACE_KINDS) urgentKinds |= bit(k);
  }

  // directory prefixes by identity: whatever path leads to the directory (a chroot, a bind mount, a
  // clone, its old name), however deep; reported for every rule (user space names the file by it), killed
  // for the kernel's kill rules
  for (const r of rs.rules) {
    if (!r.kernelPaths || !dirIds || !FILE_LIKE.has(r.kind)) continue;
    const kill = r.enforcement === 'kernel-kill';
    const actions = (kill ? RuleAction.kill : 0) | RuleAction.report;
    const ws = workloadsOf(r, table);
    for (const p of r.kernelPaths.prefixes) {
      for (const id of dirIds(p)) {
        if (!dirIdsSeen.some((x) => x.dev === id.dev && x.ino === id.ino)) dirIdsSeen.push(id);
        for (const w of ws) addDir(w, EventKind[r.kind], id, actions, r.id, r.access);
      }
    }
  }

  for (const r of rs.rules) {
    const k = EventKind[r.kind];
    const kill = r.enforcement === 'kernel-kill';
    if (r.enforcement === 'user-kill') urgentKinds |= bit(r.kind);
    const report = (pathFilterKinds & bit(r.kind)) !== 0;
    if (!kill && !report) continue;
    const actions = (kill ? RuleAction.kill : 0) | RuleAction.report;
    const ws = workloadsOf(r, table);
    if (kill) killKinds |= bit(r.kind);
    if (r.kernelPaths) {
      pathKinds |= bit(r.kind);
      for (const w of ws) {
        for (const p of r.kernelPaths.exact) add({ workload: w, kind: k, match: RuleMatch.exact, hash: pathHash(p) }, actions, r.id, r.access);
        for (const p of r.kernelPaths.prefixes) {
          const d = prefixDepth(p);
          if (d >= 16) {
            if ((dirIds?.(p) ?? []).length === 0 && w === ws[0]) {
              notes.push(`rule "${r.name}": prefix ${p} is deeper than the kernel checks by path (16 levels) and names no directory here: enforced in user space`);
            }
            continue;
          }
          depths[k] |= 1 << d;
          add({ workload: w, kind: k, match: RuleMatch.prefix, hash: pathHash(p) }, actions, r.id, r.access);
        }
      }
    } else if (kill) {
      for (const w of ws) add({ workload: w, kind: k, match: RuleMatch.any, hash: 0n }, actions, r.id, r.access);
    }
  }

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

  const ruleList = [...entries.values()];
  const rk = Buffer.alloc(ruleList.length * RuleKey.SIZE);
  const rv = Buffer.alloc(ruleList.length * RuleVal.SIZE);
  ruleList.forEach((e, i) => {
    const ko = i * RuleKey.SIZE;
    rk.writeUInt32LE(e.workload, ko + RuleKey.workload);
    rk.writeUInt8(e.kind, ko + RuleKey.kind);
    rk.writeUInt8(e.match, ko + RuleKey.match);
    rk.writeUInt8(gen, ko + RuleKey.gen);
    rk.writeBigUInt64LE(e.hash, ko + RuleKey.hash);
    const vo = i * RuleVal.SIZE;
    rv.writeUInt32LE(e.killRule, vo + RuleVal.kill_rule);
    rv.writeUInt8(e.actions, vo + RuleVal.actions);
    rv.writeUInt8(e.access, vo + RuleVal.access);
  });

  const dirList = [...dirEntries.values()];
  const dk = Buffer.alloc(dirList.length * FileKey.SIZE);
  const dv = Buffer.alloc(dirList.length * RuleVal.SIZE);
  dirList.forEach((e, i) => {
    const ko = i * FileKey.SIZE;
    dk.writeUInt32LE(e.workload, ko + FileKey.workload);
    dk.writeUInt8(e.kind, ko + FileKey.kind);
    dk.writeUInt8(RuleMatch.prefix, ko + FileKey.match);
    dk.writeUInt8(gen, ko + FileKey.gen);
    dk.writeUInt32LE(e.dev, ko + FileKey.dev);
    dk.writeBigUInt64LE(e.ino, ko + FileKey.ino);
    const vo = i * RuleVal.SIZE;
    dv.writeUInt32LE(e.killRule, vo + RuleVal.kill_rule);
    dv.writeUInt8(e.actions, vo + RuleVal.actions);
    dv.writeUInt8(e.access, vo + RuleVal.access);
  });

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
    rules: { keys: rk, values: rv, count: ruleList.length },
    dirRules: { keys: dk, values: dv, count: dirList.length },
    dirBloom: dirBloom(dirIdsSeen),
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

/** One line for the log: how many rules, enforced where, and the kernel's scope. */
export function planSummary(rs: RuleSet, plan: KernelPlan): string {
  const k = rs.rules.filter((r) => r.enforcement === 'kernel-kill' || r.enforcement === 'kernel-deny').length;
  const u = rs.rules.filter((r) => r.enforcement === 'user-kill').length;
  return `${rs.rules.length} rules (${k} enforced in the kernel, ${u} by user-space kill, ${rs.rules.length - k - u} alert only${
    rs.disabled.length ? `, ${rs.disabled.length} disabled` : ''
  }; ${plan.scoped ? 'kernel scope: the rules\' workloads only' : 'kernel scope: every process'})`;
}
