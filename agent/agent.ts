// `vigil agent`: rules about SPIFFE workloads, alerts, and enforcement on
// this node; with a control plane: durable delivery, signed policy and the
// cluster's identity map.
import type { KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Alert } from './export/alert';
import { alertSentence, alertText } from './export/alert';
import { ArgReader } from '../cli/args';
import { splitHostPort } from '../common/host-port';
import { CgroupResolver, cgroupIdOf, cgroupTree, findCgroup2Mount } from './kernel/cgroupfs';
import { WallClock } from './kernel/clock';
import { Engine } from './pipeline';
import { errorMessage, VigilError } from '../common/errors';
import type { KernelEvent } from './decode/events';
import { CompositeIdentitySource } from './workload/composite-source';
import { DEFAULT_WORKLOAD_TRUST_DOMAIN, inCluster, KubernetesIdentitySource } from './workload/kubernetes-source';
import { IdentityResolver } from './workload/resolver';
import type { AddressIdentity, IdentityChange, IdentitySource } from './workload/source';
import { StaticIdentitySource } from './workload/static-source';
import { resolveTls, type ResolvedTls, type TlsFlags } from '../common/spiffe/tls-files';
import { probeKernel } from './kernel/features';
import { AgentMetrics } from './export/metrics';
import { serveMetrics, type MetricsServer } from '../common/metrics-server';
import { parseCidr } from '../common/cidr';
import { loadPublicKey, PolicyState, verifyPolicy, type VerifiedPolicy } from './rules/policy';
import { Probe, requirePrivileges } from './kernel/probe';
import { ProcessCache } from './process/process-cache';
import { RuleSet } from './rules/compile';
import type { KernelPlan } from './enforce/kernel-plan';
import { WorkloadTable } from './enforce/kernel-plan';
import { KernelRules } from './enforce/kernel-rules';
import { expandRulePaths, loadRuleFiles } from './rules/load';
import { Spool } from './export/spool';
import { Uplink } from './export/uplink';

export const VIGIL_VERSION = '0.1.0';

/** certsDir: a `vigil certs` directory; bundle/cert/key/policyKey/trustDomain: single files (SPIRE, Secrets) that win over it */
export interface ControlPlaneLink extends TlsFlags {
  address: string;
  /** plaintext, no authentication (warned about) */
  insecure: boolean;
  /** the control plane's SPIFFE ID (default spiffe://TD/vigil/controlplane) */
  serverId?: string;
}

/** Pod identity from the Kubernetes API (docs/deploy.md). */
export interface KubernetesLink {
  /** a kubeconfig file (default: KUBECONFIG, ~/.kube/config, or the in-cluster service account) */
  kubeconfig?: string;
  /** SPIFFE ID template (default spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}) */
  template?: string;
  /** trust domain of the workloads (default: the agent's own, else cluster.local) */
  trustDomain?: string;
  /** how long start waits for the first pod list (default 10 s; the agent starts anyway) */
  syncWaitMs?: number;
}

export interface AgentOptions {
  rules: string[];
  identities?: string;
  /** pod identity; undefined: on when running in a cluster (service account token present); false: off */
  kubernetes?: KubernetesLink | false;
  /** how long an alert from a pod not known yet waits for the pod to appear (default 2000 ms; 0: never) */
  enrichWaitMs?: number;
  output: 'json' | 'text';
  node?: string;
  ringBytes?: number;
  controlplane?: ControlPlaneLink;
  /** spool and last good policy (default /var/lib/vigil/agent) */
  stateDir?: string;
  /** host:port for /metrics, /healthz */
  metricsAddress?: string;
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

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}

