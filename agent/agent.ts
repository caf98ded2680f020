// `vigil agent`: rules about SPIFFE workloads, alerts, and enforcement on
// this node.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Alert } from './alerts';
import { alertText } from './alerts';
import { CgroupResolver, cgroupIdOf, cgroupTree, findCgroup2Mount } from './cgroup';
import { WallClock } from './clock';
import { Engine } from './engine';
import { errorMessage, VigilError } from './errors';
import type { KernelEvent } from './events';
import { IdentityResolver } from './identity/resolver';
import type { IdentitySource } from './identity/source';
import { StaticIdentitySource } from './identity/static-source';
import { Probe, requirePrivileges } from './probe';
import { ProcessCache } from './process-cache';
import { RuleSet } from './rules/compile';
import type { KernelPlan } from './rules/kernel-plan';
import { WorkloadTable } from './rules/kernel-plan';
import { KernelRules } from './rules/kernel-rules';
import { expandRulePaths, loadRuleFiles } from './rules/load';

export interface AgentOptions {
  rules: string[];
  identities?: string;
  output: 'json' | 'text';
  node?: string;
  ringBytes?: number;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** every alert, before it is printed (tests, exporters) */
  onAlert?: (a: Alert) => void;
}

export interface ReloadResult {
  ok: boolean;
  error?: string;
  rules?: number;
}

function planSummary(rs: RuleSet, plan: KernelPlan): string {
  const k = rs.rules.filter((r) => r.enforcement === 'kernel-kill' || r.enforcement === 'kernel-deny').length;
  const u = rs.rules.filter((r) => r.enforcement === 'user-kill').length;
  return `${rs.rules.length} rules (${k} enforced in the kernel, ${u} by user-space kill, ${rs.rules.length - k - u} alert only${
    rs.disabled.length ? `, ${rs.disabled.length} disabled` : ''
  }; ${plan.scoped ? 'kernel scope: the rules\' workloads only' : 'kernel scope: every process'})`;
}

