// Kernel timestamps (CLOCK_BOOTTIME) to wall-clock RFC 3339 with nanoseconds.
import { rfc3339Nanos } from '../../common/time';
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
