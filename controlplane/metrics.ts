// Control-plane metrics (prom-client, a registry of its own): agents
// connected, alerts ingested, policy version per agent, the audit log.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Checkpointer } from './checkpoints';
import type { Store } from './store';
import type { VdpCounters } from './vdp/vdp';

export class CpMetrics {
  readonly registry = new Registry();
  readonly alertsIngested: Counter;
  readonly duplicates: Counter;
  readonly commitSeconds: Histogram;
  readonly policyVersion: Gauge;
  /** store errors by SQLite code (transient ones pause ingestion, others fail one batch) */
  readonly storeErrors: Counter<'code'>;
  /** connections paused for going over their alert rate quota */
  readonly throttled: Counter<'node'>;
  /** alerts refused one by one: `invalid` (not a valid alert: dropped for good, the agent is told which) */
  readonly alertsRefused: Counter<'reason'>;
  /** agent messages refused whole (the stream ends): batch_too_large, message_too_large, identity_report_too_large, invalid_batch */
  readonly messagesRefused: Counter<'reason'>;
  /** TLS handshakes refused (no certificate, unknown CA, expired) */
  readonly handshakesRefused: Counter;
  /** calls refused after TLS: the SVID is not an SVID, or not allowed here */
  readonly peersRefused: Counter<'role' | 'reason'>;
  /** admin calls by name and result */
  readonly adminCalls: Counter<'call' | 'result'>;
  /** policy bundles agents refused (bad signature, foreign key, invalid rules, older version) */
  readonly agentPolicyRefusals: Counter;
  /** --follow readers refused or dropped: too_many, slow */
  readonly followersDropped: Counter<'reason'>;
  private followProbe: (() => number) | null = null;
  /** agents that reported a policy version above the latest this control plane holds */
  readonly policyAhead: Counter;
  /** identity report entries refused, by reason (identity-map.ts) */
  readonly identityRefused: Counter<'reason'>;
  private identityProbe: { entries: () => number; conflicts: () => number } | null = null;
  private readonly connected: Gauge;
  private ingestProbe: { queued: () => number; paused: () => number } | null = null;
  private readonly agentPolicy: Gauge;
  private checkpoints: Checkpointer | null = null;

