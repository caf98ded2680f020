// The per-event path (process -> workload -> rules -> enforce -> alert),
// driven with synthesized kernel events through the real rules, process
// cache, identity resolver and enforcer. Every kill that reaches user space
// targets either a real child process of this test (which must die, or must
// survive when its start time does not match) or a PID above the kernel's
// PID_MAX_LIMIT, which no process can have.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { ConnectEvent, ExecEvent, ExitEvent, FileEvent, ForkEvent, CgroupEvent, KernelEvent, PrivEvent } from '../../agent/decode/events';
import type { KillResult } from '../../agent/enforce/user-kill';
import type { Alert } from '../../agent/export/alert';
import { Flag, ProcFlag } from '../../agent/kernel/abi';
import { CgroupResolver, findCgroup2Mount } from '../../agent/kernel/cgroupfs';
import { WallClock } from '../../agent/kernel/clock';
import { native } from '../../agent/kernel/native';
import { Pipeline, type PipelineOptions, type PipelineStats } from '../../agent/pipeline';
import { ProcessCache } from '../../agent/process/process-cache';
import { readProcEntry, USER_HZ } from '../../agent/process/procfs';
import { RuleSet } from '../../agent/rules/compile';
import { loadRuleSources } from '../../agent/rules/load';
import { IdentityResolver } from '../../agent/workload/resolver';
import { StaticIdentitySource } from '../../agent/workload/static-source';

const NODE = 'test-node';
const TD = 'spiffe://test.vigil/ns/pay';
/** realtime - boottime: boottime 5 s is 2023-11-14T22:13:25Z */
const OFFSET_NS = 1_700_000_000_000_000_000n;
/** linux/threads.h PID_MAX_LIMIT is 4194304: no process has a PID above it */
const NO_SUCH_PID = 4_194_400;

/** Synthetic cgroup ids, pre-seeded in the resolver (never looked up in the kernel). */
const CG = { api: 91001, web: 91002, host: 91003, drift: 91004 } as const;

const IDENTITIES = `
workloads:
  - spiffe_id: ${TD}/sa/api
    cgroups: [vigil-pipeline/api]
  - spiffe_id: ${TD}/sa/web
    cgroups: [vigil-pipeline/web]
  - spiffe_id: ${TD}/sa/drift
    cgroups: [vigil-pipeline/drift]
  - spiffe_id: ${TD}/sa/db
    addresses: [10.213.9.0/24]
`;

const RULES = `
lists:
  shells: [/usr/bin/sh, /usr/bin/bash, /usr/bin/dash]
rules:
  - name: shell-in-api
    workload: ${TD}/sa/api
    on: exec
    match: { binary: { in: $shells } }
    action: kill
    priority: critical
    tags: [shell]
  - name: shell-anywhere
    description: every shell, but those make runs
    on: exec
    match: { binary: { in: $shells } }
    exceptions:
      - name: from-make
        match: { parent_binary: { in: [/usr/bin/make] } }
    tags: [t1, t2]
  - name: secret-read
    workload: ${TD}/**
    on: open
    match: { path: { in: [/etc/shadow] } }
    action: kill
    priority: error
  - name: trigger-with-args
    workload: ${TD}/sa/web
    on: open
    match: { path: { in: [/tmp/vigil-pipeline-trigger] }, args: { contains: ["30"] } }
    action: kill
  - name: trigger-as-root
    workload: ${TD}/sa/web
    on: open
    match: { path: { in: [/tmp/vigil-pipeline-trigger] }, uid: [0] }
    action: kill
    priority: notice
  - name: api-to-db
    workload: ${TD}/sa/api
    on: connect
    match: { destination: { workload: [${TD}/sa/db] } }
    action: deny
  - name: drift
    workload: ${TD}/sa/drift
    on: exec
    match: { drift: true }
  - name: setid-to-root
    workload: ${TD}/**
    on: setuid
    match: { uid: [0] }
`;

const RULE_ID = { 'shell-in-api': 1, 'secret-read': 3, 'api-to-db': 6 } as const;

function common(pid: number, cgroupId: number, ktimeNs: bigint, flags = 0): Omit<KernelEvent, 'kind'> {
  return { flags, ktimeNs, pid, tid: pid, uid: 0, gid: 0, cgroupId, comm: 'x', workload: 0, procFlags: 0 };
}

function exec(o: { pid: number; ppid: number; exe: string; args: string[]; cgroupId: number; ktimeNs: bigint; startNs: bigint; flags?: number; rule?: number; exeCtimeNs?: bigint; exeIno?: bigint; exeDev?: number; exeFlags?: number }): ExecEvent {
  return {
    ...common(o.pid, o.cgroupId, o.ktimeNs, o.flags),
    kind: 'exec',
    comm: o.exe.slice(o.exe.lastIndexOf('/') + 1).slice(0, 15),
    ppid: o.ppid,
    exe: o.exe,
    args: o.args,
    argc: o.args.length,
    startNs: o.startNs,
    exeIno: o.exeIno ?? 1234n,
    exeDev: o.exeDev ?? 8,
    exeCtimeNs: o.exeCtimeNs ?? 0n,
    rule: o.rule ?? 0,
    exeFlags: o.exeFlags ?? 0,
  };
}

