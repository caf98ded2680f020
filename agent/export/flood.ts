// Flood control between the pipeline and delivery: repeats of the same alert
// inside a window are collapsed into one alert that says how many there were
// (`count`, `first_seen`, `last_seen`), and each rule may be rate-limited.
// Nothing is hidden: every alert raised is either delivered or counted into
// a collapsed alert that is delivered at the end of its window (or earlier,
// when the table is full), and kills and denials are never collapsed.
//
//   same alert = same rule, workload, executable and the rule's key fields
//   (the path, both paths of a rename, the destination, the ptrace target,
//   the uid after a set*id call)
//
// The first alert of a key goes out at once; its repeats within `windowMs`
// are counted and go out as one collapsed alert (the last repeat, with the
// count of repeats and when the first and the last happened). An alert over
// its rule's rate limit is folded into the rule's collapsed alert for its
// workload (`collapsed: "rate_limit"`, the key fields of the last one), so
// an attacker who varies the key fields cannot flood the output nor grow the
// table: the table holds at most `maxKeys` entries, and the oldest is sent
// early (counted as an eviction) to make room.
import type { Alert } from './alert';

export type CollapseReason = 'repeats' | 'rate_limit';

export interface FloodOptions {
  /** repeats within this long of a key's first alert are collapsed (0: never collapse) */
  windowMs: number;
  /** alerts per second each rule may deliver on its own (0: no limit); collapsed alerts do not count */
  ratePerRule: number;
  /** per-rule overrides of ratePerRule */
  ruleRates?: ReadonlyMap<string, number>;
  /** entries kept at most (distinct keys within a window) */
  maxKeys: number;
  deliver(a: Alert): void;
  /** every alert that was not delivered on its own, by why, and every early send */
  counted(what: 'collapsed' | 'rate_limited' | 'evicted', rule: string): void;
  /** milliseconds (tests) */
  now?: () => number;
}

interface Entry {
  /** when the window ends (now() ms) */
  until: number;
  /** alerts folded in, not yet delivered */
  count: number;
  firstSeen: string;
  last: Alert | null;
  reason: CollapseReason;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** What makes two alerts "the same alert": rule, workload, executable, the rule's key fields. */
export function floodKey(a: Alert, anyKeyFields = false): string {
  const w = a.workload.spiffe_id ?? a.workload.cgroup ?? `cgroup:${a.workload.cgroup_id}`;
  if (anyKeyFields) return `${a.rule}\0${w}\0*`;
  const e = a.event;
  let fields: unknown[];
  switch (e.kind) {
    case 'rename':
      fields = [e.path, e.new_path];
      break;
    case 'connect':
      fields = [e.daddr, e.dport];
      break;
    case 'ptrace':
      fields = [e.target_pid];
      break;
    case 'setuid':
      fields = [e.uid];
      break;
    case 'exec':
      fields = [];
      break;
    default:
      fields = [e.path ?? null];
  }
  return `${a.rule}\0${w}\0${a.process.exe ?? ''}\0${JSON.stringify(fields)}`;
}

export class FloodControl {
  private readonly table = new Map<string, Entry>();
  private readonly buckets = new Map<string, Bucket>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly o: FloodOptions) {
    this.now = o.now ?? Date.now;
  }

  get entries(): number {
    return this.table.size;
  }

  /** One alert from the pipeline: delivered now, or folded into a collapsed alert delivered later. */
  offer(a: Alert): void {
    // kills, denials and failed kills are evidence of an action: each goes out
    if (this.closed || a.outcome !== 'alerted' || this.o.windowMs <= 0) {
      this.o.deliver(a);
      return;
    }
    const now = this.now();
    const key = floodKey(a);
    const hit = this.table.get(key);
    if (hit && hit.until > now) {
      this.fold(hit, a);
      this.o.counted('collapsed', a.rule);
      return;
    }
    if (hit) this.expire(key, hit);
    if (this.take(a.rule, now)) {
      this.put(key, { until: now + this.o.windowMs, count: 0, firstSeen: a.time, last: null, reason: 'repeats' }, now);
      this.o.deliver(a);
      return;
    }
    // over the rule's rate: into the rule's collapsed alert for this workload
    const okey = floodKey(a, true);
    let over = this.table.get(okey);
    if (over && over.until <= now) {
      this.expire(okey, over);
      over = undefined;
    }
    if (!over) {
      over = { until: now + this.o.windowMs, count: 0, firstSeen: a.time, last: null, reason: 'rate_limit' };
      this.put(okey, over, now);
    }
    this.fold(over, a);
    this.o.counted('rate_limited', a.rule);
  }

  /** Deliver every collapsed alert now and stop collapsing (the agent stops). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [k, e] of this.table) this.expire(k, e);
  }

  private fold(e: Entry, a: Alert): void {
    if (e.count === 0) e.firstSeen = a.time;
    e.count++;
    e.last = a;
  }

  private put(key: string, e: Entry, now: number): void {
    while (this.table.size >= this.o.maxKeys) {
      const [oldKey, old] = this.table.entries().next().value as [string, Entry];
      if (old.count > 0) this.o.counted('evicted', old.last?.rule ?? '');
      this.expire(oldKey, old);
    }
    this.table.set(key, e);
    this.arm(now);
  }

  /** The window of an entry is over (or it must make room): its collapsed alert goes out. */
  private expire(key: string, e: Entry): void {
    this.table.delete(key);
    if (e.count === 0 || !e.last) return;
    const a = e.last;
    // the last one, with the count first (after time), in the documented key order
    const { time, ...rest } = a;
    const collapsed: Alert = { time, count: e.count, first_seen: e.firstSeen, last_seen: time, collapsed: e.reason, ...rest };
    collapsed.output = `${a.output} (${e.count} ${e.reason === 'rate_limit' ? 'over the rule\'s rate limit' : 'times'} from ${e.firstSeen} to ${a.time})`;
    this.o.deliver(collapsed);
  }

  /** A token from the rule's bucket (rate per second, burst of one second's worth). */
  private take(rule: string, now: number): boolean {
    const rate = this.o.ruleRates?.get(rule) ?? this.o.ratePerRule;
    if (rate <= 0) return true;
    let b = this.buckets.get(rule);
    if (!b) {
      b = { tokens: rate, at: now };
      if (this.buckets.size >= this.o.maxKeys) this.buckets.clear();
      this.buckets.set(rule, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** One timer, for the oldest entry (entries are in the order their windows end). */
  private arm(now: number): void {
    if (this.timer || this.closed) return;
    const first = this.table.values().next().value as Entry | undefined;
    if (!first) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, first.until - now));
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    const now = this.now();
    for (const [k, e] of this.table) {
      if (e.until > now) break;
      this.expire(k, e);
    }
    this.arm(now);
  }
}
