// Event pipeline benchmark: the cost of watching, per operation, for three
// load loops in a monitored cgroup, bare and with every event streamed into
// JS and decoded. Not a test: it prints a table and writes JSON.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KIND_NAMES, type KindName } from '../agent/kernel/abi';
import { benchCgroup, ownPrograms, programStats } from './helpers';
import { cgroupIdOf } from '../agent/kernel/cgroupfs';
import type { KernelEvent } from '../agent/decode/events';
import { repoRoot } from '../common/repo';
import { Probe } from '../agent/kernel/probe';
import { readerShed } from '../agent/kernel/native';

export interface LoopResult {
  loop: string;
  ops: number;
  bare_ns_per_op: number;
  vigil_ns_per_op: number;
  overhead_pct: number;
  events: number;
  events_per_op: number;
  events_per_s: number;
  drops: number;
  agent_cpu_ns_per_event: number | null;
  in_kernel_ns_per_event: number | null;
  /**
   * reachability's own sys_exit program (vigil_code) alone, during the measured run: its runs and ns per run.
   * It runs on every system call of every task on the machine (not only the loop's), so this is its
   * average cost per system call, not per op. null: not attached.
   */
  code_program: { runs: number; ns_per_run: number } | null;
}

export interface DrainResult {
  events: number;
  seconds: number;
  events_per_s: number;
  drops: number;
}

export interface PipelineReport {
  kernel: string;
  cpus: number;
  pinning: string;
  loops: LoopResult[];
  sustained: { generators: number; events: number; seconds: number; events_per_s: number; drops: number };
  drain: DrainResult;
}

interface Loop {
  name: string;
  args: (n: number) => string[];
  ops: number;
  outOfScope?: boolean;
  /** the kinds watched (default: every kind but code) */
  kinds?: 'all';
  /** the loop's cgroup is a workload's (index 1): runtime reachability watches it */
  workload?: boolean;
}

/** A file an interpreter would read as code (.py): the code program reports it once, then only looks it up. */
const PY_FILE = path.join(os.tmpdir(), 'vigil-bench-module.py');

const LOOPS: Loop[] = [
  // before runtime reachability: the code program is not attached
  { name: 'open+close', args: (n: number) => ['open', String(n), '/etc/hostname'], ops: 1_000_000 },
  // with it (a workload's cgroup, every kind including code): a data file never passes the kernel's filter
  { name: 'open+close, reachability on', args: (n: number) => ['open', String(n), '/etc/hostname'], ops: 1_000_000, kinds: 'all', workload: true },
  // a module read again and again: one code record, then one LRU lookup per open
  { name: 'open+close of a .py, reachability on', args: (n: number) => ['open', String(n), PY_FILE], ops: 1_000_000, kinds: 'all', workload: true },
  // the floor: hooks attached, the load outside the monitored cgroups, nothing emitted
  {
    name: 'open+close, out of scope',
    args: (n: number) => ['open', String(n), '/etc/hostname'],
    ops: 1_000_000,
    outOfScope: true,
  },
  { name: 'fork+exec /bin/true', args: (n: number) => ['exec', String(n), '/bin/true'], ops: 2000 },
  { name: 'connect (closed port)', args: (n: number) => ['connect', String(n), '1'], ops: 200_000 },
];

/** A bench helper program, bench/NAME.c built to build/bench/NAME when missing or older than its source. */
export function benchBinary(name: string, libs: string[] = []): string {
  const root = repoRoot();
  const out = path.join(root, 'build', 'bench', name);
  const src = path.join(root, 'bench', `${name}.c`);
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    execFileSync('gcc', ['-O2', '-Wall', '-o', out, src, ...libs]);
  }
  return out;
}

export const loadgenPath = (): string => benchBinary('loadgen');

/** Run loadgen on CPU `cpu` inside the cgroup; resolves with its JSON line. */
export function runLoad(
  loadgen: string,
  cgroupDir: string,
  args: string[],
  cpu: number,
): Promise<{ ns_per_op: number; errors: number; n: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), loadgen, '--wait', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`loadgen ${args.join(' ')} exited ${code}`));
      resolve(JSON.parse(out) as { ns_per_op: number; errors: number; n: number });
    });
    // taskset execs loadgen in place: same pid
    fs.writeFileSync(path.join(cgroupDir, 'cgroup.procs'), String(child.pid));
    child.stdin.end('g');
  });
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Sum of run_time_ns over the programs of a programStats() snapshot. */
const totalNs = (st: Map<string, { ns: number; runs: number }>): number => [...st.values()].reduce((t, v) => t + v.ns, 0);

