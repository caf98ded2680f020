// `vigil rules test`'s engine: trace lines and fixtures through the real
// rules, expectations checked, input problems named by file:line.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { replay, replayText } from '../../../agent/rules/replay';
import { repoRoot } from '../../../common/repo';
import type { KernelEvent } from '../../../agent/decode/events';
import { traceRecord } from '../../../agent/export/trace-record';
import { WallClock } from '../../../agent/kernel/clock';
import { ProcFlag } from '../../../agent/kernel/abi';
import { ProcessCache } from '../../../agent/process/process-cache';
import { RuleSet } from '../../../agent/rules/compile';
import { loadRuleFiles } from '../../../agent/rules/load';

const RULES = `
rules:
  - name: no-shell
    workload: spiffe://t/ns/web/**
    on: exec
    match: { binary: { in: [/usr/bin/dash] } }
    action: kill
  - name: shadow
    on: open
    match: { path: { in: [/etc/shadow] }, flags: { any: [write] } }
    exceptions:
      - name: passwd
        match: { parent_binary: { in: [/usr/bin/passwd] } }
  - name: to-db
    workload: spiffe://t/ns/web/**
    on: connect
    match: { destination: { workload: [spiffe://t/ns/db/sa/pg] } }
    action: deny
`;

const IDS = `
workloads:
  - spiffe_id: spiffe://t/ns/web/sa/api
    cgroups: [kubepods/web]
  - spiffe_id: spiffe://t/ns/db/sa/pg
    addresses: [10.1.2.3]
`;

