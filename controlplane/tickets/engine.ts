// Tickets with a lifecycle, deduplicated, durable:
//   - every operation is written to the sink spool (SQLite) first, then done
//     remotely by one worker per sink, in order, with retries and back-off;
//     a sink that is down keeps its operations (nothing is lost) and never
//     holds up alert delivery or another sink
//   - open: one ticket per fingerprint. None known locally: look for it
//     remotely (a lost record, a create whose answer was lost), else create.
//     Known and open: new evidence becomes a comment. Known and closed: the
//     problem recurred, reopen with a comment, unless it was closed as won't
//     fix (then it stays closed, counted)
//   - resolve (not_affected with evidence, or fixed): a comment, and the
//     ticket is closed when the sink says so
//   - note: a comment on the fingerprint's ticket (quarantine)
import { createHash } from 'node:crypto';
import { Backoff } from '../../common/backoff';
import { errorMessage } from '../../common/errors';
import { nowNs } from '../../common/time';
import type { VdpStore } from '../vdp/vdp-store';
import { priorityRank, type Finding, type FindingKind } from './findings';
import { SinkError } from './http';
import type { RemoteTicket, TicketSink } from './sink';

export interface SinkPolicy {
  /** which findings go to this sink */
  kinds: FindingKind[];
  /** at or above this Falco level */
  minPriority: string;
  /** vulnerabilities whose status is one of these open tickets */
  statuses: string[];
  /** close the ticket when its component turns not_affected with evidence */
  closeOnResolve: boolean;
}

export interface EngineCounters {
  done(sink: string, op: string, outcome: string): void;
  error(sink: string, kind: 'rate_limit' | 'retryable' | 'refused'): void;
}

export interface TicketEngineOptions {
  store: VdpStore;
  sinks: { sink: TicketSink; policy: SinkPolicy }[];
  log: (line: string) => void;
  counters?: EngineCounters;
  /** first retry delay (doubles up to maxBackoffMs) */
  backoffMs?: number;
  maxBackoffMs?: number;
}

type OpenPayload = Pick<Finding, 'kind' | 'title' | 'body' | 'evidence' | 'priority' | 'labels'>;
interface ResolvePayload {
  evidence: string;
}
interface NotePayload {
  text: string;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

class Worker {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;
  private readonly backoff: Backoff;
  /** resolves when the spool is empty (tests, shutdown) */
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly sink: TicketSink,
    readonly policy: SinkPolicy,
    private readonly e: TicketEngineOptions,
  ) {
    this.backoff = new Backoff(e.backoffMs ?? 1000, e.maxBackoffMs ?? 600_000, 'equal');
  }

