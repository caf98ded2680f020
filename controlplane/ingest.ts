// Alerts into the store with group commit: every batch that arrives while a
// transaction runs goes into the next one, and each sender hears back only
// once its alerts are on disk (so that an ack always means stored).
//
// One agent cannot freeze the others: each connection has its own queue,
// a commit takes batches from the queues in turn (at most maxCommitAlerts
// per transaction, so no commit is long), and a connection over its rate
// quota or with too much queued is paused: its stream is no longer read,
// and HTTP/2 flow control pushes back to the agent, whose spool holds on.
//
// A store that is briefly unable to write (another process holds the write
// lock, the disk is full) is waited for: the batches stay queued in order,
// every connection fills up to its bound and is paused, the commit is
// retried with backoff, and nothing is acknowledged or lost meanwhile.
import { EventEmitter } from 'node:events';
import { Backoff } from '../common/backoff';
import { errorMessage } from '../common/errors';
import type { CpMetrics } from './metrics';
import type { Store, StoredAlert } from './store';

/** How a connection's stream is paused and resumed (the gRPC call, or a test's stand-in). */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

export interface IngestOptions {
  /** most alerts in one transaction (batches are not split: one batch may take it past this) */
  maxCommitAlerts?: number;
  /** a connection with this many alerts queued is paused until its queue is half that */
  maxQueuedPerSource?: number;
  /** all connections together: past this, every connection that adds is paused */
  maxQueuedTotal?: number;
  /** alerts per second one connection may send (0: no quota); a burst of one second is allowed */
  agentRate?: number;
  /** first and last retry delay while the store cannot write */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** What an ingest source hears back: null once the batch is on disk, else the error that stopped it for good. */
export type Done = (err: Error | null) => void;

interface Pending {
  alerts: StoredAlert[];
  done: Done;
  source: IngestSource;
}

/** SQLite result codes that say "not now", not "never": the commit is retried. */
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|NOMEM|CANTOPEN|PROTOCOL)/;

export function isTransientStoreError(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT.test(code) ? code : null;
}

export class IngestSource {
  readonly queue: Pending[] = [];
  queued = 0;
  private paused = new Set<'queue' | 'rate' | 'total'>();
  private tokens: number;
  private lastRefill = Date.now();
  private rateTimer: NodeJS.Timeout | null = null;
  closed = false;

  constructor(
    private readonly ingest: Ingest,
    readonly node: string,
    private readonly flow: FlowControl,
    private readonly rate: number,
  ) {
    this.tokens = rate;
  }

  /** Queue a batch; `done` is called once it is committed (or with the error that stopped it). */
  add(alerts: StoredAlert[], done: Done): void {
    if (this.closed) return done(new Error('the connection is closed'));
    this.queue.push({ alerts, done, source: this });
    this.queued += alerts.length;
    this.charge(alerts.length);
    this.ingest.added(this, alerts.length);
  }

  /** Take tokens (one second's worth at most in hand); a connection in debt is paused until it has paid it back. */
  private charge(n: number): void {
    if (this.rate <= 0) return;
    const now = Date.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.lastRefill) / 1000) * this.rate) - n;
    this.lastRefill = now;
    if (this.tokens >= 0) {
      this.release('rate');
      return;
    }
    if (this.rateTimer) return;
    if (!this.isHeld('rate')) this.ingest.throttled(this);
    this.hold('rate');
    this.rateTimer = setTimeout(
      () => {
        this.rateTimer = null;
        this.charge(0);
      },
      Math.ceil((-this.tokens / this.rate) * 1000),
    );
  }

  hold(why: 'queue' | 'rate' | 'total'): void {
    if (this.closed) return;
    const was = this.paused.size;
    this.paused.add(why);
    if (was === 0) this.flow.pause();
  }

  release(why: 'queue' | 'rate' | 'total'): void {
    if (!this.paused.delete(why) || this.closed) return;
    if (this.paused.size === 0) this.flow.resume();
  }

  isHeld(why: 'queue' | 'rate' | 'total'): boolean {
    return this.paused.has(why);
  }

  /** The connection went away: what it queued is still committed (its agent will hear nothing and resend). */
  close(): void {
    this.closed = true;
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.rateTimer = null;
    this.ingest.closed(this);
  }
}

export class Ingest {
  private readonly sources = new Set<IngestSource>();
  /** round-robin position: the source that goes first in the next commit */
  private turn: IngestSource[] = [];
  private queuedTotal = 0;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  /** the store said "not now": the code, until a commit succeeds */
  private storeDown: string | null = null;
  private downSince = 0;
  private readonly backoff: Backoff;
  private readonly maxCommit: number;
  private readonly maxQueued: number;
  private readonly maxTotal: number;
  private readonly rate: number;
  /** 'stored' after each commit that added alerts (followers wake up) */
  readonly events = new EventEmitter();

  constructor(
    private readonly store: Store,
    private readonly metrics: CpMetrics | undefined,
    private readonly log: (line: string) => void,
    o: IngestOptions = {},
  ) {
    this.events.setMaxListeners(0);
    this.maxCommit = o.maxCommitAlerts ?? 5000;
    this.maxQueued = o.maxQueuedPerSource ?? 20_000;
    this.maxTotal = o.maxQueuedTotal ?? 200_000;
    this.rate = o.agentRate ?? 0;
    this.backoff = new Backoff(o.retryMinMs ?? 50, o.retryMaxMs ?? 2000, 'equal');
    metrics?.ingestQueue(() => this.queuedTotal, () => (this.storeDown ? 1 : 0));
  }

