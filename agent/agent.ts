// `vigil agent`: wiring and life cycle. The stages live in their folders
// (kernel, decode, process, workload, rules, enforce, export); this file
// builds them in order, connects their callbacks, and starts and stops them:
//
//   kernel/probe -> workload/cgroup-sync + pipeline (process, workload,
//   rules, enforce) -> export/enrichment -> stdout, uplink (spool), metrics
import type { KeyObject } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorMessage, VigilError } from '../common/errors';
import { splitHostPort } from '../common/host-port';
import { serveMetrics, type MetricsServer } from '../common/metrics-server';
import { openOutput, type OutputConfig } from '../common/outputs/config';
import { OutputQueue } from '../common/outputs/queue';
import { resolveTls, type ResolvedTls, type TlsFlags } from '../common/spiffe/tls-files';
import { VIGIL_VERSION } from '../common/version';
import type { KernelEvent } from './decode/events';
import { planSummary, type KernelPlan } from './enforce/kernel-plan';
import { KernelRules } from './enforce/kernel-rules';
import { FileIds } from './enforce/file-ids';
import { dirNameById } from './enforce/protected-dirs';
import { LostDecisionTracker, lostTotal } from './enforce/lost';
import { alertText, type Alert } from './export/alert';
import { Enrichment } from './export/enrichment';
import { FloodControl, type FloodOptions } from './export/flood';
import { AgentMetrics } from './export/metrics';
import { Spool } from './export/spool';
import { AuditWitness } from './export/audit-witness';
import { auditLogOrigin, loadLogVerifier } from '../common/tlog/keys';
import { Uplink } from './export/uplink';
import { EventKind, KIND_NAMES, TaskFlag, TaskState, type KindName } from './kernel/abi';
import { cgroupIdOf, CgroupResolver, findCgroup2Mount } from './kernel/cgroupfs';
import { WallClock } from './kernel/clock';
import { probeKernel } from './kernel/features';
import { readerShed } from './kernel/native';
import { Probe, requirePrivileges } from './kernel/probe';
import { Pipeline } from './pipeline';
import { ProcessCache } from './process/process-cache';
import { procCgroups, readBootId } from './process/procfs';
import { RuleSet } from './rules/compile';
import { loadRuleFiles } from './rules/load';
import { loadPublicKey, PolicyState, verifyPolicy, type VerifiedPolicy } from './rules/policy';
import { RulesWatcher } from './rules/reload';
import { ReachTracker } from './reach/tracker';
import { CgroupSync, privateCgroupNamespace } from './workload/cgroup-sync';
import type { KubernetesIdentitySource } from './workload/kubernetes-source';
import { IdentityResolver } from './workload/resolver';
import type { AddressIdentity, IdentitySource } from './workload/source';
import { openIdentitySources, type KubernetesLink } from './workload/sources';
import { WorkloadTable } from './workload/workload-table';

/** certsDir: a `vigil certs` directory; bundle/cert/key/policyKey/trustDomain: single files (SPIRE, Secrets) that win over it */
export interface ControlPlaneLink extends TlsFlags {
  address: string;
  /** plaintext, no authentication (warned about) */
  insecure: boolean;
  /** the control plane's SPIFFE ID (default spiffe://TD/vigil/controlplane) */
  serverId?: string;
}

