// In-kernel cost, program by program: the figure the pipeline bench reports
// in one run ("in-kernel ns/ev"), taken over several rounds so that a change
// of 10% can be told from this machine's drift. Each round loads the probes
// for every event kind (the pipeline bench's set), runs each loop once with
// kernel.bpf_stats_enabled, and reads every program's run_time_ns and
// run_cnt; the table gives the median over rounds and where each program's
// time goes. --reps=N runs each loop N times per load (each run a sample).
// Not a test: it prints a table and writes JSON.
//
// --tree=DIR measures another checkout's build (its dist/, addon and BPF
// object) with these same loops: before and after, run alternately.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchCgroup, ownPrograms, programStats } from './helpers';
import { loadgenPath, median, runLoad } from './pipeline';

export interface KernelLoop {
  name: string;
  args: (n: number) => string[];
  ops: number;
}

const LOOPS: KernelLoop[] = [
  { name: 'open+close', args: (n) => ['open', String(n), '/etc/hostname'], ops: 200_000 },
  { name: 'fork+exec /bin/true', args: (n) => ['exec', String(n), '/bin/true'], ops: 1500 },
  { name: 'connect (closed port)', args: (n) => ['connect', String(n), '1'], ops: 100_000 },
];

export interface ProgramCost {
  program: string;
  /** median over rounds */
  ns_per_run: number;
  runs_per_op: number;
  ns_per_op: number;
  /** each round's ns/run, in order */
  per_round: number[];
}

export interface KernelLoopResult {
  loop: string;
  ops: number;
  rounds: number;
  /** all programs' run time over the events delivered: the pipeline bench's "in-kernel ns/ev" */
  ns_per_event: { median: number; min: number; max: number };
  /** each round's ns/event, in order */
  per_round: number[];
  /**
   * each round's yardstick: ns per dependent load of `loadgen spin` on the same CPU, just before and
   * after the loop (mean). This VM's speed moves by 2-3x within minutes; a figure divided by it can be
   * compared across runs taken at different moments (before/after trees).
   */
  spin_ns: number[];
  ns_per_op: { median: number; min: number; max: number };
  events_per_op: number;
  programs: ProgramCost[];
}

export interface KernelReport {
  tree: string;
  commit: string;
  kernel: string;
  loops: KernelLoopResult[];
}

/** The parts of a checkout's Probe this bench uses (the same since the first release). */
export interface AnyProbe {
  start(onEvents: (events: unknown[]) => void): void;
  close(): Promise<void>;
}
export interface ProbeModule {
  Probe: { load(spec: { kinds: readonly string[]; cgroups: readonly string[] }): AnyProbe };
}

/** Probe and kind names from a checkout's build (the module moved with the layout change). */
/** The loops named (all when none is), or an error naming the bench and the loops there are. */
export function pickLoops(bench: string, names?: string[]): KernelLoop[] {
  const loops = LOOPS.filter((l) => !names || names.includes(l.name));
  if (loops.length === 0) throw new Error(`${bench} bench: no loop named ${names?.join(', ')} (loops: ${LOOPS.map((l) => l.name).join(', ')})`);
  return loops;
}

/** A checkout's directory: --tree, or this one. */
export const treeDir = (tree?: string): string => path.resolve(tree ?? path.join(__dirname, '..', '..'));

