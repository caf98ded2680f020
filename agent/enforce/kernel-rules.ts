// Puts a compiled rule set into the kernel atomically: the new generation's
// entries are written first, one settings update switches every hook to
// them, then the old generation is deleted. A failure before the switch
// leaves the old rules in force.
import { Config, EventKind, KIND_NAMES, NetPrefixKey, NetRuleKey, RuleKey, type KindName } from '../kernel/abi';
import { errorMessage, VigilError } from '../../common/errors';
import type { AddressIdentity } from '../workload/source';
import { isResolveProgram, kindMask, PROCESS_KINDS, programsFor, type Probe } from '../kernel/probe';
import type { RuleSet } from '../rules/compile';
import { buildKernelPlan, type KernelPlan, type MapEntries } from './kernel-plan';
import { type WorkloadTable } from '../workload/workload-table';

interface Written {
  rules: MapEntries;
  netRules: MapEntries;
  netPrefixes: MapEntries;
}

export class KernelRules {
  private gen = 0;
  private written: Written | null = null;

  constructor(
    private readonly probe: Probe,
    private readonly workloads: WorkloadTable,
    /** kinds reported whatever the rules say (code: runtime reachability) */
    private readonly extraKinds: readonly KindName[] = [],
  ) {}

  /** The kinds the kernel must report for these rules (plus the process life cycle, plus `extra`). */
  static kindsFor(rs: RuleSet, extra: readonly KindName[] = []): KindName[] {
    const want = new Set<KindName>([...PROCESS_KINDS, ...rs.reportedKinds(), ...extra]);
    return KIND_NAMES.filter((k) => want.has(k));
  }

  apply(rs: RuleSet, addresses: readonly AddressIdentity[]): KernelPlan {
    const gen = this.gen === 1 ? 2 : 1;
    const plan = buildKernelPlan(rs, this.workloads, addresses, gen);
    const next: Written = { rules: plan.rules, netRules: plan.netRules, netPrefixes: plan.netPrefixes };
    try {
      this.probe.updateElems('rules', plan.rules.keys, plan.rules.values);
      this.probe.updateElems('net_rules', plan.netRules.keys, plan.netRules.values);
      this.probe.updateElems('net_prefixes', plan.netPrefixes.keys, plan.netPrefixes.values);
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
    this.written = {
      rules: ofGen('rules', RuleKey.SIZE, RuleKey.gen),
      netRules: ofGen('net_rules', NetRuleKey.SIZE, NetRuleKey.gen),
      netPrefixes: ofGen('net_prefixes', NetPrefixKey.SIZE, NetPrefixKey.gen),
    };
    return gen;
  }

  private remove(w: Written): void {
    this.probe.deleteElems('rules', w.rules.keys);
    this.probe.deleteElems('net_rules', w.netRules.keys);
    this.probe.deleteElems('net_prefixes', w.netPrefixes.keys);
  }
}