export class Agent {
  readonly node: string;
  readonly probe: Probe;
  readonly engine: Engine;
  readonly processes: ProcessCache;
  readonly identity: IdentityResolver;
  private readonly workloads = new WorkloadTable();
  private readonly kernelRules: KernelRules;
  private readonly watchers: { close(): void }[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  plan: KernelPlan;

  private constructor(
    private readonly o: AgentOptions,
    rules: RuleSet,
    identities: IdentitySource,
  ) {
    this.node = o.node ?? os.hostname();
    const root = findCgroup2Mount();
    this.identity = new IdentityResolver(identities, new CgroupResolver(root));
    this.processes = new ProcessCache(this.node);
    this.processes.seedFromProc('/proc', (rel) => {
      try {
        return cgroupIdOf(path.join(root, rel));
      } catch {
        return undefined;
      }
    });
    for (const id of identities.spiffeIds()) this.workloads.index(id);
    this.probe = Probe.load({
      kinds: KernelRules.kindsFor(rules),
      loadAll: true,
      manualScope: true,
      cgroupRoot: root,
      ringBytes: o.ringBytes,
    });
    try {
      this.scanCgroups(root);
      this.kernelRules = new KernelRules(this.probe, this.workloads);
      this.plan = this.kernelRules.apply(rules, identities);
    } catch (err) {
      void this.probe.close();
      throw err;
    }
    const clock = new WallClock();
    this.engine = new Engine(rules, {
      node: this.node,
      clock,
      processes: this.processes,
      identity: this.identity,
      onAlert: (a) => this.emit(a),
    });
  }

  /** Load rules and identities, load and attach the probes, fill the maps, start. */
  static start(o: AgentOptions): Agent {
    requirePrivileges('vigil agent');
    const specs = loadRuleFiles(o.rules);
    const identities = o.identities ? StaticIdentitySource.load(o.identities) : StaticIdentitySource.empty();
    const agent = new Agent(o, new RuleSet(specs), identities);
    agent.probe.start((evs) => agent.onEvents(evs));
    agent.watch();
    for (const n of agent.plan.notes) o.err.write(`vigil agent: note: ${n}\n`);
    o.err.write(`vigil agent: watching with ${planSummary(agent.engine.getRules(), agent.plan)} on node ${agent.node}\n`);
    return agent;
  }

  private emit(a: Alert): void {
    this.o.onAlert?.(a);
    this.o.out.write((this.o.output === 'json' ? JSON.stringify(a) : alertText(a)) + '\n');
  }

  /** Every cgroup that exists now, with its workload, into the kernel's map. */
  private scanCgroups(root: string): void {
    for (const dir of cgroupTree(root)) {
      const rel = dir === root ? '/' : dir.slice(root.length);
      let id: number;
      try {
        id = cgroupIdOf(dir);
      } catch {
        continue; // removed while we walked
      }
      this.mapCgroup(id, rel);
    }
  }

  /** Returns true when the cgroup named a workload the kernel did not know yet. */
  private mapCgroup(id: number, rel: string): boolean {
    const info = this.identity.forPath(id, rel);
    if (!info.spiffeId) return false;
    const before = this.workloads.entries().length;
    const index = this.workloads.index(info.spiffeId);
    this.probe.setCgroup(id, index);
    return this.workloads.entries().length !== before;
  }

  private onEvents(evs: KernelEvent[]): void {
    let newWorkload = false;
    for (const ev of evs) {
      if (ev.kind !== 'cgroup') continue;
      const rel = this.identity.forCgroup(ev.id).cgroup;
      if (rel !== null) newWorkload = this.mapCgroup(ev.id, rel) || newWorkload;
    }
    if (newWorkload) this.plan = this.kernelRules.apply(this.engine.getRules(), this.identity.getSource());
    this.engine.handle(evs);
  }

  /** Load the rules again; a bad file is refused and the rules in force stay. */
  reload(): ReloadResult {
    try {
      const rs = new RuleSet(loadRuleFiles(this.o.rules));
      this.plan = this.kernelRules.apply(rs, this.identity.getSource());
      this.engine.setRules(rs);
      for (const n of this.plan.notes) this.o.err.write(`vigil agent: note: ${n}\n`);
      this.o.err.write(`vigil agent: rules reloaded: ${planSummary(rs, this.plan)}\n`);
      return { ok: true, rules: rs.rules.length };
    } catch (err) {
      const msg = errorMessage(err);
      this.o.err.write(`vigil agent: reload refused, the rules in force stay:\n${msg}\n`);
      return { ok: false, error: msg };
    }
  }

  /** Reload on SIGHUP and when a rules file or directory changes. */
  private watch(): void {
    const schedule = (): void => {
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => {
        this.reloadTimer = undefined;
        if (!this.stopped) this.reload();
      }, 150);
    };
    process.on('SIGHUP', schedule);
    this.watchers.push({ close: () => void process.off('SIGHUP', schedule) });
    const targets = new Set<string>();
    for (const p of this.o.rules) {
      // watch directories (editors replace files by rename, which a file watch loses)
      const st = fs.statSync(p);
      targets.add(st.isDirectory() ? p : path.dirname(p));
    }
    const files = new Set(expandRulePaths(this.o.rules).map((f) => path.resolve(f)));
    for (const dir of targets) {
      const w = fs.watch(dir, (_ev, name) => {
        if (!name) return schedule();
        const full = path.resolve(dir, name.toString());
        if (files.has(full) || /\.ya?ml$/.test(full)) schedule();
      });
      this.watchers.push(w);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    for (const w of this.watchers) w.close();
    await this.probe.close();
  }

  summary(): string {
    const s = this.engine.stats;
    const p = this.probe.stats();
    let dropped = p.reader.queueDropRecords;
    for (const k of Object.values(p.kinds)) dropped += k.dropped + k.busy;
    return (
      `vigil agent: summary: ${s.events} events, ${s.alerts} alerts, ${s.kernelKills} kernel kills, ${s.userKills} user-space kills, ` +
      `${s.killFailures} failed kills, ${s.denials} denied connects, ${s.exempted} exempted, ${dropped} events lost\n`
    );
  }
}

export function parseAgentArgs(argv: string[]): Omit<AgentOptions, 'out' | 'err'> & { durationMs?: number } {
  const o: Omit<AgentOptions, 'out' | 'err'> & { durationMs?: number } = { rules: [], output: 'json' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new VigilError('BAD_ARGUMENT', `${flag}: expected a value`);
      return v;
    };
    switch (flag) {
      case '--rules': {
        o.rules.push(value());
        // more paths may follow until the next option
        while (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) o.rules.push(argv[++i]);
        break;
      }
      case '--identities':
        o.identities = value();
        break;
      case '--output':
      case '-o': {
        const v = value();
        if (v !== 'json' && v !== 'text') throw new VigilError('BAD_ARGUMENT', `--output: expected json or text, got "${v}"`);
        o.output = v;
        break;
      }
      case '--node':
        o.node = value();
        break;
      case '--duration': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0) throw new VigilError('BAD_ARGUMENT', '--duration: expected seconds > 0');
        o.durationMs = n * 1000;
        break;
      }
      default:
        throw new VigilError('BAD_ARGUMENT', `vigil agent: unknown option "${a}"`);
    }
  }
  if (o.rules.length === 0) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --rules PATH... is required');
  return o;
}

export async function runAgent(o: AgentOptions & { durationMs?: number }): Promise<void> {
  const agent = Agent.start(o);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (timer) clearTimeout(timer);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const timer = o.durationMs !== undefined ? setTimeout(stop, o.durationMs) : undefined;
  });
  await agent.stop();
  o.err.write(agent.summary());
}