function fork(pid: number, childPid: number, cgroupId: number, ktimeNs: bigint): ForkEvent {
  return { ...common(pid, cgroupId, ktimeNs), kind: 'fork', childPid, childStartNs: ktimeNs };
}

function exit(pid: number, cgroupId: number, ktimeNs: bigint, startNs: bigint): ExitEvent {
  return { ...common(pid, cgroupId, ktimeNs), kind: 'exit', status: 0, startNs };
}

function open(o: { pid: number; path: string; cgroupId: number; ktimeNs: bigint; flags?: number; rule?: number }): FileEvent {
  return {
    ...common(o.pid, o.cgroupId, o.ktimeNs, o.flags),
    kind: 'open',
    ret: 3,
    openFlags: 0, // O_RDONLY
    mode: 0,
    path: o.path,
    newPath: '',
    syscallNr: 257,
    rule: o.rule ?? 0,
  };
}

function connect(o: { pid: number; daddr: string; cgroupId: number; ktimeNs: bigint; flags?: number; rule?: number }): ConnectEvent {
  return { ...common(o.pid, o.cgroupId, o.ktimeNs, o.flags), kind: 'connect', family: 2, dport: 5432, sockType: 1, protocol: 6, daddr: o.daddr, rule: o.rule ?? 0 };
}

/** A set*id call at sys_exit: the ids after the call (uid, gid), the ids asked for (-1: unchanged), its result. */
function setid(o: { pid: number; nr: number; asked: number[]; uid: number; gid?: number; ret?: number; cgroupId: number; ktimeNs: bigint; flags?: number }): PrivEvent {
  const a = [...o.asked.map((x) => x >>> 0), 0xffffffff, 0xffffffff, 0xffffffff].slice(0, 3);
  return {
    ...common(o.pid, o.cgroupId, o.ktimeNs, o.flags),
    uid: o.uid,
    gid: o.gid ?? 0,
    kind: 'setuid',
    ret: o.ret ?? 0,
    syscallNr: o.nr,
    arg: [a[0], a[1], a[2], 0],
    rule: 0,
  };
}

function cgroupCreated(id: number, ktimeNs: bigint): CgroupEvent {
  return { ...common(1, CG.host, ktimeNs), kind: 'cgroup', id, parentId: 1, path: null, removed: false };
}

const ZERO: PipelineStats = { events: 0, errors: 0, evaluated: 0, setidUnchanged: 0, alerts: 0, exempted: 0, kernelKills: 0, userKills: 0, killFailures: 0, denials: 0 };

interface Harness {
  pipeline: Pipeline;
  processes: ProcessCache;
  alerts: Alert[];
  userKills: { latencyNs: bigint; result: KillResult }[];
}

function harness(extra: Partial<PipelineOptions> = {}): Harness {
  const rules = new RuleSet(loadRuleSources([{ name: 'rules.yaml', text: RULES }]));
  const cgroups = new CgroupResolver(findCgroup2Mount());
  const identity = new IdentityResolver(StaticIdentitySource.parse({ name: 'ids.yaml', text: IDENTITIES }), cgroups);
  identity.remember(CG.api, '/vigil-pipeline/api');
  identity.remember(CG.web, '/vigil-pipeline/web');
  identity.remember(CG.host, '/system.slice/host.service');
  identity.remember(CG.drift, '/vigil-pipeline/drift');
  const processes = new ProcessCache(NODE);
  const alerts: Alert[] = [];
  const userKills: { latencyNs: bigint; result: KillResult }[] = [];
  const pipeline = new Pipeline(rules, {
    node: NODE,
    clock: new WallClock(OFFSET_NS),
    processes,
    identity,
    onAlert: (a) => alerts.push(a),
    onUserKill: (latencyNs, result) => userKills.push({ latencyNs, result }),
    ...extra,
  });
  return { pipeline, processes, alerts, userKills };
}

/** A child of this test that sleeps, with its real start time from /proc. */
interface Sleeper {
  pid: number;
  startNs: bigint;
  child: ChildProcess;
  exited: Promise<NodeJS.Signals | null>;
}

