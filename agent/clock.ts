// Kernel timestamps (CLOCK_BOOTTIME) to wall-clock RFC 3339 with nanoseconds.
import { native } from './native';

export class WallClock {
  /** realtime - boottime, ns, sampled once */
  private offsetNs: bigint;

  constructor(offsetNs?: bigint) {
    this.offsetNs = offsetNs ?? WallClock.sampleOffset();
  }

  static sampleOffset(): bigint {
    const c = native().clocks();
    return c.realtimeNs - c.boottimeNs;
  }

  wallNs(boottimeNs: bigint): bigint {
    return boottimeNs + this.offsetNs;
  }

  rfc3339(boottimeNs: bigint): string {
    return rfc3339Nanos(this.wallNs(boottimeNs));
  }
}

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
