// `bench pair --a=DIR --b=DIR`: two checkouts' in-kernel cost, measured at the same time.
//
// `bench kernel` runs one tree at a time; on a shared VM the same tree's exec
// loop moved by 30% between consecutive runs of one load (a fast and a slow
// state of the host), so two trees measured minutes apart differ by more than
// a 10% budget in either direction. Here both trees' probes are loaded at once
// (one child process each, so that two builds of the addon never share a
// process), both scoped to the bench cgroup, and every event of a loop runs
// both trees' programs back to back: each tree's run_time_ns is taken over the
// same operations, under the same state of the machine.
//
// The program attached first pays the cache misses on the kernel objects both
// read (the second finds them warm): a tree against itself measures about
// 0.88x with itself attached first and 1.19x the other way round. So the
// attach order alternates every round, and the figure reported is the
// geometric mean of the two orders' medians ("balanced"): 1.02 for a tree
// against itself. Compare that, not the raw ratios.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { benchCgroup } from './helpers';
import { pickLoops, treeCommit, treeDir } from './kernel';
import { loadgenPath, median, runLoad } from './pipeline';

interface ChildStats {
  delivered: number;
  progs: Record<string, { ns: number; runs: number }>;
}

export interface PairProgram {
  program: string;
  /** ns per operation over all rounds, each tree */
  a_ns_per_op: number;
  b_ns_per_op: number;
  /** b / a over all rounds (both orders, equally many) */
  ratio: number;
}

export interface PairLoopResult {
  loop: string;
  ops: number;
  rounds: number;
  /** b's ns/event over a's, per round, the rounds where a was attached first */
  a_first: number[];
  /** the same, the rounds where b was attached first */
  b_first: number[];
  /** sqrt(median(a_first) * median(b_first)) */
  balanced: number;
  a_ns_per_event: number;
  b_ns_per_event: number;
  events_per_op: number;
  programs: PairProgram[];
}

export interface PairReport {
  a: string;
  a_commit: string;
  b: string;
  b_commit: string;
  kernel: string;
  loops: PairLoopResult[];
}

/** A child holding one tree's probe; `ask` sends a line and waits for the answer line. */
class Side {
  private readonly lines: string[] = [];
  private waiting: ((l: string) => void) | undefined;
  private exited: string | undefined;
  private readonly gone: Promise<void>;

