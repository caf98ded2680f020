// Alerts from a pod the Kubernetes watch has not shown us yet wait a little
// for it (Tetragon's eventcache): the cgroup path captured at event time is
// resolved again when the pod appears, or the alert goes out as it is when
// the wait is over. Nothing waits for ever, and nothing is dropped.
import type { IdentityResolver } from '../workload/resolver';
import { alertSentence, type Alert } from './alert';

export interface EnrichmentOptions {
  identity: IdentityResolver;
  /** how long an alert waits for its pod (0: never) */
  waitMs: number;
  /** the alert, enriched or not, goes on */
  deliver(a: Alert): void;
  /** counted: enriched when the pod appeared, timed_out after the wait */
  counted(result: 'enriched' | 'timed_out'): void;
}

export class Enrichment {
  private held: { alert: Alert; until: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: EnrichmentOptions) {}

  /** Deliver now, or hold until the pod is known. */
  emit(a: Alert): void {
    if (this.o.waitMs > 0 && this.o.identity.pending(a.workload.cgroup)) {
      this.held.push({ alert: a, until: Date.now() + this.o.waitMs });
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.flush(false);
      }, this.o.waitMs);
      return;
    }
    this.o.deliver(a);
  }

  get holding(): number {
    return this.held.length;
  }

  /** Send the held alerts whose pod is now known (enriched), or whose wait is over (as they are); force: all. */
  flush(force: boolean): void {
    const now = Date.now();
    const keep: { alert: Alert; until: number }[] = [];
    for (const h of this.held) {
      const a = h.alert;
      const pending = this.o.identity.pending(a.workload.cgroup);
      if (!force && pending && h.until > now) {
        keep.push(h);
        continue;
      }
      if (a.workload.cgroup !== null) {
        const info = this.o.identity.forPath(a.workload.cgroup_id, a.workload.cgroup);
        a.workload.spiffe_id = info.spiffeId;
        a.workload.kubernetes = info.kubernetes;
        a.output = alertSentence(a);
      }
      this.o.counted(pending ? 'timed_out' : 'enriched');
      this.o.deliver(a);
    }
    this.held = keep;
    if (keep.length && !this.timer) {
      const next = Math.max(0, Math.min(...keep.map((h) => h.until)) - now);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush(false);
      }, next);
    }
  }

  /** Stop waiting: what still waits goes out as it is. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush(true);
  }
}
