// Decisions user space could not make. A record a user-space kill rule had
// to judge (event_hdr.prio PRIO_URGENT: bpf/lib/common.h) and that never
// reached the pipeline is a process that may still run although a rule said kill:
// counted by stage, and raised as an `enforcement_lost` alert each time the
// count grows (at most once per check), never only logged.
import type { KindName } from '../kernel/abi';
import type { ProbeStats } from '../kernel/probe';
import { agentAlert, type Alert } from '../export/alert';

/** Vigil's own alerts are named vigil:...; a rule of a pack cannot be (no ":" in rule names). */
export const ENFORCEMENT_LOST = 'vigil:enforcement_lost';

export interface LostDecisions {
  /** the ring buffer was full: the kernel could not write the record */
  kernelRingFull: number;
  /** a preempted probe held the per-CPU scratch buffer (kinds a user-space kill rule judges) */
  kernelBusy: number;
  /** JavaScript was more than the hold limit behind: the reader let the record go */
  reader: number;
}

export function lostTotal(l: LostDecisions): number {
  return l.kernelRingFull + l.kernelBusy + l.reader;
}

export class LostDecisionTracker {
  private readonly totals: LostDecisions = { kernelRingFull: 0, kernelBusy: 0, reader: 0 };
  /** the kernel's and the reader's counters at the last check */
  private last: { ring: number; reader: number; busy: Map<KindName, number> } | null = null;
  private reported = 0;

  /** What was lost since the last check, added to the totals (urgentKinds: the kinds user-space kill rules judge now). */
  update(s: ProbeStats, urgentKinds: readonly KindName[]): LostDecisions {
    const kinds = Object.keys(s.kinds) as KindName[];
    const ring = kinds.reduce((n, k) => n + s.kinds[k].lost, 0);
    const busy = new Map(kinds.map((k) => [k, s.kinds[k].busy] as const));
    const prev = this.last ?? { ring: 0, reader: 0, busy: new Map<KindName, number>() };
    const d: LostDecisions = {
      kernelRingFull: ring - prev.ring,
      reader: s.reader.urgentDropRecords - prev.reader,
      // busy is counted per kind, not per record: only the kinds judged in user space now
      kernelBusy: urgentKinds.reduce((n, k) => n + (busy.get(k) ?? 0) - (prev.busy.get(k) ?? 0), 0),
    };
    this.last = { ring, reader: s.reader.urgentDropRecords, busy };
    this.totals.kernelRingFull += d.kernelRingFull;
    this.totals.kernelBusy += d.kernelBusy;
    this.totals.reader += d.reader;
    return d;
  }

  get lost(): LostDecisions {
    return { ...this.totals };
  }

  /** The alert for what was lost since the last alert, or null. */
  check(s: ProbeStats, urgentKinds: readonly KindName[], node: string): Alert | null {
    this.update(s, urgentKinds);
    const total = lostTotal(this.totals);
    const n = total - this.reported;
    if (n <= 0) return null;
    this.reported = total;
    const t = this.totals;
    return agentAlert(node, {
      rule: ENFORCEMENT_LOST,
      priority: 'critical',
      tags: ['vigil', 'enforcement', 'loss'],
      output:
        `${n} event${n === 1 ? '' : 's'} that user-space kill rules had to judge ${n === 1 ? 'was' : 'were'} lost ` +
        `(so far: ${t.kernelRingFull} with the kernel's ring full, ${t.kernelBusy} with its scratch buffer busy, ${t.reader} behind in user space): ` +
        `a process such a rule should have killed may still run`,
      event: {
        kind: 'enforcement_lost',
        lost: n,
        kinds: [...urgentKinds],
        totals: { kernel_ring_full: t.kernelRingFull, kernel_busy: t.kernelBusy, reader: t.reader },
      },
    });
  }
}
