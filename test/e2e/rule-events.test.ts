// Issue 11 item 4, "events the rules need", on the real kernel: each new
// kind done by a real process inside a workload cgroup (the native call,
// the other names for the same thing, the ia32 door where it is cheap), the
// alert it raises, the kernel's kill where a rule asks for one, and controls
// that do the harmless neighbour of each thing and raise nothing.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { AgentFixture } from '../helpers/agent';
import type { CgroupHandle } from '../helpers/kernel';
import { alertText, type Alert } from '../../agent/export/alert';

const TD = 'spiffe://test.vigil/ns/events';
const KINDS = ['chown', 'setxattr', 'namespace', 'bind', 'listen', 'dup', 'memfd', 'userfaultfd', 'bpf'] as const;

describe('events the rules need (issue 11 item 4): chown, setxattr, namespaces, bind/listen, dup, memfd, userfaultfd, bpf', function () {
  this.timeout(120000);
  let fx: AgentFixture;
  /** an alert rule on every kind */
  let w: CgroupHandle;
  /** a kill rule on every kind (paths below tmp/bin/ for chown and setxattr) */
  let k: CgroupHandle;
  /** a kill rule on listen only (listen4 binds first: the bind kill rule would act first) */
  let kl: CgroupHandle;
  /** no rule: the controls */
  let free: CgroupHandle;
  /** a process in a UTS namespace of its own: what setns joins */
  let other: ChildProcess;
  let server: net.Server;
  let port: number;

  before(async function () {
    fx = AgentFixture.create('events', TD);
    w = fx.workload('w');
    k = fx.workload('k');
    kl = fx.workload('kl');
    free = fx.workload('free');
    other = spawn('unshare', ['--uts', 'sleep', '60'], { stdio: 'ignore' });
    fx.defer('killing the UTS namespace holder', () => other.kill('SIGKILL'));
    const otherNs = `/proc/${other.pid}/ns/uts`;
    const mine = fs.statSync('/proc/self/ns/uts').ino;
    for (let i = 0; i < 200 && (!fs.existsSync(otherNs) || fs.statSync(otherNs).ino === mine); i++) await new Promise((r) => setTimeout(r, 10));
    fs.mkdirSync(path.join(fx.tmp, 'bin'));
    fs.writeFileSync(path.join(fx.tmp, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(fx.tmp, 'plain'), 'x');
    // a TCP listener the reverse-shell imitations connect back to
    server = net.createServer((s) => s.on('error', () => undefined).resume());
    fx.defer('closing the TCP listener', () => server.close());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    const alertRules = KINDS.map(
      (kind) => `
  - name: seen-${kind}
    workload: ${TD}/sa/w
    on: ${kind}
    match: {}
    action: alert
    priority: notice`,
    ).join('');
    const killRules = KINDS.map(
      (kind) => `
  - name: kill-${kind}
    workload: ${TD}/sa/k
    on: ${kind}
    match: ${kind === 'chown' || kind === 'setxattr' ? `{ path: { prefix: [${fx.tmp}/bin/] } }` : '{}'}
    action: kill`,
    ).join('');
    const listenKill = `
  - name: kill-listen-only
    workload: ${TD}/sa/kl
    on: listen
    match: {}
    action: kill`;
    await fx.start(`rules:${alertRules}${killRules}${listenKill}\n`);
  });

  after(() => fx?.cleanup());

  /** Run the helper in a cgroup; it must succeed, with no error on stderr. */
  async function ok(cg: CgroupHandle, args: string[]): Promise<number> {
    const s = fx.sb.spawnIn(cg, fx.actions, args);
    const f = await s.done;
    assert.equal(f.code, 0, `${args.join(' ')}: ${f.stderr}`);
    assert.equal(f.stderr, '', `${args.join(' ')} succeeded`);
    return s.pid;
  }

  /** Run it where a kill rule applies: SIGKILL, and the alert says the kernel did it. */
  async function killed(kind: string, args: string[]): Promise<Alert> {
    const s = fx.sb.spawnIn(k, fx.actions, args);
    const f = await s.done;
    assert.equal(f.signal, 'SIGKILL', `${args.join(' ')}: ${f.code} ${f.stderr}`);
    const a = await fx.h.waitFor(`kill-${kind}`, (x) => x.rule === `kill-${kind}` && x.process.pid === s.pid);
    assert.equal(a.outcome, 'killed');
    assert.match(a.note ?? '', /killed in the kernel at syscall exit/);
    return a;
  }

  const seen = (kind: string, pid: number, pred: (a: Alert) => boolean = () => true): Promise<Alert> =>
    fx.h.waitFor(`seen-${kind} by ${pid}`, (x) => x.rule === `seen-${kind}` && x.process.pid === pid && pred(x));

  /** The alerts of one process once the pipeline settled. */
  const rulesOf = async (pid: number): Promise<string[]> => (await fx.h.settledFor(pid)).map((a) => a.rule);

  describe('chown', () => {
    it('chown, fchown (the canonical path) and chown32 through int 0x80, each with the new owner', async () => {
      const f = path.join(fx.tmp, 'owned');
      fs.writeFileSync(f, 'x');
      const p1 = await ok(w, [`chown:${f}:1000:-1`]);
      const a = await seen('chown', p1);
      assert.equal(a.event.path, f);
      assert.equal(a.event.owner_uid, 1000);
      assert.equal(a.event.owner_gid, null, '-1: the group is unchanged');
      const p2 = await ok(w, [`fchown:${f}:-1:1001`]);
      const b = await seen('chown', p2);
      assert.equal(b.event.path, f);
      assert.deepEqual([b.event.owner_uid, b.event.owner_gid], [null, 1001]);
      const p3 = await ok(w, [`chown32:${f}:1002:1002`]);
      const c = await seen('chown', p3);
      assert.equal(c.event.ia32, true);
      assert.deepEqual([c.event.path, c.event.owner_uid, c.event.owner_gid], [f, 1002, 1002]);
      assert.equal(fs.statSync(f).uid, 1002, 'the calls really happened');
    });

    it('a chown below the protected directory is killed; one elsewhere in the same workload is not (control)', async () => {
      const a = await killed('chown', [`chown:${fx.tmp}/bin/tool:0:0`]);
      assert.equal(a.event.path, `${fx.tmp}/bin/tool`);
      await ok(k, [`chown:${fx.tmp}/plain:0:0`]);
    });
  });

  describe('setxattr', () => {
    it('setxattr and fsetxattr name the attribute and its size', async () => {
      const f = path.join(fx.tmp, 'attrs');
      fs.writeFileSync(f, 'x');
      const p1 = await ok(w, [`setxattr:${f}:user.vigil:abc`]);
      const a = await seen('setxattr', p1);
      assert.deepEqual([a.event.path, a.event.name, a.event.size], [f, 'user.vigil', 3]);
      const p2 = await ok(w, [`fsetxattr:${f}:user.other:x`]);
      const b = await seen('setxattr', p2);
      assert.deepEqual([b.event.path, b.event.name, b.event.size], [f, 'user.other', 1]);
    });

    it('a setxattr below the protected directory is killed', async () => {
      const a = await killed('setxattr', [`setxattr:${fx.tmp}/bin/tool:user.cap:x`]);
      assert.equal(a.event.name, 'user.cap');
    });
  });

  describe('namespace', () => {
    it('unshare, clone and clone3 with CLONE_NEW* name the namespaces; unshare through int 0x80 too', async () => {
      const p1 = await ok(w, ['unshare:0x4000000']);
      const a = await seen('namespace', p1);
      assert.equal(a.event.call, 'unshare');
      assert.deepEqual(a.event.namespaces, ['CLONE_NEWUTS']);
      const p2 = await ok(w, ['clone:0x8000000']);
      const b = await seen('namespace', p2);
      assert.equal(b.event.call, 'clone');
      assert.deepEqual(b.event.namespaces, ['CLONE_NEWIPC']);
      const p3 = await ok(w, ['clone3:0x4020000']);
      const c = await seen('namespace', p3);
      assert.equal(c.event.call, 'clone3');
      assert.deepEqual(c.event.namespaces, ['CLONE_NEWNS', 'CLONE_NEWUTS']);
      assert.equal((await rulesOf(p3)).length, 1, 'the child returning from clone3 is not a second event');
      const p4 = await ok(w, ['unshare32:0x8000000']);
      const d = await seen('namespace', p4);
      assert.equal(d.event.ia32, true);
      assert.deepEqual(d.event.namespaces, ['CLONE_NEWIPC']);
    });

    it("setns into another process's namespace (its namespace file, and a pidfd) names what it joined", async () => {
      const p1 = await ok(w, [`setns:/proc/${other.pid}/ns/uts`]);
      const a = await seen('namespace', p1);
      assert.equal(a.event.call, 'setns');
      assert.equal(a.event.ns_type, 'CLONE_NEWUTS');
      assert.equal(a.event.ns_inode, fs.statSync(`/proc/${other.pid}/ns/uts`).ino);
      assert.notEqual(a.event.ns_inode, fs.statSync('/proc/self/ns/uts').ino, 'a namespace other than ours');
      const p2 = await ok(w, [`setns-pid:${other.pid}:0x4000000`]);
      const b = await seen('namespace', p2);
      assert.equal(b.event.target_pid, other.pid);
      assert.deepEqual(b.event.namespaces, ['CLONE_NEWUTS']);
    });

    it('unshare of no namespace (CLONE_FS) and a plain fork (fork, clone, clone3) are not namespace events (control)', async () => {
      const pid = await ok(w, ['unshare:0x200', 'fork', 'clone:0', 'clone3:0']);
      assert.deepEqual(await rulesOf(pid), []);
      // nor killed where a kill rule is on the kind
      await ok(k, ['unshare:0x200', 'fork', 'clone:0', 'clone3:0']);
    });

    it('unshare and clone under a kill rule die before they run in the new namespace', async () => {
      await killed('namespace', ['unshare:0x4000000', 'sleep:2000']);
      const a = await killed('namespace', ['clone:0x4000000', 'sleep:2000']);
      assert.equal(a.event.call, 'clone');
      const b = await killed('namespace', ['clone3:0x4000000', 'sleep:2000']);
      assert.equal(b.event.call, 'clone3');
    });
  });

  describe('bind and listen', () => {
    it('a listener a workload opens: bind (the port the kernel chose) and listen (the backlog); bind through socketcall', async () => {
      const p1 = await ok(w, ['listen4:127.0.0.1:0']);
      const b = await seen('bind', p1);
      assert.deepEqual([b.event.family, b.event.type, b.event.laddr], ['AF_INET', 'SOCK_STREAM', '127.0.0.1']);
      assert.ok(typeof b.event.lport === 'number' && b.event.lport > 0, 'port 0 became the port the kernel chose');
      const l = await seen('listen', p1);
      assert.deepEqual([l.event.laddr, l.event.lport, l.event.backlog], ['127.0.0.1', b.event.lport, 7]);
      const p2 = await ok(w, ['bind32:127.0.0.1:0']);
      const c = await seen('bind', p2);
      assert.equal(c.event.ia32, true);
      assert.equal(c.event.laddr, '127.0.0.1');
    });

    it('a listen under a kill rule dies before it accepts anything (the bind before it is allowed)', async () => {
      const s = fx.sb.spawnIn(kl, fx.actions, ['listen4:127.0.0.1:0', 'sleep:2000']);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await fx.h.waitFor('kill-listen-only', (x) => x.rule === 'kill-listen-only' && x.process.pid === s.pid);
      assert.equal(a.outcome, 'killed');
      assert.equal(a.event.kind, 'listen');
    });
  });

  describe('dup (a socket on standard input or output)', () => {
    for (const how of ['dup2-0', 'dup3-1', 'dup-0', 'fcntl-2', 'dup2-0-32']) {
      it(`${how}: the peer's address and the descriptor it became`, async () => {
        const s = fx.sb.spawnIn(w, fx.actions, [`dupsock:${how}:127.0.0.1:${port}`]);
        const f = await s.done;
        assert.equal(f.code, 0, f.stderr);
        const a = await seen('dup', s.pid);
        assert.deepEqual([a.event.daddr, a.event.dport, a.event.family], ['127.0.0.1', port, 'AF_INET']);
        assert.equal(a.event.new_fd, Number(how.split('-')[1]));
        if (how.endsWith('-32')) assert.equal(a.event.ia32, true);
      });
    }

    it('a socket on descriptor 9, and a pipe on descriptor 0, are not dup events (control)', async () => {
      const pid = await ok(w, [`dupsock:dup2-9:127.0.0.1:${port}`, 'duppipe']);
      assert.deepEqual(await rulesOf(pid), []);
    });

    it('under a kill rule the process dies before anything runs with the socket as its input', async () => {
      const a = await killed('dup', [`dupsock:dup2-0:127.0.0.1:${port}`, 'sleep:2000']);
      assert.equal(a.event.new_fd, 0);
    });
  });

  describe('memfd, userfaultfd, bpf', () => {
    it('memfd_create names the file and its flags; an escape sequence in the name stays out of the text output', async () => {
      const pid = await ok(w, ['memfd:payload\x1b[2J:3']);
      const a = await seen('memfd', pid);
      assert.equal(a.event.name, 'payload\x1b[2J', 'the record keeps the name as given (JSON escapes it)');
      assert.deepEqual(a.event.flags, ['MFD_CLOEXEC', 'MFD_ALLOW_SEALING']);
      assert.ok(!alertText(a).includes('\x1b'), alertText(a));
      assert.match(alertText(a), /memfd_create payload\\x1b\[2J/);
    });

    it('userfaultfd, by the system call and by /dev/userfaultfd', async () => {
      const p1 = await ok(w, ['userfaultfd']);
      assert.equal((await seen('userfaultfd', p1)).event.via, 'syscall');
      const p2 = await ok(w, ['userfaultfd-dev']);
      const b = await seen('userfaultfd', p2);
      assert.equal(b.event.via, '/dev/userfaultfd');
      assert.deepEqual(b.event.flags, ['O_CLOEXEC']);
    });

    it('a BPF program load names its type and name', async () => {
      const pid = await ok(w, ['bpf-load:vigil_probe']);
      const a = await seen('bpf', pid);
      assert.deepEqual([a.event.prog_type, a.event.prog_name], ['BPF_PROG_TYPE_SOCKET_FILTER', 'vigil_probe']);
    });

    for (const [kind, args] of [
      ['memfd', ['memfd:x']],
      ['userfaultfd', ['userfaultfd']],
      ['bpf', ['bpf-load:vigil_probe']],
      ['bind', ['bind4:127.0.0.1:0']],
    ] as const) {
      it(`${kind} under a kill rule: killed at syscall exit`, async () => {
        await killed(kind, [...args, 'sleep:2000']);
      });
    }
  });

  it('control: every operation above, in a workload without rules, works and raises nothing', async () => {
    const f = path.join(fx.tmp, 'free');
    fs.writeFileSync(f, 'x');
    const pid = await ok(free, [
      `chown:${f}:1:1`,
      `setxattr:${f}:user.a:b`,
      'unshare:0x4000000',
      'listen4:127.0.0.1:0',
      `dupsock:dup2-0:127.0.0.1:${port}`,
      'memfd:x',
      'userfaultfd',
      'bpf-load:vigil_probe',
    ]);
    assert.deepEqual(await rulesOf(pid), []);
  });
});
