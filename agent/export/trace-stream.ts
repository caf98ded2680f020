// `vigil trace`'s stream: every decoded kernel event of the kinds and
// cgroups asked for, one JSON object (or text line) per event, with a slow
// stdout counted instead of stalling the reader, and a summary of counts and
// losses at the end.
import * as os from 'node:os';
import { KIND_NAMES, type KindName } from '../kernel/abi';
import { CgroupResolver, cgroupDir, findCgroup2Mount } from '../kernel/cgroupfs';
import { WallClock } from '../kernel/clock';
import type { KernelEvent } from '../decode/events';
import { traceRecord, traceText, type FormatOptions } from './trace-record';
import { PROCESS_KINDS, Probe, requirePrivileges, type ProbeStats } from '../kernel/probe';
import { ProcessCache } from '../process/process-cache';

export interface TraceOptions {
  output: 'json' | 'text';
  kinds: KindName[];
  cgroups: string[];
  details: boolean;
  ringBytes?: number;
  out: NodeJS.WritableStream & { writableLength?: number };
  err: NodeJS.WritableStream;
}

export interface TraceSummary {
  printed: number;
  outputDropped: number;
  stats: ProbeStats;
}

/** Lines not yet accepted by a slow stdout beyond this are counted and dropped. */
const OUTPUT_BACKLOG_LIMIT = 64 << 20;

export function summaryText(s: TraceSummary): string {
  const lines: string[] = ['vigil trace: summary'];
  lines.push('  kind      emitted   dropped(ring full)  dropped(busy)');
  for (const k of KIND_NAMES) {
    const c = s.stats.kinds[k];
    if (!c.emitted && !c.dropped && !c.busy) continue;
    lines.push(`  ${k.padEnd(8)} ${String(c.emitted).padStart(9)} ${String(c.dropped).padStart(19)} ${String(c.busy).padStart(14)}`);
  }
  const r = s.stats.reader;
  lines.push(
    `  reader: ${r.recordsRead} records read, ${r.queueDropRecords} report-only dropped at the JS queue, ` +
      `${r.contextDropRecords + r.urgentDropRecords} life-cycle or urgent dropped past the hold limit`,
  );
  lines.push(
    `  decoded: ${s.stats.decode.records} events, ${s.stats.decode.malformed} malformed, ${s.stats.decode.unknownKind} unknown kinds`,
  );
  lines.push(`  printed: ${s.printed}, dropped at a slow stdout: ${s.outputDropped}`);
  return lines.join('\n') + '\n';
}

export interface TraceStream {
  /** resolves when stdout is closed under us (EPIPE, e.g. `| head`): time to stop */
  outputClosed: Promise<void>;
  /** detach, drain what the kernel still holds, print the summary */
  stop(): Promise<TraceSummary>;
}

/** Load the probes for the kinds and cgroups asked for and start printing. */
export function startTrace(o: TraceOptions): TraceStream {
  requirePrivileges('vigil trace');
  const root = findCgroup2Mount();
  const cgroups = o.cgroups.map((c) => cgroupDir(root, c));
  const wanted = new Set<KindName>(o.kinds);
  const kernelKinds = Array.from(new Set<KindName>([...o.kinds, ...PROCESS_KINDS]));
  const processes = new ProcessCache(os.hostname());
  processes.seedFromProc();
  const resolver = new CgroupResolver(root);
  const fmt: FormatOptions = {
    clock: new WallClock(),
    processes,
    cgroupPath: (id) => resolver.resolve(id),
    details: o.details,
  };
  const probe = Probe.load({
    kinds: kernelKinds,
    cgroups: cgroups.length ? cgroups : undefined,
    cgroupRoot: root,
    ringBytes: o.ringBytes,
  });
  let printed = 0;
  let outputDropped = 0;
  let outputBroken = false;
  let closed: () => void = () => undefined;
  const outputClosed = new Promise<void>((r) => (closed = r));
  o.out.on('error', () => {
    outputBroken = true; // EPIPE (e.g. `| head`): stop writing, shut down
    closed();
  });

  const onEvents = (events: KernelEvent[]): void => {
    const lines: string[] = [];
    for (const ev of events) {
      // the record is formatted before the cache forgets an exiting process
      if (ev.kind !== 'cgroup' && wanted.has(ev.kind) && Probe.inScope(ev)) {
        const rec = traceRecord(ev, fmt);
        lines.push(o.output === 'json' ? JSON.stringify(rec) : traceText(rec));
      }
      processes.observe(ev);
    }
    if (lines.length === 0 || outputBroken) return;
    if ((o.out.writableLength ?? 0) > OUTPUT_BACKLOG_LIMIT) {
      outputDropped += lines.length;
      return;
    }
    printed += lines.length;
    o.out.write(lines.join('\n') + '\n');
  };

  probe.start(onEvents);
  o.err.write(
    `vigil trace: watching ${o.kinds.join(',')} in ${cgroups.length ? o.cgroups.join(', ') : 'every cgroup'} (Ctrl-C to stop)\n`,
  );
  return {
    outputClosed,
    stop: async () => {
      await probe.close();
      const summary: TraceSummary = { printed, outputDropped, stats: probe.stats() };
      o.err.write(summaryText(summary));
      return summary;
    },
  };
}

