// close() leaves nothing behind: no BPF programs, maps or links held, no
// reader thread, nothing pinned, no attached cgroup program.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { KIND_NAMES } from '../../../agent/kernel/abi';
import { Probe } from '../../../agent/kernel/probe';
import { CgroupSandbox, bpfFds, requireKernelTestPrivileges, threadCount } from '../../helpers/kernel';

/** ids of the BPF programs this process holds, from /proc/self/fdinfo */
function heldProgramIds(): number[] {
  const ids: number[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:bpf-prog') continue;
      const m = /prog_id:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (m) ids.push(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return ids;
}

function programExists(id: number): boolean {
  try {
    execFileSync('bpftool', ['prog', 'show', 'id', String(id)], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

async function programsGone(ids: number[]): Promise<number[]> {
  // the kernel frees programs after an RCU grace period
  for (let i = 0; i < 100; i++) {
    const left = ids.filter(programExists);
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 20));
  }
  return ids.filter(programExists);
}

function pinned(): string[] {
  const walk = (d: string): string[] =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(`${d}/${e.name}`) : [`${d}/${e.name}`]));
  return fs.existsSync('/sys/fs/bpf') ? walk('/sys/fs/bpf') : [];
}

describe('clean shutdown', function () {
  this.timeout(30000);
  let sb: CgroupSandbox;
  before(() => {
    requireKernelTestPrivileges();
    sb = CgroupSandbox.create('shutdown');
  });
  after(async () => {
    if (sb) await sb.cleanup();
  });

  it('close() joins the reader, releases every BPF object and pins nothing', async () => {
    const fdsBefore = bpfFds();
    const threadsBefore = threadCount();
    const pinsBefore = pinned();
    for (let round = 0; round < 3; round++) {
      const probe = Probe.load({ kinds: [...KIND_NAMES], cgroups: [sb.top.dir] });
      let batches = 0;
      probe.startRaw(() => batches++);
      assert.ok(bpfFds().length > fdsBefore.length, 'the probe holds BPF objects while running');
      const ids = heldProgramIds();
      assert.equal(ids.length, probe.attached().length, `programs held: ${ids.join(',')}`);
      assert.ok(ids.length >= 7, `every hook family attached: ${probe.attached().join(',')}`);
      assert.ok(threadCount() > threadsBefore, 'the reader thread is running');
      execFileSync('true');
      await probe.close();
      assert.deepEqual(bpfFds(), fdsBefore, `round ${round}: BPF fds left open`);
      assert.deepEqual(await programsGone(ids), [], `round ${round}: programs still loaded in the kernel`);
      assert.equal(threadCount(), threadsBefore, `round ${round}: reader thread not joined`);
      assert.deepEqual(pinned(), pinsBefore, `round ${round}: something was pinned`);
    }
  });

  it('close() before start() also releases everything', async () => {
    const fdsBefore = bpfFds();
    const probe = Probe.load({ kinds: ['open'] });
    await probe.close();
    assert.deepEqual(bpfFds(), fdsBefore);
  });

  it('close() delivers what was already emitted before it resolves', async () => {
    const probe = Probe.load({ kinds: ['exec'], cgroups: [sb.top.dir] });
    let execs = 0;
    probe.start((evs) => (execs += evs.filter((e) => e.kind === 'exec' && Probe.inScope(e)).length));
    const cg = sb.child('drain');
    // ten execs in the cgroup, then close at once: the reader's final drain must deliver them
    execFileSync('/bin/sh', ['-c', `echo $$ > ${cg.dir}/cgroup.procs; for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done`]);
    await probe.close();
    assert.equal(execs, 10);
  });
});
