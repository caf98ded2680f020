// The test and bench cgroup sweeper: what a SIGKILLed run left is removed
// (with a process still inside it and a child cgroup), a live run's is not.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCgroup2Mount } from '../agent/kernel/cgroupfs';
import { sweepOrphanCgroups } from './helpers/kernel';

describe('test helpers: orphaned cgroups of killed runs', () => {
  const made: string[] = [];
  after(() => {
    for (const d of made.reverse()) {
      try {
        fs.writeFileSync(path.join(d, 'cgroup.kill'), '1');
      } catch {
        // gone
      }
      for (const sub of ['inner', '.']) {
        try {
          fs.rmdirSync(path.join(d, sub));
        } catch {
          // gone
        }
      }
    }
  });

  it('removes a dead run\'s tree (process inside killed first) and keeps a live run\'s', async function () {
    if (process.getuid?.() !== 0) throw new Error('needs root to create cgroups');
    const root = findCgroup2Mount();
    const dead = spawnSync('/bin/true').pid as number; // exited: its pid names a run that is gone
    const orphan = path.join(root, `vigil-test-sweep-${dead}-x1`);
    const liveDir = path.join(root, `vigil-test-sweep-${process.ppid}-x2`);
    fs.mkdirSync(path.join(orphan, 'inner'), { recursive: true });
    fs.mkdirSync(liveDir);
    made.push(liveDir, orphan);
    const sleeper = spawn('/bin/sh', ['-c', `echo $$ > "${orphan}/inner/cgroup.procs" && exec sleep 60`], { stdio: 'ignore' });
    const exited = new Promise((r) => sleeper.on('exit', r));
    for (let i = 0; i < 100 && !fs.readFileSync(path.join(orphan, 'inner', 'cgroup.procs'), 'utf8').trim(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(fs.readFileSync(path.join(orphan, 'inner', 'cgroup.procs'), 'utf8').trim(), 'the sleeper is in the orphan cgroup');
    sweepOrphanCgroups('vigil-test-sweep-');
    await exited; // killed by the sweep
    for (let i = 0; i < 50 && fs.existsSync(orphan); i++) {
      await new Promise((r) => setTimeout(r, 20));
      sweepOrphanCgroups('vigil-test-sweep-');
    }
    assert.equal(fs.existsSync(orphan), false, 'the dead run\'s cgroup tree is removed');
    assert.equal(fs.existsSync(liveDir), true, 'a live process\'s cgroup is kept');
    fs.rmdirSync(liveDir);
  });
});
