// Control-plane metrics (prom-client, a registry of its own): agents
// connected, alerts ingested, policy version per agent, the audit log.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Checkpointer } from './checkpoints';
import type { Store } from './store';

export class CpMetrics {
  readonly registry = new Registry();
  readonly alertsIngested: Counter;
  readonly duplicates: Counter;
  readonly commitSeconds: Histogram;
  readonly policyVersion: Gauge;
  private readonly connected: Gauge;
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
