// `vigil trace`: stream every decoded kernel event, one JSON object per line.
import * as os from 'node:os';
import { KIND_NAMES, type KindName } from '../agent/kernel/abi';
import { ArgReader } from './args';
import { CgroupResolver, cgroupDir, findCgroup2Mount } from '../agent/kernel/cgroupfs';
import { WallClock } from '../agent/kernel/clock';
import { VigilError } from '../common/errors';
import type { KernelEvent } from '../agent/decode/events';
import { traceRecord, traceText, type FormatOptions } from '../agent/export/trace-record';
import { PROCESS_KINDS, Probe, requirePrivileges, type ProbeStats } from '../agent/kernel/probe';
import { ProcessCache } from '../agent/process/process-cache';

export interface TraceOptions {
  output: 'json' | 'text';
  kinds: KindName[];
  cgroups: string[];
  details: boolean;
  ringBytes?: number;
  out: NodeJS.WritableStream & { writableLength?: number };
  err: NodeJS.WritableStream;
  /** stop after this many ms (tests, demos); default: until SIGINT/SIGTERM */
  durationMs?: number;
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
    `  reader: ${r.recordsRead} records read, ${r.queueDropRecords} dropped at the JS queue (${r.queueDropBatches} batches)`,
  );
  lines.push(
    `  decoded: ${s.stats.decode.records} events, ${s.stats.decode.malformed} malformed, ${s.stats.decode.unknownKind} unknown kinds`,
  );
  lines.push(`  printed: ${s.printed}, dropped at a slow stdout: ${s.outputDropped}`);
  return lines.join('\n') + '\n';
}

export async function runTrace(o: TraceOptions): Promise<TraceSummary> {
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
  o.out.on('error', () => {
    outputBroken = true; // EPIPE (e.g. `| head`): stop writing, shut down below
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
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      clearInterval(brokenCheck);
      if (timer) clearTimeout(timer);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const timer = o.durationMs !== undefined ? setTimeout(stop, o.durationMs) : undefined;
    // a closed stdout ends the trace too
    const brokenCheck = setInterval(() => {
      if (outputBroken) stop();
    }, 200);
  });
  await probe.close();
  const summary: TraceSummary = { printed, outputDropped, stats: probe.stats() };
  o.err.write(summaryText(summary));
  return summary;
}

/** --kinds exec,open,...: known kinds, each once. */
export function parseKinds(list: string): KindName[] {
  const out: KindName[] = [];
  for (const raw of list.split(',')) {
    const k = raw.trim();
    if (!k) continue;
    if (!(KIND_NAMES as readonly string[]).includes(k)) {
      throw new VigilError('BAD_ARGUMENT', `--kinds: unknown event kind "${k}" (expected some of ${KIND_NAMES.join(',')})`);
    }
    if (!out.includes(k as KindName)) out.push(k as KindName);
  }
  if (out.length === 0) throw new VigilError('BAD_ARGUMENT', '--kinds: empty list');
  return out;
}

export function parseTraceArgs(argv: string[]): Omit<TraceOptions, 'out' | 'err'> {
  const o: Omit<TraceOptions, 'out' | 'err'> = { output: 'json', kinds: [...KIND_NAMES], cgroups: [], details: false };
  const r = new ArgReader(argv);
  for (let flag = r.next(); flag !== undefined; flag = r.next()) {
    switch (flag) {
      case '--output':
      case '-o':
        o.output = r.output();
        break;
      case '--kinds':
        o.kinds = parseKinds(r.value());
        break;
      case '--cgroup':
        o.cgroups.push(r.value());
        break;
      case '--details':
        r.switch();
        o.details = true;
        break;
      case '--ring-bytes': {
        const n = Number(r.value());
        if (!Number.isInteger(n) || n < 4096 || (n & (n - 1)) !== 0) {
          throw new VigilError('BAD_ARGUMENT', '--ring-bytes: expected a power of two >= 4096');
        }
        o.ringBytes = n;
        break;
      }
      case '--duration':
        o.durationMs = r.seconds();
        break;
      default:
        r.unknown('trace');
    }
  }
  return o;
}
