// Alerts into the store with group commit: every batch that arrives while a
// transaction runs goes into the next one, and each sender hears back only
// once its alerts are on disk (so that an ack always means stored).
import { EventEmitter } from 'node:events';
import type { CpMetrics } from './metrics';
import type { Store, StoredAlert } from './store';

interface Pending {
  alerts: StoredAlert[];
  done: (err: Error | null) => void;
}

export class Ingest {
  private queue: Pending[] = [];
  private scheduled = false;
  /** 'stored' after each commit that added alerts (followers wake up) */
  readonly events = new EventEmitter();

  constructor(
    private readonly store: Store,
    private readonly metrics: CpMetrics | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Queue alerts; `done` is called once they are committed (or with the error that stopped them). */
  add(alerts: StoredAlert[], done: (err: Error | null) => void): void {
    this.queue.push({ alerts, done });
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commit everything queued, now. */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const all = batch.flatMap((p) => p.alerts);
    let err: Error | null = null;
    const t0 = process.hrtime.bigint();
    try {
      const added = this.store.insertAlerts(all);
      this.metrics?.alertsIngested.inc(added);
      this.metrics?.duplicates.inc(all.length - added);
      this.metrics?.commitSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      if (added) this.events.emit('stored');
    } catch (e) {
      err = e instanceof Error ? e : new Error(String(e));
      this.log(`storing ${all.length} alerts: ${err.message}`);
    }
    for (const p of batch) p.done(err);
  }
}
