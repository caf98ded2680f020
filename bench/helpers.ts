// What the benchmarks share: a cgroup of their own under the cgroup v2 root,
// emptied (cgroup.kill) and removed however the benchmark ends.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCgroup2Mount } from '../agent/kernel/cgroupfs';
import { sweepOrphanCgroups } from '../test/helpers/kernel';

export interface BenchCgroup {
  /** absolute directory */
  dir: string;
  /** relative to the cgroup v2 root */
  rel: string;
  /** kill what is left in it, then remove it (retrying while the kernel frees it) */
  remove(): Promise<void>;
}

export function benchCgroup(label: string): BenchCgroup {
  sweepOrphanCgroups('vigil-bench-');
  const rel = `vigil-bench-${label}-${process.pid}`;
  const dir = path.join(findCgroup2Mount(), rel);
  fs.mkdirSync(dir);
  return {
    dir,
    rel,
    remove: async () => {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
      } catch {
        // empty already, or gone
      }
      for (let i = 0; i < 50; i++) {
        try {
          fs.rmdirSync(dir);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    },
  };
}

/** This process's BPF programs: prog_id -> (fd, name). */
export function ownPrograms(): Map<number, { fd: string; name: string }> {
  const names = new Map<number, string>();
  const shown = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as { id: number; name?: string }[];
  for (const p of shown) names.set(p.id, p.name ?? `id ${p.id}`);
  const out = new Map<number, { fd: string; name: string }>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:bpf-prog') continue;
      const m = /^prog_id:\s+(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (m) out.set(Number(m[1]), { fd, name: names.get(Number(m[1])) ?? `id ${m[1]}` });
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** run_time_ns and run_cnt of each of them, by name (summed over programs of one name; needs kernel.bpf_stats_enabled=1). */
export function programStats(progs: Map<number, { fd: string; name: string }>): Map<string, { ns: number; runs: number }> {
  const s = new Map<string, { ns: number; runs: number }>();
  for (const { fd, name } of progs.values()) {
    const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const get = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    const prev = s.get(name) ?? { ns: 0, runs: 0 };
    s.set(name, { ns: prev.ns + get('run_time_ns'), runs: prev.runs + get('run_cnt') });
  }
  return s;
}
