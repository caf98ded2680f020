// Kills that the kernel could not decide: through a pidfd, after checking
// that the PID still names the process that did it (never a bare kill(pid)).
import { native } from '../kernel/native';
import { USER_HZ } from '../process/procfs';

export interface KillResult {
  ok: boolean;
  reason?: string;
}

/** SIGKILL `pid` if it is still the process that started at `startNs` (CLOCK_BOOTTIME). */
export function userKill(pid: number, startNs: bigint | null): KillResult {
  const ticks = startNs === null || startNs === 0n ? -1 : Number((startNs * BigInt(USER_HZ)) / 1_000_000_000n);
  const r = native().pidfdKill(pid, ticks);
  return r.ok ? { ok: true } : { ok: false, reason: r.reason };
}
