// Kills that the kernel could not decide: through a pidfd, after checking
// that the PID still names the process that did it (never a bare kill(pid)).
import { native } from '../kernel/native';

export interface KillResult {
  ok: boolean;
  reason?: string;
}

/** USER_HZ: /proc/PID/stat start times are in these ticks. */
const TICKS_PER_SECOND = 100n;

/** SIGKILL `pid` if it is still the process that started at `startNs` (CLOCK_BOOTTIME). */
export function userKill(pid: number, startNs: bigint | null): KillResult {
  const ticks = startNs === null || startNs === 0n ? -1 : Number((startNs * TICKS_PER_SECOND) / 1_000_000_000n);
  const r = native().pidfdKill(pid, ticks);
  return r.ok ? { ok: true } : { ok: false, reason: r.reason };
}