  kick(delayMs = 0): void {
    if (this.stopped || this.running) return;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.drain();
    }, delayMs);
    this.timer.unref?.();
  }

  idle(): Promise<void> {
    if (this.e.store.spoolDepth(this.sink.name) === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async drain(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      for (;;) {
        const rows = this.e.store.spooled(this.sink.name, 50);
        if (rows.length === 0) {
          const w = this.idleWaiters;
          this.idleWaiters = [];
          w.forEach((f) => f());
          return;
        }
        for (const row of rows) {
          const wait = Number((BigInt(row.next_ns) - BigInt(nowNs())) / 1_000_000n);
          if (wait > 0) {
            this.running = false;
            this.kick(wait);
            return;
          }
          try {
            const outcome = await this.apply(row.op, row.fingerprint, JSON.parse(row.payload) as unknown);
            this.e.store.spoolDone(row.id);
            this.backoff.reset();
            this.e.counters?.done(this.sink.name, row.op, outcome);
          } catch (err) {
            const se = err instanceof SinkError ? err : null;
            const delay = Math.max(se?.retryAfterMs ?? 0, this.backoff.next());
            this.e.counters?.error(this.sink.name, se?.rateLimited ? 'rate_limit' : se && !se.retryable ? 'refused' : 'retryable');
            this.e.store.spoolRetry(row.id, (BigInt(nowNs()) + BigInt(delay) * 1_000_000n).toString(), errorMessage(err));
            this.e.log(`ticket sink ${this.sink.name}: ${row.op} ${row.fingerprint}: ${errorMessage(err)}; kept in the spool, retrying in ${Math.round(delay / 1000)} s`);
            // order per sink is kept: nothing after this operation runs before it
            this.running = false;
            this.kick(delay);
            return;
          }
          if (this.stopped) return;
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Find the local record, or the remote ticket that carries the fingerprint. */
  private async known(fingerprint: string): Promise<{ key: string; url: string; title: string; evidenceSha: string; adopted: boolean } | null> {
    const t = this.e.store.ticket(this.sink.name, fingerprint);
    if (t) return { key: t.remote_key, url: t.url, title: t.title, evidenceSha: t.evidence_sha, adopted: false };
    const r = await this.sink.find(fingerprint);
    return r ? { key: r.key, url: r.url, title: '', evidenceSha: '', adopted: true } : null;
  }

  private record(fingerprint: string, kind: string, r: Pick<RemoteTicket, 'key' | 'url'>, state: string, evidenceSha: string, title: string): void {
    this.e.store.putTicket({ sink: this.sink.name, fingerprint, kind, remote_key: r.key, url: r.url, state, evidence_sha: evidenceSha, title });
  }

  private async apply(op: string, fingerprint: string, payload: unknown): Promise<string> {
    switch (op) {
      case 'open': {
        const p = payload as OpenPayload;
        const evSha = sha(p.evidence);
        const k = await this.known(fingerprint);
        if (!k) {
          const r = await this.sink.create({ fingerprint, title: p.title, body: `${p.body}\n\nEvidence:\n${p.evidence}`, labels: p.labels, priority: p.priority });
          this.record(fingerprint, p.kind, r, 'open', evSha, p.title);
          this.e.log(`ticket sink ${this.sink.name}: created ${r.key} for ${fingerprint}`);
          return 'created';
        }
        const cur = await this.sink.get(k.key);
        if (cur.state === 'closed') {
          if (cur.wontFix) {
            this.record(fingerprint, p.kind, { key: k.key, url: cur.url || k.url }, 'wont_fix', evSha, p.title);
            return 'wont_fix';
          }
          await this.sink.reopen(k.key);
          await this.sink.comment(k.key, `Vigil: this recurred, reopened.\n\n${p.evidence}`);
          this.record(fingerprint, p.kind, { key: k.key, url: cur.url || k.url }, 'open', evSha, p.title);
          return 'reopened';
        }
        // found remotely with no local record (a create whose answer was lost, a restored store): take it over as it is
        if (k.evidenceSha === evSha || k.adopted) {
          this.record(fingerprint, p.kind, { key: k.key, url: cur.url || k.url }, 'open', evSha, p.title);
          return 'unchanged';
        }
        await this.sink.comment(k.key, `Vigil: new evidence.\n\n${p.evidence}`);
        this.record(fingerprint, p.kind, { key: k.key, url: cur.url || k.url }, 'open', evSha, p.title);
        return 'commented';
      }
      case 'resolve': {
        const p = payload as ResolvePayload;
        const k = await this.known(fingerprint);
        if (!k) return 'no_ticket';
        const cur = await this.sink.get(k.key);
        const t = this.e.store.ticket(this.sink.name, fingerprint);
        if (cur.state === 'closed') {
          this.record(fingerprint, t?.kind ?? 'vulnerability', { key: k.key, url: cur.url || k.url }, cur.wontFix ? 'wont_fix' : 'closed', sha(p.evidence), k.title);
          return 'already_closed';
        }
        await this.sink.comment(k.key, `Vigil: not affected any more.\n\n${p.evidence}`);
        if (this.policy.closeOnResolve) await this.sink.close(k.key);
        this.record(fingerprint, t?.kind ?? 'vulnerability', { key: k.key, url: cur.url || k.url }, this.policy.closeOnResolve ? 'closed' : 'open', sha(p.evidence), k.title);
        return this.policy.closeOnResolve ? 'closed' : 'commented';
      }
      case 'note': {
        const p = payload as NotePayload;
        const k = await this.known(fingerprint);
        if (!k) return 'no_ticket';
        await this.sink.comment(k.key, p.text);
        return 'commented';
      }
      default:
        throw new SinkError(`unknown spooled operation "${op}"`, false);
    }
  }
}

export class TicketEngine {
  private readonly workers: Worker[];

  constructor(private readonly o: TicketEngineOptions) {
    this.workers = o.sinks.map((s) => new Worker(s.sink, s.policy, o));
  }

  /** Resume what the spool holds (after a restart). */
  start(): void {
    for (const w of this.workers) w.kick();
  }

  private accepts(w: Worker, f: Finding): boolean {
    if (!w.policy.kinds.includes(f.kind)) return false;
    if (priorityRank(f.priority) > priorityRank(w.policy.minPriority)) return false;
    if (f.kind === 'vulnerability' && f.status && !w.policy.statuses.includes(f.status)) return false;
    return true;
  }

  /** A finding to open or update a ticket for (spooled, then done). Returns the sinks it went to. */
  submit(f: Finding): string[] {
    const to: string[] = [];
    for (const w of this.workers) {
      if (!this.accepts(w, f)) continue;
      this.o.store.spool(w.sink.name, f.fingerprint, 'open', { kind: f.kind, title: f.title, body: f.body, evidence: f.evidence, priority: f.priority, labels: f.labels } satisfies OpenPayload);
      to.push(w.sink.name);
      w.kick();
    }
    return to;
  }

  /** The fingerprint's problem is gone (not_affected with evidence, or fixed): comment, maybe close, on every sink that has its ticket. */
  resolve(fingerprint: string, evidence: string): void {
    for (const w of this.workers) {
      if (!this.o.store.ticket(w.sink.name, fingerprint) && !this.o.store.spoolHas(w.sink.name, fingerprint)) continue;
      this.o.store.spool(w.sink.name, fingerprint, 'resolve', { evidence } satisfies ResolvePayload);
      w.kick();
    }
  }

  /** A comment on the fingerprint's ticket, wherever there is one. */
  note(fingerprint: string, text: string): void {
    for (const w of this.workers) {
      if (!this.o.store.ticket(w.sink.name, fingerprint) && !this.o.store.spoolHas(w.sink.name, fingerprint)) continue;
      this.o.store.spool(w.sink.name, fingerprint, 'note', { text } satisfies NotePayload);
      w.kick();
    }
  }

  /** Resolves when every sink's spool is empty. */
  async idle(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.idle()));
  }

  sinkNames(): string[] {
    return this.workers.map((w) => w.sink.name);
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.stop();
    await Promise.all(this.workers.map((w) => w.sink.dispose()));
  }
}
