// `vigil trace` as a user runs it: the real CLI, real events, Ctrl-C.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../common/repo';
import { startVigil } from '../helpers/cli';
import { until } from '../helpers/wait';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges } from '../helpers/kernel';

const COMMON = ['kind', 'time', 'pid', 'ppid', 'uid', 'comm', 'exe', 'args', 'cgroup_id', 'cgroup', 'tty'];
const RFC3339_NS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

describe('vigil trace (CLI)', function () {
  this.timeout(60000);
  let sb: CgroupSandbox;
  let actions: string;
  before(() => {
    requireKernelTestPrivileges();
    actions = fs.realpathSync(helperBinary('actions'));
    sb = CgroupSandbox.create('trace');
  });
  after(async () => {
    if (sb) await sb.cleanup();
  });

  it('streams one JSON object per line with the documented keys, and prints a summary on SIGINT', async () => {
    const cg = sb.child('cli');
    const vigil = await startVigil(['trace', '--cgroup', cg.rel, '--kinds', 'exec,open,connect,exit'], /watching/);
    try {
      const r = sb.spawnIn(cg, actions, ['open:/etc/hostname', 'connect4:127.0.0.1:9', 'exit:3'], { mode: 'exec' });
      assert.equal((await r.done).code, 3);
      await until('the exit event', () => vigil.out().includes('"kind":"exit"'));
      assert.equal(await vigil.stop(), 0, vigil.err());
      const err = vigil.err();
      const lines = vigil.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const mine = lines.filter((l) => l.pid === r.pid);
      const byKind = (k: string) => mine.filter((l) => l.kind === k);

      const exec = byKind('exec')[0];
      assert.deepEqual(Object.keys(exec), [...COMMON, 'cwd']);
      assert.equal(exec.tty, false, 'spawned without a terminal');
      assert.equal(exec.cwd, process.cwd(), 'the working directory it was started in');
      assert.match(String(exec.time), RFC3339_NS);
      assert.equal(exec.exe, actions);
      assert.equal(exec.cgroup, cg.rel);
      assert.equal(exec.cgroup_id, cg.id);
      assert.equal(exec.ppid, process.pid, 'the shell that exec()ed the helper is our child');

      const open = byKind('open').find((l) => l.path === '/etc/hostname');
      assert.ok(open, 'open of /etc/hostname');
      assert.deepEqual(Object.keys(open), [...COMMON, 'path', 'flags']);
      assert.deepEqual(open.flags, ['O_RDONLY']);
      assert.equal(open.exe, actions, 'exe comes from the process cache');
      assert.deepEqual(open.args, exec.args);

      const conn = byKind('connect')[0];
      assert.deepEqual(Object.keys(conn), [...COMMON, 'family', 'daddr', 'dport']);
      assert.deepEqual([conn.family, conn.daddr, conn.dport], ['AF_INET', '127.0.0.1', 9]);

      const exit = byKind('exit')[0];
      assert.deepEqual(Object.keys(exit), [...COMMON, 'exit_code', 'signal']);
      assert.deepEqual([exit.exit_code, exit.signal], [3, null]);

      assert.match(err, /vigil trace: summary/);
      assert.match(err, /open\s+\d+\s+0\s+0/);
      assert.match(err, /0 report-only dropped at the JS queue, 0 life-cycle or urgent dropped past the hold limit/);
    } finally {
      if (vigil.proc.exitCode === null) vigil.proc.kill('SIGKILL');
    }
  });

  it('--output text prints one readable line per event', async () => {
    const cg = sb.child('text');
    const vigil = await startVigil(['trace', '--output', 'text', '--cgroup', cg.dir, '--kinds', 'open', '--duration', '3'], /watching/);
    const r = await sb.run(cg, actions, ['open:/etc/hostname']);
    assert.equal(await vigil.exited, 0, vigil.err());
    const out = vigil.out();
    const line = out.split('\n').find((l) => l.includes(`pid=${r.pid}`) && l.includes('path=/etc/hostname'));
    assert.ok(line, out);
    assert.match(line, new RegExp(`^\\d{2}:\\d{2}:\\d{2}\\.\\d{9}Z open +pid=${r.pid} comm=actions uid=0 cgroup=${cg.rel} exe=${actions} path=/etc/hostname flags=O_RDONLY$`));
  });

  it('as an unprivileged user, says that it needs root instead of failing obscurely', async () => {
    // uid 65534 with no capability but CAP_DAC_READ_SEARCH: an ordinary user of an installation it can read, wherever the
    // clone lives (root's home and a mktemp -d are 0700, which nobody else could enter)
    const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all,+dac_read_search', '--ambient-caps=-all,+dac_read_search'];
    const p = spawn('setpriv', [...asNobody, path.join(repoRoot(), 'bin', 'vigil'), 'trace'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((res) => p.on('close', res));
    assert.equal(code, 1);
    assert.match(err, /vigil trace: needs root \(or CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN\): running as uid 65534/);
  });

  it('clear errors for bad arguments', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((res) => {
        const p = spawn(path.join(repoRoot(), 'bin', 'vigil'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('close', (code) => res({ code, err }));
      });
    const badKind = await run(['trace', '--kinds', 'exec,teleport']);
    assert.equal(badKind.code, 2);
    assert.match(badKind.err, /--kinds: unknown event kind "teleport"/);
    const badCgroup = await run(['trace', '--cgroup', '/no/such/cgroup']);
    assert.equal(badCgroup.code, 1);
    assert.match(badCgroup.err, /resolving cgroup \/no\/such\/cgroup: .* does not exist/);
    const badOutput = await run(['trace', '--output', 'yaml']);
    assert.equal(badOutput.code, 2);
    assert.match(badOutput.err, /--output: expected json or text/);
  });
});