export interface AgentOptions {
  rules: string[];
  identities?: string;
  /** pod identity; undefined: on when running in a cluster (service account token present); false: off */
  kubernetes?: KubernetesLink | false;
  /** how long an alert from a pod not known yet waits for the pod to appear (default 2000 ms; 0: never) */
  enrichWaitMs?: number;
  /** how often decisions lost for user-space kill rules are checked and alerted (ms, default 1000) */
  lostCheckMs?: number;
  /** life-cycle and urgent records waiting for JavaScript, in bytes, before they are shed too (default 64 MiB) */
  holdBytes?: number;
  output: 'json' | 'text';
  node?: string;
  ringBytes?: number;
  /**
   * Pin the kernel's enforcement under this bpffs directory: kills and denies go on while
   * the agent is stopped, crashed or being upgraded, and the next agent takes over without
   * a gap (`vigil agent --uninstall` removes it). Undefined: nothing outlives the agent.
   */
  pinDir?: string;
  /** size of the kernel's cgroups map (default 16384): cgroups that name a workload of their own */
  maxCgroups?: number;
  controlplane?: ControlPlaneLink;
  /** spool and last good policy (default /var/lib/vigil/agent) */
  stateDir?: string;
  /** host:port for /metrics, /healthz */
  metricsAddress?: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** flood control (defaults: DEFAULT_FLOOD) */
  flood?: Partial<Pick<FloodOptions, 'windowMs' | 'ratePerRule' | 'ruleRates' | 'maxKeys'>>;
  /** every alert, before it is printed (tests, exporters) */
  onAlert?: (a: Alert) => void;
  /**
   * Runtime reachability (docs/vex.md): which files each image's processes load, reported to the
   * control plane. Default: on when there is a control plane.
   */
  reach?: boolean;
  /** how often reachability reports go out (ms, default 10000) */
  reachIntervalMs?: number;
  /** webhook, falcosidekick, syslog outputs of this node (for nodes without a control plane; docs/vdp.md) */
  outputs?: OutputConfig[];
}

/** Repeats collapse within 10 s; each rule delivers at most 100 alerts a second on its own; 4096 distinct alerts counted at once. */
export const DEFAULT_FLOOD = { windowMs: 10_000, ratePerRule: 100, maxKeys: 4096 } as const;

export interface ReloadResult {
  ok: boolean;
  error?: string;
  rules?: number;
}

export class Agent {
  readonly node: string;
  readonly probe: Probe;
  readonly pipeline: Pipeline;
  readonly processes: ProcessCache;
  readonly identity: IdentityResolver;
  readonly metrics: AgentMetrics;
  uplink: Uplink | null = null;
  spool: Spool | null = null;
  /** runtime reachability (null: off) */
  reach: ReachTracker | null = null;
  private reachTimer: NodeJS.Timeout | null = null;
  /** this node's own outputs (--outputs) */
  outputs: OutputQueue[] = [];
  metricsServer: MetricsServer | null = null;
  private readonly workloads = new WorkloadTable((index, spiffeId) => this.nameWorkload(index, spiffeId));
  /** a previous agent's pinned enforcement was taken over at start */
  readonly adopted: boolean;
  private readonly kernelRules: KernelRules;
  /** rules' binaries by (device, inode), kept current: a change re-applies the rules */
  private readonly fileIds: FileIds;
  private readonly cgroups: CgroupSync;
  private readonly enrichment: Enrichment;
  private readonly flood: FloodControl;
  private rulesWatcher: RulesWatcher | null = null;
  private readonly lostDecisions = new LostDecisionTracker();
  private lostTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly warned = new Map<string, number>();
  /** the signed policy in force (0: the local rules files) */
  policyVersion = 0;
  plan: KernelPlan;

