// Issue 9 item 4: kernel kills and denies keep working while the agent is
// stopped, crashed (kill -9) or replaced; the next agent takes over what is
// in force without a gap, and `vigil agent --uninstall` removes it all. Real
// `vigil agent` processes, a pin directory of their own on bpffs.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../agent/kernel/native';
import { ABI_VERSION } from '../../agent/kernel/abi';
import { repoRoot } from '../../common/repo';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';
import { until } from '../helpers/wait';

const TD = 'spiffe://test.vigil/ns/survive';

interface AgentProc {
  proc: ChildProcess;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('enforcement that survives the agent (issue 9 item 4)', function () {
  this.timeout(120000);
  const vigil = path.join(repoRoot(), 'bin', 'vigil');
  const pinDir = `/sys/fs/bpf/vigil-test-${process.pid}`;
  let sb: CgroupSandbox;
  let w: CgroupHandle;
  let tmp: string;
  let actions: string;
  const agents: AgentProc[] = [];

  const startAgent = async (rules: string): Promise<AgentProc> => {
    const p = spawn(process.execPath, [vigil, 'agent', '--rules', rules, '--identities', path.join(tmp, 'ids.yaml'), '--pin-dir', pinDir, '--no-kubernetes', '--node', 'survive'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.on('close', (code, signal) => r({ code, signal })));
    const a = { proc: p, err: () => err, exited };
    agents.push(a);
    await until('the agent watches', () => /vigil agent: watching/.test(err) || p.exitCode !== null, 30000);
    assert.match(err, /vigil agent: watching/, err);
    return a;
  };

  /** A shell exec'd in the workload: true when it ran, false when the kernel killed it at exec. */
  const shellRuns = async (): Promise<boolean> => {
    const f = await sb.spawnIn(w, actions, ['exec:/bin/sh:-c:echo ran']).done;
    if (f.signal === 'SIGKILL') return false;
    assert.match(f.stdout, /ran/, `the shell neither ran nor was killed: ${JSON.stringify(f)}`);
    return true;
  };

  before(() => {
    requireKernelTestPrivileges();
    actions = fs.realpathSync(helperBinary('actions'));
    sb = CgroupSandbox.create('survive');
    w = sb.child('w');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-survive-'));
    fs.writeFileSync(path.join(tmp, 'ids.yaml'), `workloads:\n  - spiffe_id: ${TD}/sa/w\n    cgroups: [${w.rel.slice(1)}]\n`);
    const shells = '[/bin/sh, /usr/bin/sh, /bin/dash, /usr/bin/dash, /bin/bash, /usr/bin/bash]';
    fs.writeFileSync(
      path.join(tmp, 'kill.yaml'),
      `rules:\n  - name: no-shell\n    workload: ${TD}/sa/w\n    on: exec\n    match: { binary: { in: ${shells} } }\n    action: kill\n` +
        `  - name: no-port-9\n    workload: ${TD}/sa/w\n    on: connect\n    match: { destination: { cidr: [127.0.0.1/32], port: [9] } }\n    action: deny\n`,
    );
    fs.writeFileSync(path.join(tmp, 'other.yaml'), `rules:\n  - name: only-alert\n    workload: ${TD}/sa/w\n    on: exec\n    match: { binary: { in: ${shells} } }\n    action: alert\n`);
  });

  after(async () => {
    for (const a of agents) if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    for (const a of agents) await a.exited;
    native().unpinAll(pinDir);
    fs.rmSync(pinDir, { recursive: true, force: true });
    if (sb) await sb.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('pins its programs and maps, and kills and denies while it runs', async () => {
    await startAgent(path.join(tmp, 'kill.yaml'));
    assert.ok(fs.existsSync(path.join(pinDir, `v${ABI_VERSION}`, 'links', 'vigil_exec')), 'the exec program is pinned');
    assert.ok(fs.existsSync(path.join(pinDir, `v${ABI_VERSION}`, 'maps', 'rules')), 'the rules are pinned');
    assert.equal(await shellRuns(), false);
  });

  it('crashed (kill -9): the shell is still killed at exec and the port still refused', async () => {
    const a = agents[0];
    a.proc.kill('SIGKILL');
    await a.exited;
    for (let i = 0; i < 3; i++) assert.equal(await shellRuns(), false, 'killed in the kernel with no agent running');
    const c = await sb.spawnIn(w, actions, ['connect4:127.0.0.1:9']).done;
    assert.match(c.stderr, /actions: connect 127\.0\.0\.1: Operation not permitted/);
  });

  it('a new agent takes over without a gap: no shell runs while it starts', async () => {
    let stop = false;
    const results: boolean[] = [];
    const loop = (async () => {
      while (!stop) results.push(await shellRuns());
    })();
    const b = await startAgent(path.join(tmp, 'kill.yaml'));
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await loop;
    assert.match(b.err(), new RegExp(`took over the enforcement in force at .*/v${ABI_VERSION} \\(rules generation [12]`));
    assert.ok(results.length >= 5, `${results.length} shells tried during the take-over`);
    assert.deepEqual(results.filter((r) => r), [], 'not one shell ran');
    // stopped cleanly, the enforcement stays
    b.proc.kill('SIGINT');
    assert.equal((await b.exited).code, 0);
    assert.equal(await shellRuns(), false, 'still killed after a clean stop');
  });

  it('the next agent\'s rules replace the previous ones entirely (nothing stale stays in force)', async () => {
    const c = await startAgent(path.join(tmp, 'other.yaml'));
    const deadline = Date.now() + 5000;
    while (!(await shellRuns())) assert.ok(Date.now() < deadline, 'the shell runs under the new rules');
    c.proc.kill('SIGINT');
    assert.equal((await c.exited).code, 0);
  });

  it('vigil agent --uninstall removes it all: programs detach, pins go', async () => {
    // make the pinned rules kill again, then uninstall
    const d = await startAgent(path.join(tmp, 'kill.yaml'));
    d.proc.kill('SIGINT');
    await d.exited;
    assert.equal(await shellRuns(), false);
    const r = spawnSync(process.execPath, [vigil, 'agent', '--uninstall', '--pin-dir', pinDir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`uninstalled ${pinDir}: \\d+ programs detached, \\d+ pins removed`));
    assert.equal(fs.existsSync(pinDir), false);
    assert.equal(await shellRuns(), true, 'nothing enforces any more');
  });
});
