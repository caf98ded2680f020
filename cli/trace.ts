// `vigil trace`: stream every kernel event (or the kinds and cgroups asked
// for), one JSON object per line; a summary of counts and losses at the end.
import { Option, type Command } from 'commander';
import { VigilError } from '../common/errors';
import { KIND_NAMES, type KindName } from '../agent/kernel/abi';
import type { TraceOptions } from '../agent/export/trace-stream';
import { collect, outputFormat, parseWith, seconds, vigilCommand, type CliIo } from './args';
import { untilStopped } from './signals';

export type TraceArgs = Omit<TraceOptions, 'out' | 'err'> & { durationMs?: number };

interface Values {
  output: 'json' | 'text';
  kinds?: KindName[];
  cgroup: string[];
  details?: boolean;
  ringBytes?: number;
  duration?: number;
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

function ringBytes(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 4096 || (n & (n - 1)) !== 0) throw new VigilError('BAD_ARGUMENT', '--ring-bytes: expected a power of two >= 4096');
  return n;
}

export function traceCommand(io?: CliIo): Command {
  const cmd = vigilCommand('trace', 'stream kernel events, one JSON object per line; Ctrl-C prints a summary to stderr')
    .addOption(new Option('-o, --output <format>', 'json or text').argParser(outputFormat()).default('json'))
    .addOption(new Option('--kinds <list>', `event kinds, comma-separated (default: all of ${KIND_NAMES.join(',')})`).argParser(parseKinds))
    .addOption(new Option('--cgroup <path>', 'only this cgroup v2 directory and below (repeatable)').argParser(collect).default([]))
    .addOption(new Option('--details', 'every field of every event'))
    .addOption(new Option('--ring-bytes <n>', 'ring buffer size (a power of two)').argParser(ringBytes))
    .addOption(new Option('--duration <seconds>', 'stop after this long').argParser(seconds('--duration')));
  if (io) cmd.action(async (v: Values) => io.exit(await runTrace({ ...traceArgs(v), out: io.out, err: io.err })));
  return cmd;
}

export function traceArgs(v: Values): TraceArgs {
  const o: TraceArgs = { output: v.output, kinds: v.kinds ?? [...KIND_NAMES], cgroups: v.cgroup, details: v.details === true };
  if (v.ringBytes !== undefined) o.ringBytes = v.ringBytes;
  if (v.duration !== undefined) o.durationMs = v.duration;
  return o;
}

export function parseTraceArgs(argv: string[]): TraceArgs {
  return traceArgs(parseWith<Values>(traceCommand(), argv));
}

export async function runTrace(o: TraceArgs & Pick<TraceOptions, 'out' | 'err'>): Promise<number> {
  const { startTrace } = await import('../agent/export/trace-stream');
  const t = startTrace(o);
  await Promise.race([untilStopped(o.durationMs), t.outputClosed]);
  await t.stop();
  return 0;
}
