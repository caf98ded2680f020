// Time as Vigil writes it: RFC 3339 with nanoseconds, and nanoseconds since
// the epoch as decimal text (what the store and the wire carry).

/** 2026-11-25T08:27:39.123456789Z */
export function rfc3339Nanos(wallNs: bigint): string {
  const ms = wallNs / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // ...T08:27:39.123Z
  const frac = (wallNs % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** "2026-11-25T08:27:39.123456789Z" -> nanoseconds since the epoch, as text. */
export function rfcToNs(t: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(t);
  if (!m) return (BigInt(Date.parse(t)) * 1_000_000n).toString();
  const secs = BigInt(Date.parse(m[1] + 'Z')) / 1000n;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0'));
  return (secs * 1_000_000_000n + frac).toString();
}

/** Now, in nanoseconds since the epoch (sub-millisecond digits from the monotonic clock, so that entries written in one millisecond still order). */
export function nowNs(): string {
  return (BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString();
}

/** "10m", "2h", "1d", "30s" ago, in nanoseconds since the epoch; null if `s` is not that form. */
export function agoNs(s: string, nowMs = Date.now()): string | null {
  const rel = /^(\d+)(s|m|h|d)$/.exec(s);
  if (!rel) return null;
  const mult = { s: 1, m: 60, h: 3600, d: 86400 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  return ((BigInt(nowMs) - BigInt(Number(rel[1]) * mult * 1000)) * 1_000_000n).toString();
}
