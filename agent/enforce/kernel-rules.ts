// Puts a compiled rule set into the kernel atomically: the new generation's
// entries are written first, one settings update switches every hook to
// them, then the old generation is deleted. A failure before the switch
// leaves the old rules in force.
import { CondKey, Config, EventKind, FileKey, BinKey, KIND_NAMES, NetPrefixKey, NetRuleKey, RuleKey, type KindName } from '../kernel/abi';
import { errorMessage, VigilError } from '../../common/errors';
import type { AddressIdentity } from '../workload/source';
import { isResolveProgram, kindMask, PROCESS_KINDS, programsFor, type Probe } from '../kernel/probe';
import type { RuleSet } from '../rules/compile';
import { buildKernelPlan, type KernelPlan, type MapEntries } from './kernel-plan';
import { FileIds } from './file-ids';
import { dirIdsOf, dirNames } from './protected-dirs';
import { type WorkloadTable } from '../workload/workload-table';

/** The maps a rules generation lives in, each with its key's generation byte. */
const GEN_MAPS = [
  { map: 'rules', field: 'rules', keySize: RuleKey.SIZE, genAt: RuleKey.gen },
  { map: 'file_rules', field: 'fileRules', keySize: FileKey.SIZE, genAt: FileKey.gen },
  { map: 'bin_sets', field: 'binSets', keySize: BinKey.SIZE, genAt: BinKey.gen },
  { map: 'rule_conds', field: 'ruleConds', keySize: CondKey.SIZE, genAt: CondKey.gen },
  { map: 'net_rules', field: 'netRules', keySize: NetRuleKey.SIZE, genAt: NetRuleKey.gen },
  { map: 'net_prefixes', field: 'netPrefixes', keySize: NetPrefixKey.SIZE, genAt: NetPrefixKey.gen },
] as const;

type Written = Record<(typeof GEN_MAPS)[number]['field'], MapEntries>;

export interface KernelRulesOptions {
  /**
   * Where the names of rules' binaries are resolved to (device, inode) and
   * kept current (the agent's, which re-applies the rules when one
   * changes); default: one of our own, resolved at each apply only.
   */
  fileIds?: FileIds;
  /** kinds reported whatever the rules say (code: runtime reachability) */
  extraKinds?: readonly KindName[];
}

export class KernelRules {
  private gen = 0;
  private written: Written | null = null;
  /** the names of binaries the rules in force name, resolved */
  readonly fileIds: FileIds;
  private readonly extraKinds: readonly KindName[];

  constructor(
    private readonly probe: Probe,
    private readonly workloads: WorkloadTable,
    o: KernelRulesOptions = {},
  ) {
    this.fileIds = o.fileIds ?? new FileIds({ refreshMs: 0, watch: false });
    this.extraKinds = o.extraKinds ?? [];
  }

  /** The kinds the kernel must report for these rules (plus the process life cycle, plus `extra`). */
  static kindsFor(rs: RuleSet, extra: readonly KindName[] = []): KindName[] {
    const want = new Set<KindName>([...PROCESS_KINDS, ...rs.reportedKinds(), ...extra]);
    return KIND_NAMES.filter((k) => want.has(k));
  }