describe('rules replay (vigil rules test)', () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-replay-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('trace lines: workloads from the cgroup (identities file), parents from earlier execs and forks, destinations by address', () => {
    const trace = [
      { kind: 'exec', time: '2026-01-01T00:00:00.000000001Z', pid: 10, ppid: 1, uid: 0, comm: 'node', exe: '/usr/bin/passwd', args: ['passwd'], cgroup_id: 5, cgroup: '/kubepods/web' },
      { kind: 'fork', time: '2026-01-01T00:00:00.000000002Z', pid: 10, ppid: 1, uid: 0, comm: 'passwd', exe: '/usr/bin/passwd', args: ['passwd'], cgroup_id: 5, cgroup: '/kubepods/web', target_pid: 11 },
      { kind: 'exec', time: '2026-01-01T00:00:00.000000003Z', pid: 11, ppid: 10, uid: 0, comm: 'sh', exe: '/usr/bin/dash', args: ['sh'], cgroup_id: 5, cgroup: '/kubepods/web' },
      { kind: 'open', time: '2026-01-01T00:00:00.000000004Z', pid: 11, ppid: 10, uid: 0, comm: 'sh', exe: '/usr/bin/dash', args: ['sh'], cgroup_id: 5, cgroup: '/kubepods/web', path: '/etc/shadow', flags: ['O_WRONLY'] },
      { kind: 'open', time: '2026-01-01T00:00:00.000000005Z', pid: 12, ppid: 1, uid: 0, comm: 'cat', exe: '/usr/bin/cat', args: ['cat'], cgroup_id: 6, cgroup: '/other', path: '/etc/shadow', flags: ['O_RDWR'] },
      { kind: 'open', time: '2026-01-01T00:00:00.000000006Z', pid: 12, ppid: 1, uid: 0, comm: 'cat', exe: '/usr/bin/cat', args: ['cat'], cgroup_id: 6, cgroup: '/other', path: '/etc/shadow', flags: ['O_RDONLY'] },
      { kind: 'connect', time: '2026-01-01T00:00:00.000000007Z', pid: 11, ppid: 10, uid: 0, comm: 'sh', exe: '/usr/bin/dash', args: ['sh'], cgroup_id: 5, cgroup: '/kubepods/web', family: 'AF_INET', daddr: '10.1.2.3', dport: 5432 },
    ];
    const rep = replay({ rules: [write('r.yaml', RULES)], events: [write('t.json', trace.map((t) => JSON.stringify(t)).join('\n') + '\n')], identities: write('ids.yaml', IDS) });
    assert.equal(rep.events, 7);
    assert.deepEqual(
      rep.hits.map((h) => [h.at.replace(/.*\//, ''), h.rule, h.exempted_by]),
      [
        ['t.json:3', 'no-shell', null],
        ['t.json:4', 'shadow', 'passwd'],
        ['t.json:5', 'shadow', null],
        ['t.json:7', 'to-db', null],
      ],
    );
    const shell = rep.hits[0].alert;
    assert.equal(shell.workload.spiffe_id, 'spiffe://t/ns/web/sa/api');
    assert.equal(shell.process.parent_exe, '/usr/bin/passwd');
    assert.equal(rep.failures.length, 0);
    const text = replayText(rep);
    assert.match(text, /t\.json:3: would kill: no-shell: exec of \/usr\/bin\/dash by \/usr\/bin\/dash \(pid 11, parent \/usr\/bin\/passwd\) in spiffe:\/\/t\/ns\/web\/sa\/api\n/);
    assert.match(text, /t\.json:4: exempted from shadow by passwd: /);
    assert.match(text, /vigil rules test: 7 events, 3 alerts, 1 exempted; 0 expectations, 0 failed\n$/);
  });

  it('fixtures: expectations that hold, and each one that does not, named by file:line and case', () => {
    const fx = write(
      'f.yaml',
      `events:
  - name: shell in web
    event: {kind: exec, pid: 1, exe: /usr/bin/dash, args: [sh]}
    spiffe_id: spiffe://t/ns/web/sa/api
    expect: {fire: [no-shell], not_fire: ["*"]}
  - name: shell elsewhere
    event: {kind: exec, pid: 2, exe: /usr/bin/dash, args: [sh]}
    spiffe_id: spiffe://t/ns/other/sa/x
    expect: {fire: [no-shell]}
  - name: a write by passwd's child
    event: {kind: open, pid: 3, exe: /usr/bin/dash, path: /etc/shadow, flags: [O_WRONLY]}
    parent_exe: /usr/bin/passwd
    expect: {not_fire: [shadow]}
  - name: escapes in the exe
    event: {kind: open, pid: 4, exe: "/usr/bin/\\u001b[2Jcat", path: /etc/shadow, flags: [O_RDWR]}
    expect: {not_fire: [shadow]}
`,
    );
    const rep = replay({ rules: [write('r2.yaml', RULES)], events: [fx] });
    assert.equal(rep.expectations, 5);
    assert.deepEqual(rep.failures, [
      `${fx}:6: "shell elsewhere": expected rule no-shell to fire; no rule fired`,
      `${fx}:14: "escapes in the exe": expected rule shadow not to fire; it fired`,
    ]);
    const text = replayText(rep);
    assert.ok(!text.includes('\u001b'), 'terminal escapes from the events are shown escaped');
    assert.match(text, /FAILED .*f\.yaml:14: "escapes in the exe": expected rule shadow not to fire; it fired\n/);
  });

  it('migrate, socket and io_uring records replay as their own kinds (not as module loads)', () => {
    const r = write('r-kinds.yaml', `rules:
  - name: moved
    on: migrate
  - name: sockets
    on: socket
  - name: uring
    on: io_uring
  - name: modules
    on: module
`);
    const ev = write(
      'kinds.json',
      [
        '{"kind":"migrate","pid":5,"exe":"/usr/bin/dash","to_cgroup":"/","to_cgroup_id":1,"from_cgroup_id":7,"writer_pid":5}',
        '{"kind":"socket","pid":6,"exe":"/usr/bin/x","family":"AF_PACKET","type":"SOCK_RAW","protocol":0}',
        '{"kind":"io_uring","pid":7,"exe":"/usr/bin/x","op":"IORING_OP_OPENAT","op_class":"file","path":"/etc/shadow"}',
      ].join('\n') + '\n',
    );
    const rep = replay({ rules: [r], events: [ev] });
    assert.deepEqual(rep.hits.map((h) => h.rule), ['moved', 'sockets', 'uring'], 'none of them is judged as a module load');
  });

  it('the default pack against its fixture: every expectation holds', () => {
    const root = repoRoot();
    const rep = replay({ rules: [path.join(root, 'deploy', 'rules', 'default.yaml')], events: [path.join(root, 'test', 'fixtures', 'rules', 'default-pack.yaml')] });
    assert.deepEqual(rep.failures, []);
    assert.ok(rep.expectations >= 15);
  });

  it('refuses input it cannot read as events, with file:line:col, and expectations naming unknown rules', () => {
    const r = write('r3.yaml', RULES);
    assert.throws(() => replay({ rules: [r], events: [write('bad.json', '{"kind":"open","pid":1}\n{"kind":\n')] }), /bad\.json:2:1: not a JSON object/);
    assert.throws(() => replay({ rules: [r], events: [write('k.json', '{"kind":"teleport","pid":1}\n')] }), /k\.json:1:1: event: kind must be one of exec, .* got "teleport"/);
    assert.throws(() => replay({ rules: [r], events: [write('u.yaml', 'events:\n  - event: {kind: exec, exe: /x}\n    expect: {fire: [no-such-rule]}\n')] }), /u\.yaml:3:13: expect names rule "no-such-rule", which the rules given do not define/);
    assert.throws(() => replay({ rules: [r], events: [write('x.yaml', 'cases: []\n')] }), /x\.yaml:1:1: unknown key "cases" \(a fixture has "events"\)/);
    assert.throws(() => replay({ rules: [r], events: [path.join(dir, 'missing.json')] }), /missing\.json: cannot read/);
  });

  it('the issue 11 kinds and the record conditions survive vigil trace -> vigil rules test: the same rules fire as on the event itself', () => {
    const rulesFile = write(
      'k.yaml',
      `rules:
  - { name: chown-root, on: chown, match: { path: { prefix: [/usr/] } } }
  - { name: caps, on: setxattr, match: { attribute: { in: [security.capability] } } }
  - { name: userns, on: namespace, match: { namespaces: { any: [CLONE_NEWUSER] } } }
  - { name: setns-net, on: namespace, match: { namespaces: { any: [CLONE_NEWNET] } } }
  - { name: odd-listener, on: listen, match: { family: [AF_INET6], port: { not_in: [8080] } } }
  - { name: reverse-shell, on: dup, match: { type: [SOCK_STREAM], port: [4444] } }
  - { name: fileless, on: memfd }
  - { name: uffd-dev, on: userfaultfd }
  - { name: kprobe-load, on: bpf }
  - { name: raw, on: socket, match: { family: [AF_PACKET], type: [SOCK_RAW] } }
  - { name: poke, on: ptrace, match: { request: [process_vm_writev] } }
  - { name: procfs, on: mount, match: { fstype: { in: [proc] }, source: { in: [proc] } } }
  - { name: ww, on: open, match: { mode: { any: [world_writable] } } }
  - { name: suid, on: chmod, match: { mode: { all: [setuid, executable] } } }
  - { name: interactive-from-tmp, on: exec, match: { tty: true, cwd: { prefix: [/tmp/] } } }
`,
    );
    const c = { flags: 0, ktimeNs: 1_000n, tid: 0, uid: 0, gid: 0, cgroupId: 9, comm: 'x', workload: 0, procFlags: 0 };
    const events: KernelEvent[] = [
      { ...c, pid: 20, procFlags: ProcFlag.TTY, kind: 'exec', ppid: 1, exe: '/usr/bin/bash', args: ['bash'], argc: 1, startNs: 0n, exeIno: 0n, exeDev: 0, exeCtimeNs: 0n, cwd: '/tmp/x', rule: 0, exeFlags: 0 },
      { ...c, pid: 21, kind: 'exec', ppid: 1, exe: '/usr/bin/bash', args: ['bash'], argc: 1, startNs: 0n, exeIno: 0n, exeDev: 0, exeCtimeNs: 0n, cwd: '/tmp/x', rule: 0, exeFlags: 0 },
      { ...c, pid: 20, kind: 'chown', ret: 0, syscallNr: 92, ownerUid: 0, ownerGid: 0xffffffff, attrFlags: 0, path: '/usr/bin/x', name: '', valueLen: 0, rule: 0 },
      { ...c, pid: 20, kind: 'setxattr', ret: 0, syscallNr: 188, ownerUid: 0xffffffff, ownerGid: 0xffffffff, attrFlags: 0, path: '/usr/bin/x', name: 'security.capability', valueLen: 20, rule: 0 },
      { ...c, pid: 20, kind: 'namespace', ret: 0, syscallNr: 272, arg: [0x10000000, 0, 0, 0], rule: 0 },
      { ...c, pid: 20, kind: 'namespace', ret: 0, syscallNr: 308, arg: [0, 0x40000000, 0, 4026531840], rule: 0 },
      { ...c, pid: 20, kind: 'listen', ret: 0, syscallNr: 50, fd: 3, family: 10, sockType: 1, protocol: 6, addr: '::', port: 9000, backlog: 5, rule: 0 },
      { ...c, pid: 20, kind: 'listen', ret: 0, syscallNr: 50, fd: 3, family: 10, sockType: 1, protocol: 6, addr: '::', port: 8080, backlog: 5, rule: 0 },
      { ...c, pid: 20, kind: 'dup', ret: 0, syscallNr: 33, fd: 3, family: 2, sockType: 1, protocol: 6, addr: '10.0.0.9', port: 4444, backlog: 0, rule: 0 },
      { ...c, pid: 20, kind: 'memfd', ret: 3, memfdFlags: 1, name: 'x', rule: 0 },
      { ...c, pid: 20, kind: 'userfaultfd', ret: 3, syscallNr: 16, arg: [0o2000000, 1, 0, 0], rule: 0 },
      { ...c, pid: 20, kind: 'bpf', ret: 3, cmd: 5, progType: 2, attachType: 0, insnCnt: 2, progName: 'p', rule: 0 },
      { ...c, pid: 20, kind: 'socket', family: 17, sockType: 3, protocol: 0, ret: 3, rule: 0 },
      { ...c, pid: 20, kind: 'ptrace', ret: 8, syscallNr: 311, arg: [0x10001, 30, 0, 0], rule: 0 },
      { ...c, pid: 20, kind: 'ptrace', ret: 8, syscallNr: 310, arg: [0x10000, 30, 0, 0], rule: 0 },
      { ...c, pid: 20, kind: 'mount', ret: 0, syscallNr: 165, sysFlags: 0, str1: 'proc', str2: '/mnt', str3: 'proc', rule: 0 },
      { ...c, pid: 20, kind: 'open', ret: 3, openFlags: 0o101, mode: 0o666, umask: 0, path: '/tmp/a', newPath: '', syscallNr: 257, rule: 0 },
      { ...c, pid: 20, kind: 'open', ret: 3, openFlags: 0o101, mode: 0o666, umask: 0o022, path: '/tmp/b', newPath: '', syscallNr: 257, rule: 0 },
      { ...c, pid: 20, kind: 'chmod', ret: 0, openFlags: 0, mode: 0o4755, path: '/tmp/a', newPath: '', syscallNr: 90, rule: 0 },
      { ...c, pid: 20, kind: 'chmod', ret: 0, openFlags: 0, mode: 0o4644, path: '/tmp/a', newPath: '', syscallNr: 90, rule: 0 },
    ];
    // what the engine says of each event itself
    const rs = new RuleSet(loadRuleFiles([rulesFile]));
    const direct = events.map((ev) =>
      rs.evaluate({ ev, exe: '/usr/bin/bash', args: ['bash'], parentExe: null, spiffeId: null, destSpiffeId: null }).map((m) => m.rule.name),
    );
    assert.deepEqual(direct.filter((f) => f.length === 0).length, 5, 'five events are the harmless twins');
    // the same events as vigil trace --details prints them, replayed
    const fmt = { clock: new WallClock(0n), processes: new ProcessCache('t'), cgroupPath: () => '/x', details: true };
    const lines = events.map((ev) => JSON.stringify(traceRecord(ev, fmt))).join('\n') + '\n';
    const rep = replay({ rules: [rulesFile], events: [write('k.json', lines)] });
    const byLine = events.map((_, i) => rep.hits.filter((h) => h.at.endsWith(`:${i + 1}`) && !h.exempted_by).map((h) => h.rule));
    assert.deepEqual(byLine, direct);
  });
});