  private constructor(
    private readonly o: AgentOptions,
    rules: RuleSet,
    identities: IdentitySource,
  ) {
    this.node = o.node ?? process.env.NODE_NAME ?? os.hostname();
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
    this.metrics = new AgentMetrics(this.processes);
    const reachKinds: KindName[] = o.reach ? ['code'] : [];
    this.probe = Probe.load({
      kinds: KernelRules.kindsFor(rules, reachKinds),
      loadAll: true,
      manualScope: true,
      cgroupRoot: root,
      ringBytes: o.ringBytes,
      holdBytes: o.holdBytes,
      maxCgroups: o.maxCgroups,
      pinDir: o.pinDir,
    });
    // a previous agent's enforcement is in force (pinned): take over its workload indices first
    this.adopted = this.probe.pinned().adopted;
    if (this.adopted) this.workloads.restore(readWorkloadNames(this.probe));
    const staleCgroups = this.adopted ? cgroupIds(this.probe) : [];
    for (const id of identities.spiffeIds()) this.workloads.index(id);
    this.cgroups = new CgroupSync({
      root,
      identity: this.identity,
      workloads: this.workloads,
      setCgroup: (id, w) => this.probe.setCgroup(id, w),
      onMapError: (where, err) => {
        this.metrics.cgroupMapError();
        this.warn('cgroup-map', `cgroup ${where} could not be put in the kernel's cgroups map, it keeps its nearest mapped ancestor's scope: ${errorMessage(err)}`);
      },
      onError: (ev, err) => this.eventError('cgroup_sync', ev, err),
      rewriteKernelRules: () => {
        this.plan = this.kernelRules.apply(this.pipeline.getRules(), this.addresses());
      },
      onApplied: (c, newWorkload) => {
        if (newWorkload || c.addresses) {
          try {
            this.plan = this.kernelRules.apply(this.pipeline.getRules(), this.addresses());
          } catch (err) {
            this.o.err.write(`vigil agent: applying the rules to the new pod identities failed, the previous kernel rules stay: ${errorMessage(err)}\n`);
          }
        }
        if (c.addresses) this.uplink?.reportIdentities();
        if (this.enrichment.holding) this.enrichment.flush(false);
      },
    });
    this.metrics.cgroupEntries = () => this.cgroups.entries;
    this.fileIds = new FileIds({ onChange: () => this.fileIdsChanged() });
    try {
      this.cgroups.scan();
      this.kernelRules = new KernelRules(this.probe, this.workloads, { fileIds: this.fileIds, extraKinds: reachKinds });
      const inForce = this.adopted ? this.kernelRules.adopt() : 0;
      this.plan = this.kernelRules.apply(rules, this.addresses());
      // what the previous agent mapped and we do not (cgroups since gone are deleted by the kernel)
      const stale = staleCgroups.filter((id) => !this.cgroups.owns(id));
      if (stale.length) this.probe.deleteElems('cgroups', cgroupKeys(stale));
      if (this.adopted) {
        this.o.err.write(`vigil agent: took over the enforcement in force at ${this.probe.pinned().dir} (rules generation ${inForce}, ${stale.length} stale cgroup entries removed)\n`);
      }
      this.seedOrigins();
    } catch (err) {
      this.fileIds.close();
      void this.probe.close();
      throw err;
    }
    identities.subscribe?.((c) => this.cgroups.changed(c));
    this.flood = new FloodControl({
      ...DEFAULT_FLOOD,
      ...o.flood,
      deliver: (a) => this.deliver(a),
      counted: (what, rule) => this.metrics.floodCounted(what, rule),
    });
    this.metrics.attachFlood(this.flood);
    this.metrics.lostDecisions = () => this.lostDecisions.lost;
    this.enrichment = new Enrichment({
      identity: this.identity,
      waitMs: o.enrichWaitMs ?? 2000,
      deliver: (a) => this.flood.offer(a),
      counted: (r) => this.metrics.enriched(r),
    });
    if (o.reach) {
      const clock = new WallClock();
      this.reach = new ReachTracker({
        node: this.node,
        stateDir: o.stateDir ?? '/var/lib/vigil/agent',
        workloadOf: (id) => this.identity.forCgroup(id),
        wallNs: (k) => clock.wallNs(k),
        cgroupRoot: root,
        continued: this.adopted,
        log: (l) => this.warn(`reach:${l.slice(0, 40)}`, l),
      });
    }
    this.pipeline = new Pipeline(rules, {
      node: this.node,
      clock: new WallClock(),
      processes: this.processes,
      identity: this.identity,
      onAlert: (a) => this.enrichment.emit(a),
      onUserKill: (latency) => this.metrics.userKill(latency),
      onError: (ev, err) => this.eventError('pipeline', ev, err),
      workloadName: (index) => this.workloads.spiffeId(index),
      dirName: (dev, ino) => dirNameById(this.fileIds, dev, ino),
      aliases: (id) => this.fileIds.aliasesOf(id),
    });
  }

  /** A binary a rule names was replaced, renamed, unlinked or mounted over: the kernel gets its new identity at once. */
  private fileIdsChanged(): void {
    if (this.stopped) return;
    try {
      this.plan = this.kernelRules.apply(this.pipeline.getRules(), this.addresses());
    } catch (err) {
      this.o.err.write(`vigil agent: applying the rules to a changed binary failed, the previous kernel rules stay: ${errorMessage(err)}\n`);
    }
  }

