// Control-plane metrics (prom-client, a registry of its own): agents
// connected, alerts ingested, policy version per agent, audit entries.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from './store';

export class CpMetrics {
  readonly registry = new Registry();
  readonly alertsIngested: Counter;
  readonly duplicates: Counter;
  readonly commitSeconds: Histogram;
  readonly policyVersion: Gauge;
  private readonly connected: Gauge;
  private readonly agentPolicy: Gauge;

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
      help: 'Entries in the hash-chained audit log',
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
    this.policyVersion.set(store.latestPolicy()?.version ?? 0);
  }

  /** How many agents have an open stream (the server's own count). */
  agentsConnected(n: number): void {
    this.connected.set(n);
  }

  agentPolicyVersion(node: string, version: number): void {
    this.agentPolicy.set({ node }, version);
  }
}