function totalDrops(p: Probe): number {
  const s = p.stats();
  let d = readerShed(s.reader) + s.decode.malformed;
  for (const k of KIND_NAMES) d += s.kinds[k].dropped + s.kinds[k].busy;
  return d;
}

function emitted(p: Probe): number {
  const s = p.stats();
  let e = 0;
  for (const k of KIND_NAMES) e += s.kinds[k].emitted;
  return e;
}

async function settle(p: Probe): Promise<void> {
  let last = -1;
  for (let i = 0; i < 400; i++) {
    const r = p.stats().reader;
    if (r.recordsRead === last && r.recordsDelivered + readerShed(r) === r.recordsRead) return;
    last = r.recordsRead;
    await new Promise((res) => setTimeout(res, 25));
  }
}

export async function runPipelineBench(opts: { repeats?: number; quick?: boolean } = {}): Promise<PipelineReport> {
  if (process.geteuid?.() !== 0) throw new Error('the pipeline benchmark needs root (BPF, cgroups)');
  const repeats = opts.repeats ?? 5;
  const scale = opts.quick ? 0.1 : 1;
  const loadgen = loadgenPath();
  const load = benchCgroup('load');
  const idle = benchCgroup('idle');
  const dir = load.dir;
  const elsewhere = idle.dir;
  // the harness (the agent) on CPU 0, every load generator on CPU 1
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const statsWas = fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  const kinds: KindName[] = KIND_NAMES.filter((k) => k !== 'code');
  const loops: LoopResult[] = [];
  fs.writeFileSync(PY_FILE, 'x = 1\n');
  try {
    // VIGIL_BENCH_LOOPS="open+close,open+close, reachability on": only these loops (exact names)
    const pick = process.env.VIGIL_BENCH_LOOPS?.split(/\s*;\s*/).filter((x) => x);
    for (const loop of LOOPS.filter((l) => !pick || pick.includes(l.name))) {
      const n = Math.max(100, Math.round(loop.ops * scale));
      // bare and watched runs alternate, so that drift of the machine hits both alike;
      // a last watched run with kernel.bpf_stats_enabled measures the in-kernel cost
      const bare: number[] = [];
      const watched: number[] = [];
      let events = 0;
      let drops = 0;
      let cpuNs = 0;
      let wallNs = 0;
      let kernelNs = 0;
      let kernelEvents = 0;
      let code: { ns: number; runs: number } | null = null;
      for (let i = 0; i <= repeats; i++) {
        const measureKernel = i === repeats;
        if (!measureKernel) bare.push((await runLoad(loadgen, dir, loop.args(n), 1)).ns_per_op);
        const probe = Probe.load({ kinds: loop.kinds === 'all' ? [...KIND_NAMES] : kinds, cgroups: [loop.outOfScope ? elsewhere : dir] });
        if (loop.workload) probe.setCgroup(cgroupIdOf(dir), 1);
        let delivered = 0;
        probe.start((evs: KernelEvent[]) => {
          delivered += evs.length;
        });
        const progs = ownPrograms();
        if (measureKernel) fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
        const st0 = programStats(progs);
        const e0 = emitted(probe);
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const r = await runLoad(loadgen, dir, loop.args(n), 1);
        await settle(probe);
        const t1 = process.hrtime.bigint();
        const c1 = process.cpuUsage(c0);
        if (measureKernel) {
          const st1 = programStats(progs);
          kernelNs += totalNs(st1) - totalNs(st0);
          kernelEvents += emitted(probe) - e0;
          const code0 = st0.get('vigil_code');
          const code1 = st1.get('vigil_code');
          if (code0 && code1) code = { ns: code1.ns - code0.ns, runs: code1.runs - code0.runs };
          fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
        } else {
          watched.push(r.ns_per_op);
        }
        events += delivered;
        drops += totalDrops(probe);
        cpuNs += (c1.user + c1.system) * 1000;
        wallNs += Number(t1 - t0);
        await probe.close();
      }
      const bareNs = median(bare);
      const vigilNs = median(watched.length ? watched : [NaN]);
      loops.push({
        loop: loop.name,
        ops: n,
        bare_ns_per_op: Math.round(bareNs),
        vigil_ns_per_op: Math.round(vigilNs),
        overhead_pct: Math.round(((vigilNs - bareNs) / bareNs) * 1000) / 10,
        events,
        events_per_op: Math.round((events / (n * (repeats + 1))) * 100) / 100,
        events_per_s: Math.round(events / (wallNs / 1e9)),
        drops,
        // out of scope, the few events are the process life cycle: per-event figures mean nothing
        agent_cpu_ns_per_event: events && !loop.outOfScope ? Math.round(cpuNs / events) : null,
        in_kernel_ns_per_event: kernelEvents && !loop.outOfScope ? Math.round(kernelNs / kernelEvents) : null,
        code_program: code && code.runs ? { runs: code.runs, ns_per_run: Math.round(code.ns / code.runs) } : null,
      });
    }

    // sustained: two open loops at once, one per CPU, the agent competing for CPU 0
    const sustained = await (async () => {
      const probe = Probe.load({ kinds, cgroups: [dir] });
      let delivered = 0;
      probe.start((evs) => (delivered += evs.length));
      const n = Math.round(1_000_000 * scale);
      const t0 = process.hrtime.bigint();
      await Promise.all([
        runLoad(loadgen, dir, ['open', String(n), '/etc/hostname'], 1),
        runLoad(loadgen, dir, ['open', String(n), '/etc/hostname'], 0),
      ]);
      await settle(probe);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const drops = totalDrops(probe);
      await probe.close();
      return { generators: 2, events: delivered, seconds: Math.round(secs * 1000) / 1000, events_per_s: Math.round(delivered / secs), drops };
    })();

    // drain: fill a large ring with the reader stopped, then time the delivery into JS
    const drain = await (async (): Promise<DrainResult> => {
      // a deep JS queue and as deep a hold: this measures how fast JS takes records, not the bounds
      // (past holdBytes, 64 MiB by default, the reader sheds: two thirds of this test's records were)
      const probe = Probe.load({ kinds: ['open'], cgroups: [dir], ringBytes: 512 << 20, queueDepth: 4096, holdBytes: 1 << 30 });
      let delivered = 0;
      let first = 0n;
      let last = 0n;
      probe.start((evs) => {
        if (first === 0n) first = process.hrtime.bigint();
        delivered += evs.length;
        last = process.hrtime.bigint();
      });
      probe.pause();
      const n = Math.round(2_000_000 * scale);
      await runLoad(loadgen, dir, ['open', String(n), '/etc/hostname'], 1);
      const t0 = process.hrtime.bigint();
      probe.resume();
      await settle(probe);
      const secs = Number((last > t0 ? last : t0) - t0) / 1e9;
      const drops = totalDrops(probe);
      await probe.close();
      return { events: delivered, seconds: Math.round(secs * 1000) / 1000, events_per_s: Math.round(delivered / secs), drops };
    })();

    return {
      kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
      cpus: os.cpus().length,
      pinning: 'agent (this process) on CPU 0, load generator on CPU 1',
      loops,
      sustained,
      drain,
    };
  } finally {
    fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
    await load.remove();
    await idle.remove();
    fs.rmSync(PY_FILE, { force: true });
  }
}

