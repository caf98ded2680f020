// What the benchmarks share: a cgroup of their own under the cgroup v2 root,
// emptied (cgroup.kill) and removed however the benchmark ends.
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