  /** The kernel's record of what a workload index means (for the next agent: see WorkloadTable). */
  private nameWorkload(index: number, spiffeId: string): void {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(index);
    const value = Buffer.alloc(WORKLOAD_NAME_MAX);
    if (Buffer.byteLength(spiffeId) >= WORKLOAD_NAME_MAX) return;
    value.write(spiffeId, 'utf8');
    this.probe.updateElems('workload_names', key, value);
  }

  /** Log a problem once a minute per kind (a flood of the same error must not flood the log). */
  private warn(key: string, line: string): void {
    const now = Date.now();
    if ((this.warned.get(key) ?? 0) > now) return;
    this.warned.set(key, now + 60_000);
    this.o.err.write(`vigil agent: ${line}\n`);
  }

  private eventError(stage: 'cgroup_sync' | 'pipeline', ev: KernelEvent, err: unknown): void {
    this.metrics.eventError(stage);
    this.warn(`event-${stage}`, `handling a ${ev.kind} event of pid ${ev.pid} failed (${stage}), the rest of its batch is handled: ${errorMessage(err)}`);
  }

  /**
   * Processes older than the agent: their origin workload, so that moving out of it sheds
   * nothing even if the kernel has not seen them since (bpf/lib/common.h task_origin).
   */
  private seedOrigins(): void {
    for (const s of this.cgroups.origins(procCgroups())) {
      const v = Buffer.alloc(TaskState.SIZE);
      v.writeBigUInt64LE(BigInt(s.cgroupId), TaskState.origin_cgid);
      v.writeUInt32LE(s.workload, TaskState.origin_workload);
      v.writeUInt16LE(s.level, TaskState.origin_level);
      v.writeUInt16LE(TaskFlag.ORIGIN, TaskState.flags);
      try {
        this.probe.updateTask('tasks', s.pid, v);
      } catch {
        // gone meanwhile
      }
    }
  }

  /** Load rules (or the last good signed policy) and identities, load the probes, fill the maps, start. */
  static async start(o: AgentOptions): Promise<Agent> {
    requirePrivileges('vigil agent');
    const node = o.node ?? process.env.NODE_NAME ?? os.hostname();
    o = { ...o, node };
    const cp = o.controlplane;
    let pinned: KeyObject | null = null;
    let tls: ResolvedTls | null = null;
    if (cp && !cp.insecure) {
      tls = resolveTls('vigil agent: --controlplane', 'agent', cp);
      if (tls.policyKey) pinned = loadPublicKey(tls.policyKey);
    }
    const { identities, kube } = await openIdentitySources({
      node,
      identities: o.identities,
      kubernetes: o.kubernetes,
      trustDomain: tls?.trustDomain,
      log: (l) => o.err.write(`vigil agent: ${l}\n`),
    });
    try {
      return await Agent.startWith(o, identities, kube, cp, tls, pinned);
    } catch (err) {
      await identities.close?.();
      throw err;
    }
  }

