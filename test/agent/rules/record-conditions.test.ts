// The conditions backed by the kernel's record (issue 11 item 3, the kernel
// half): mode, family, type, request, fstype, source, tty, cwd, namespaces,
// port, attribute. How agent/rules/load-match.ts reads them (errors with
// file:line:col) and how agent/rules/compile.ts judges synthesized events;
// test/e2e/rule-conditions.test.ts does the same on the real kernel.
import * as assert from 'node:assert/strict';
import type { AttrEvent, ExecEvent, FileEvent, KernelEvent, PrivEvent, SockFdEvent, SysEvent } from '../../../agent/decode/events';
import { RuleSet, effectiveMode, type EvalContext } from '../../../agent/rules/compile';
import { loadRuleSources } from '../../../agent/rules/load';
import { ProcFlag } from '../../../agent/kernel/abi';

function rules(text: string): RuleSet {
  return new RuleSet(loadRuleSources([{ name: 't.yaml', text }]));
}

/** The loader's message for a file it refuses. */
function refused(text: string): string {
  try {
    loadRuleSources([{ name: 't.yaml', text }]);
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
}

const common = { flags: 0, ktimeNs: 1n, pid: 10, tid: 10, uid: 0, gid: 0, cgroupId: 1, comm: 'x', workload: 0, procFlags: 0 };

function file(kind: 'open' | 'chmod', mode: number, openFlags = 0, umask = 0): FileEvent {
  return { ...common, kind, ret: 0, openFlags, mode, umask, path: '/tmp/f', newPath: '', syscallNr: 257, rule: 0 };
}

function sock(kind: 'bind' | 'listen' | 'dup', family: number, sockType: number, port: number): SockFdEvent {
  return { ...common, kind, ret: 0, syscallNr: 49, fd: 3, family, sockType, protocol: 0, addr: '127.0.0.1', port, backlog: 0, rule: 0 };
}

function priv(kind: 'ptrace' | 'namespace', arg: [number, number, number, number], syscallNr = 101): PrivEvent {
  return { ...common, kind, ret: 0, syscallNr, arg, rule: 0 };
}

function mount(source: string, fstype: string): SysEvent {
  return { ...common, kind: 'mount', ret: 0, syscallNr: 165, sysFlags: 0, str1: source, str2: '/mnt', str3: fstype, rule: 0 };
}

function exec(cwd: string | null, tty: boolean): ExecEvent {
  return {
    ...common, procFlags: tty ? ProcFlag.TTY : 0, kind: 'exec', ppid: 1, exe: '/usr/bin/sh', args: ['sh'], argc: 1, startNs: 0n,
    exeIno: 0n, exeDev: 0, exeCtimeNs: 0n, cwd, rule: 0, exeFlags: 0,
  };
}

function ctx(ev: KernelEvent): EvalContext {
  return { ev, exe: '/usr/bin/x', args: ['x'], parentExe: null, spiffeId: null, destSpiffeId: null };
}

const fires = (rs: RuleSet, ev: KernelEvent): string[] => rs.evaluate(ctx(ev)).map((m) => m.rule.name);

describe('conditions backed by the kernel record', () => {
  describe('mode', () => {
    const rs = rules(`rules:
  - name: suid
    on: chmod
    match: { mode: { any: [setuid, setgid] } }
  - name: ww
    on: open
    match: { mode: { any: [world_writable] } }
  - name: exec-and-ww
    on: chmod
    match: { mode: { all: [executable, world_writable] } }
`);

    it('chmod: the new mode; any and all', () => {
      assert.deepEqual(fires(rs, file('chmod', 0o4755)), ['suid']);
      assert.deepEqual(fires(rs, file('chmod', 0o2750)), ['suid']);
      assert.deepEqual(fires(rs, file('chmod', 0o0777)), ['exec-and-ww']);
      assert.deepEqual(fires(rs, file('chmod', 0o0666)), [], 'world-writable but not executable: all needs both');
      assert.deepEqual(fires(rs, file('chmod', 0o0755)), []);
    });

    it('open: the mode a new file gets is the mode asked for without the umask bits', () => {
      const O_CREAT = 0o100;
      assert.deepEqual(fires(rs, file('open', 0o666, O_CREAT | 1, 0o022)), [], '0666 & ~022 = 0644');
      assert.deepEqual(fires(rs, file('open', 0o666, O_CREAT | 1, 0)), ['ww'], 'umask 0: the file is 0666');
      assert.equal(effectiveMode(file('open', 0o666, O_CREAT | 1, 0o022)), 0o644);
      assert.equal(effectiveMode(file('open', 0o4777, O_CREAT | 1, 0o777)), 0o4000, 'the umask never clears setuid');
    });

    it('open without O_CREAT or O_TMPFILE sets no mode: never matches (whatever the record carries)', () => {
      assert.deepEqual(fires(rs, file('open', 0o666, 1, 0)), []);
      assert.equal(effectiveMode(file('open', 0o666, 0o20200000 | 1, 0)), 0o666, 'O_TMPFILE makes a file too');
    });

    it('the loader names an unknown bit and an empty condition with file:line:col', () => {
      assert.equal(
        refused(`rules:\n  - name: r\n    on: chmod\n    match: { mode: { any: [suid] } }\n`),
        `t.yaml:4:27: rule "r": match.mode.any: unknown mode bit "suid" (expected setuid, setgid, sticky, executable, world_writable, world_readable, group_writable)\n    match: { mode: { any: [suid] } }\n                          ^`,
      );
      assert.match(refused(`rules:\n  - name: r\n    on: chmod\n    match: { mode: {} }\n`), /^t\.yaml:4:20: rule "r": match\.mode: expected any: \[\.\.\.\] and\/or all: \[\.\.\.\]/);
      assert.match(refused(`rules:\n  - name: r\n    on: unlink\n    match: { mode: { any: [setuid] } }\n`), /match\.mode does not apply to unlink events/);
    });
  });

  describe('family, type, port', () => {
    const rs = rules(`rules:
  - name: inet-listener-off-port
    on: listen
    match: { family: [AF_INET, AF_INET6], type: [SOCK_STREAM], port: { not_in: [8080] } }
  - name: not-stream
    on: dup
    match: { type: { not_in: [SOCK_STREAM] } }
  - name: by-number
    on: bind
    match: { family: [AF_42] }
`);

    it('names compare as the numbers the record carries; in and not_in', () => {
      assert.deepEqual(fires(rs, sock('listen', 2, 1, 4444)), ['inet-listener-off-port']);
      assert.deepEqual(fires(rs, sock('listen', 2, 1, 8080)), [], 'the allowed port');
      assert.deepEqual(fires(rs, sock('listen', 1, 1, 4444)), [], 'AF_UNIX');
      assert.deepEqual(fires(rs, sock('dup', 2, 2, 53)), ['not-stream']);
      assert.deepEqual(fires(rs, sock('dup', 2, 1, 53)), []);
      assert.deepEqual(fires(rs, sock('bind', 42, 1, 1)), ['by-number'], 'AF_<number> for a family without a name');
    });

    it('an unknown name is refused, with the names it could be', () => {
      assert.match(
        refused(`rules:\n  - name: r\n    on: socket\n    match: { family: [AF_INETT] }\n`),
        /^t\.yaml:4:22: rule "r": match\.family: unknown family "AF_INETT" \(expected one of AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_VSOCK, or AF_<number>\)/,
      );
      assert.match(refused(`rules:\n  - name: r\n    on: socket\n    match: { type: { in: [raw] } }\n`), /match\.type\.in: unknown type "raw"/);
      assert.match(refused(`rules:\n  - name: r\n    on: bind\n    match: { port: [70000] }\n`), /match\.port: expected whole numbers from 0 to 65535/);
    });
  });

  describe('request, namespaces', () => {
    const rs = rules(`rules:
  - name: writes-memory
    on: ptrace
    match: { request: [PTRACE_POKETEXT, PTRACE_POKEDATA, process_vm_writev] }
  - name: not-traceme
    on: ptrace
    match: { request: { not_in: [PTRACE_TRACEME] } }
  - name: user-ns
    on: namespace
    match: { namespaces: { any: [CLONE_NEWUSER] } }
  - name: host-net
    on: namespace
    match: { namespaces: { any: [CLONE_NEWNET] } }
`);

    it('ptrace: the request, and the memory calls judged as ptrace by their names', () => {
      assert.deepEqual(fires(rs, priv('ptrace', [0x10001, 5, 0, 0])), ['writes-memory', 'not-traceme']);
      assert.deepEqual(fires(rs, priv('ptrace', [16, 5, 0, 0])), ['not-traceme'], 'PTRACE_ATTACH');
      assert.deepEqual(fires(rs, priv('ptrace', [0, 0, 0, 0])), [], 'PTRACE_TRACEME');
    });

    it('namespace: asked for (unshare, clone) or joined (the type of the namespace setns names)', () => {
      assert.deepEqual(fires(rs, priv('namespace', [0x10000000 | 0x20000, 0, 0, 0], 272)), ['user-ns']);
      assert.deepEqual(fires(rs, priv('namespace', [0, 0x40000000, 0, 4026531840], 308)), ['host-net'], 'setns(fd, 0) into a network namespace');
      assert.deepEqual(fires(rs, priv('namespace', [0x4000000, 0, 0, 0], 272)), [], 'CLONE_NEWUTS only');
    });

    it('an unknown namespace is refused', () => {
      assert.match(refused(`rules:\n  - name: r\n    on: namespace\n    match: { namespaces: { any: [user] } }\n`), /match\.namespaces\.any: unknown namespace "user" \(expected CLONE_NEWTIME, CLONE_NEWNS/);
    });
  });

  describe('fstype, source, attribute', () => {
    const rs = rules(`rules:
  - name: proc-or-sysfs
    on: mount
    match: { fstype: { in: [proc, sysfs] } }
  - name: host-dir-bind
    on: mount
    match: { source: { prefix: [/var/run/] } }
  - name: not-tmpfs
    on: mount
    match: { fstype: { not_in: [tmpfs] } }
  - name: caps
    on: setxattr
    match: { attribute: { in: [security.capability] } }
`);

    it('mount: the type and the source as passed', () => {
      assert.deepEqual(fires(rs, mount('proc', 'proc')), ['proc-or-sysfs', 'not-tmpfs']);
      assert.deepEqual(fires(rs, mount('/var/run/docker.sock', '')), ['host-dir-bind', 'not-tmpfs'], 'a move_mount has no type: only not_in holds');
      assert.deepEqual(fires(rs, mount('tmpfs', 'tmpfs')), []);
    });

    it('setxattr: the attribute name', () => {
      const ev: AttrEvent = { ...common, kind: 'setxattr', ret: 0, syscallNr: 188, ownerUid: 0, ownerGid: 0, attrFlags: 0, path: '/x', name: 'security.capability', valueLen: 20, rule: 0 };
      assert.deepEqual(fires(rs, ev), ['caps']);
      assert.deepEqual(fires(rs, { ...ev, name: 'user.x' }), []);
    });
  });

  describe('tty, cwd', () => {
    const rs = rules(`rules:
  - name: interactive
    on: exec
    match: { tty: true }
  - name: from-tmp
    on: exec
    match: { cwd: { prefix: [/tmp/] } }
  - name: not-from-root
    on: exec
    match: { cwd: { not_in: [/] } }
`);

    it('tty: the record says whether the process has a controlling terminal', () => {
      assert.deepEqual(fires(rs, exec('/', true)), ['interactive']);
      assert.deepEqual(fires(rs, exec('/', false)), []);
    });

    it('cwd: the directory it was started in; an unknown one (cut) matches only not_in', () => {
      assert.deepEqual(fires(rs, exec('/tmp/x', false)), ['from-tmp', 'not-from-root']);
      assert.deepEqual(fires(rs, exec(null, false)), ['not-from-root']);
    });

    it('cwd is a path: a relative one is refused', () => {
      assert.match(refused(`rules:\n  - name: r\n    on: exec\n    match: { cwd: { in: [tmp] } }\n`), /match\.cwd\.in: "tmp" is not an absolute path/);
      assert.match(refused(`rules:\n  - name: r\n    on: open\n    match: { cwd: { in: [/tmp] } }\n`), /match\.cwd does not apply to open events/);
    });
  });

  it('a kill rule with a record condition is carried out from user space (the kernel checks workload and path only)', () => {
    const rs = rules(`rules:
  - name: k
    on: chmod
    match: { path: { prefix: [/usr/bin/] }, mode: { any: [setuid] } }
    action: kill
`);
    assert.equal(rs.rules[0].enforcement, 'user-kill');
    assert.match(rs.rules[0].enforcementWhy, /match\.mode is evaluated in user space/);
  });
});