/** A checkout's short commit, '' when it is not a git checkout. */
export function treeCommit(tree: string): string {
  try {
    return execFileSync('git', ['-C', tree, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function loadTree(tree: string): { probe: ProbeModule; kinds: string[] } {
  const pick = (cands: string[], what: string): string => {
    const hit = cands.map((c) => path.join(tree, 'dist', c)).find((p) => fs.existsSync(p));
    if (!hit) throw new Error(`kernel bench: no ${what} in ${tree}/dist (tried ${cands.join(', ')}): build that tree first`);
    return hit;
  };
  const probe = require(pick(['agent/kernel/probe.js', 'agent/probe.js'], 'probe module')) as ProbeModule;
  const abi = require(pick(['agent/kernel/abi.js', 'agent/abi.js'], 'abi module')) as { KIND_NAMES: readonly string[] };
  // every kind but the reachability program's, as the pipeline bench loads
  return { probe, kinds: abi.KIND_NAMES.filter((k) => k !== 'code') };
}

const stat = (xs: number[]): { median: number; min: number; max: number } => ({
  median: Math.round(median(xs)),
  min: Math.round(Math.min(...xs)),
  max: Math.round(Math.max(...xs)),
});

export async function runKernelBench(opts: { tree?: string; rounds?: number; reps?: number; loops?: string[] } = {}): Promise<KernelReport> {
  if (process.geteuid?.() !== 0) throw new Error('the kernel bench needs root (BPF, cgroups, kernel.bpf_stats_enabled)');
  const tree = treeDir(opts.tree);
  const rounds = opts.rounds ?? 7;
  const reps = opts.reps ?? 1;
  const { probe: mod, kinds } = loadTree(tree);
  const loops = pickLoops('kernel', opts.loops);
  const loadgen = loadgenPath();
  const cg = benchCgroup('kernel');
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const statsWas = fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  // per loop: per round, the totals and each program's
  const samples = loops.map(() => ({
    perEvent: [] as number[],
    perOp: [] as number[],
    events: [] as number[],
    spin: [] as number[],
    progs: new Map<string, { ns: number[]; runs: number[] }>(),
  }));
  const spin = async (): Promise<number> => (await runLoad(loadgen, cg.dir, ['spin', '2000000', '7'], 1)).ns_per_op;
  try {
    for (let r = 0; r < rounds; r++) {
      const probe = mod.Probe.load({ kinds, cgroups: [cg.dir] });
      let delivered = 0;
      probe.start((evs) => (delivered += evs.length));
      try {
        const progs = ownPrograms();
        for (let rep = 0; rep < reps; rep++) for (const [li, loop] of loops.entries()) {
          const spin0 = await spin();
          fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
          const s0 = programStats(progs);
          const d0 = delivered;
          await runLoad(loadgen, cg.dir, loop.args(loop.ops), 1);
          // every record read: the count stops moving
          for (let last = -1; last !== delivered; ) {
            last = delivered;
            await new Promise((res) => setTimeout(res, 100));
          }
          const s1 = programStats(progs);
          fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
          samples[li].spin.push((spin0 + (await spin())) / 2);
          const events = delivered - d0;
          let total = 0;
          const sm = samples[li];
          for (const [name, v] of s1) {
            const b = s0.get(name) ?? { ns: 0, runs: 0 };
            const ns = v.ns - b.ns;
            const runs = v.runs - b.runs;
            total += ns;
            const p = sm.progs.get(name) ?? { ns: [], runs: [] };
            p.ns.push(ns);
            p.runs.push(runs);
            sm.progs.set(name, p);
          }
          sm.perEvent.push(events ? total / events : NaN);
          sm.perOp.push(total / loop.ops);
          sm.events.push(events);
        }
      } finally {
        fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
        await probe.close();
      }
    }
  } finally {
    fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
    await cg.remove();
  }
  return {
    tree,
    commit: treeCommit(tree),
    kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    loops: loops.map((loop, li) => {
      const sm = samples[li];
      const programs: ProgramCost[] = [...sm.progs.entries()]
        .map(([program, p]) => {
          const runs = median(p.runs);
          const perRun = p.ns.map((ns, i) => (p.runs[i] ? ns / p.runs[i] : 0));
          return {
            program,
            ns_per_run: Math.round(median(perRun)),
            per_round: perRun.map((x) => Math.round(x)),
            runs_per_op: Math.round((runs / loop.ops) * 100) / 100,
            ns_per_op: Math.round(median(p.ns) / loop.ops),
          };
        })
        .filter((p) => p.runs_per_op > 0)
        .sort((a, b) => b.ns_per_op - a.ns_per_op);
      return {
        loop: loop.name,
        ops: loop.ops,
        rounds: rounds * reps,
        ns_per_event: stat(sm.perEvent),
        per_round: sm.perEvent.map((x) => Math.round(x)),
        spin_ns: sm.spin.map((x) => Math.round(x * 100) / 100),
        ns_per_op: stat(sm.perOp),
        events_per_op: Math.round((median(sm.events) / loop.ops) * 100) / 100,
        programs,
      };
    }),
  };
}

export function kernelTable(r: KernelReport): string {
  const lines: string[] = [`tree ${r.tree} (${r.commit || 'no git'}), kernel ${r.kernel}, ${os.cpus().length} CPUs`];
  for (const l of r.loops) {
    lines.push('');
    lines.push(
      `${l.loop}: ${l.ops} ops x ${l.rounds} rounds; in-kernel ns/event median ${l.ns_per_event.median} (min ${l.ns_per_event.min}, max ${l.ns_per_event.max}); ` +
        `ns/op median ${l.ns_per_op.median} (min ${l.ns_per_op.min}, max ${l.ns_per_op.max}); events/op ${l.events_per_op}; rounds ${l.per_round.join(' ')}`,
    );
    for (const p of l.programs) lines.push(`  ${p.program.padEnd(20)} ${String(p.ns_per_run).padStart(6)} ns/run  ${String(p.runs_per_op).padStart(7)} runs/op  ${String(p.ns_per_op).padStart(6)} ns/op`);
  }
  return lines.join('\n');
}