  private static async startWith(
    o: AgentOptions,
    identities: IdentitySource,
    kube: KubernetesIdentitySource | null,
    cp: ControlPlaneLink | undefined,
    tls: ResolvedTls | null,
    pinned: KeyObject | null,
  ): Promise<Agent> {
    const stateDir = o.stateDir ?? '/var/lib/vigil/agent';
    // the last good signed policy survives our restart and a control plane that is down
    const state = cp ? new PolicyState(stateDir, (l) => o.err.write(`vigil agent: ${l}\n`)) : null;
    let rules: RuleSet | null = null;
    let version = 0;
    const saved = state?.load();
    if (saved && pinned) {
      try {
        const v = verifyPolicy(saved, pinned);
        rules = v.rules;
        version = v.version;
      } catch (err) {
        o.err.write(`vigil agent: the saved policy v${saved.version} does not verify, not used: ${errorMessage(err)}\n`);
      }
    }
    if (!rules) {
      if (o.rules.length === 0 && !cp) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --rules PATH... is required without a control plane');
      rules = o.rules.length ? new RuleSet(loadRuleFiles(o.rules)) : new RuleSet({ files: [], lists: new Map(), rules: [] });
    }
    // reachability reports go to a control plane: on by default when there is one
    o = { ...o, reach: o.reach ?? cp !== undefined };
    const agent = new Agent(o, rules, identities);
    agent.outputs = (o.outputs ?? []).map(
      (c) => new OutputQueue(openOutput(c), { minPriority: c.minPriority, log: (l) => agent.warn(`output-${c.name}`, l) }),
    );
    agent.metrics.outputs = agent.outputs;
    if (kube) agent.metrics.kubernetes(kube.status);
    agent.policyVersion = version;
    agent.metrics.policy(version, rules.rules.length);
    if (cp) {
      const bootId = readBootId();
      agent.spool = new Spool(path.join(stateDir, 'spool'), bootId, undefined, undefined, (l) => o.err.write(`vigil agent: ${l}\n`));
      const caps = probeKernel();
      // the agent witnesses the control plane's audit log with the pinned log key
      const witness = tls?.logKey ? new AuditWitness(stateDir, loadLogVerifier(tls.logKey, auditLogOrigin(tls.trustDomain)), agent.node, (l) => o.err.write(`vigil agent: ${l}\n`)) : null;
      if (!witness) o.err.write(`vigil agent: ${cp.insecure ? '--insecure' : 'no log key (log.pub, else policy.pub, or --log-key)'}: this agent does not witness the control plane's audit log\n`);
      agent.uplink = new Uplink({
        address: cp.address,
        tls: tls
          ? {
              bundle: tls.bundle,
              cert: tls.cert,
              key: tls.key,
              trustDomain: tls.trustDomain,
              serverId: cp.serverId ?? `spiffe://${tls.trustDomain}/vigil/controlplane`,
            }
          : null,
        node: agent.node,
        bootId,
        version: VIGIL_VERSION,
        capabilities: {
          kernel: caps.kernel,
          btf: caps.btf,
          bpf_lsm: caps.bpfLsmActive,
          hooks: caps.hooks.filter((h) => h.usable).map((h) => h.section),
          enforcement: caps.enforcement,
        },
        spool: agent.spool,
        policyKey: pinned,
        policyState: state,
        applyPolicy: (p) => agent.applyPolicy(p),
        currentPolicyVersion: () => agent.policyVersion,
        onIdentityMap: (entries) => agent.cgroups.setRemoteAddresses(entries, agent.node),
        witness,
        onAuditAlert: (a) => agent.deliver(a),
        identityReport: () => agent.identity.getSource().addresses().map((a) => ({ cidr: a.cidr.text, spiffe_id: a.spiffeId })),
        log: (l) => o.err.write(`vigil agent: ${l}\n`),
        onState: (up) => agent.metrics.link(up),
        reach: agent.reach ?? undefined,
      });
      if (cp.insecure) o.err.write('vigil agent: WARNING: --insecure: the control plane link is plaintext and unauthenticated\n');
      agent.metrics.attach(agent.probe, agent.spool);
      agent.uplink.start();
    } else {
      agent.metrics.attach(agent.probe, null);
    }
    if (o.metricsAddress) {
      const [host, port] = splitHostPort(o.metricsAddress);
      agent.metricsServer = await serveMetrics(agent.metrics.registry, host, port, () => !agent.stopped);
    }
    agent.probe.start((evs) => agent.onEvents(evs));
    if (agent.reach) {
      const root = agent.probe.cgroupRoot;
      const n = agent.reach.scanProc((rel) => {
        try {
          return cgroupIdOf(path.join(root, rel));
        } catch {
          return undefined;
        }
      });
      agent.reach.noteLosses(agent.reachLosses());
      agent.reachTick();
      const tracker = agent.reach;
      agent.metrics.reach = () => tracker.summary();
      agent.reachTimer = setInterval(() => agent.reachTick(), o.reachIntervalMs ?? 10_000);
      agent.reachTimer.unref();
      o.err.write(`vigil agent: runtime reachability on (run ${agent.reach.run}${agent.adopted ? ', continued' : ''}): ${n} processes of images found running\n`);
    }
    // a decision user space could not make is an alert, within a second
    agent.lostTimer = setInterval(() => agent.checkLostDecisions(), o.lostCheckMs ?? 1000);
    agent.lostTimer.unref();
    agent.rulesWatcher = new RulesWatcher(o.rules, () => agent.reload());
    for (const n of agent.plan.notes) o.err.write(`vigil agent: note: ${n}\n`);
    if (privateCgroupNamespace()) {
      o.err.write(
        'vigil agent: WARNING: this agent runs in a private cgroup namespace: the cgroup paths of processes that started before it ' +
          'read "/../.." in /proc and cannot be mapped; run it in the node\'s (nsenter --cgroup=/proc/1/ns/cgroup, as the DaemonSet does)\n',
      );
    }
    o.err.write(
      `vigil agent: watching with ${planSummary(agent.pipeline.getRules(), agent.plan)}${version ? ` from signed policy v${version}` : ''} on node ${agent.node}${
        agent.metricsServer ? `; metrics on ${o.metricsAddress?.replace(/:\d+$/, '')}:${agent.metricsServer.port}` : ''
      }\n`,
    );
    return agent;
  }