describe('pipeline: process -> workload -> rules -> enforce -> alert', function () {
  this.timeout(20000);
  const children = new Set<ChildProcess>();
  let sleepExe: string;
  let pidSeq = NO_SUCH_PID;
  /** a fresh PID that no process can have */
  const ghost = (): number => ++pidSeq;

  before(() => {
    sleepExe = fs.realpathSync('/usr/bin/sleep');
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  async function sleeper(): Promise<Sleeper> {
    const child = spawn(sleepExe, ['30'], { stdio: 'ignore' });
    children.add(child);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    void exited.then(() => children.delete(child));
    const pid = child.pid;
    assert.ok(pid !== undefined, 'spawned sleep has a pid');
    // wait until the exec happened (/proc/PID/exe is sleep, not node)
    const deadline = Date.now() + 5000;
    for (;;) {
      const info = readProcEntry(pid, NODE);
      if (info && info.exe === sleepExe) return { pid, startNs: info.startNs, child, exited };
      if (Date.now() > deadline) throw new Error(`sleep ${pid} never showed up in /proc`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The state of a process from /proc/PID/stat ('S', 'R', 'Z'...), or null when it is gone. */
  function procState(pid: number): string | null {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return null;
    }
  }

  it('keeps the process cache: fork copies the parent, exec replaces the binary, exit marks it exited', () => {
    const h = harness();
    const parent = ghost();
    const child = ghost();
    h.pipeline.handle([
      exec({ pid: parent, ppid: 1, exe: '/usr/sbin/sshd', args: ['sshd', '-D'], cgroupId: CG.host, ktimeNs: 1_000n, startNs: 900n }),
      fork(parent, child, CG.host, 2_000n),
    ]);
    const forked = h.processes.get(child);
    assert.ok(forked, 'the fork put the child in the cache');
    assert.deepEqual(
      { ppid: forked.ppid, exe: forked.exe, args: forked.args, execId: forked.execId, parentExecId: forked.parentExecId, startNs: forked.startNs },
      { ppid: parent, exe: '/usr/sbin/sshd', args: ['sshd', '-D'], execId: `${NODE}:2000:${child}`, parentExecId: `${NODE}:1000:${parent}`, startNs: 2_000n },
    );
    h.pipeline.handle([exec({ pid: child, ppid: parent, exe: '/usr/bin/true', args: ['true'], cgroupId: CG.host, ktimeNs: 3_000n, startNs: 2_000n })]);
    const execd = h.processes.get(child);
    assert.ok(execd);
    assert.equal(execd.exe, '/usr/bin/true');
    assert.deepEqual(execd.args, ['true']);
    assert.equal(execd.execId, `${NODE}:3000:${child}`);
    assert.equal(execd.exited, false);
    h.pipeline.handle([exit(child, CG.host, 4_000n, 2_000n)]);
    assert.equal(h.processes.get(child)?.exited, true);
    assert.equal(h.processes.stats().live, 1, 'only the parent is live');
    // fork, exit and cgroup events are not judged; execs are
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 4, evaluated: 2 });
    assert.deepEqual(h.alerts, []);
  });

  it('set*id calls are judged only when they succeeded and changed an id (the cache knows the ids before)', () => {
    const h = harness();
    const root = ghost();
    const user = ghost();
    const unknown = ghost();
    const SETUID = 105;
    const SETGID = 106;
    const SETRESUID = 117;
    const SETFSUID = 122;
    h.pipeline.handle([
      exec({ pid: root, ppid: 1, exe: '/usr/bin/make', args: ['make'], cgroupId: CG.web, ktimeNs: 1n, startNs: 1n }),
      setid({ pid: root, nr: SETUID, asked: [0], uid: 0, cgroupId: CG.web, ktimeNs: 2n }), // root -> root: nothing changed
      setid({ pid: root, nr: SETGID, asked: [0], uid: 0, cgroupId: CG.web, ktimeNs: 3n }), // gid 0 -> 0
      setid({ pid: root, nr: SETRESUID, asked: [65534, 0, 0], uid: 65534, cgroupId: CG.web, ktimeNs: 4n }), // changed, not to root
      setid({ pid: root, nr: SETUID, asked: [0], uid: 0, cgroupId: CG.web, ktimeNs: 5n }), // 65534 -> 0: the alert
      { ...exec({ pid: user, ppid: 1, exe: '/usr/bin/id', args: ['id'], cgroupId: CG.web, ktimeNs: 6n, startNs: 6n }), uid: 1000 },
      setid({ pid: user, nr: SETUID, asked: [0], uid: 1000, ret: -1, cgroupId: CG.web, ktimeNs: 7n }), // EPERM
      setid({ pid: user, nr: SETFSUID, asked: [1000], uid: 1000, ret: 1000, cgroupId: CG.web, ktimeNs: 8n }), // fsuid was 1000 already
      setid({ pid: unknown, nr: SETUID, asked: [0], uid: 0, cgroupId: CG.web, ktimeNs: 9n }), // never seen: judged
      setid({ pid: root, nr: SETUID, asked: [0], uid: 0, cgroupId: CG.web, ktimeNs: 10n, flags: Flag.ENFORCED }), // the kernel acted: reported
      setid({ pid: root, nr: SETGID, asked: [65534], uid: 0, gid: 65534, cgroupId: CG.web, ktimeNs: 11n }), // changed the gid: judged, but the uid is not its doing
    ]);
    assert.deepEqual(
      h.alerts.map((a) => [a.rule, a.process.pid, String(a.event.time).slice(-4)]),
      [
        ['setid-to-root', root, '05Z'.padStart(4, '0')],
        ['setid-to-root', unknown, '09Z'.padStart(4, '0')],
        ['setid-to-root', root, '10Z'.padStart(4, '0')],
      ],
    );
    assert.equal(h.pipeline.stats.setidUnchanged, 4);
    assert.equal(h.processes.get(root)?.uid, 0, 'the cache follows the ids');
  });

  it('one alert per matching rule, in rule order, with the documented keys in the documented order', () => {
    const h = harness();
    const parent = ghost();
    const pid = ghost();
    h.pipeline.handle([
      exec({ pid: parent, ppid: 1, exe: '/usr/sbin/sshd', args: ['sshd'], cgroupId: CG.host, ktimeNs: 4_000_000_000n, startNs: 3_000_000_000n }),
      exec({
        pid,
        ppid: parent,
        exe: '/usr/bin/dash',
        args: ['/bin/sh', '-c', 'echo hi'],
        cgroupId: CG.api,
        ktimeNs: 5_123_456_789n,
        startNs: 5_000_000_000n,
        flags: Flag.ENFORCED | Flag.IN_SCOPE,
        rule: RULE_ID['shell-in-api'],
      }),
    ]);
    assert.equal(h.alerts.length, 2, JSON.stringify(h.alerts));
    const [killed, alerted] = h.alerts;
    const event = `{"kind":"exec","time":"2023-11-14T22:13:25.123456789Z","pid":${pid},"ppid":${parent},"uid":0,"comm":"dash","exe":"/usr/bin/dash","args":["/bin/sh","-c","echo hi"],"cgroup_id":${CG.api},"cgroup":"/vigil-pipeline/api","tty":false,"cwd":null}`;
    const workload = `{"spiffe_id":"${TD}/sa/api","cgroup_id":${CG.api},"cgroup":"/vigil-pipeline/api","container_id":null,"pod_uid":null,"kubernetes":null,"image":null}`;
    const proc = `{"pid":${pid},"ppid":${parent},"exe":"/usr/bin/dash","args":["/bin/sh","-c","echo hi"],"uid":0,"exec_id":"${NODE}:5123456789:${pid}","parent_exe":"/usr/sbin/sshd"}`;
    assert.equal(
      JSON.stringify(killed),
      `{"time":"2023-11-14T22:13:25.123456789Z","rule":"shell-in-api","priority":"critical","action":"kill","outcome":"killed",` +
        `"note":"killed in the kernel at exec: the new program never ran","tags":["shell"],"node":"${NODE}",` +
        `"output":"shell-in-api: exec of /usr/bin/dash by /usr/bin/dash (pid ${pid}, parent /usr/sbin/sshd) in ${TD}/sa/api: process killed",` +
        `"workload":${workload},"process":${proc},"event":${event}}`,
    );
    assert.equal(
      JSON.stringify(alerted),
      `{"time":"2023-11-14T22:13:25.123456789Z","rule":"shell-anywhere","priority":"warning","action":"alert","outcome":"alerted",` +
        `"tags":["t1","t2"],"node":"${NODE}",` +
        `"output":"shell-anywhere: exec of /usr/bin/dash by /usr/bin/dash (pid ${pid}, parent /usr/sbin/sshd) in ${TD}/sa/api: alert",` +
        `"workload":${workload},"process":${proc},"event":${event}}`,
    );
    // each alert owns its arrays: changing one does not change the other
    killed.process.args?.push('changed');
    assert.deepEqual(alerted.process.args, ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 2, evaluated: 2, alerts: 2, kernelKills: 1 });
    assert.deepEqual(h.userKills, [], 'the kernel killed it: no user-space kill');
  });

  it('the same shell elsewhere: host processes match the rule without a workload only', () => {
    const h = harness();
    const pid = ghost();
    h.pipeline.handle([exec({ pid, ppid: 1, exe: '/usr/bin/bash', args: ['bash'], cgroupId: CG.host, ktimeNs: 5_000_000_000n, startNs: 5_000_000_000n })]);
    assert.deepEqual(
      h.alerts.map((a) => [a.rule, a.outcome, a.workload.spiffe_id, a.workload.cgroup]),
      [['shell-anywhere', 'alerted', null, '/system.slice/host.service']],
    );
    assert.match(h.alerts[0].output, / in host cgroup \/system\.slice\/host\.service: alert$/);
    // a binary no rule names: judged, nothing to say
    h.pipeline.handle([exec({ pid: ghost(), ppid: 1, exe: '/usr/bin/true', args: ['true'], cgroupId: CG.api, ktimeNs: 6_000_000_000n, startNs: 6_000_000_000n })]);
    assert.equal(h.alerts.length, 1);
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 2, evaluated: 2, alerts: 1 });
  });

  it('exceptions: an exempted match is counted, not alerted; other rules still apply', () => {
    const h = harness();
    const make = ghost();
    const hostShell = ghost();
    const apiShell = ghost();
    h.pipeline.handle([
      exec({ pid: make, ppid: 1, exe: '/usr/bin/make', args: ['make'], cgroupId: CG.host, ktimeNs: 1_000n, startNs: 1_000n }),
      exec({ pid: hostShell, ppid: make, exe: '/usr/bin/sh', args: ['sh'], cgroupId: CG.host, ktimeNs: 2_000n, startNs: 2_000n }),
    ]);
    assert.equal(h.alerts.length, 0, 'the host shell make runs is exempt');
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 2, evaluated: 2, exempted: 1 });
    // in api, the kill rule has no exception: killed (in the kernel), the alert rule exempted
    h.pipeline.handle([
      exec({ pid: apiShell, ppid: make, exe: '/usr/bin/sh', args: ['sh'], cgroupId: CG.api, ktimeNs: 3_000n, startNs: 3_000n, flags: Flag.ENFORCED, rule: 1 }),
    ]);
    assert.deepEqual(
      h.alerts.map((a) => [a.rule, a.outcome, a.process.parent_exe]),
      [['shell-in-api', 'killed', '/usr/bin/make']],
    );
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 3, evaluated: 3, exempted: 2, alerts: 1, kernelKills: 1 });
  });

  it('a kernel kill of a file kind: outcome killed, and the note says the syscall completed', () => {
    const h = harness();
    const pid = ghost();
    h.pipeline.handle([
      exec({ pid, ppid: 1, exe: '/usr/bin/cat', args: ['cat', '/etc/shadow'], cgroupId: CG.web, ktimeNs: 1_000n, startNs: 1_000n }),
      open({ pid, path: '/etc/shadow', cgroupId: CG.web, ktimeNs: 2_000n, flags: Flag.ENFORCED, rule: RULE_ID['secret-read'] }),
    ]);
    assert.equal(h.alerts.length, 1);
    const a = h.alerts[0];
    assert.deepEqual(
      { rule: a.rule, priority: a.priority, action: a.action, outcome: a.outcome, note: a.note, reason: a.reason },
      { rule: 'secret-read', priority: 'error', action: 'kill', outcome: 'killed', note: 'killed in the kernel at syscall exit: the open itself completed (no BPF LSM on this kernel)', reason: undefined },
    );
    assert.deepEqual(Object.keys(a), ['time', 'rule', 'priority', 'action', 'outcome', 'note', 'tags', 'node', 'output', 'workload', 'process', 'event']);
    assert.deepEqual(a.event, {
      kind: 'open',
      time: '2023-11-14T22:13:20.000002000Z',
      pid,
      ppid: 1,
      uid: 0,
      comm: 'x',
      exe: '/usr/bin/cat',
      args: ['cat', '/etc/shadow'],
      cgroup_id: CG.web,
      cgroup: '/vigil-pipeline/web',
      tty: false,
      path: '/etc/shadow',
      flags: ['O_RDONLY'],
    });
    assert.equal(a.output, `secret-read: open of /etc/shadow (O_RDONLY) by /usr/bin/cat (pid ${pid}) in ${TD}/sa/web: process killed`);
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 2, evaluated: 2, alerts: 1, kernelKills: 1 });
  });

  it('deny on connect: denied when the kernel refused it; otherwise alerted with the documented reason', () => {
    const h = harness();
    const pid = ghost();
    h.pipeline.handle([
      exec({ pid, ppid: 1, exe: '/usr/bin/curl', args: ['curl'], cgroupId: CG.api, ktimeNs: 1_000n, startNs: 1_000n }),
      connect({ pid, daddr: '10.213.9.5', cgroupId: CG.api, ktimeNs: 2_000n, flags: Flag.ENFORCED, rule: RULE_ID['api-to-db'] }),
      connect({ pid, daddr: '10.213.9.6', cgroupId: CG.api, ktimeNs: 3_000n }),
      // not the db's address, and not from api: nothing
      connect({ pid, daddr: '10.213.10.5', cgroupId: CG.api, ktimeNs: 4_000n }),
      connect({ pid, daddr: '10.213.9.5', cgroupId: CG.web, ktimeNs: 5_000n }),
    ]);
    assert.deepEqual(
      h.alerts.map((a) => ({ rule: a.rule, outcome: a.outcome, reason: a.reason, note: a.note, daddr: a.event.daddr })),
      [
        { rule: 'api-to-db', outcome: 'denied', reason: undefined, note: undefined, daddr: '10.213.9.5' },
        {
          rule: 'api-to-db',
          outcome: 'alerted',
          reason: 'not refused in the kernel: the destination did not match there (address map changed?)',
          note: undefined,
          daddr: '10.213.9.6',
        },
      ],
    );
    assert.equal(h.alerts[0].output, `api-to-db: connect to 10.213.9.5:5432 by /usr/bin/curl (pid ${pid}) in ${TD}/sa/api: denied`);
    assert.equal(
      h.alerts[1].output,
      `api-to-db: connect to 10.213.9.6:5432 by /usr/bin/curl (pid ${pid}) in ${TD}/sa/api: alert (not refused in the kernel: the destination did not match there (address map changed?))`,
    );
    assert.deepEqual(Object.keys(h.alerts[1]).slice(0, 7), ['time', 'rule', 'priority', 'action', 'outcome', 'reason', 'tags']);
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 5, evaluated: 5, alerts: 2, denials: 1 });
    assert.deepEqual(h.userKills, [], 'a deny never kills');
  });

  // Regression (issue 9, IPv4-mapped IPv6; the kernel side is in
  // test/agent/enforce/kernel-rules.test.ts): an AF_INET6 socket reaches an IPv4 destination through its IPv4-mapped form
  // (::ffff:a.b.c.d; the kernel reports family AF_INET6 and that address), and no
  // IPv4 block, from `cidr:` or from a workload's addresses, ever matches it. A
  // deny (or alert) on the destination is bypassed by connecting over IPv6.
  it('a connect to the IPv4-mapped IPv6 form of a denied destination is judged like the IPv4 one', () => {
    const h = harness();
    const pid = ghost();
    h.pipeline.handle([
      exec({ pid, ppid: 1, exe: '/usr/bin/curl', args: ['curl'], cgroupId: CG.api, ktimeNs: 1_000n, startNs: 1_000n }),
      { ...connect({ pid, daddr: '::ffff:10.213.9.6', cgroupId: CG.api, ktimeNs: 2_000n }), family: 10 },
    ]);
    assert.deepEqual(
      h.alerts.map((a) => [a.rule, a.outcome, a.event.daddr]),
      [['api-to-db', 'alerted', '::ffff:10.213.9.6']],
      'the db is 10.213.9.0/24, whichever socket family reaches it',
    );
  });

  it('a user-space kill (no ENFORCED flag) kills the real process, once for two kill rules', async () => {
    const h = harness();
    const s = await sleeper();
    const before = native().clocks().boottimeNs;
    h.pipeline.handle([
      exec({ pid: s.pid, ppid: process.pid, exe: sleepExe, args: ['sleep', '30'], cgroupId: CG.web, ktimeNs: before - 1_000_000n, startNs: s.startNs }),
      open({ pid: s.pid, path: '/tmp/vigil-pipeline-trigger', cgroupId: CG.web, ktimeNs: before }),
    ]);
    assert.equal(await s.exited, 'SIGKILL', 'the sleeper died of SIGKILL');
    assert.deepEqual(
      h.alerts.map((a) => [a.rule, a.outcome, a.note, a.reason]),
      [
        ['trigger-with-args', 'killed', 'killed from user space (pidfd)', undefined],
        ['trigger-as-root', 'killed', 'killed from user space (pidfd)', undefined],
      ],
    );
    // the parent (this test) was never seen by the cache: no parent_exe
    assert.equal(h.alerts[0].output, `trigger-with-args: open of /tmp/vigil-pipeline-trigger (O_RDONLY) by ${sleepExe} (pid ${s.pid}) in ${TD}/sa/web: process killed`);
    assert.deepEqual(h.alerts[0].process, { pid: s.pid, ppid: process.pid, exe: sleepExe, args: ['sleep', '30'], uid: 0, exec_id: `${NODE}:${before - 1_000_000n}:${s.pid}`, parent_exe: null });
    assert.equal(h.userKills.length, 1, 'one kill for the event, whatever the number of kill rules');
    assert.deepEqual(h.userKills[0].result, { ok: true });
    assert.ok(h.userKills[0].latencyNs >= 0n && h.userKills[0].latencyNs < 5_000_000_000n, `latency ${h.userKills[0].latencyNs} ns`);
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 2, evaluated: 2, alerts: 2, userKills: 1 });
  });

  it('a start time that does not match: kill_failed, and the process lives on', async () => {
    const h = harness();
    const s = await sleeper();
    // what the cache believes: the same pid, started one second earlier (a process that exited, its pid reused)
    const staleStart = s.startNs - 1_000_000_000n;
    h.pipeline.handle([
      exec({ pid: s.pid, ppid: process.pid, exe: sleepExe, args: ['sleep', '30'], cgroupId: CG.web, ktimeNs: 1_000n, startNs: staleStart }),
      open({ pid: s.pid, path: '/tmp/vigil-pipeline-trigger', cgroupId: CG.web, ktimeNs: 2_000n }),
    ]);
    const want = `pid ${s.pid} now belongs to another process (started at tick ${(s.startNs * BigInt(USER_HZ)) / 1_000_000_000n}, expected ${(staleStart * BigInt(USER_HZ)) / 1_000_000_000n})`;
    assert.deepEqual(
      h.alerts.map((a) => [a.rule, a.outcome, a.reason, a.note]),
      [
        ['trigger-with-args', 'kill_failed', want, undefined],
        ['trigger-as-root', 'kill_failed', want, undefined],
      ],
    );
    assert.match(h.alerts[0].output, / kill FAILED \(pid \d+ now belongs to another process /);
    assert.deepEqual(Object.keys(h.alerts[0]).slice(4, 7), ['outcome', 'reason', 'tags']);
    // still there, still sleeping
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(['S', 'R'].includes(procState(s.pid) ?? 'gone'), `sleep ${s.pid} is ${procState(s.pid)}`);
    assert.equal(s.child.exitCode, null);
    assert.equal(s.child.signalCode, null);
    assert.deepEqual(h.userKills.map((k) => k.result.ok), [false]);
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 2, evaluated: 2, alerts: 2, killFailures: 1 });
    s.child.kill('SIGKILL');
    assert.equal(await s.exited, 'SIGKILL');
  });

  it('a process that is gone: kill_failed "had already exited"; after a failed kernel kill, the reason says both', () => {
    const h = harness();
    const pid = ghost();
    h.pipeline.handle([
      exec({ pid, ppid: 1, exe: '/usr/bin/cat', args: ['cat', '30'], cgroupId: CG.web, ktimeNs: 1_000n, startNs: 1_000n }),
      open({ pid, path: '/tmp/vigil-pipeline-trigger', cgroupId: CG.web, ktimeNs: 2_000n }),
      open({ pid, path: '/etc/shadow', cgroupId: CG.web, ktimeNs: 3_000n, flags: Flag.ENFORCE_FAILED, rule: RULE_ID['secret-read'] }),
    ]);
    assert.deepEqual(
      h.alerts.map((a) => [a.rule, a.outcome, a.reason]),
      [
        ['trigger-with-args', 'kill_failed', 'the process had already exited'],
        ['trigger-as-root', 'kill_failed', 'the process had already exited'],
        ['secret-read', 'kill_failed', 'the kernel could not signal it, then user space: the process had already exited'],
      ],
    );
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 3, evaluated: 3, alerts: 3, killFailures: 2 });
  });

  it('drift: an exec of a file changed after the workload\'s cgroup was created (wall clock through the offset)', () => {
    const h = harness();
    const created = 10_000_000_000n; // boottime of the cgroup's creation
    const createdWall = created + OFFSET_NS;
    h.pipeline.handle([
      cgroupCreated(CG.drift, created),
      exec({ pid: ghost(), ppid: 1, exe: '/usr/local/bin/old', args: ['old'], cgroupId: CG.drift, ktimeNs: 20_000_000_000n, startNs: 20_000_000_000n, exeCtimeNs: createdWall - 1n }),
      exec({ pid: ghost(), ppid: 1, exe: '/usr/local/bin/new', args: ['new'], cgroupId: CG.drift, ktimeNs: 21_000_000_000n, startNs: 21_000_000_000n, exeCtimeNs: createdWall + 1n }),
    ]);
    assert.deepEqual(
      h.alerts.map((a) => [a.rule, a.process.exe]),
      [['drift', '/usr/local/bin/new']],
    );
    assert.deepEqual(h.pipeline.stats, { ...ZERO, events: 3, evaluated: 2, alerts: 1 });
  });

  it('setRules swaps the rules for the next event', () => {
    const h = harness();
    const none = new RuleSet(loadRuleSources([{ name: 'none.yaml', text: 'rules: []\n' }]));
    const old = h.pipeline.getRules();
    h.pipeline.setRules(none);
    assert.equal(h.pipeline.getRules(), none);
    h.pipeline.handle([exec({ pid: ghost(), ppid: 1, exe: '/usr/bin/bash', args: ['bash'], cgroupId: CG.host, ktimeNs: 1_000n, startNs: 1_000n })]);
    assert.equal(h.alerts.length, 0);
    h.pipeline.setRules(old);
    h.pipeline.handle([exec({ pid: ghost(), ppid: 1, exe: '/usr/bin/bash', args: ['bash'], cgroupId: CG.host, ktimeNs: 2_000n, startNs: 2_000n })]);
    assert.deepEqual(h.alerts.map((a) => a.rule), ['shell-anywhere']);
  });

  it('stats add up over one mixed batch', () => {
    const h = harness();
    const sh = ghost();
    const make = ghost();
    const curl = ghost();
    const cat = ghost();
    h.pipeline.handle([
      cgroupCreated(CG.api, 1n),
      exec({ pid: make, ppid: 1, exe: '/usr/bin/make', args: ['make'], cgroupId: CG.host, ktimeNs: 2n, startNs: 2n }), // evaluated, nothing
      fork(make, sh, CG.host, 3n),
      exec({ pid: sh, ppid: make, exe: '/usr/bin/sh', args: ['sh'], cgroupId: CG.host, ktimeNs: 4n, startNs: 3n }), // exempted
      exec({ pid: curl, ppid: 1, exe: '/usr/bin/bash', args: ['bash'], cgroupId: CG.api, ktimeNs: 5n, startNs: 5n, flags: Flag.ENFORCED, rule: 1 }), // 2 alerts, kernel kill
      exec({ pid: curl, ppid: 1, exe: '/usr/bin/curl', args: ['curl'], cgroupId: CG.api, ktimeNs: 6n, startNs: 5n }), // nothing
      connect({ pid: curl, daddr: '10.213.9.1', cgroupId: CG.api, ktimeNs: 7n, flags: Flag.ENFORCED, rule: RULE_ID['api-to-db'] }), // denied
      connect({ pid: curl, daddr: '10.213.9.2', cgroupId: CG.api, ktimeNs: 8n }), // alerted with a reason
      exec({ pid: cat, ppid: 1, exe: '/usr/bin/cat', args: ['cat'], cgroupId: CG.web, ktimeNs: 9n, startNs: 9n }),
      open({ pid: cat, path: '/etc/shadow', cgroupId: CG.web, ktimeNs: 10n, flags: Flag.ENFORCED, rule: RULE_ID['secret-read'] }), // kernel kill
      open({ pid: cat, path: '/tmp/vigil-pipeline-trigger', cgroupId: CG.web, ktimeNs: 11n }), // 1 rule (uid 0), gone: kill failed
      open({ pid: cat, path: '/etc/passwd', cgroupId: CG.web, ktimeNs: 12n }), // nothing
      exit(sh, CG.host, 13n, 3n),
    ]);
    const want: PipelineStats = { events: 13, errors: 0, evaluated: 10, setidUnchanged: 0, alerts: 6, exempted: 1, kernelKills: 2, userKills: 0, killFailures: 1, denials: 1 };
    assert.deepEqual(h.pipeline.stats, want);
    assert.equal(h.alerts.length, want.alerts);
    const outcomes = h.alerts.map((a) => a.outcome);
    assert.equal(outcomes.filter((o) => o === 'killed').length, want.kernelKills + want.userKills);
    assert.equal(outcomes.filter((o) => o === 'kill_failed').length, want.killFailures);
    assert.equal(outcomes.filter((o) => o === 'denied').length, want.denials);
  });

  it('an event whose handling throws is counted and reported; the rest of its batch is handled (issue 9)', () => {
    const errors: [string, string][] = [];
    const h = harness({ onError: (ev, err) => errors.push([ev.kind, (err as Error).message]) });
    const poisoned = new Proxy(exec({ pid: 4242, ppid: 1, exe: '/bin/sh', args: ['sh'], cgroupId: CG.api, ktimeNs: 1n, startNs: 1n }), {
      get: (t, k) => {
        if (k === 'exe') throw new Error('a malformed record');
        return Reflect.get(t, k);
      },
    });
    const pid = ghost();
    h.pipeline.handle([
      poisoned,
      exec({ pid, ppid: 1, exe: '/usr/bin/cat', args: ['cat', '/etc/shadow'], cgroupId: CG.web, ktimeNs: 2n, startNs: 2n }),
      open({ pid, path: '/etc/shadow', cgroupId: CG.web, ktimeNs: 3n }),
    ]);
    assert.deepEqual(errors, [['exec', 'a malformed record']]);
    assert.equal(h.pipeline.stats.errors, 1);
    assert.equal(h.pipeline.stats.events, 3, 'every event of the batch was handled');
    assert.ok(h.alerts.some((a) => a.process.pid === pid), 'the events after the bad one still raise their alerts');
  });

  it('a process that left its workload (PF_MOVED) is judged as the workload it left', () => {
    const h = harness({ workloadName: (i) => (i === 7 ? 'spiffe://test.vigil/ns/pay/sa/api' : undefined) });
    const pid = ghost();
    h.pipeline.handle([
      exec({ pid, ppid: 1, exe: '/usr/bin/cat', args: ['cat'], cgroupId: CG.host, ktimeNs: 1n, startNs: 1n }),
      { ...open({ pid, path: '/etc/shadow', cgroupId: CG.host, ktimeNs: 2n }), workload: 7, procFlags: ProcFlag.ORIGIN | ProcFlag.MOVED },
    ]);
    const a = h.alerts.find((x) => x.event.kind === 'open');
    assert.ok(a, JSON.stringify(h.alerts.map((x) => x.rule)));
    assert.equal(a.workload.spiffe_id, 'spiffe://test.vigil/ns/pay/sa/api');
    assert.equal(a.workload.moved, true);
    assert.equal(a.workload.cgroup, '/system.slice/host.service', 'where it is now');
  });
});