  constructor(store: Store) {
    const r = this.registry;
    this.alertsIngested = new Counter({ name: 'vigil_alerts_ingested_total', help: 'Alerts stored by the control plane (each (node, boot, sequence) once)', registers: [r] });
    this.duplicates = new Counter({
      name: 'vigil_alerts_duplicate_total',
      help: 'Alerts received again after a reconnect and already stored (not stored twice)',
      registers: [r],
    });
    this.commitSeconds = new Histogram({
      name: 'vigil_store_commit_seconds',
      help: 'Time to commit one group of alerts to the store, fsync included',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [r],
    });
    this.policyVersion = new Gauge({ name: 'vigil_policy_version', help: 'Latest signed policy version held by the control plane', registers: [r] });
    this.connected = new Gauge({ name: 'vigil_agents_connected', help: 'Agents with an open stream to the control plane', registers: [r] });
    this.agentPolicy = new Gauge({
      name: 'vigil_agent_policy_version',
      help: 'Policy version each agent reports in force (skew: different values)',
      labelNames: ['node'],
      registers: [r],
    });
    new Gauge({
      name: 'vigil_audit_entries',
      help: 'Entries in the audit log (leaves of its Merkle tree)',
      registers: [r],
      collect() {
        this.set(store.auditCount());
      },
    });
    new Gauge({
      name: 'vigil_alerts_stored',
      help: 'Alerts in the store (after retention)',
      registers: [r],
      collect() {
        this.set(store.countAlerts());
      },
    });
    this.storeErrors = new Counter({
      name: 'vigil_store_errors_total',
      help: 'Store errors by SQLite code: SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_IOERR pause ingestion until the store writes again',
      labelNames: ['code'],
      registers: [r],
    });
    this.throttled = new Counter({
      name: 'vigil_ingest_throttled_total',
      help: 'Times an agent stream was paused for going over its alert rate quota (--agent-rate)',
      labelNames: ['node'],
      registers: [r],
    });
    this.alertsRefused = new Counter({
      name: 'vigil_alerts_refused_total',
      help: 'Alerts refused at ingest as not valid (bad JSON, another node, oversize): never stored, the agent is told which and drops them',
      labelNames: ['reason'],
      registers: [r],
    });
    this.messagesRefused = new Counter({
      name: 'vigil_agent_messages_refused_total',
      help: 'Agent messages refused whole, ending the stream: batch_too_large, message_too_large (also over the gRPC receive limit, refused unread), identity_report_too_large (counted before decoding), invalid_batch',
      labelNames: ['reason'],
      registers: [r],
    });
    this.handshakesRefused = new Counter({
      name: 'vigil_handshakes_refused_total',
      help: 'TLS handshakes the control plane refused: no client certificate, a CA outside our trust domain, expired (logged with the address and what was presented)',
      registers: [r],
    });
    this.peersRefused = new Counter({
      name: 'vigil_peers_refused_total',
      help: 'Calls refused after TLS, by role (agent, admin) and reason (no_certificate, invalid_svid, not_allowed, wrong_node), logged with the SPIFFE ID presented',
      labelNames: ['role', 'reason'],
      registers: [r],
    });
    this.adminCalls = new Counter({
      name: 'vigil_admin_calls_total',
      help: 'Admin calls (vigil alerts, agents, policy push, audit, VDP) by call and result (ok, refused)',
      labelNames: ['call', 'result'],
      registers: [r],
    });
    this.agentPolicyRefusals = new Counter({
      name: 'vigil_agent_policy_refusals_total',
      help: 'Signed policy bundles agents reported refusing (bad signature, foreign key, invalid rules, not newer than what they hold): logged with the node and its SPIFFE ID',
      registers: [r],
    });
    this.followersDropped = new Counter({
      name: 'vigil_follow_readers_dropped_total',
      help: 'vigil alerts --follow readers refused (too_many: over the limit at once) or dropped (slow: took nothing for the stall time)',
      labelNames: ['reason'],
      registers: [r],
    });
    new Gauge({
      name: 'vigil_follow_readers',
      help: 'vigil alerts --follow readers connected now',
      registers: [r],
      collect() {
        this.set(self.followProbe?.() ?? 0);
      },
    });
    this.policyAhead = new Counter({
      name: 'vigil_policy_agents_ahead_total',
      help: 'Agents that reported a policy version newer than the latest this control plane holds (a store restored from an older backup): the next push is numbered above it',
      registers: [r],
    });
    this.identityRefused = new Counter({
      name: 'vigil_identity_entries_refused_total',
      help: 'Identity report entries refused: not_a_cidr, not_a_spiffe_id, foreign_trust_domain, too_wide, not_owned, duplicate, too_many_entries',
      labelNames: ['reason'],
      registers: [r],
    });
    const self = this;
    new Gauge({
      name: 'vigil_identity_map_entries',
      help: 'Entries of the identity map sent to agents (addresses exactly one node claims)',
      registers: [r],
      collect() {
        this.set(self.identityProbe?.entries() ?? 0);
      },
    });
    new Gauge({
      name: 'vigil_identity_conflicts',
      help: 'Addresses more than one node claims now: left out of the identity map, logged',
      registers: [r],
      collect() {
        this.set(self.identityProbe?.conflicts() ?? 0);
      },
    });
    new Gauge({
      name: 'vigil_ingest_queued_alerts',
      help: 'Alerts received and waiting for their commit',
      registers: [r],
      collect() {
        this.set(self.ingestProbe?.queued() ?? 0);
      },
    });
    new Gauge({
      name: 'vigil_ingest_paused',
      help: '1 while the store cannot write (locked, busy, disk full): nothing is acknowledged, agents hold their alerts',
      registers: [r],
      collect() {
        this.set(self.ingestProbe?.paused() ?? 0);
      },
    });
    const cps = (): Checkpointer | null => this.checkpoints;
    new Gauge({
      name: 'vigil_audit_checkpoint_size',
      help: 'Entries the latest signed audit checkpoint commits to (0: none signed, no log key)',
      registers: [r],
      collect() {
        this.set(cps()?.latest()?.size ?? 0);
      },
    });
    new Gauge({
      name: 'vigil_audit_log_consistent',
      help: 'The store extended the last audit checkpoint signed when the control plane started (0: entries removed or rewritten)',
      registers: [r],
      collect() {
        this.set(cps()?.startProblem ? 0 : 1);
      },
    });
    this.policyVersion.set(store.latestPolicy()?.version ?? 0);
    // vulnerability disclosure (docs/vdp.md): the tables may not exist yet on a store being opened
    const count = (sql: string): number => {
      try {
        return (store.db.prepare(sql).get() as { n: number }).n;
      } catch {
        return 0;
      }
    };
    new Gauge({ name: 'vigil_advisories', help: 'Advisories held by the control plane', registers: [r], collect() { this.set(count('SELECT COUNT(*) AS n FROM advisories')); } });
    new Gauge({
      name: 'vigil_vulnerability_matches',
      help: 'Components of running images matched by an advisory, by status (affected, not_affected, under_investigation)',
      labelNames: ['status'],
      registers: [r],
      collect() {
        this.reset();
        for (const st of ['affected', 'not_affected', 'under_investigation']) this.set({ status: st }, count(`SELECT COUNT(*) AS n FROM vdp_matches WHERE status = '${st}'`));
      },
    });
    new Gauge({ name: 'vigil_ticket_spool_depth', help: 'Ticket operations waiting in the sink spool (a sink that is down keeps them here)', registers: [r], collect() { this.set(count('SELECT COUNT(*) AS n FROM sink_spool')); } });
    this.advisoriesImported = new Counter({ name: 'vigil_advisories_imported_total', help: 'Advisories added or updated by imports, vigil advisories add and the watched directory', registers: [r] });
    this.ticketOps = new Counter({
      name: 'vigil_ticket_operations_total',
      help: 'Ticket operations done at a sink, by operation (open, resolve, note) and outcome (created, commented, reopened, closed, wont_fix, unchanged, ...)',
      labelNames: ['sink', 'op', 'outcome'],
      registers: [r],
    });
    this.ticketErrors = new Counter({
      name: 'vigil_ticket_sink_errors_total',
      help: 'Failed ticket operations (kept in the spool and retried), by kind: rate_limit, retryable (5xx, network), refused (4xx)',
      labelNames: ['sink', 'kind'],
      registers: [r],
    });
    const last = new Map<string, number>();
    const advance = (c: Counter, key: string, labels: Record<string, string>, now: number): void => {
      const d = now - (last.get(key) ?? 0);
      if (d > 0) c.inc(labels, d);
      last.set(key, now);
    };
    new Counter({
      name: 'vigil_reach_messages_total',
      help: 'Reachability reports and image inventories from agents, by result (report, inventory: stored; refused: malformed or over the bounds, the agent is told why)',
      labelNames: ['result'],
      registers: [r],
      collect() {
        const c = self.reachProbe?.();
        if (!c) return;
        advance(this, 'report', { result: 'report' }, c.reports);
        advance(this, 'inventory', { result: 'inventory' }, c.inventories);
        advance(this, 'refused', { result: 'refused' }, c.refused);
      },
    });
    new Counter({
      name: 'vigil_vex_revocations_total',
      help: 'VEX document versions issued because a component a document said not_affected was loaded (vigil vex --changes)',
      registers: [r],
      collect() {
        const c = self.reachProbe?.();
        if (c) advance(this, 'revocations', {}, c.revocations);
      },
    });
    this.outputDelivered = new Counter({ name: 'vigil_output_alerts_delivered_total', help: 'Alerts delivered to an output (webhook, falcosidekick, syslog)', labelNames: ['output'], registers: [r] });
    this.outputFailures = new Counter({ name: 'vigil_output_failures_total', help: 'Failed deliveries to an output (retried with back-off; at the control plane the alerts stay in the store)', labelNames: ['output'], registers: [r] });
  }