  /** One batch from the kernel: new cgroups first (so that their events have a workload), then the pipeline and reachability. */
  private onEvents(evs: KernelEvent[]): void {
    this.cgroups.onEvents(evs);
    this.pipeline.handle(evs);
    if (this.reach) {
      try {
        this.reach.onEvents(evs);
      } catch (err) {
        this.warn('reach-events', `runtime reachability could not take a batch: ${errorMessage(err)}`);
      }
    }
  }

  /** Code and exec records the kernel or the reader lost: any of them may have been a load. */
  private reachLosses(): number {
    const p = this.probe.stats();
    return p.kinds.code.dropped + p.kinds.code.busy + p.kinds.exec.dropped + p.kinds.exec.busy + readerShed(p.reader);
  }

  /** Reachability's periodic work: watches moved on, losses noted, reports sent, state saved. */
  reachTick(): void {
    if (!this.reach) return;
    try {
      this.reach.tick();
      this.reach.noteLosses(this.reachLosses());
      this.uplink?.sendReach();
      this.reach.save();
    } catch (err) {
      this.warn('reach-tick', `runtime reachability: ${errorMessage(err)}`);
    }
  }

  /** The kinds whose in-scope records the kernel marks urgent now: those a user-space kill rule judges. */
  private urgentKinds(): KindName[] {
    return KIND_NAMES.filter((k) => this.plan.urgentKinds & (1 << EventKind[k]));
  }

  private checkLostDecisions(): void {
    const a = this.lostDecisions.check(this.probe.stats(), this.urgentKinds(), this.node);
    // at most one a second, each with its own count: never collapsed by flood control
    if (a) this.deliver(a);
  }

  private deliver(a: Alert): void {
    this.metrics.alert(a);
    this.o.onAlert?.(a);
    this.uplink?.send(a);
    if (this.outputs.length) {
      const json = JSON.stringify(a);
      for (const q of this.outputs) q.send(json);
    }
    this.o.out.write((this.o.output === 'json' ? JSON.stringify(a) : alertText(a)) + '\n');
  }

  /** Workload addresses: this node's identities and what the control plane merged from every node. */
  addresses(): AddressIdentity[] {
    return this.identity.addresses();
  }

  /** Apply a verified signed policy: kernel first (atomic), then user space. */
  private applyPolicy(p: VerifiedPolicy): string | null {
    try {
      this.plan = this.kernelRules.apply(p.rules, this.addresses());
    } catch (err) {
      return errorMessage(err);
    }
    this.pipeline.setRules(p.rules);
    this.policyVersion = p.version;
    this.metrics.policy(p.version, p.rules.rules.length);
    for (const n of this.plan.notes) this.o.err.write(`vigil agent: note: ${n}\n`);
    this.o.err.write(`vigil agent: signed policy v${p.version} in force: ${planSummary(p.rules, this.plan)}\n`);
    return null;
  }