export function pipelineTable(r: PipelineReport): string {
  const rows = [
    ['loop', 'bare ns/op', 'vigil ns/op', 'overhead', 'events/op', 'events/s', 'drops', 'agent CPU ns/ev', 'in-kernel ns/ev', 'code prog ns/syscall'],
    ...r.loops.map((l) => [
      l.loop,
      String(l.bare_ns_per_op),
      String(l.vigil_ns_per_op),
      `+${l.overhead_pct}%`,
      String(l.events_per_op),
      String(l.events_per_s),
      String(l.drops),
      String(l.agent_cpu_ns_per_event ?? 'n/a'),
      String(l.in_kernel_ns_per_event ?? 'n/a'),
      l.code_program ? `${l.code_program.ns_per_run} (${l.code_program.runs} runs)` : '-',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const lines = rows.map((row) => row.map((c, i) => c.padEnd(widths[i])).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  lines.push('');
  lines.push(
    `sustained, ${r.sustained.generators} open loops at once: ${r.sustained.events_per_s} events/s delivered into JS, ${r.sustained.drops} drops`,
  );
  lines.push(`drain of a full ring into JS: ${r.drain.events} events in ${r.drain.seconds} s = ${r.drain.events_per_s} events/s, ${r.drain.drops} drops`);
  lines.push(`(${r.pinning}; kernel ${r.kernel}, ${r.cpus} CPUs)`);
  return lines.join('\n');
}
