// `vigil rules test`'s engine: trace lines and fixtures through the real
// rules, expectations checked, input problems named by file:line.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { replay, replayText } from '../../../agent/rules/replay';
import { repoRoot } from '../../../common/repo';

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
});
