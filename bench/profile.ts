// Where the in-kernel time goes, source line by source line. `bench kernel`
// says how much each program costs; this says which lines of bpf/ the time is
// spent on: perf samples (cpu-clock) on the loop's CPU while one loop runs,
// mapped to source lines through the JIT's line table, which bench/jitlines.c
// reads while the programs are still loaded. perf's own annotation of BPF
// programs needs a perf and bpftool built with a disassembler, which Debian's
// are not. A sample lands on the instruction after a slow one about as often
// as on it: read a hot line together with the line before it.
//
// Not a test: it prints a table and writes JSON. Needs root, perf and libbpf.
// VIGIL_BENCH_LOOPS picks loops as for `bench kernel`; --tree=DIR profiles
// another checkout's build.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchCgroup, ownPrograms } from './helpers';
import { type AnyProbe, loadTree, pickLoops, treeDir } from './kernel';
import { benchBinary, loadgenPath } from './pipeline';

/** The CPU the loop runs on (perf records that CPU only). */
const CPU = 1;
/** Kernel functions the programs call (helpers and what they run): counted apart from the programs. */
const HELPERS = new Set([
  '__bpf_ringbuf_reserve', 'bpf_ringbuf_output', 'bpf_ringbuf_query', 'bpf_ringbuf_reserve', 'bpf_ringbuf_submit',
  'bpf_probe_read_kernel', 'bpf_probe_read_user', 'bpf_probe_read_user_str', 'bpf_probe_read_kernel_str',
  'copy_from_kernel_nofault', 'copy_from_kernel_nofault_allowed', 'strncpy_from_user_nofault', 'copy_from_user_nofault',
  'bpf_ktime_get_boot_ns', 'ktime_get_boot_fast_ns', 'bpf_get_current_task_btf', 'bpf_task_storage_get',
  'bpf_get_current_ancestor_cgroup_id', 'bpf_get_current_cgroup_id', 'bpf_get_current_pid_tgid', 'bpf_send_signal',
  'bpf_trace_run2', 'bpf_trace_run3', '__bpf_trace_sys_exit',
]);

export interface ProfileLoopResult {
  loop: string;
  seconds: number;
  /** samples of the loop's processes on its CPU */
  samples: number;
  events: number;
  bpf_programs: number;
  bpf_helpers: number;
  /** share of the loop's CPU time in the programs and in what they call */
  bpf_share: number;
  programs: { program: string; samples: number; share: number }[];
  helpers: { helper: string; samples: number }[];
  /** the programs' samples by source line, hottest first */
  lines: { line: string; samples: number; share: number }[];
}

export interface ProfileReport {
  tree: string;
  kernel: string;
  loops: ProfileLoopResult[];
}

interface JitLine {
  addr: bigint;
  line: string;
}

function jitLines(ids: number[]): JitLine[] {
  const out = execFileSync(benchBinary('jitlines', ['-lbpf']), ids.map(String), { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines: JitLine[] = [];
  for (const l of out.split('\n')) {
    const [a, b] = l.split(' ');
    if (!a || a === 'func' || !b) continue;
    lines.push({ addr: BigInt('0x' + a), line: b });
  }
  return lines.sort((x, y) => (x.addr < y.addr ? -1 : x.addr > y.addr ? 1 : 0));
}

/** The line-table entry at or before addr (binary search), or undefined. */
function lineOf(table: JitLine[], addr: bigint): string | undefined {
  let lo = 0;
  let hi = table.length - 1;
  let hit = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (table[mid].addr <= addr) {
      hit = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return hit >= 0 ? table[hit].line : undefined;
}

const waitExit = (child: ReturnType<typeof spawn>, what: string): Promise<void> =>
  new Promise((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`${what}: ${err.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited ${code}`))));
  });

