// The process cache, fed by real exec/fork/exit events.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { ExecEvent, ExitEvent, ForkEvent } from '../../../agent/decode/events';
import { Probe } from '../../../agent/kernel/probe';
import { ProcessCache } from '../../../agent/process/process-cache';
import { readProcEntry } from '../../../agent/process/procfs';
import { CgroupSandbox, EventLog, helperBinary, requireKernelTestPrivileges } from '../../helpers/kernel';

describe('process cache', function () {
  this.timeout(30000);
  let sb: CgroupSandbox;
  let probe: Probe;
  let log: EventLog;
  const cache = new ProcessCache(os.hostname());

  before(() => {
    requireKernelTestPrivileges();
    sb = CgroupSandbox.create('pcache');
    cache.seedFromProc();
    probe = Probe.load({ kinds: ['exec', 'fork', 'exit'], cgroups: [sb.top.dir] });
    log = new EventLog();
    probe.start((evs) => {
      for (const e of evs) {
        cache.observe(e);
        log.all.push(e);
        if (Probe.inScope(e)) log.events.push(e);
      }
    });
  });
  after(async () => {
    if (probe) await probe.close();
    if (sb) await sb.cleanup();
  });

  it('knows this very process from /proc, with its exe and args', () => {
    const me = cache.get(process.pid);
    assert.ok(me, 'seeded');
    assert.equal(me.exe, fs.readlinkSync('/proc/self/exe'));
    assert.deepEqual(me.args, fs.readFileSync('/proc/self/cmdline', 'utf8').replace(/\0$/, '').split('\0'));
    assert.match(me.execId, new RegExp(`^${os.hostname()}:\\d+:${process.pid}$`));
  });

  it('links a child to its parent exec id, follows exec, and forgets on exit', async () => {
    const actions = fs.realpathSync(helperBinary('actions'));
    const cg = sb.child('tree');
    const r = await sb.run(cg, actions, ['fork', 'sleep:50'], { mode: 'exec' });
    const exec = await log.waitFor<ExecEvent>('exec', (e): e is ExecEvent => e.kind === 'exec' && e.pid === r.pid);
    const fork = await log.waitFor<ForkEvent>('fork', (e): e is ForkEvent => e.kind === 'fork' && e.pid === r.pid);
    await log.waitFor<ExitEvent>('exit', (e): e is ExitEvent => e.kind === 'exit' && e.pid === r.pid);
    const parent = cache.get(r.pid);
    const child = cache.get(fork.childPid);
    assert.ok(parent && child);
    assert.equal(parent.execId, `${os.hostname()}:${exec.ktimeNs}:${r.pid}`);
    assert.equal(parent.exe, actions);
    assert.equal(parent.parentExecId, cache.get(process.pid)?.execId, 'the test process is the parent of the shell');
    assert.equal(child.parentExecId, parent.execId);
    assert.equal(child.exe, actions, 'a forked child runs its parent binary until it execs');
    assert.ok(parent.exited && child.exited, 'both exited, kept a little for late lookups');
  });

  it('is bounded: the oldest entries go first', () => {
    const small = new ProcessCache('n', 3, 1);
    const info = readProcEntry(process.pid, 'n');
    assert.ok(info);
    const base = { flags: 0, ktimeNs: 1n, tid: 0, uid: 0, gid: 0, cgroupId: 1, comm: 'x', workload: 0, procFlags: 0 };
    for (let pid = 100; pid < 105; pid++) {
      small.observe({ ...base, kind: 'exec', pid, ppid: 1, exe: `/bin/${pid}`, args: [], argc: 0, startNs: 1n, exeIno: 0n, exeDev: 0, exeCtimeNs: 0n, rule: 0, exeFlags: 0 });
    }
    assert.equal(small.stats().live, 3);
    assert.equal(small.stats().evictions, 2);
    assert.equal(small.get(100), undefined);
    assert.equal(small.get(104)?.exe, '/bin/104');
  });

  it('ancestors: nearest first, through exited parents, never through a reused pid', () => {
    const c = new ProcessCache('n');
    const base = { flags: 0, tid: 0, uid: 0, gid: 0, cgroupId: 1, comm: 'x', workload: 0, procFlags: 0 };
    const exec = (pid: number, ppid: number, exe: string, t: bigint): void =>
      c.observe({ ...base, ktimeNs: t, kind: 'exec', pid, ppid, exe, args: [exe], argc: 1, startNs: t, exeIno: 0n, exeDev: 0, exeCtimeNs: 0n, rule: 0, exeFlags: 0 });
    const fork = (pid: number, child: number, t: bigint): void => c.observe({ ...base, ktimeNs: t, kind: 'fork', pid, childPid: child, childStartNs: t });
    const exit = (pid: number, t: bigint): void => c.observe({ ...base, ktimeNs: t, kind: 'exit', pid, status: 0, startNs: 0n });
    exec(10, 1, '/usr/sbin/nginx', 1n);
    fork(10, 11, 2n);
    exec(11, 10, '/usr/bin/php', 3n);
    fork(11, 12, 4n);
    exec(12, 11, '/bin/sh', 5n);
    assert.deepEqual(c.ancestors(12).map((p) => p.exe), ['/usr/bin/php', '/usr/sbin/nginx'], 'pid 1 is not known here: the chain ends');
    // php exits: still an ancestor while the cache keeps it
    exit(11, 6n);
    assert.deepEqual(c.ancestors(12).map((p) => p.exe), ['/usr/bin/php', '/usr/sbin/nginx']);
    // pid 11 is reused by an unrelated process: it is not sh's parent
    exec(11, 1, '/usr/bin/innocent', 7n);
    assert.deepEqual(c.ancestors(12).map((p) => p.exe), [], 'the stranger with the old pid ends the chain');
    assert.deepEqual(c.ancestors(12, 0), []);
    assert.deepEqual(c.ancestors(999), [], 'unknown process');
    // a loop of ppids (a lying or corrupt record) is bounded
    exec(20, 21, '/a', 1n);
    exec(21, 20, '/b', 1n);
    assert.ok(c.ancestors(21).length <= 32);
  });
});
