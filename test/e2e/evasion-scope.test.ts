// Issue 9, "workload scope and identity that cannot be shed or exhausted",
// tried the way an attacker inside a workload would, on the real kernel:
// create cgroups until the kernel's table is full and hide in a new one;
// write the own pid into the root's or another workload's cgroup.procs, then
// run a shell, write below a protected directory, reach a denied port.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCgroup2Mount } from '../../agent/kernel/cgroupfs';
import { AgentFixture } from '../helpers/agent';
import type { CgroupHandle } from '../helpers/kernel';
import { until } from '../helpers/wait';

const TD = 'spiffe://test.vigil/ns/scope';

describe('workload scope that cannot be shed or exhausted (issue 9 items 1-2)', function () {
  this.timeout(120000);
  let fx: AgentFixture;
  let w: CgroupHandle;
  let other: CgroupHandle;
  let killer: CgroupHandle;
  let idle: CgroupHandle;

  before(async function () {
    fx = AgentFixture.create('scope', TD);
    w = fx.workload('w');
    other = fx.workload('other');
    killer = fx.workload('killer');
    idle = fx.sb.child('idle');
    fs.mkdirSync(path.join(fx.tmp, 'bin'));
    const rules = `
lists:
  shells: [/bin/sh, /bin/bash, /usr/bin/sh, /usr/bin/bash, /bin/dash, /usr/bin/dash]
rules:
  - name: no-shell
    workload: [${TD}/sa/w, ${TD}/sa/killer]
    on: exec
    match: { binary: { in: $shells } }
    action: kill
  - name: no-writes-below-bin
    workload: ${TD}/sa/w
    on: open
    match: { path: { prefix: [${fx.tmp}/bin/] }, flags: { any: [write, create] } }
    action: kill
  - name: no-port-9
    workload: ${TD}/sa/w
    on: connect
    match: { destination: { cidr: [127.0.0.1/32], port: [9] } }
    action: deny
  - name: leave-workload
    workload: ${TD}/sa/w
    on: migrate
    match: {}
    action: alert
    priority: critical
  - name: leave-kills
    workload: ${TD}/sa/killer
    on: migrate
    match: {}
    action: kill
`;
    // a cgroups map far smaller than what the workload will create
    await fx.start(rules, { maxCgroups: 64 });
  });

  after(() => fx?.cleanup());

  it('a workload that creates 300 cgroups (and one 70 levels deep) cannot fill the map; a shell and a write in the newest are still killed', async () => {
    for (let i = 0; i < 300; i++) fx.sb.child(`w/flood-${i}`);
    let deep = 'w';
    for (let i = 0; i < 70; i++) deep += `/d${i}`;
    const deepest = fx.sb.child(deep);
    const newest = fx.sb.child('w/flood-299/newest');
    await new Promise((r) => setTimeout(r, 200));
    const entries = fx.h.agent.probe.readMap('cgroups').count;
    assert.ok(entries <= 8, `the kernel map holds only the cgroups that name a workload of their own: ${entries} entries`);
    assert.doesNotMatch(fx.h.stderr, /could not be put in the kernel's cgroups map/);
    for (const cg of [newest, deepest]) {
      const shell = await fx.sb.spawnIn(cg, '/bin/sh', ['-c', 'echo ran'], { mode: 'exec' }).done;
      assert.equal(shell.signal, 'SIGKILL', `a shell in ${cg.rel.slice(-40)} dies at exec`);
      assert.equal(shell.stdout, '');
      const write = await fx.sb.spawnIn(cg, fx.actions, [`creat:${fx.tmp}/bin/planted`]).done;
      assert.equal(write.signal, 'SIGKILL', 'a write below the protected directory dies');
    }
    const shells = fx.h.alerts.filter((a) => a.rule === 'no-shell');
    assert.ok(shells.length >= 2 && shells.every((a) => a.workload.spiffe_id === `${TD}/sa/w` && a.outcome === 'killed'));
  });

  it('leaving for the root cgroup is an event; the shell, the write and the port are still refused there', async () => {
    const root = findCgroup2Mount();
    const s = fx.sb.spawnIn(w, fx.actions, [
      `cgmove:${root}`,
      'connect4:127.0.0.1:9',
      `creat:${fx.tmp}/bin/planted-from-root`,
    ]);
    const f = await s.done;
    assert.equal(f.signal, 'SIGKILL', 'the write below the protected directory killed it, outside its cgroups');
    assert.match(f.stderr, /actions: connect 127\.0\.0\.1: Operation not permitted/, 'the denied port was refused with EPERM');
    const leave = await fx.h.waitFor('leave-workload', (a) => a.rule === 'leave-workload' && a.process.pid === s.pid);
    assert.equal(leave.workload.spiffe_id, `${TD}/sa/w`);
    assert.equal(leave.workload.moved, true);
    assert.equal(leave.event.to_cgroup, '/');
    assert.equal(leave.event.writer_pid, s.pid, 'it moved itself');
    const mine = await fx.h.settledFor(s.pid);
    assert.deepEqual(
      mine.map((a) => [a.rule, a.outcome, a.workload.spiffe_id, a.workload.moved ?? false]).sort(),
      [
        ['leave-workload', 'alerted', `${TD}/sa/w`, true],
        ['no-port-9', 'denied', `${TD}/sa/w`, true],
        ['no-writes-below-bin', 'killed', `${TD}/sa/w`, true],
      ].sort(),
    );
    // and a shell exec'd after leaving
    const sh = await fx.sb.spawnIn(w, fx.actions, [`cgmove:${root}`, 'exec:/bin/sh:-c:echo ran']).done;
    assert.equal(sh.signal, 'SIGKILL', 'the shell exec\'d after leaving never runs');
    assert.equal(sh.stdout.includes('ran'), false);
  });

  it('moving into another workload keeps the first one; its children are born with it', async () => {
    const s = await fx.sb.spawnIn(w, fx.actions, [`cgmove:${other.dir}`, 'fork', 'exec:/bin/sh:-c:echo ran']).done;
    assert.equal(s.signal, 'SIGKILL', 'judged as w: the shell dies although other has no shell rule');
    const leave = await fx.h.waitFor('leave into other', (a) => a.rule === 'leave-workload' && a.event.to_cgroup === other.rel);
    assert.equal(leave.workload.spiffe_id, `${TD}/sa/w`);
  });

  it('moved by another process: the event names the writer, and a kill rule kills the moved process', async () => {
    const victim = fx.sb.spawnIn(killer, fx.actions, ['sleep:5000', 'exit:0']);
    await until('the victim sits in killer', () => fs.readFileSync(path.join(killer.dir, 'cgroup.procs'), 'utf8').includes(String(victim.pid)), 3000);
    // the test process (in no workload) moves it out
    fs.writeFileSync(path.join(idle.dir, 'cgroup.procs'), String(victim.pid));
    const f = await victim.done;
    assert.equal(f.signal, 'SIGKILL', 'killed as it was moved');
    const a = await fx.h.waitFor('leave-kills', (x) => x.rule === 'leave-kills' && x.process.pid === victim.pid);
    assert.equal(a.outcome, 'killed');
    assert.equal(a.event.writer_pid, process.pid);
    assert.match(a.note ?? '', /killed in the kernel as it was moved out of its workload/);
  });

  it('control: deeper into its own subtree is no move, and a harmless program runs', async () => {
    const sub = fx.sb.child('w/sub');
    const s = await fx.sb.run(w, fx.actions, [`cgmove:${sub.dir}`, `open:/etc/hostname`]);
    assert.equal(s.code, 0);
    const mine = await fx.h.settledFor(s.pid);
    assert.deepEqual(mine.map((a) => a.rule), []);
  });

  it('a full cgroups map (more workloads of their own than it holds) is counted and logged, never fatal', async () => {
    const many = AgentFixture.create('scope-full', TD);
    try {
      const m0 = many.workload('many-0');
      for (let i = 1; i < 40; i++) many.workload(`many-${i}`);
      const h2 = await many.start(
        `rules:\n  - name: no-shell\n    workload: ${TD}/**\n    on: exec\n    match: { binary: { in: [/bin/sh, /usr/bin/sh, /bin/dash, /usr/bin/dash] } }\n    action: kill\n`,
        { maxCgroups: 16 },
      );
      assert.match(h2.stderr, /could not be put in the kernel's cgroups map, it keeps its nearest mapped ancestor's scope: .*E2BIG/);
      const m = await h2.agent.metrics.registry.getSingleMetricAsString('vigil_cgroup_map_errors_total');
      const errors = Number(/vigil_cgroup_map_errors_total (\d+)/.exec(m)?.[1]);
      assert.ok(errors >= 24, `${errors} refusals counted`);
      // the agent keeps working: a mapped workload's shell is still killed
      const shell = await many.sb.spawnIn(m0, '/bin/sh', ['-c', 'true'], { mode: 'exec' }).done;
      assert.equal(shell.signal, 'SIGKILL');
      assert.equal(h2.agent.pipeline.stats.errors, 0);
    } finally {
      await many.cleanup();
    }
  });
});