export class Agent {
  readonly node: string;
  readonly probe: Probe;
  readonly engine: Engine;
  readonly processes: ProcessCache;
  readonly identity: IdentityResolver;
  readonly metrics: AgentMetrics;
  uplink: Uplink | null = null;
  spool: Spool | null = null;
  metricsServer: MetricsServer | null = null;
  private readonly workloads = new WorkloadTable();
  private readonly kernelRules: KernelRules;
  private readonly watchers: { close(): void }[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly cgroupRoot: string;
  /** pod UID or container id -> the cgroups seen for it (remapped when the pod becomes known) */
  private readonly podCgroups = new Map<string, Map<number, string>>();
  private identityChanges: { podUids: Set<string>; containerIds: Set<string>; addresses: boolean } | null = null;
  private identityTimer: NodeJS.Timeout | undefined;
  /** alerts waiting for their pod to appear */
  private held: { alert: Alert; until: number }[] = [];
  private heldTimer: NodeJS.Timeout | undefined;
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
    this.cgroupRoot = root;
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
      this.plan = this.kernelRules.apply(rules, this.addresses());
    } catch (err) {
      void this.probe.close();
      throw err;
    }
    identities.subscribe?.((c) => this.identityChanged(c));
    this.engine = new Engine(rules, {
      node: this.node,
      clock: new WallClock(),
      processes: this.processes,
      identity: this.identity,
      onAlert: (a) => this.emit(a),
      onUserKill: (latency) => this.metrics.userKill(latency),
    });
  }

  /** Load rules (or the last good signed policy) and identities, load the probes, fill the maps, start. */
  static async start(o: AgentOptions): Promise<Agent> {
    requirePrivileges('vigil agent');
    const node = o.node ?? process.env.NODE_NAME ?? os.hostname();
    o = { ...o, node };
    const fromFile = o.identities ? StaticIdentitySource.load(o.identities) : null;
    const cp = o.controlplane;
    let pinned: KeyObject | null = null;
    let tls: ResolvedTls | null = null;
    if (cp && !cp.insecure) {
      tls = resolveTls('vigil agent: --controlplane', 'agent', cp);
      if (tls.policyKey) pinned = loadPublicKey(tls.policyKey);
    }
    let identities: IdentitySource = fromFile ?? StaticIdentitySource.empty();
    let kube: KubernetesIdentitySource | null = null;
    const k = o.kubernetes ?? (inCluster() ? {} : false);
    if (k) {
      kube = new KubernetesIdentitySource({
        node,
        trustDomain: k.trustDomain ?? tls?.trustDomain ?? DEFAULT_WORKLOAD_TRUST_DOMAIN,
        template: k.template,
        kubeconfig: k.kubeconfig,
        log: (l) => o.err.write(`vigil agent: ${l}\n`),
      });
      const waitMs = k.syncWaitMs ?? 10_000;
      if (!(await kube.start(waitMs))) {
        o.err.write(
          `vigil agent: kubernetes: no pod list within ${waitMs / 1000} s (${kube.status.lastError ?? 'no answer'}); starting without pod identities, still trying\n`,
        );
      }
      identities = fromFile ? new CompositeIdentitySource([fromFile, kube]) : kube;
    }
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
    const state = cp ? new PolicyState(stateDir) : null;
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
    const agent = new Agent(o, rules, identities);
    if (kube) agent.metrics.kubernetes(kube.status);
    agent.policyVersion = version;
    agent.metrics.policy(version, rules.rules.length);
    if (cp) {
      agent.spool = new Spool(path.join(stateDir, 'spool'), bootId());
      const caps = probeKernel();
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
        bootId: bootId(),
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
        onIdentityMap: (entries) => agent.setRemoteAddresses(entries),
        identityReport: () => agent.identity.getSource().addresses().map((a) => ({ cidr: a.cidr.text, spiffe_id: a.spiffeId })),
        log: (l) => o.err.write(`vigil agent: ${l}\n`),
        onState: (up) => agent.metrics.link(up),
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
    agent.watch();
    for (const n of agent.plan.notes) o.err.write(`vigil agent: note: ${n}\n`);
    if (privateCgroupNamespace()) {
      o.err.write(
        'vigil agent: WARNING: this agent runs in a private cgroup namespace: the cgroup paths of processes that started before it ' +
          'read "/../.." in /proc and cannot be mapped; run it in the node\'s (nsenter --cgroup=/proc/1/ns/cgroup, as the DaemonSet does)\n',
      );
    }
    o.err.write(
      `vigil agent: watching with ${planSummary(agent.engine.getRules(), agent.plan)}${version ? ` from signed policy v${version}` : ''} on node ${agent.node}${
        agent.metricsServer ? `; metrics on ${o.metricsAddress?.replace(/:\d+$/, '')}:${agent.metricsServer.port}` : ''
      }\n`,
    );
    return agent;
  }

  private emit(a: Alert): void {
    // a pod the Kubernetes watch has not shown us yet: wait a little for it (the event-time cgroup path is kept)
    const wait = this.o.enrichWaitMs ?? 2000;
    if (wait > 0 && this.identity.pending(a.workload.cgroup)) {
      this.held.push({ alert: a, until: Date.now() + wait });
      this.heldTimer ??= setTimeout(() => {
        this.heldTimer = undefined;
        this.flushHeld(false);
      }, wait);
      return;
    }
    this.deliver(a);
  }

  /** Send the held alerts whose pod is now known (enriched), or whose wait is over (as they are). */
  private flushHeld(force: boolean): void {
    const now = Date.now();
    const keep: { alert: Alert; until: number }[] = [];
    for (const h of this.held) {
      const a = h.alert;
      const pending = this.identity.pending(a.workload.cgroup);
      if (!force && pending && h.until > now) {
        keep.push(h);
        continue;
      }
      if (a.workload.cgroup !== null) {
        const info = this.identity.forPath(a.workload.cgroup_id, a.workload.cgroup);
        a.workload.spiffe_id = info.spiffeId;
        a.workload.kubernetes = info.kubernetes;
        a.output = alertSentence(a);
      }
      this.metrics.enriched(pending ? 'timed_out' : 'enriched');
      this.deliver(a);
    }
    this.held = keep;
    if (keep.length && !this.heldTimer) {
      const next = Math.max(0, Math.min(...keep.map((h) => h.until)) - now);
      this.heldTimer = setTimeout(() => {
        this.heldTimer = undefined;
        this.flushHeld(false);
      }, next);
    }
  }

  private deliver(a: Alert): void {
    this.metrics.alert(a);
    this.o.onAlert?.(a);
    this.uplink?.send(a);
    this.o.out.write((this.o.output === 'json' ? JSON.stringify(a) : alertText(a)) + '\n');
  }

  /** Workload addresses: this node's identities and what the control plane merged from every node. */
  addresses(): AddressIdentity[] {
    return this.identity.addresses();
  }

  private setRemoteAddresses(entries: { cidr: string; spiffe_id: string; node: string }[]): void {
    const list: AddressIdentity[] = [];
    for (const e of entries) {
      if (e.node === this.node) continue; // ours are already known
      const c = parseCidr(e.cidr);
      if (c) list.push({ cidr: c, spiffeId: e.spiffe_id });
    }
    this.identity.setRemoteAddresses(list);
    for (const a of list) this.workloads.index(a.spiffeId);
    this.plan = this.kernelRules.apply(this.engine.getRules(), this.addresses());
  }

  /** Apply a verified signed policy: kernel first (atomic), then user space. */
  private applyPolicy(p: VerifiedPolicy): string | null {
    try {
      this.plan = this.kernelRules.apply(p.rules, this.addresses());
    } catch (err) {
      return errorMessage(err);
    }
    this.engine.setRules(p.rules);
    this.policyVersion = p.version;
    this.metrics.policy(p.version, p.rules.rules.length);
    for (const n of this.plan.notes) this.o.err.write(`vigil agent: note: ${n}\n`);
    this.o.err.write(`vigil agent: signed policy v${p.version} in force: ${planSummary(p.rules, this.plan)}\n`);
    return null;
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
    // a pod's cgroups, so that they are mapped when the pod becomes known (or changes)
    for (const key of [info.podUid, info.containerId]) {
      if (key === null) continue;
      let m = this.podCgroups.get(key);
      if (!m) this.podCgroups.set(key, (m = new Map()));
      m.set(id, rel);
    }
    if (!info.spiffeId) return false;
    const before = this.workloads.size;
    this.probe.setCgroup(id, this.workloads.index(info.spiffeId));
    return this.workloads.size !== before;
  }

  /** A source learned something (a pod appeared, changed, went): batched, then applied. */
  private identityChanged(c: IdentityChange): void {
    const acc = (this.identityChanges ??= { podUids: new Set(), containerIds: new Set(), addresses: false });
    for (const u of c.podUids) acc.podUids.add(u);
    for (const id of c.containerIds) acc.containerIds.add(id);
    acc.addresses ||= c.addresses;
    this.identityTimer ??= setTimeout(() => {
      this.identityTimer = undefined;
      const todo = this.identityChanges;
      this.identityChanges = null;
      if (todo && !this.stopped) this.applyIdentityChange(todo);
    }, 20);
  }

  private applyIdentityChange(c: IdentityChange): void {
    this.identity.refresh(c);
    let newWorkload = false;
    for (const key of [...c.podUids, ...c.containerIds]) {
      const m = this.podCgroups.get(key);
      if (!m) continue;
      for (const [id, rel] of m) {
        if (!fs.existsSync(path.join(this.cgroupRoot, rel))) m.delete(id);
        else newWorkload = this.mapCgroup(id, rel) || newWorkload;
      }
      if (m.size === 0) this.podCgroups.delete(key);
    }
    if (newWorkload || c.addresses) {
      try {
        this.plan = this.kernelRules.apply(this.engine.getRules(), this.addresses());
      } catch (err) {
        this.o.err.write(`vigil agent: applying the rules to the new pod identities failed, the previous kernel rules stay: ${errorMessage(err)}\n`);
      }
    }
    if (c.addresses) this.uplink?.reportIdentities();
    if (this.held.length) this.flushHeld(false);
  }

  private onEvents(evs: KernelEvent[]): void {
    let newWorkload = false;
    for (const ev of evs) {
      if (ev.kind !== 'cgroup') continue;
      // the kernel's path at mkdir; a cgroup whose path did not fit is asked for by id
      let rel = ev.path;
      if (rel !== null) this.identity.remember(ev.id, rel);
      else rel = this.identity.forCgroup(ev.id).cgroup;
      if (rel !== null) newWorkload = this.mapCgroup(ev.id, rel) || newWorkload;
    }
    if (newWorkload) this.plan = this.kernelRules.apply(this.engine.getRules(), this.addresses());
    this.engine.handle(evs);
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
      this.engine.setRules(rs);
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
    if (this.o.rules.length === 0) return;
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
        // a mounted ConfigMap changes by swapping its "..data" symlink
        if (files.has(full) || /\.ya?ml$/.test(full) || name.toString() === '..data') schedule();
      });
      this.watchers.push(w);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    if (this.identityTimer) clearTimeout(this.identityTimer);
    if (this.heldTimer) clearTimeout(this.heldTimer);
    for (const w of this.watchers) w.close();
    await this.probe.close();
    // what still waits for its pod goes out as it is
    this.flushHeld(true);
    await this.identity.getSource().close?.();
    if (this.uplink) await this.uplink.stop();
    this.spool?.close();
    if (this.metricsServer) await this.metricsServer.close();
  }

  summary(): string {
    const s = this.engine.stats;
    const p = this.probe.stats();
    let dropped = p.reader.queueDropRecords;
    for (const k of Object.values(p.kinds)) dropped += k.dropped + k.busy;
    const sp = this.spool?.stats();
    return (
      `vigil agent: summary: ${s.events} events, ${s.alerts} alerts, ${s.kernelKills} kernel kills, ${s.userKills} user-space kills, ` +
      `${s.killFailures} failed kills, ${s.denials} denied connects, ${s.exempted} exempted, ${dropped} events lost` +
      (sp ? `; spool: ${sp.depth} unacknowledged, ${sp.overflow} overflowed` : '') +
      '\n'
    );
  }
}

