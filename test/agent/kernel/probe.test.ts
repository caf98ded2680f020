// Every event kind, caused by a real process in a real cgroup, seen through
// the real probes, reader and decoder.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KIND_NAMES } from '../../../agent/kernel/abi';
import type {
  ConnectEvent,
  EventOfKind,
  ExecEvent,
  ExitEvent,
  FileEvent,
  ForkEvent,
  KernelEvent,
  PrivEvent,
  SysEvent,
} from '../../../agent/decode/events';
import { openFlagNames } from '../../../agent/export/trace-record';
import { Probe } from '../../../agent/kernel/probe';
import { CgroupSandbox, EventLog, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../../helpers/kernel';

describe('kernel probes: one event per kind, from a real process in a real cgroup', function () {
  this.timeout(30000);
  let sandbox: CgroupSandbox;
  let probe: Probe;
  let log: EventLog;
  let actions: string;
  let tmp: string;
  let n = 0;
  const fresh = (): CgroupHandle => sandbox.child(`case${++n}`);

  before(function () {
    requireKernelTestPrivileges();
    actions = fs.realpathSync(helperBinary('actions'));
    sandbox = CgroupSandbox.create('probe');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-probe-'));
    probe = Probe.load({ kinds: [...KIND_NAMES], cgroups: [sandbox.top.dir] });
    log = new EventLog().attach(probe);
  });

  after(async function () {
    if (probe) await probe.close();
    if (sandbox) await sandbox.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const isKind =
    <K extends KernelEvent['kind']>(kind: K, pid: number, extra: (e: EventOfKind<K>) => boolean = () => true) =>
    (e: KernelEvent): e is EventOfKind<K> =>
      e.kind === kind && e.pid === pid && extra(e as EventOfKind<K>);

  it('exec: pid, ppid, uid, cgroup, canonical exe and argv', async () => {
    const cg = fresh();
    const r = await sandbox.run(cg, actions, ['sleep:1', 'sleep:2'], { mode: 'exec' });
    const ev = await log.waitFor<ExecEvent>('exec', isKind('exec', r.pid));
    assert.equal(ev.cgroupId, cg.id);
    assert.equal(ev.exe, actions);
    assert.deepEqual(ev.args, [actions, 'sleep:1', 'sleep:2']);
    assert.equal(ev.argc, 3);
    assert.equal(ev.ppid, process.pid, 'the shell that exec()ed was our child');
    assert.equal(ev.uid, 0);
    assert.equal(ev.comm, 'actions');
    assert.ok(ev.startNs > 0n && ev.startNs <= ev.ktimeNs);
  });

  it('exec through a symlink reports the file really executed', async () => {
    const cg = fresh();
    const link = path.join(tmp, 'innocent-name');
    fs.symlinkSync(actions, link);
    const r = await sandbox.run(cg, link, ['sleep:1'], { mode: 'exec' });
    const ev = await log.waitFor<ExecEvent>('exec', isKind('exec', r.pid));
    assert.equal(ev.exe, actions);
    assert.equal(ev.args[0], link);
  });

  it('exec: exe and cwd on another mount (the walk crosses it), and a cwd deeper than a path may be is flagged cut', async () => {
    // the exec walks read dentries with plain loads until a mount crossing, then one probe read a level
    const mnt = path.join(tmp, 'exec-mnt');
    fs.mkdirSync(mnt);
    const { execFileSync } = await import('node:child_process');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'vigil-probe', mnt]);
    try {
      const dir = path.join(mnt, 'a', 'bb', 'a-name-longer-than-the-inline-forty-bytes-of-a-dentry', 'c');
      fs.mkdirSync(dir, { recursive: true });
      const exe = path.join(dir, 'actions-copy');
      fs.copyFileSync(actions, exe);
      fs.chmodSync(exe, 0o755);
      const cg = fresh();
      const r = await sandbox.run(cg, exe, ['exit:0'], { mode: 'exec', cwd: dir });
      const ev = await log.waitFor<ExecEvent>('exec', isKind('exec', r.pid));
      assert.equal(ev.exe, exe, 'the exe path crosses from the tmpfs into the root mount');
      assert.equal(ev.cwd, dir, 'so does the cwd');

      // 70 levels: the cwd string is cut (64 levels at most), and says so instead of naming a wrong directory
      let deep = mnt;
      for (let i = 0; i < 70; i++) deep = path.join(deep, 'd');
      fs.mkdirSync(deep, { recursive: true });
      const r2 = await sandbox.run(cg, exe, ['exit:0'], { mode: 'exec', cwd: deep });
      const ev2 = await log.waitFor<ExecEvent>('exec in a deep cwd', isKind('exec', r2.pid));
      assert.equal(ev2.exe, exe);
      assert.equal(ev2.cwd, null, 'a cut cwd is unknown, not a wrong directory');
    } finally {
      execFileSync('umount', ['-l', mnt]);
    }
  });

  it('exec: an exe and a cwd of 56 to 72 bytes are whole, and the arguments after the exe intact', async () => {
    const cg = fresh();
    const base = path.join(tmp, 'len');
    fs.mkdirSync(base);
    assert.ok(base.length < 50, `${base}: room for the lengths tried`);
    for (let want = 56; want <= 72; want++) {
      const dir = path.join(base, 'd'.repeat(want - base.length - 1));
      const exe = path.join(base, 'e'.repeat(want - base.length - 1));
      fs.mkdirSync(dir);
      fs.copyFileSync(actions, exe);
      fs.chmodSync(exe, 0o755);
      assert.deepEqual([dir.length, exe.length], [want, want]);
      const r = await sandbox.run(cg, exe, ['exit:0', `after-${want}`], { mode: 'exec', cwd: dir });
      const ev = await log.waitFor<ExecEvent>(`exec of a ${want}-byte path`, isKind('exec', r.pid));
      assert.equal(ev.exe, exe, `${want} bytes: the exe`);
      assert.equal(ev.cwd, dir, `${want} bytes: the cwd`);
      assert.deepEqual(ev.args.slice(1), ['exit:0', `after-${want}`], `${want} bytes: the arguments`);
    }
  });

  it('fork: parent and child pids', async () => {
    const cg = fresh();
    const r = await sandbox.run(cg, actions, ['fork']);
    const ev = await log.waitFor<ForkEvent>('fork', isKind('fork', r.pid));
    assert.equal(ev.cgroupId, cg.id);
    assert.ok(ev.childPid > 0 && ev.childPid !== r.pid);
    const childExit = await log.waitFor<ExitEvent>('exit of the child', isKind('exit', ev.childPid));
    assert.equal(childExit.status >> 8, 0);
  });

  it('exit: exit code, and the signal of a killed process', async () => {
    const cg = fresh();
    const spawned = sandbox.spawnIn(cg, actions, ['exit:7']);
    await spawned.done;
    const ev = await log.waitFor<ExitEvent>('exit', isKind('exit', spawned.pid));
    assert.equal(ev.cgroupId, cg.id);
    assert.equal((ev.status >> 8) & 0xff, 7);
    assert.equal(ev.status & 0x7f, 0);

    const sleeper = sandbox.spawnIn(cg, actions, ['sleep:10000']);
    await new Promise((res) => setTimeout(res, 50));
    process.kill(sleeper.pid, 'SIGKILL');
    await sleeper.done;
    const killed = await log.waitFor<ExitEvent>('exit by SIGKILL', isKind('exit', sleeper.pid));
    assert.equal(killed.status & 0x7f, 9);
  });

  it('open: absolute, cwd-relative with .., and through a symlink all give the canonical path', async () => {
    const cg = fresh();
    const target = path.join(tmp, 'real.txt');
    fs.writeFileSync(target, 'x');
    fs.symlinkSync(target, path.join(tmp, 'alias.txt'));
    fs.mkdirSync(path.join(tmp, 'sub'));
    const r = await sandbox.run(cg, actions, ['open:/etc/hostname', 'chdir:' + path.join(tmp, 'sub'), 'open:../real.txt', 'open:../alias.txt:1']);
    const evs = () => log.of(r.pid).filter((e): e is FileEvent => e.kind === 'open');
    await log.waitFor<FileEvent>('open of alias', isKind('open', r.pid, (e) => (e.openFlags & 3) === 1));
    const opens = evs();
    assert.equal(opens.length, 3, JSON.stringify(opens.map((o) => o.path)));
    assert.equal(opens[0].path, '/etc/hostname');
    assert.deepEqual(openFlagNames(opens[0].openFlags), ['O_RDONLY']);
    assert.equal(opens[1].path, target, 'relative name resolved against the real cwd');
    assert.equal(opens[2].path, target, 'symlink resolved to the file opened');
    assert.deepEqual(openFlagNames(opens[2].openFlags), ['O_WRONLY']);
    for (const o of opens) {
      assert.equal(o.cgroupId, cg.id);
      assert.ok(o.ret >= 0);
    }
  });

  it('open and exec: every length of name a dentry keeps inline, longer ones, and a path of exactly 1023 bytes come out exact', async () => {
    // the walk writes inline names as whole words ending where the name ends (lib/path.h name_words):
    // each length 1-39 is a different mix of shifted words; a 40+ byte name is read on its own; near the
    // path's limit the first components are written the old way (no room for a word to their left)
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    let dir = path.join(tmp, 'lens');
    for (let n = 1; n <= 39; n++) dir = path.join(dir, chars.slice(n % 7, n % 7 + n).padEnd(n, '_'));
    fs.mkdirSync(dir, { recursive: true });
    const long = path.join(dir, 'L'.repeat(45));
    fs.writeFileSync(long, 'x');
    const fill = 1023 - dir.length - 1;
    assert.ok(fill > 45 && fill <= 255, `the 1023-byte path needs a last name of ${fill} bytes`);
    const full = path.join(dir, 'F'.repeat(fill));
    assert.equal(full.length, 1023);
    fs.writeFileSync(full, 'x');
    const exe = path.join(dir, 'a'.repeat(16));
    fs.copyFileSync(actions, exe);
    fs.chmodSync(exe, 0o755);
    const cg = fresh();
    const r = await sandbox.run(cg, exe, ['open:' + long, 'open:' + full, 'open:/etc/hostname'], { mode: 'exec', cwd: dir });
    const ex = await log.waitFor<ExecEvent>('exec from the long chain', isKind('exec', r.pid));
    assert.equal(ex.exe, exe, 'exe');
    assert.equal(ex.cwd, dir, 'cwd');
    await log.waitFor<FileEvent>('open of /etc/hostname', isKind('open', r.pid, (e) => e.path === '/etc/hostname'));
    const opens = log.of(r.pid).filter((e): e is FileEvent => e.kind === 'open' && e.path.startsWith(tmp)).map((e) => e.path);
    assert.deepEqual(opens, [long, full]);
  });

  it('open: creation flags and mode; a failed open is reported with its error and a cleaned path', async () => {
    const cg = fresh();
    const created = path.join(tmp, 'created.txt');
    const r = await sandbox.run(cg, actions, ['creat:' + created, 'chdir:' + tmp, 'open:./nope/../missing.txt']);
    const c = await log.waitFor<FileEvent>('creat', isKind('open', r.pid, (e) => e.path === created));
    assert.deepEqual(openFlagNames(c.openFlags), ['O_WRONLY', 'O_CREAT', 'O_TRUNC']);
    assert.equal(c.mode, 0o600);
    const miss = await log.waitFor<FileEvent>('failed open', isKind('open', r.pid, (e) => e.ret < 0));
    assert.equal(miss.ret, -2, 'ENOENT');
    assert.equal(miss.path, path.join(tmp, 'missing.txt'));
  });

  it('unlink and rmdir: path resolved against the cwd', async () => {
    const cg = fresh();
    const dir = path.join(tmp, 'unlink');
    fs.mkdirSync(path.join(dir, 'gone-dir'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'gone.txt'), 'x');
    const r = await sandbox.run(cg, actions, ['chdir:' + dir, 'unlink:gone.txt', 'rmdir:gone-dir']);
    const u = await log.waitFor<FileEvent>('unlink', isKind('unlink', r.pid, (e) => e.openFlags === 0));
    assert.equal(u.path, path.join(dir, 'gone.txt'));
    assert.equal(u.ret, 0);
    assert.equal(u.cgroupId, cg.id);
    const d = await log.waitFor<FileEvent>('rmdir', isKind('unlink', r.pid, (e) => e.openFlags === 0x200));
    assert.equal(d.path, path.join(dir, 'gone-dir'));
  });

  it('rename: both paths', async () => {
    const cg = fresh();
    const from = path.join(tmp, 'from.txt');
    fs.writeFileSync(from, 'x');
    const r = await sandbox.run(cg, actions, ['rename:' + from + ':' + path.join(tmp, 'to.txt')]);
    const ev = await log.waitFor<FileEvent>('rename', isKind('rename', r.pid));
    assert.equal(ev.path, from);
    assert.equal(ev.newPath, path.join(tmp, 'to.txt'));
    assert.equal(ev.cgroupId, cg.id);
    assert.equal(ev.ret, 0);
  });

  it('chmod: path and mode', async () => {
    const cg = fresh();
    const f = path.join(tmp, 'mode.txt');
    fs.writeFileSync(f, 'x');
    const r = await sandbox.run(cg, actions, ['chmod:' + f + ':4755']);
    const ev = await log.waitFor<FileEvent>('chmod', isKind('chmod', r.pid));
    assert.equal(ev.path, f);
    assert.equal(ev.mode, 0o4755);
    assert.equal(ev.cgroupId, cg.id);
  });

  it('connect: IPv4 and IPv6 destination, port and family', async () => {
    const cg = fresh();
    const r = await sandbox.run(cg, actions, ['connect4:127.0.0.1:9', 'connect6:::1:19', 'udp4:127.0.0.2:53']);
    const v4 = await log.waitFor<ConnectEvent>('connect4', isKind('connect', r.pid, (e) => e.family === 2 && e.sockType === 1));
    assert.equal(v4.daddr, '127.0.0.1');
    assert.equal(v4.dport, 9);
    assert.equal(v4.cgroupId, cg.id);
    const v6 = await log.waitFor<ConnectEvent>('connect6', isKind('connect', r.pid, (e) => e.family === 10));
    assert.equal(v6.daddr, '::1');
    assert.equal(v6.dport, 19);
    const udp = await log.waitFor<ConnectEvent>('udp connect', isKind('connect', r.pid, (e) => e.sockType === 2));
    assert.equal(udp.daddr, '127.0.0.2');
    assert.equal(udp.dport, 53);
  });

  it('ptrace: attach names the target pid', async () => {
    const cg = fresh();
    const victim = sandbox.spawnIn(cg, actions, ['sleep:3000']);
    const r = await sandbox.run(cg, actions, [`ptrace:${victim.pid}`]);
    const ev = await log.waitFor<PrivEvent>('ptrace', isKind('ptrace', r.pid));
    assert.equal(ev.arg[0], 16, 'PTRACE_ATTACH');
    assert.equal(ev.arg[1], victim.pid);
    assert.equal(ev.ret, 0);
    victim.child.kill('SIGKILL');
    await victim.done;
  });

  it('setuid family: which ids were asked for', async () => {
    const cg = fresh();
    const r = await sandbox.run(cg, actions, ['setuid:0', 'setresgid:0:0:0']);
    const su = await log.waitFor<PrivEvent>('setuid', isKind('setuid', r.pid, (e) => e.syscallNr === 105));
    assert.deepEqual(su.arg.slice(0, 3), [0, 0xffffffff, 0xffffffff]);
    const sg = await log.waitFor<PrivEvent>('setresgid', isKind('setuid', r.pid, (e) => e.syscallNr === 119));
    assert.deepEqual(sg.arg.slice(0, 3), [0, 0, 0]);
    assert.equal(sg.cgroupId, cg.id);
  });

  it('mount: source, target and filesystem type (in a private mount namespace)', async () => {
    const cg = fresh();
    const target = path.join(tmp, 'mnt');
    fs.mkdirSync(target);
    const r = await sandbox.run(cg, actions, ['unshare-mnt', `mount:vigiltest:${target}:tmpfs`, `umount:${target}`]);
    const ev = await log.waitFor<SysEvent>('mount', isKind('mount', r.pid, (e) => e.str3 === 'tmpfs'));
    assert.equal(ev.str1, 'vigiltest');
    assert.equal(ev.str2, target);
    assert.equal(ev.ret, 0);
    assert.equal(ev.cgroupId, cg.id);
  });

  it('module: finit_module names the file (and fails for a non-module)', async () => {
    const cg = fresh();
    const r = await sandbox.run(cg, actions, ['finit_module:/etc/hostname']);
    const ev = await log.waitFor<SysEvent>('module', isKind('module', r.pid));
    assert.equal(ev.str1, '/etc/hostname');
    assert.ok(ev.ret < 0, `finit_module of a text file must fail, got ${ev.ret}`);
    assert.equal(ev.cgroupId, cg.id);
  });

  it('a process outside the monitored cgroups is not reported', async () => {
    const other = CgroupSandbox.create('unmonitored');
    try {
      const r = await other.run(other.top, actions, ['open:/etc/hostname', 'connect4:127.0.0.1:9']);
      // a marker from the monitored side proves the pipeline has caught up
      const cg = fresh();
      const m = await sandbox.run(cg, actions, ['open:/etc/hostname']);
      await log.waitFor('marker', isKind('open', m.pid));
      assert.deepEqual(log.of(r.pid), []);
    } finally {
      await other.cleanup();
    }
  });

  it('a cgroup created below a monitored one is monitored from birth', async () => {
    const cg = sandbox.child(`late/${Date.now()}`);
    const r = await sandbox.run(cg, actions, ['open:/etc/hostname']);
    const ev = await log.waitFor<FileEvent>('open in the new cgroup', isKind('open', r.pid));
    assert.equal(ev.cgroupId, cg.id);
  });

  it('counts every kind it emitted, and lost nothing', () => {
    const s = probe.stats();
    for (const k of KIND_NAMES) {
      assert.equal(s.kinds[k].dropped, 0, `${k} dropped`);
      assert.equal(s.kinds[k].busy, 0, `${k} busy`);
    }
    assert.ok(s.kinds.open.emitted > 0 && s.kinds.exec.emitted > 0 && s.kinds.connect.emitted > 0);
    assert.equal(s.reader.queueDropRecords, 0);
  });
});