  constructor(
    readonly tree: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(l);
      } else this.lines.push(l);
    });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(`[${tree}] ${d.toString()}`));
    this.gone = new Promise((resolve) =>
      child.on('exit', (code, sig) => {
        this.exited = `exited (${sig ?? code})`;
        if (this.waiting) this.waiting(this.exited);
        resolve();
      }),
    );
  }

  static start(tree: string, cg: string): Side {
    const child = spawn(process.execPath, [path.join(__dirname, 'pair-child.js'), tree, cg], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new Side(tree, child);
  }

  private next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.exited) return Promise.resolve(this.exited);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async ready(): Promise<void> {
    const l = await this.next();
    if (l !== 'ready') throw new Error(`pair bench: loading ${this.tree}'s probe: the child ${l}`);
  }

  async stats(): Promise<ChildStats> {
    this.child.stdin.write('stats\n');
    const l = await this.next();
    try {
      return JSON.parse(l) as ChildStats;
    } catch {
      throw new Error(`pair bench: ${this.tree}'s child answered ${JSON.stringify(l)} to "stats"`);
    }
  }

  async close(): Promise<void> {
    if (!this.exited) this.child.stdin.write('close\n');
    await this.gone;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runPairBench(opts: { a: string; b: string; rounds?: number; loops?: string[] }): Promise<PairReport> {
  if (process.geteuid?.() !== 0) throw new Error('the pair bench needs root (BPF, cgroups, kernel.bpf_stats_enabled)');
  const trees = [treeDir(opts.a), treeDir(opts.b)];
  const rounds = Math.max(2, opts.rounds ?? 12);
  const loops = pickLoops('pair', opts.loops ?? ['fork+exec /bin/true']);
  const loadgen = loadgenPath();
  const cg = benchCgroup('pair');
  const statsWas = fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  const results: PairLoopResult[] = [];
  try {
    for (const loop of loops) {
      const rows: { order: 0 | 1; ev: number[]; ns: number[]; progs: Record<string, { ns: number; runs: number }>[] }[] = [];
      for (let r = 0; r < rounds; r++) {
        const order: [number, number] = r % 2 === 0 ? [0, 1] : [1, 0];
        const sides: Side[] = [];
        try {
          // attach order = load order: the first side's programs run first at every hook
          for (const i of order) {
            const s = Side.start(trees[i], cg.dir);
            sides[i] = s;
            await s.ready();
          }
          fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
          const before = await Promise.all(sides.map((s) => s.stats()));
          await runLoad(loadgen, cg.dir, loop.args(loop.ops), 1);
          // every record read: both counts stop moving
          let after = await Promise.all(sides.map((s) => s.stats()));
          for (let last = ''; last !== after.map((x) => x.delivered).join(); ) {
            last = after.map((x) => x.delivered).join();
            await sleep(200);
            after = await Promise.all(sides.map((s) => s.stats()));
          }
          fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
          const row = { order: order[0] as 0 | 1, ev: [] as number[], ns: [] as number[], progs: [] as Record<string, { ns: number; runs: number }>[] };
          for (const i of [0, 1]) {
            const progs: Record<string, { ns: number; runs: number }> = {};
            let ns = 0;
            for (const [name, v] of Object.entries(after[i].progs)) {
              const b = before[i].progs[name] ?? { ns: 0, runs: 0 };
              progs[name] = { ns: v.ns - b.ns, runs: v.runs - b.runs };
              ns += v.ns - b.ns;
            }
            row.ev.push(after[i].delivered - before[i].delivered);
            row.ns.push(ns);
            row.progs.push(progs);
          }
          if (row.ev[0] === 0 || row.ev[1] === 0) throw new Error(`pair bench: ${loop.name}: a tree delivered no event (${row.ev.join(', ')})`);
          rows.push(row);
        } finally {
          fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
          for (const i of [...order].reverse()) {
            if (!sides[i]) continue;
            await Promise.race([sides[i].close(), sleep(30_000).then(() => sides[i].kill())]);
          }
        }
      }
      const ratio = (x: (typeof rows)[number]): number => x.ns[1] / x.ev[1] / (x.ns[0] / x.ev[0]);
      const aFirst = rows.filter((x) => x.order === 0).map(ratio);
      const bFirst = rows.filter((x) => x.order === 1).map(ratio);
      const names = [...new Set(rows.flatMap((x) => [...Object.keys(x.progs[0]), ...Object.keys(x.progs[1])]))];
      const sum = (i: number, name: string): number => rows.reduce((t, x) => t + (x.progs[i][name]?.ns ?? 0), 0);
      const ops = loop.ops * rows.length;
      const perEvent = (i: number): number => rows.reduce((t, x) => t + x.ns[i], 0) / rows.reduce((t, x) => t + x.ev[i], 0);
      results.push({
        loop: loop.name,
        ops: loop.ops,
        rounds: rows.length,
        a_first: aFirst.map((x) => Math.round(x * 1000) / 1000),
        b_first: bFirst.map((x) => Math.round(x * 1000) / 1000),
        balanced: Math.round(Math.sqrt(median(aFirst) * median(bFirst)) * 1000) / 1000,
        a_ns_per_event: Math.round(perEvent(0)),
        b_ns_per_event: Math.round(perEvent(1)),
        events_per_op: Math.round((rows.reduce((t, x) => t + x.ev[0], 0) / ops) * 100) / 100,
        programs: names
          .map((name) => ({
            program: name,
            a_ns_per_op: Math.round(sum(0, name) / ops),
            b_ns_per_op: Math.round(sum(1, name) / ops),
            ratio: sum(0, name) ? Math.round((sum(1, name) / sum(0, name)) * 1000) / 1000 : NaN,
          }))
          .filter((p) => p.a_ns_per_op > 0 || p.b_ns_per_op > 0)
          .sort((x, y) => y.b_ns_per_op - x.b_ns_per_op),
      });
    }
  } finally {
    fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
    await cg.remove();
  }
  return {
    a: trees[0],
    a_commit: treeCommit(trees[0]),
    b: trees[1],
    b_commit: treeCommit(trees[1]),
    kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    loops: results,
  };
}

export function pairTable(r: PairReport): string {
  const lines = [`a ${r.a} (${r.a_commit || 'no git'}), b ${r.b} (${r.b_commit || 'no git'}), kernel ${r.kernel}, ${os.cpus().length} CPUs`];
  for (const l of r.loops) {
    const med = (xs: number[]): string => (xs.length ? median(xs).toFixed(3) : '-');
    lines.push('');
    lines.push(
      `${l.loop}: ${l.ops} ops x ${l.rounds} rounds; b/a in-kernel ns/event balanced ${l.balanced} ` +
        `(a attached first: median ${med(l.a_first)} of ${l.a_first.join(' ')}; b first: median ${med(l.b_first)} of ${l.b_first.join(' ')}); ` +
        `ns/event a ${l.a_ns_per_event}, b ${l.b_ns_per_event}; events/op ${l.events_per_op}`,
    );
    for (const p of l.programs) {
      lines.push(`  ${p.program.padEnd(20)} a ${String(p.a_ns_per_op).padStart(6)} ns/op  b ${String(p.b_ns_per_op).padStart(6)} ns/op  b/a ${Number.isNaN(p.ratio) ? '-' : p.ratio.toFixed(3)}`);
    }
  }
  return lines.join('\n');
}