/**
 * True when we see init's cgroup above our cgroup namespace's root (a container's private
 * namespace, with the host's PIDs): /proc/1/cgroup then reads "0::/../..".
 */
export function privateCgroupNamespace(init1 = (): string => fs.readFileSync('/proc/1/cgroup', 'utf8')): boolean {
  try {
    return /^0::\/\.\.(\/|$)/m.test(init1());
  } catch {
    return false;
  }
}

export function parseAgentArgs(argv: string[]): Omit<AgentOptions, 'out' | 'err'> & { durationMs?: number } {
  const o: Omit<AgentOptions, 'out' | 'err'> & { durationMs?: number } = { rules: [], output: 'json' };
  let cp: Partial<ControlPlaneLink> | undefined;
  const link = (): Partial<ControlPlaneLink> => (cp ??= { insecure: false });
  let kube: KubernetesLink | false | undefined;
  const k8s = (): KubernetesLink => {
    if (kube === false) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --no-kubernetes with a Kubernetes option');
    if (kube === undefined) kube = {};
    return kube;
  };
  const r = new ArgReader(argv);
  for (let flag = r.next(); flag !== undefined; flag = r.next()) {
    switch (flag) {
      case '--rules':
        o.rules.push(...r.values());
        break;
      case '--identities':
        o.identities = r.value();
        break;
      case '--kubernetes':
        r.switch('use --kubeconfig FILE');
        k8s();
        break;
      case '--no-kubernetes':
        r.switch();
        if (kube) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --no-kubernetes with a Kubernetes option');
        kube = false;
        break;
      case '--kubeconfig':
        k8s().kubeconfig = r.value();
        break;
      case '--spiffe-template':
        k8s().template = r.value();
        break;
      case '--workload-trust-domain':
        k8s().trustDomain = r.value();
        break;
      case '--enrich-wait':
        o.enrichWaitMs = r.seconds(0, 60);
        break;
      case '--output':
      case '-o':
        o.output = r.output();
        break;
      case '--node':
        o.node = r.value();
        break;
      case '--controlplane':
        link().address = r.value();
        break;
      case '--certs':
        link().certsDir = r.value();
        break;
      case '--cert':
        link().cert = r.value();
        break;
      case '--key':
        link().key = r.value();
        break;
      case '--server-id':
        link().serverId = r.value();
        break;
      case '--trust-domain':
        link().trustDomain = r.value();
        break;
      case '--bundle':
        link().bundle = r.value();
        break;
      case '--policy-key':
        link().policyKey = r.value();
        break;
      case '--insecure':
        r.switch();
        link().insecure = true;
        break;
      case '--state':
        o.stateDir = r.value();
        break;
      case '--metrics':
        o.metricsAddress = r.value();
        splitHostPort(o.metricsAddress);
        break;
      case '--duration':
        o.durationMs = r.seconds();
        break;
      default:
        r.unknown('agent');
    }
  }
  if (kube !== undefined) o.kubernetes = kube;
  if (cp) {
    if (!cp.address) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --certs, --bundle, --cert, --key, --trust-domain, --policy-key, --server-id and --insecure need --controlplane HOST:PORT');
    o.controlplane = { ...cp, address: cp.address, insecure: cp.insecure ?? false };
  }
  if (o.rules.length === 0 && !o.controlplane) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --rules PATH... is required (or --controlplane for signed policy)');
  return o;
}

/** Wait for SIGINT/SIGTERM (or the duration), then stop. */
export async function untilStopped(durationMs?: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (timer) clearTimeout(timer);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const timer = durationMs !== undefined ? setTimeout(stop, durationMs) : undefined;
  });
}

export async function runAgent(o: AgentOptions & { durationMs?: number }): Promise<void> {
  const agent = await Agent.start(o);
  await untilStopped(o.durationMs);
  await agent.stop();
  o.err.write(agent.summary());
}
