// Issue 11 item 3, the conditions backed by the kernel's record, on the real
// kernel inside a workload cgroup: each condition fires on the real thing and
// stays quiet on its harmless twin (the same call with another mode, family,
// request, type, source, terminal, directory, namespace or port).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentHarness } from '../helpers/agent';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';

const TD = 'spiffe://test.vigil/ns/conditions';

/** A TCP port nobody listens on now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('conditions backed by the kernel record (issue 11 item 3): mode, family, type, request, fstype, source, tty, cwd, namespaces, port, attribute', function () {
  this.timeout(120000);
  let sb: CgroupSandbox;
  let h: AgentHarness;
  let actions: string;
  let tmp: string;
  let c: CgroupHandle;
  let port: number;

  before(async function () {
    requireKernelTestPrivileges();
    actions = fs.realpathSync(helperBinary('actions'));
    sb = CgroupSandbox.create('conditions');
    c = sb.child('c');
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-conditions-')));
    fs.mkdirSync(path.join(tmp, 'work'));
    fs.mkdirSync(path.join(tmp, 'mnt'));
    fs.writeFileSync(path.join(tmp, 'tool'), 'x');
    port = await freePort();
    const w = `workload: ${TD}/sa/c`;
    const rules = `
rules:
  - { name: suid-chmod, ${w}, on: chmod, match: { path: { prefix: [${tmp}/] }, mode: { any: [setuid, setgid] } } }
  - { name: world-writable-file, ${w}, on: open, match: { path: { prefix: [${tmp}/] }, mode: { any: [world_writable] } } }
  - { name: udp-out, ${w}, on: connect, match: { type: [SOCK_DGRAM] } }
  - { name: netlink-socket, ${w}, on: socket, match: { family: [AF_NETLINK] } }
  - { name: memory-write, ${w}, on: ptrace, match: { request: [process_vm_writev, PTRACE_POKEDATA] } }
  - { name: proc-mount, ${w}, on: mount, match: { fstype: { in: [proc] } } }
  - { name: named-source, ${w}, on: mount, match: { source: { in: [vigil-evil] } } }
  - { name: interactive-read, ${w}, on: open, match: { path: { in: [/etc/hostname] }, tty: true } }
  - { name: started-in-work, ${w}, on: exec, match: { binary: { in: [${actions}] }, cwd: { prefix: [${tmp}/work] } } }
  - { name: user-namespace, ${w}, on: namespace, match: { namespaces: { any: [CLONE_NEWUSER] } } }
  - { name: listener-port, ${w}, on: listen, match: { port: [${port}] } }
  - { name: cap-attribute, ${w}, on: setxattr, match: { attribute: { in: [user.vigil-cap] } } }
`;
    h = await new AgentHarness(rules, `workloads:\n  - spiffe_id: ${TD}/sa/c\n    cgroups: [${c.rel.slice(1)}]\n`).start();
  });

  after(async () => {
    if (h) await h.stop();
    if (sb) await sb.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Run the helper in the workload: it must succeed; the rules it raised, once the pipeline settled. */
  async function raised(args: string[], opts: { cwd?: string; mode?: 'wait' | 'exec' } = {}): Promise<string[]> {
    const s = sb.spawnIn(c, actions, args, opts);
    const f = await s.done;
    assert.equal(f.code, 0, `${args.join(' ')}: ${f.stderr}`);
    assert.equal(f.stderr, '', `${args.join(' ')} succeeded`);
    return [...new Set((await h.settledFor(s.pid, 400)).map((a) => a.rule))];
  }

  it('mode on chmod: setuid fires; a plain 0755 does not', async () => {
    assert.deepEqual(await raised([`chmod:${tmp}/tool:4755`]), ['suid-chmod']);
    assert.deepEqual(await raised([`chmod:${tmp}/tool:0755`]), []);
  });

  it('mode on a created file: 0666 under umask 0 is world-writable; under umask 022 it is not', async () => {
    assert.deepEqual(await raised(['umask:0', `create:${tmp}/a:0666`]), ['world-writable-file']);
    assert.equal(fs.statSync(`${tmp}/a`).mode & 0o777, 0o666, 'the file really is world-writable');
    assert.deepEqual(await raised(['umask:022', `create:${tmp}/b:0666`]), []);
    assert.equal(fs.statSync(`${tmp}/b`).mode & 0o777, 0o644);
  });

  it('type on connect: a UDP connect fires, a TCP one does not', async () => {
    assert.deepEqual(await raised(['udp4:127.0.0.1:9']), ['udp-out']);
    const s = sb.spawnIn(c, actions, ['connect4:127.0.0.1:9']);
    await s.done; // refused: fine, it is still a connect
    assert.deepEqual(await h.settledFor(s.pid), []);
  });

  it('family on socket: AF_NETLINK fires, AF_INET does not', async () => {
    assert.deepEqual(await raised(['socket:16:3:0']), ['netlink-socket']);
    assert.deepEqual(await raised(['socket:2:1']), []);
  });

  it('request on ptrace: writing another process\'s memory fires, reading it does not', async () => {
    assert.deepEqual(await raised(['vmwrite-child']), ['memory-write']);
    assert.deepEqual(await raised(['vmread-child']), []);
  });

  it('fstype and source on mount: proc fires one rule, a tmpfs named vigil-evil the other, a plain tmpfs neither', async () => {
    assert.deepEqual(await raised(['unshare-mnt', `mount:proc:${tmp}/mnt:proc`]), ['proc-mount']);
    assert.deepEqual(await raised(['unshare-mnt', `mount:vigil-evil:${tmp}/mnt:tmpfs`]), ['named-source']);
    assert.deepEqual(await raised(['unshare-mnt', `mount:none:${tmp}/mnt:tmpfs`]), []);
  });

  it('tty: a read by a process with a controlling terminal fires; the same read without one does not', async () => {
    assert.deepEqual(await raised(['ctty', 'open:/etc/hostname']), ['interactive-read']);
    assert.deepEqual(await raised(['open:/etc/hostname']), []);
  });

  it('cwd: a program started in the watched directory fires; started elsewhere it does not', async () => {
    assert.deepEqual(await raised(['exit:0'], { mode: 'exec', cwd: `${tmp}/work` }), ['started-in-work']);
    assert.deepEqual(await raised(['exit:0'], { mode: 'exec', cwd: tmp }), []);
  });

  it('namespaces: a user namespace fires; a UTS one does not', async () => {
    assert.deepEqual(await raised(['unshare:0x10000000']), ['user-namespace']);
    assert.deepEqual(await raised(['unshare:0x4000000']), []);
  });

  it('port on listen: the named port fires; another does not', async () => {
    assert.deepEqual(await raised([`listen4:127.0.0.1:${port}`]), ['listener-port']);
    assert.deepEqual(await raised(['listen4:127.0.0.1:0']), []);
  });

  it('attribute on setxattr: the named attribute fires; another does not', async () => {
    assert.deepEqual(await raised([`setxattr:${tmp}/tool:user.vigil-cap:x`]), ['cap-attribute']);
    assert.deepEqual(await raised([`setxattr:${tmp}/tool:user.other:x`]), []);
  });
});