  apply(rs: RuleSet, addresses: readonly AddressIdentity[]): KernelPlan {
    const gen = this.gen === 1 ? 2 : 1;
    // the binaries exec rules name, and the directories file rules protect (issue 9 item 7), in one watch
    const names = new Set([...rs.binaryNames(), ...dirNames(rs)]);
    this.fileIds.set([...names].map((name) => ({ name })));
    const plan = buildKernelPlan(rs, this.workloads, addresses, gen, (name) => this.fileIds.idsOf(name), (p) => dirIdsOf(this.fileIds, p));
    const next = {} as Written;
    for (const g of GEN_MAPS) next[g.field] = plan[g.field];
    try {
      for (const g of GEN_MAPS) this.probe.updateElems(g.map, plan[g.field].keys, plan[g.field].values);
    } catch (err) {
      this.remove(next);
      throw new VigilError('KERNEL', `writing rules generation ${gen} into the kernel: ${errorMessage(err)} (the previous rules stay in force)`, {
        cause: err,
      });
    }
    const kinds = KernelRules.kindsFor(rs, this.extraKinds);
    // with connect refusals the kernel also refuses raw and packet sockets: socket creation is watched for that guard
    // (and io_uring's socket requests, which make one without a syscall)
    const guarded = plan.netActive ? (['socket', 'io_uring'] as const).filter((k) => !kinds.includes(k)) : [];
    const guardOnly = kindMask(guarded);
    kinds.push(...guarded);
    const programs = programsFor(kinds, true);
    if (plan.netActive) programs.push('vigil_sendmsg4', 'vigil_sendmsg6', 'vigil_sock_create');
    if (plan.netActive && !programs.includes('vigil_connect4')) programs.push('vigil_connect4', 'vigil_connect6');
    // a program the dynamic loader (run as a program) maps is an exec: seen at its mmap
    if (plan.loaderActive) programs.push('vigil_loader');
    // with workloads, a task moved into one takes it as its origin at once (a runtime placing a container's first process)
    if (this.workloads.size > 0 && !programs.includes('vigil_migrate')) programs.push('vigil_migrate');
    this.probe.setAttached(programs);
    const scopedKinds = kinds.filter((k) => !PROCESS_KINDS.includes(k));
    this.probe.configure({
      kinds: kindMask(kinds) | (1 << EventKind.cgroup),
      scopeActive: plan.scoped ? 1 : 0,
      scopedKinds: kindMask(scopedKinds),
      killKinds: plan.killKinds,
      pathKinds: plan.pathKinds,
      pathFilterKinds: plan.pathFilterKinds,
      urgentKinds: plan.urgentKinds,
      prefixDepths: plan.prefixDepths,
      netActive: plan.netActive ? 1 : 0,
      createActive: plan.createActive ? 1 : 0,
      resolveActive: programs.some(isResolveProgram) ? 1 : 0,
      // with workloads, a task keeps the one it leaves (PF_MOVED): one task-storage lookup per event
      originActive: this.workloads.size > 0 ? 1 : 0,
      guardOnly,
      idKinds: plan.idKinds,
      exeState: plan.exeState ? 1 : 0,
      loaderActive: plan.loaderActive ? 1 : 0,
      dirActive: plan.dirActive ? 1 : 0,
      dirBloom: plan.dirBloom,
      rulesGen: gen,
    });
    if (this.written) this.remove(this.written);
    this.written = next;
    this.gen = gen;
    return plan;
  }

  /**
   * Take over a previous agent's rules (pinned maps): its generation stays in
   * force until our first apply flips to the other one, which then deletes it.
   * Returns the generation found in force (0: none).
   */
  adopt(): number {
    const settings = this.probe.readMap('settings');
    if (settings.count !== 1) return 0;
    const gen = Buffer.from(settings.values).readUInt32LE(Config.rules_gen);
    if (gen !== 1 && gen !== 2) return 0;
    const ofGen = (map: string, keySize: number, genAt: number): MapEntries => {
      const all = this.probe.readMap(map);
      const keys: number[] = [];
      for (let i = 0; i < all.count; i++) {
        const k = all.keys.subarray(i * keySize, (i + 1) * keySize);
        if (k[genAt] === gen) keys.push(...k);
      }
      return { keys: Uint8Array.from(keys), values: new Uint8Array(0), count: keys.length / keySize };
    };
    this.gen = gen;
    const w = {} as Written;
    for (const g of GEN_MAPS) w[g.field] = ofGen(g.map, g.keySize, g.genAt);
    this.written = w;
    return gen;
  }

  private remove(w: Written): void {
    for (const g of GEN_MAPS) this.probe.deleteElems(g.map, w[g.field].keys);
  }
}
