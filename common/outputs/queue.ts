// An output on a node without a control plane (the agent's --outputs): a
// bounded queue in memory in front of it, delivered in batches by one loop
// with back-off and jitter. Never blocks the caller; what does not fit is
// dropped and counted (the agent's durable path is its spool to the control
// plane, where outputs read from the store and lose nothing).
import { Backoff } from '../backoff';
import { errorMessage } from '../errors';
import { alertView, type Output } from './output';
import { priorityAtLeast } from './config';

export interface QueueStats {
  delivered: number;
  failures: number;
  dropped: number;
  depth: number;
}

export class OutputQueue {
  private readonly q: string[] = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly backoff: Backoff;
  readonly stats: QueueStats = { delivered: 0, failures: 0, dropped: 0, depth: 0 };

  constructor(
    readonly output: Output,
    private readonly o: { minPriority: string; max?: number; batch?: number; backoffMs?: number; maxBackoffMs?: number; log?: (l: string) => void },
  ) {
    this.backoff = new Backoff(o.backoffMs ?? 500, o.maxBackoffMs ?? 60_000, 'full');
  }

  send(json: string): void {
    if (this.closed) return;
    if (!priorityAtLeast(alertView(json).priority, this.o.minPriority)) return;
    if (this.q.length >= (this.o.max ?? 10_000)) {
      this.stats.dropped++;
      return;
    }
    this.q.push(json);
    this.stats.depth = this.q.length;
    this.kick(0);
  }

  private kick(ms: number): void {
    if (this.running || this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.loop();
    }, ms);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.q.length && !this.closed) {
        const batch = this.q.slice(0, this.o.batch ?? 100);
        try {
          await this.output.deliver(batch);
          this.q.splice(0, batch.length);
          this.stats.delivered += batch.length;
          this.backoff.reset();
        } catch (err) {
          this.stats.failures++;
          const d = this.backoff.next();
          this.o.log?.(`output ${this.output.name}: ${errorMessage(err)}; ${this.q.length} alerts wait, retrying in ${d} ms`);
          this.running = false;
          this.kick(d);
          return;
        } finally {
          this.stats.depth = this.q.length;
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Try once more to deliver what waits (bounded by `ms`), then close. */
  async close(ms = 2000): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.q.length && !this.running) await Promise.race([this.loop(), new Promise((r) => setTimeout(r, ms))]);
    this.closed = true;
    await this.output.close();
  }
}