export async function runProfileBench(opts: { tree?: string; seconds?: number; loops?: string[]; top?: number } = {}): Promise<ProfileReport> {
  if (process.geteuid?.() !== 0) throw new Error('the profile bench needs root (BPF, cgroups, perf on a CPU)');
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('the profile bench needs perf (apt-get install linux-perf)');
  }
  const tree = treeDir(opts.tree);
  const seconds = opts.seconds ?? 10;
  const top = opts.top ?? 25;
  const { probe: mod, kinds } = loadTree(tree);
  const loops = pickLoops('profile', opts.loops);
  const loadgen = loadgenPath();
  const results: ProfileLoopResult[] = [];
  for (const loop of loops) {
    const cg = benchCgroup('profile');
    const data = path.join(os.tmpdir(), `vigil-profile-${process.pid}.data`);
    let events = 0;
    let probe: AnyProbe | undefined;
    let load: ReturnType<typeof spawn> | undefined;
    let table: JitLine[] = [];
    try {
      probe = mod.Probe.load({ kinds, cgroups: [cg.dir] });
      probe.start((evs) => (events += evs.length));
      // as many operations as it takes: stopped when perf is done
      load = spawn('taskset', ['-c', String(CPU), loadgen, '--wait', ...loop.args(loop.ops * 10_000)], { stdio: ['pipe', 'ignore', 'inherit'] });
      load.on('error', () => undefined);
      fs.writeFileSync(path.join(cg.dir, 'cgroup.procs'), String(load.pid));
      load.stdin?.end('g');
      const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '10000', '-C', String(CPU), '-o', data, '--', 'sleep', String(seconds)], {
        stdio: 'inherit',
      });
      await waitExit(perf, 'perf record');
      // the line table while the programs are loaded: addresses are this load's
      table = jitLines([...ownPrograms().keys()]);
    } finally {
      load?.kill('SIGKILL');
      await probe?.close();
      await cg.remove();
    }
    let script: string;
    try {
      script = execFileSync('perf', ['script', '-i', data, '-F', 'comm,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    } finally {
      fs.rmSync(data, { force: true });
      fs.rmSync(data + '.old', { force: true });
    }
    // the loop's processes: loadgen, and for the exec loop the program it runs
    const args = loop.args(1);
    const comms = new Set(args[0] === 'exec' ? ['loadgen', path.basename(args[args.length - 1])] : ['loadgen']);
    const bySym = new Map<string, number>();
    const byLine = new Map<string, number>();
    let samples = 0;
    for (const l of script.split('\n')) {
      const f = l.trim().split(/\s+/);
      if (f.length < 3 || !comms.has(f[0])) continue;
      samples++;
      bySym.set(f[2], (bySym.get(f[2]) ?? 0) + 1);
      if (f[2].startsWith('bpf_prog_')) {
        const where = lineOf(table, BigInt('0x' + f[1])) ?? '?';
        byLine.set(where, (byLine.get(where) ?? 0) + 1);
      }
    }
    let progSamples = 0;
    const programs: ProfileLoopResult['programs'] = [];
    const helpers: ProfileLoopResult['helpers'] = [];
    for (const [sym, n] of bySym) {
      if (sym.startsWith('bpf_prog_')) {
        progSamples += n;
        programs.push({ program: sym.replace(/^bpf_prog_[0-9a-f]+_/, ''), samples: n, share: 0 });
      } else if (HELPERS.has(sym)) helpers.push({ helper: sym, samples: n });
    }
    const helperSamples = helpers.reduce((a, h) => a + h.samples, 0);
    for (const p of programs) p.share = progSamples ? p.samples / progSamples : 0;
    const lines = [...byLine.entries()]
      .map(([line, n]) => ({ line, samples: n, share: progSamples ? n / progSamples : 0 }))
      .sort((a, b) => b.samples - a.samples)
      .slice(0, top);
    results.push({
      loop: loop.name,
      seconds,
      samples,
      events,
      bpf_programs: progSamples,
      bpf_helpers: helperSamples,
      bpf_share: samples ? (progSamples + helperSamples) / samples : 0,
      programs: programs.sort((a, b) => b.samples - a.samples),
      helpers: helpers.sort((a, b) => b.samples - a.samples),
      lines,
    });
  }
  return { tree, kernel: os.release(), loops: results };
}

const pct = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`;

export function profileTable(r: ProfileReport): string {
  const out: string[] = [`tree ${r.tree}, kernel ${r.kernel}`];
  for (const l of r.loops) {
    out.push('');
    out.push(
      `${l.loop}: ${l.seconds} s, ${l.samples} samples of its processes, ${l.events} events; ` +
        `BPF programs ${l.bpf_programs} samples + what they call ${l.bpf_helpers} = ${pct(l.bpf_share, 2)} of its CPU time`,
    );
    for (const p of l.programs) out.push(`  ${p.program.padEnd(24)} ${String(p.samples).padStart(7)}  ${pct(p.share).padStart(6)} of the programs'`);
    for (const h of l.helpers.slice(0, 8)) out.push(`  (${h.helper})`.padEnd(27) + `${String(h.samples).padStart(7)}`);
    out.push('  hottest source lines (share of the programs\' samples):');
    for (const x of l.lines) out.push(`    ${x.line.padEnd(26)} ${String(x.samples).padStart(7)}  ${pct(x.share).padStart(6)}`);
  }
  return out.join('\n');
}