  /** Load the rules files again; a bad file is refused and the rules in force stay. */
  reload(): ReloadResult {
    if (this.policyVersion > 0) {
      const msg = `signed policy v${this.policyVersion} is in force: local rules files are not reloaded (push a new policy)`;
      this.o.err.write(`vigil agent: ${msg}\n`);
      return { ok: false, error: msg };
    }
    try {
      const rs = new RuleSet(loadRuleFiles(this.o.rules));
      this.plan = this.kernelRules.apply(rs, this.addresses());
      this.pipeline.setRules(rs);
      this.metrics.policy(0, rs.rules.length);
      for (const n of this.plan.notes) this.o.err.write(`vigil agent: note: ${n}\n`);
      this.o.err.write(`vigil agent: rules reloaded: ${planSummary(rs, this.plan)}\n`);
      return { ok: true, rules: rs.rules.length };
    } catch (err) {
      const msg = errorMessage(err);
      this.o.err.write(`vigil agent: reload refused, the rules in force stay:\n${msg}\n`);
      return { ok: false, error: msg };
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.rulesWatcher?.close();
    this.fileIds.close();
    this.cgroups.close();
    if (this.lostTimer) clearInterval(this.lostTimer);
    if (this.reachTimer) clearInterval(this.reachTimer);
    await this.probe.close();
    // what the last batches loaded, said and kept
    this.reachTick();
    this.checkLostDecisions();
    // what still waits for its pod goes out as it is, then what flood control still counts
    this.enrichment.close();
    this.flood.close();
    await this.identity.getSource().close?.();
    if (this.uplink) await this.uplink.stop();
    await Promise.all(this.outputs.map((q) => q.close()));
    this.spool?.close();
    if (this.metricsServer) await this.metricsServer.close();
  }

  summary(): string {
    const s = this.pipeline.stats;
    const p = this.probe.stats();
    let dropped = readerShed(p.reader);
    for (const k of Object.values(p.kinds)) dropped += k.dropped + k.busy;
    const lost = lostTotal(this.lostDecisions.lost);
    const sp = this.spool?.stats();
    return (
      `vigil agent: summary: ${s.events} events, ${s.alerts} alerts, ${s.kernelKills} kernel kills, ${s.userKills} user-space kills, ` +
      `${s.killFailures} failed kills, ${s.denials} denied connects, ${s.exempted} exempted, ${dropped} events lost ` +
      `(${lost} of them for user-space kill rules), ${s.errors} handling errors` +
      (sp ? `; spool: ${sp.depth} unacknowledged, ${sp.overflow} overflowed` : '') +
      '\n'
    );
  }
}

/** Longest SPIFFE ID the kernel's workload_names map holds (bpf/lib/common.h WORKLOAD_NAME_MAX). */
const WORKLOAD_NAME_MAX = 2048;

/** The pinned workload_names map: index -> SPIFFE ID. */
function readWorkloadNames(probe: Probe): [number, string][] {
  const m = probe.readMap('workload_names');
  const out: [number, string][] = [];
  for (let i = 0; i < m.count; i++) {
    const v = Buffer.from(m.values.subarray(i * WORKLOAD_NAME_MAX, (i + 1) * WORKLOAD_NAME_MAX));
    const end = v.indexOf(0);
    out.push([Buffer.from(m.keys).readUInt32LE(i * 4), v.toString('utf8', 0, end < 0 ? v.length : end)]);
  }
  return out;
}

/** The ids in the kernel's cgroups map. */
function cgroupIds(probe: Probe): number[] {
  const m = probe.readMap('cgroups');
  const keys = Buffer.from(m.keys);
  return Array.from({ length: m.count }, (_, i) => Number(keys.readBigUInt64LE(i * 8)));
}

function cgroupKeys(ids: number[]): Uint8Array {
  const b = Buffer.alloc(ids.length * 8);
  ids.forEach((id, i) => b.writeBigUInt64LE(BigInt(id), i * 8));
  return b;
}
