// The test and bench cgroup sweeper: what a SIGKILLed run left is removed
// (with a process still inside it and a child cgroup), a live run's is not.
// The kernel e2e tests' fixture: everything it made is removed when the
// agent fails to start and when one clean-up step fails. The container
// helper's storage a killed run left (with a mount inside) is removed too.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findCgroup2Mount } from '../agent/kernel/cgroupfs';
import { AgentFixture } from './helpers/agent';
import { sweepOrphanCgroups } from './helpers/kernel';
import { sweepOrphanPodmanDirs } from './helpers/containers';

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

describe('test helpers: AgentFixture cleans up everything, also after a failure', () => {
  it('an agent that fails to start, a deferred step that throws: the rest still runs and nothing is left', async function () {
    this.timeout(20000);
    const fx = AgentFixture.create('fixture', 'spiffe://test.vigil/ns/fixture');
    let presentBeforeUndo: boolean | undefined;
    try {
      const w = fx.workload('w');
      fs.writeFileSync(path.join(fx.tmp, 'kept-until-cleanup'), 'x');
      fx.defer('checking the sandbox is still there', () => {
        presentBeforeUndo = fs.existsSync(w.dir) && fs.existsSync(path.join(fx.tmp, 'kept-until-cleanup'));
      });
      fx.defer('a step that fails', () => {
        throw new Error('boom');
      });
      await assert.rejects(fx.start('rules:\n  - name: broken\n    on: no-such-kind\n    match: {}\n    action: alert\n'), /rules\.yaml:3:9: rule "broken": on: expected one of/);
      assert.ok(fx.agentDir && fs.existsSync(path.join(fx.agentDir, 'identities.yaml')), 'the identities were written for the agent');
      assert.match(fs.readFileSync(path.join(fx.agentDir, 'identities.yaml'), 'utf8'), new RegExp(`spiffe_id: spiffe://test.vigil/ns/fixture/sa/w\\n    cgroups: \\[${w.rel.slice(1)}\\]`));
      assert.throws(() => fx.h, /the fixture fixture's agent was not started/);
    } finally {
      await assert.rejects(fx.cleanup(), /^Error: a step that fails: boom$/);
    }
    // undone last made first: the failing step ran before this check, the check before the sandbox and temp dir went
    assert.equal(presentBeforeUndo, true, 'the step deferred before the failing one ran, and before the sandbox and temp dir were removed');
    assert.equal(fs.existsSync(fx.sb.top.dir), false, 'the cgroup sandbox is removed');
    assert.equal(fs.existsSync(fx.tmp), false, 'the temporary directory is removed');
    assert.equal(fs.existsSync(fx.agentDir ?? ''), false, 'the agent\'s rules directory is removed');
    await fx.cleanup(); // a second clean-up has nothing left to do
  });
});

describe('test helpers: container storage of killed runs', () => {
  it('a dead run\'s podman storage is unmounted and removed; a live run\'s and an unowned one are kept', function () {
    if (process.getuid?.() !== 0) throw new Error('needs root to mount');
    // a private temp root, so that the sweep sees only what this test made
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sweep-'));
    const dead = spawnSync('/bin/true').pid as number;
    const orphan = path.join(tmp, 'vigil-podman-x-dead');
    const live = path.join(tmp, 'vigil-podman-x-live');
    const unowned = path.join(tmp, 'vigil-podman-x-new');
    const mnt = path.join(orphan, 'root', 'overlay');
    try {
      fs.mkdirSync(mnt, { recursive: true });
      fs.writeFileSync(path.join(orphan, 'owner.pid'), String(dead));
      fs.mkdirSync(live);
      fs.writeFileSync(path.join(live, 'owner.pid'), String(process.ppid));
      fs.mkdirSync(unowned);
      execFileSync('mount', ['-t', 'tmpfs', 'vigil-sweep', mnt]);
      sweepOrphanPodmanDirs(tmp);
      assert.equal(fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${mnt} `), false, 'the dead run\'s mount is gone');
      assert.equal(fs.existsSync(orphan), false, 'its storage is removed');
      assert.equal(fs.existsSync(live), true, 'a live owner\'s storage is kept');
      assert.equal(fs.existsSync(unowned), true, 'storage without an owner file (being made) is kept');
    } finally {
      if (fs.readFileSync('/proc/self/mounts', 'utf8').includes(` ${mnt} `)) execFileSync('umount', ['-l', mnt]);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
