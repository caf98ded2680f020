// Issue 9, "other syscall doors" and "raw and packet sockets", tried the way
// an attacker inside a workload would, on the real kernel: the same open,
// chmod and socket through int 0x80 (the ia32 table, from a 64-bit process);
// files and sockets through io_uring, which makes no system call per request;
// another process's memory through process_vm_writev/readv instead of ptrace;
// a hand-built UDP datagram on a raw socket past a port deny; a packet socket.
// Each technique has a control case that is allowed.
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AgentFixture } from '../helpers/agent';
import type { CgroupHandle } from '../helpers/kernel';
import { NETWORK_GUARD } from '../../agent/pipeline';

const TD = 'spiffe://test.vigil/ns/doors';

describe('other syscall doors, raw and packet sockets (issue 9 items 9, 11)', function () {
  this.timeout(120000);
  let fx: AgentFixture;
  /** file, ptrace and network rules */
  let w: CgroupHandle;
  /** an io_uring kill rule */
  let u: CgroupHandle;
  /** no rule at all: the controls */
  let free: CgroupHandle;
  let udp: dgram.Socket;
  let udpPort: number;
  const received: string[] = [];

  before(async function () {
    fx = AgentFixture.create('doors', TD);
    w = fx.workload('w');
    u = fx.workload('u');
    free = fx.workload('free');
    fs.mkdirSync(path.join(fx.tmp, 'bin'));
    fs.writeFileSync(path.join(fx.tmp, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(fx.tmp, 'secret'), 'x');
    fs.writeFileSync(path.join(fx.tmp, 'plain'), 'x');
    udp = dgram.createSocket('udp4');
    fx.defer('closing the UDP receiver', () => udp.close());
    udp.on('message', (m) => received.push(m.toString()));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    udpPort = udp.address().port;
    const rules = `
rules:
  - name: no-writes-below-bin
    workload: ${TD}/sa/w
    on: open
    match: { path: { prefix: [${fx.tmp}/bin/] }, flags: { any: [write, create] } }
    action: kill
  - name: no-chmod-below-bin
    workload: ${TD}/sa/w
    on: chmod
    match: { path: { prefix: [${fx.tmp}/bin/] } }
    action: kill
  - name: secret-read
    workload: ${TD}/sa/w
    on: open
    match: { path: { in: [${fx.tmp}/secret] } }
    action: alert
  - name: memory-of-another
    workload: ${TD}/sa/w
    on: ptrace
    match: {}
    action: alert
  - name: no-udp-port
    workload: ${TD}/sa/w
    on: connect
    match: { destination: { cidr: [127.0.0.1/32], port: [${udpPort}, 9] } }
    action: deny
  - name: sockets-made
    workload: ${TD}/sa/free
    on: socket
    match: {}
    action: alert
    priority: informational
  - name: no-io-uring
    workload: ${TD}/sa/u
    on: io_uring
    match: {}
    action: kill
`;
    await fx.start(rules);
  });

  after(() => fx?.cleanup());

  describe('int 0x80 (ia32 syscalls from a 64-bit process)', () => {
    it('a write below the protected directory through int 0x80 is killed, by the same rule as the native call', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`creat32:${fx.tmp}/bin/planted32`]);
      const f = await s.done;
      assert.equal(f.signal, 'SIGKILL');
      const a = await fx.h.waitFor('no-writes-below-bin', (x) => x.rule === 'no-writes-below-bin' && x.process.pid === s.pid);
      assert.equal(a.outcome, 'killed');
      assert.equal(a.event.path, `${fx.tmp}/bin/planted32`);
      assert.equal(a.event.ia32, true, 'the record says the call came through the ia32 table');
    });

    it('a chmod below the protected directory through int 0x80 is killed', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`chmod32:${fx.tmp}/bin/tool:4755`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await fx.h.waitFor('no-chmod-below-bin', (x) => x.rule === 'no-chmod-below-bin' && x.process.pid === s.pid);
      assert.equal(a.event.mode, '04755');
      assert.equal(a.event.ia32, true);
    });

    it('a read of the watched file through int 0x80 is alerted with its path; a plain file is not (control)', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`open32:${fx.tmp}/plain`, `open32:${fx.tmp}/secret`]);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stderr, '', 'both opens succeeded');
      const a = await fx.h.waitFor('secret-read', (x) => x.rule === 'secret-read' && x.process.pid === s.pid);
      assert.equal(a.event.path, `${fx.tmp}/secret`);
      const mine = await fx.h.settledFor(s.pid);
      assert.deepEqual(mine.map((x) => x.rule), ['secret-read'], 'the plain file raised nothing');
    });

    it('a packet socket through socketcall (int 0x80, the arguments in memory) is killed by the network guard', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, ['socket32:17:3']);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await fx.h.waitFor(NETWORK_GUARD.name, (x) => x.rule === NETWORK_GUARD.name && x.process.pid === s.pid);
      assert.equal(a.event.family, 'AF_PACKET');
      assert.equal(a.event.ia32, true);
    });
  });

  describe('io_uring', () => {
    it('a workload with an io_uring kill rule dies at its first file request; the file is named in the alert', async () => {
      const s = fx.sb.spawnIn(u, fx.actions, [`uring-open:${fx.tmp}/plain`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await fx.h.waitFor('no-io-uring', (x) => x.rule === 'no-io-uring' && x.process.pid === s.pid);
      assert.equal(a.outcome, 'killed');
      assert.equal(a.event.op, 'IORING_OP_OPENAT');
      assert.equal(a.event.op_class, 'file');
      assert.equal(a.event.path, `${fx.tmp}/plain`);
    });

    it('and at a network request', async () => {
      const s = fx.sb.spawnIn(u, fx.actions, ['uring-connect4:127.0.0.1:9']);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await fx.h.waitFor('no-io-uring', (x) => x.rule === 'no-io-uring' && x.process.pid === s.pid);
      assert.equal(a.event.op, 'IORING_OP_CONNECT');
      assert.equal(a.event.op_class, 'network');
    });

    it('a rename through io_uring names both files', async () => {
      fs.writeFileSync(path.join(fx.tmp, 'from'), 'x');
      const s = fx.sb.spawnIn(u, fx.actions, [`uring-rename:${fx.tmp}/from:${fx.tmp}/to`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await fx.h.waitFor('no-io-uring', (x) => x.rule === 'no-io-uring' && x.process.pid === s.pid);
      assert.equal(a.event.op, 'IORING_OP_RENAMEAT');
      assert.equal(a.event.path, `${fx.tmp}/from`);
      assert.equal(a.event.new_path, `${fx.tmp}/to`);
    });

    it('a connect through io_uring to a denied port is refused like a connect(2) (the cgroup hook sees it)', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, ['uring-connect4:127.0.0.1:9']);
      const f = await s.done;
      assert.equal(f.code, 0);
      assert.match(f.stderr, /uring-connect4 127\.0\.0\.1: Operation not permitted/);
      const a = await fx.h.waitFor('no-udp-port', (x) => x.rule === 'no-udp-port' && x.process.pid === s.pid);
      assert.equal(a.outcome, 'denied');
    });

    it('a packet socket made by IORING_OP_SOCKET in a workload with connect refusals is killed by the network guard', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, ['uring-socket:17:3']);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await fx.h.waitFor(NETWORK_GUARD.name, (x) => x.rule === NETWORK_GUARD.name && x.process.pid === s.pid);
      assert.equal(a.outcome, 'killed');
      assert.equal(a.event.op, 'IORING_OP_SOCKET');
      assert.equal(a.event.family, 'AF_PACKET');
    });

    it('control: io_uring in a workload without such a rule works and raises nothing', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`uring-open:${fx.tmp}/plain`, 'uring-socket:2:2']);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stderr, '');
      assert.deepEqual(await fx.h.settledFor(s.pid), []);
    });
  });

  describe('process_vm_writev / process_vm_readv', () => {
    for (const [action, request] of [
      ['vmwrite-child', 'process_vm_writev'],
      ['vmread-child', 'process_vm_readv'],
    ] as const) {
      it(`${request} into another process is a ptrace event`, async () => {
        const s = fx.sb.spawnIn(w, fx.actions, [action]);
        const f = await s.done;
        assert.equal(f.code, 0, f.stderr);
        assert.equal(f.stderr, '', `${request} succeeded`);
        const a = await fx.h.waitFor('memory-of-another', (x) => x.rule === 'memory-of-another' && x.process.pid === s.pid);
        assert.equal(a.event.request, request);
        assert.ok(typeof a.event.target_pid === 'number' && a.event.target_pid !== s.pid, 'the target is the child');
      });
    }
  });

  describe('raw and packet sockets', () => {
    it('control: without network rules a hand-built UDP datagram on a raw socket is delivered', async () => {
      received.length = 0;
      const f = await fx.sb.spawnIn(free, fx.actions, [`rawudp4:127.0.0.1:${udpPort}`]).done;
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stderr, '');
      const deadline = Date.now() + 2000;
      while (!received.includes('vigil') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(received.includes('vigil'), 'the datagram arrived: the technique is real');
    });

    it('a workload with a port deny cannot open the raw socket (EPERM); nothing arrives; the guard alerts', async () => {
      received.length = 0;
      const s = fx.sb.spawnIn(w, fx.actions, [`rawudp4:127.0.0.1:${udpPort}`, `udp4:127.0.0.1:${udpPort}`]);
      const f = await s.done;
      assert.equal(f.code, 0);
      assert.match(f.stderr, /actions: socket SOCK_RAW: Operation not permitted/);
      assert.match(f.stderr, /actions: connect 127\.0\.0\.1: Operation not permitted/, 'and the ordinary way is denied too');
      const a = await fx.h.waitFor(NETWORK_GUARD.name, (x) => x.rule === NETWORK_GUARD.name && x.process.pid === s.pid);
      assert.equal(a.outcome, 'denied');
      assert.equal(a.action, 'deny');
      assert.equal(a.event.type, 'SOCK_RAW');
      assert.equal(a.event.refused, true);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(received, []);
    });

    it('a packet socket in a workload with a port deny is killed before it can use it', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, ['socket:17:3', 'sleep:2000']);
      const f = await s.done;
      assert.equal(f.signal, 'SIGKILL');
      const a = await fx.h.waitFor(NETWORK_GUARD.name, (x) => x.rule === NETWORK_GUARD.name && x.process.pid === s.pid);
      assert.equal(a.outcome, 'killed');
      assert.equal(a.event.family, 'AF_PACKET');
    });

    it('control: a packet socket and a raw socket without network rules are allowed; socket creation is an event a rule can use', async () => {
      const s = fx.sb.spawnIn(free, fx.actions, ['socket:17:3', 'socket:2:3:17', 'socket:2:1']);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stderr, '');
      await fx.h.waitFor('sockets-made', (x) => x.rule === 'sockets-made' && x.process.pid === s.pid && x.event.family === 'AF_INET' && x.event.type === 'SOCK_STREAM');
      const mine = await fx.h.settledFor(s.pid);
      assert.deepEqual(
        mine.map((x) => `${x.rule} ${String(x.event.family)} ${String(x.event.type)} ${x.outcome}`).sort(),
        ['sockets-made AF_INET SOCK_RAW alerted', 'sockets-made AF_INET SOCK_STREAM alerted', 'sockets-made AF_PACKET SOCK_RAW alerted'],
      );
    });
  });
});