  readonly advisoriesImported: Counter;
  private readonly ticketOps: Counter;
  private readonly ticketErrors: Counter;
  private readonly outputDelivered: Counter;
  private readonly outputFailures: Counter;

  /** What the vulnerability-disclosure process counts. */
  vdpCounters(): VdpCounters {
    return {
      imported: (n) => this.advisoriesImported.inc(n),
      done: (sink, op, outcome) => this.ticketOps.inc({ sink, op, outcome }),
      error: (sink, kind) => this.ticketErrors.inc({ sink, kind }),
      outputDelivered: (output, n) => this.outputDelivered.inc({ output }, n),
      outputFailed: (output) => this.outputFailures.inc({ output }),
    };
  }

  private reachProbe: (() => { reports: number; inventories: number; refused: number; revocations: number }) | null = null;

  /** Where the reachability counters are read from at scrape time (controlplane/reach/ingest.ts). */
  reach(counts: () => { reports: number; inventories: number; refused: number; revocations: number }): void {
    this.reachProbe = counts;
  }

  /** Where the follow readers gauge is read from. */
  followers(n: () => number): void {
    this.followProbe = n;
  }

  /** Where the identity map gauges are read from at scrape time. */
  identityMap(entries: () => number, conflicts: () => number): void {
    this.identityProbe = { entries, conflicts };
  }

  /** Where the ingest gauges are read from at scrape time (the ingest of this control plane). */
  ingestQueue(queued: () => number, paused: () => number): void {
    this.ingestProbe = { queued, paused };
  }

  /** The audit log's signed checkpoints (the gauges read them when scraped). */
  attachCheckpoints(c: Checkpointer): void {
    this.checkpoints = c;
  }

  /** How many agents have an open stream (the server's own count). */
  agentsConnected(n: number): void {
    this.connected.set(n);
  }

  agentPolicyVersion(node: string, version: number): void {
    this.agentPolicy.set({ node }, version);
  }
}
