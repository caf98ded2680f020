// Agent metrics (prom-client, a registry of our own; docs/metrics.md):
// events by kind, drops by stage, alerts and enforcement outcomes by rule,
// enforcement latency, process cache size, control-plane link, spool depth.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { KIND_NAMES } from '../kernel/abi';
import type { Alert } from './alert';
import type { KubernetesStatus } from '../workload/kubernetes-source';
import type { Probe } from '../kernel/probe';
import type { ProcessCache } from '../process/process-cache';
import type { Spool } from './spool';
import type { LostDecisions } from '../enforce/lost';

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly alerts: Counter;
  private readonly latency: Histogram;
  private readonly connected: Gauge;
  private readonly policyVersion: Gauge;
  private readonly rules: Gauge;
  private readonly enrichment: Counter;
  private readonly eventErrors: Counter;
  private readonly cgroupMapErrors: Counter;
  private readonly collapsed: Counter;
  private readonly floodEvictions: Counter;
  private flood: { entries: number } | null = null;
  private probe: Probe | null = null;
  private spool: Spool | null = null;
  private kube: KubernetesStatus | null = null;
  /** entries of the kernel's cgroups map (agent/workload/cgroup-sync.ts) */
  cgroupEntries: (() => number) | null = null;
  /** decisions lost for user-space kill rules, by stage (agent/enforce/lost.ts) */
  lostDecisions: (() => LostDecisions) | null = null;
  /** runtime reachability's counts (agent/reach/tracker.ts), null when it is off */
  reach: (() => { images: number; containers: number; files: number; unacked: number; refused: number; lossMarks: number }) | null = null;
  /** the agent's own outputs (--outputs), for their counters */
  outputs: readonly { output: { name: string }; stats: { delivered: number; failures: number; dropped: number } }[] = [];

  constructor(processes: ProcessCache) {
    const r = this.registry;
    // totals kept by the kernel and the reader, turned into counters at scrape time
    // (per counter: two counters may share a label set, vigil_drops_total and vigil_enforcement_lost_total do)
    const lastOf = new WeakMap<Counter, Map<string, number>>();
    const advance = (c: Counter, labels: Record<string, string>, now: number): void => {
      let last = lastOf.get(c);
      if (!last) lastOf.set(c, (last = new Map()));
      const key = JSON.stringify(labels);
      const d = now - (last.get(key) ?? 0);
      if (d > 0) c.inc(labels, d);
      last.set(key, now);
    };
    const self = this;
    new Gauge({
      name: 'vigil_reach_files',
      help: 'Files processes of workloads with an image loaded (executed, opened as code, mapped executable) in this agent run, all images and containers together',
      registers: [r],
      collect() {
        this.set(self.reach?.().files ?? 0);
      },
    });
    new Gauge({
      name: 'vigil_reach_containers',
      help: 'Containers of workloads with an image watched by runtime reachability in this agent run',
      registers: [r],
      collect() {
        this.set(self.reach?.().containers ?? 0);
      },
    });
    new Gauge({
      name: 'vigil_reach_unacked_messages',
      help: 'Reachability reports and inventory parts sent and not yet acknowledged by the control plane',
      registers: [r],
      collect() {
        this.set(self.reach?.().unacked ?? 0);
      },
    });
    new Counter({
      name: 'vigil_reach_loss_marks_total',
      help: 'Times code or exec records were lost while images were watched (each restarts the observation window at the control plane)',
      registers: [r],
      collect() {
        advance(this, {}, self.reach?.().lossMarks ?? 0);
      },
    });
    new Counter({
      name: 'vigil_output_alerts_delivered_total',
      help: 'Alerts delivered to an output (webhook, falcosidekick, syslog)',
      labelNames: ['output'],
      registers: [r],
      collect() {
        for (const q of self.outputs) advance(this, { output: q.output.name }, q.stats.delivered);
      },
    });
    new Counter({
      name: 'vigil_output_failures_total',
      help: 'Failed deliveries to an output (retried with back-off)',
      labelNames: ['output'],
      registers: [r],
      collect() {
        for (const q of self.outputs) advance(this, { output: q.output.name }, q.stats.failures);
      },
    });
    new Counter({
      name: 'vigil_output_alerts_dropped_total',
      help: "Alerts an agent's output queue had no room for (the spool to the control plane still has them)",
      labelNames: ['output'],
      registers: [r],
      collect() {
        for (const q of self.outputs) advance(this, { output: q.output.name }, q.stats.dropped);
      },
    });
    new Counter({
      name: 'vigil_events_total',
      help: 'Kernel events emitted into the ring buffer, by kind',
      labelNames: ['kind'],
      registers: [r],
      collect() {
        const s = self.probe?.stats();
        if (!s) return;
        for (const k of KIND_NAMES) advance(this, { kind: k }, s.kinds[k].emitted);
      },
    });
    new Counter({
      name: 'vigil_drops_total',
      help: 'Events lost, by the stage that lost them (never silent: see docs/events.md)',
      labelNames: ['stage'],
      registers: [r],
      collect() {
        const s = self.probe?.stats();
        const full = s ? KIND_NAMES.reduce((n, k) => n + s.kinds[k].dropped, 0) : 0;
        const busy = s ? KIND_NAMES.reduce((n, k) => n + s.kinds[k].busy, 0) : 0;
        advance(this, { stage: 'kernel_ring_full' }, full);
        advance(this, { stage: 'kernel_busy' }, busy);
        advance(this, { stage: 'reader_queue' }, s?.reader.queueDropRecords ?? 0);
        advance(this, { stage: 'reader_hold' }, s ? s.reader.contextDropRecords + s.reader.urgentDropRecords : 0);
        advance(this, { stage: 'decode' }, s ? s.decode.malformed : 0);
        advance(this, { stage: 'spool_overflow' }, self.spool?.stats().overflow ?? 0);
        advance(this, { stage: 'spool_unreadable' }, self.spool?.stats().unreadable ?? 0);
        advance(this, { stage: 'controlplane_refused' }, self.spool?.stats().refused ?? 0);
      },
    });
    new Counter({
      name: 'vigil_enforcement_lost_total',
      help: 'Events a user-space kill rule had to judge that were lost, by stage (each also raises an enforcement_lost alert)',
      labelNames: ['stage'],
      registers: [r],
      collect() {
        const l = self.lostDecisions?.();
        if (!l) return;
        advance(this, { stage: 'kernel_ring_full' }, l.kernelRingFull);
        advance(this, { stage: 'kernel_busy' }, l.kernelBusy);
        advance(this, { stage: 'reader' }, l.reader);
      },
    });
    new Gauge({
      name: 'vigil_reader_pending_bytes',
      help: 'Records read from the ring buffer and waiting for JavaScript (bytes)',
      registers: [r],
      collect() {
        const s = self.probe?.stats();
        if (s) this.set(s.reader.pendingBytes);
      },
    });
    this.alerts = new Counter({
      name: 'vigil_alerts_total',
      help: 'Alerts raised, by rule, action and outcome (killed, denied, alerted, kill_failed)',
      labelNames: ['rule', 'action', 'outcome'],
      registers: [r],
    });
    new Counter({
      name: 'vigil_kernel_enforcements_total',
      help: 'Processes killed and connects refused by the kernel itself',
      registers: [r],
      collect() {
        const s = self.probe?.stats();
        if (s) advance(this, {}, KIND_NAMES.reduce((n, k) => n + s.kinds[k].enforced, 0));
      },
    });
    this.latency = new Histogram({
      name: 'vigil_enforcement_latency_seconds',
      help: 'User-space kills: from the kernel event to the signal sent',
      // up to seconds: a kill that waited behind a backlog must show as late, not as "over 100 ms"
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [r],
    });
    new Gauge({
      name: 'vigil_process_cache_entries',
      help: 'Processes the agent knows (live)',
      registers: [r],
      collect() {
        this.set(processes.stats().live);
      },
    });
    this.connected = new Gauge({ name: 'vigil_controlplane_connected', help: '1 while the stream to the control plane is up', registers: [r] });
    new Gauge({
      name: 'vigil_spool_depth',
      help: 'Alerts written to the spool and not yet acknowledged by the control plane',
      registers: [r],
      collect() {
        this.set(self.spool?.stats().depth ?? 0);
      },
    });
    this.policyVersion = new Gauge({ name: 'vigil_policy_applied_version', help: 'Signed policy version in force (0: local rules files)', registers: [r] });
    this.rules = new Gauge({ name: 'vigil_rules_loaded', help: 'Enabled rules in force', registers: [r] });
    new Gauge({
      name: 'vigil_kubernetes_pods',
      help: 'Pods of this node known from the Kubernetes API (absent without --kubernetes)',
      registers: [r],
      collect() {
        if (self.kube) this.set(self.kube.pods);
      },
    });
    new Gauge({
      name: 'vigil_kubernetes_synced',
      help: '1 while the list/watch of this node\'s pods is in sync, 0 during an API outage (the last known pods stay in force)',
      registers: [r],
      collect() {
        if (self.kube) this.set(self.kube.synced ? 1 : 0);
      },
    });
    new Counter({
      name: 'vigil_kubernetes_watch_errors_total',
      help: 'Failed lists and watches of pods (each is retried with backoff)',
      registers: [r],
      collect() {
        if (self.kube) advance(this, {}, self.kube.watchErrors);
      },
    });
    new Counter({
      name: 'vigil_kubernetes_lists_total',
      help: 'Full lists of this node\'s pods: the first, and one after each 410 Gone',
      registers: [r],
      collect() {
        if (self.kube) advance(this, {}, self.kube.lists);
      },
    });
    this.eventErrors = new Counter({
      name: 'vigil_event_errors_total',
      help: 'Events whose handling threw, by stage; each is counted and logged, and the rest of its batch is handled',
      labelNames: ['stage'],
      registers: [r],
    });
    this.cgroupMapErrors = new Counter({
      name: 'vigil_cgroup_map_errors_total',
      help: "cgroups that could not be put in the kernel's cgroups map (full: raise --max-cgroups); they keep their nearest mapped ancestor's scope",
      registers: [r],
    });
    new Gauge({
      name: 'vigil_cgroup_map_entries',
      help: "Entries this agent keeps in the kernel's cgroups map (cgroups that name a workload of their own)",
      registers: [r],
      collect() {
        if (self.cgroupEntries) this.set(self.cgroupEntries());
      },
    });
    this.collapsed = new Counter({
      name: 'vigil_alerts_collapsed_total',
      help: 'Alerts not sent on their own but counted into a collapsed alert (count, first_seen, last_seen), by rule and reason: repeats, rate_limit',
      labelNames: ['rule', 'reason'],
      registers: [r],
    });
    this.floodEvictions = new Counter({
      name: 'vigil_alert_flood_evictions_total',
      help: 'Collapsed alerts sent before their window ended because the flood-control table was full',
      labelNames: ['rule'],
      registers: [r],
    });
    new Gauge({
      name: 'vigil_alert_flood_entries',
      help: 'Distinct alerts the flood control is counting repeats of',
      registers: [r],
      collect() {
        this.set(self.flood?.entries ?? 0);
      },
    });
    this.enrichment = new Counter({
      name: 'vigil_alert_enrichment_total',
      help: 'Alerts from pods the agent did not know yet at event time, by what happened: enriched when the pod appeared, or sent without after the wait',
      labelNames: ['result'],
      registers: [r],
    });
  }

  /** An event whose handling threw, by stage (the rest of its batch went on). */
  eventError(stage: 'cgroup_sync' | 'pipeline'): void {
    this.eventErrors.inc({ stage });
  }

  /** A cgroup that could not be put in the kernel's map (it keeps its nearest mapped ancestor's scope). */
  cgroupMapError(): void {
    this.cgroupMapErrors.inc();
  }

  /** Export the Kubernetes watch's state. */
  kubernetes(status: KubernetesStatus): void {
    this.kube = status;
  }

  enriched(result: 'enriched' | 'timed_out'): void {
    this.enrichment.inc({ result });
  }

  attach(probe: Probe, spool: Spool | null): void {
    this.probe = probe;
    this.spool = spool;
  }

  /** An alert delivered: a collapsed one counts for every alert it stands for. */
  alert(a: Alert): void {
    this.alerts.inc({ rule: a.rule, action: a.action, outcome: a.outcome }, a.count ?? 1);
  }

  /** Flood control: alerts folded into collapsed ones, and collapsed ones sent early. */
  floodCounted(what: 'collapsed' | 'rate_limited' | 'evicted', rule: string): void {
    if (what === 'evicted') this.floodEvictions.inc({ rule });
    else this.collapsed.inc({ rule, reason: what === 'collapsed' ? 'repeats' : 'rate_limit' });
  }

  attachFlood(flood: { entries: number }): void {
    this.flood = flood;
  }

  userKill(latencyNs: bigint): void {
    this.latency.observe(Number(latencyNs) / 1e9);
  }

  link(up: boolean): void {
    this.connected.set(up ? 1 : 0);
  }

  policy(version: number, rules: number): void {
    this.policyVersion.set(version);
    this.rules.set(rules);
  }
}