  /** A connection's queue: `flow` pauses and resumes its stream. */
  source(node: string, flow: FlowControl): IngestSource {
    const s = new IngestSource(this, node, flow, this.rate);
    this.sources.add(s);
    return s;
  }

  /** Called by a source after it queued a batch. */
  added(s: IngestSource, n: number): void {
    this.queuedTotal += n;
    if (s.queue.length === 1) this.turn.push(s);
    if (s.queued >= this.maxQueued) s.hold('queue');
    if (this.queuedTotal >= this.maxTotal) s.hold('total');
    this.schedule();
  }

  throttled(s: IngestSource): void {
    this.metrics?.throttled.inc({ node: s.node });
  }

  closed(s: IngestSource): void {
    this.sources.delete(s);
  }

  private schedule(): void {
    if (this.scheduled || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Take whole batches from the queues in turn, up to maxCommit alerts. */
  private take(): Pending[] {
    const out: Pending[] = [];
    let n = 0;
    while (n < this.maxCommit && this.turn.length > 0) {
      const s = this.turn.shift() as IngestSource;
      const p = s.queue.shift() as Pending;
      s.queued -= p.alerts.length;
      this.queuedTotal -= p.alerts.length;
      n += p.alerts.length;
      out.push(p);
      if (s.queue.length > 0) this.turn.push(s);
      if (s.isHeld('queue') && s.queued <= this.maxQueued / 2) s.release('queue');
    }
    if (this.queuedTotal <= this.maxTotal / 2) for (const s of this.sources) s.release('total');
    return out;
  }

  /** Put batches back at the head of their queues, in their order (the store could not take them now). */
  private putBack(batch: Pending[]): void {
    for (let i = batch.length - 1; i >= 0; i--) {
      const p = batch[i];
      const s = p.source;
      s.queue.unshift(p);
      s.queued += p.alerts.length;
      this.queuedTotal += p.alerts.length;
      if (!this.turn.includes(s)) this.turn.unshift(s);
    }
  }

  /** Commit what is queued: one fair group per transaction, until the queues are empty or the store says "not now". */
  flush(): void {
    if (this.retryTimer) return;
    // a few commits per turn of the event loop: streams, queries and heartbeats get their turn between
    for (let rounds = 0; this.turn.length > 0 && rounds < 4; rounds++) {
      if (!this.commit(this.take())) return;
    }
    if (this.turn.length > 0) this.schedule();
  }

  /** Commit a group; false when the store cannot write now (the batches are back in their queues, in order). */
  private commit(batch: Pending[]): boolean {
    const r = this.transaction(batch);
    if (r === 'ok') return true;
    if (r !== 'failed') {
      this.putBack(batch);
      this.storeUnavailable(r.transient, r.err);
      return false;
    }
    // something in one batch the store will never take: find it, let the others through
    for (let i = 0; i < batch.length; i++) {
      const one = this.transaction([batch[i]]);
      if (one === 'failed' || one === 'ok') continue;
      this.putBack(batch.slice(i));
      this.storeUnavailable(one.transient, one.err);
      return false;
    }
    return true;
  }

  /**
   * One transaction: 'ok' (each batch told), 'failed' (a single batch is told
   * its error; a group is not told anything), or the transient error.
   */
  private transaction(batch: Pending[]): 'ok' | 'failed' | { transient: string; err: unknown } {
    const all = batch.flatMap((p) => p.alerts);
    const t0 = process.hrtime.bigint();
    try {
      const added = this.store.insertAlerts(all);
      this.metrics?.alertsIngested.inc(added);
      this.metrics?.duplicates.inc(all.length - added);
      this.metrics?.commitSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      this.storeUp();
      if (added) this.events.emit('stored');
      for (const p of batch) p.done(null);
      return 'ok';
    } catch (err) {
      const transient = isTransientStoreError(err);
      if (transient) return { transient, err };
      if (batch.length > 1) return 'failed';
      this.log(`storing ${all.length} alerts from ${batch[0].source.node}: ${errorMessage(err)}`);
      this.metrics?.storeErrors.inc({ code: (err as { code?: string }).code ?? 'other' });
      batch[0].done(err instanceof Error ? err : new Error(String(err)));
      return 'failed';
    }
  }

  private storeUnavailable(code: string, err: unknown): void {
    this.metrics?.storeErrors.inc({ code });
    if (!this.storeDown) {
      this.downSince = Date.now();
      this.log(`the store cannot write (${code}: ${errorMessage(err)}): ingestion paused, ${this.queuedTotal} alerts held, nothing acknowledged until it can`);
    }
    this.storeDown = code;
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flush();
    }, delay);
  }

  private storeUp(): void {
    if (!this.storeDown) return;
    this.log(`the store writes again after ${((Date.now() - this.downSince) / 1000).toFixed(1)} s (${this.storeDown}): ingestion resumed`);
    this.storeDown = null;
    this.backoff.reset();
  }

  /** The code of the store error ingestion is waiting out, or null. */
  waitingFor(): string | null {
    return this.storeDown;
  }

  /** Commit everything queued now (at shutdown); what the store refuses stays unacknowledged and agents resend it. */
  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.flush();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
