// Loss accounting: whatever is lost is counted, at the stage that lost it,
// so that received + counted drops equals what a process really did.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Probe } from '../../../agent/kernel/probe';
import { readerShed } from '../../../agent/kernel/native';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges } from '../../helpers/kernel';

const N = 20000;

interface Accounting {
  received: number;
  kernelDropped: number;
  kernelBusy: number;
  queueDropped: number;
}

async function drained(probe: Probe): Promise<void> {
  // the reader is idle once two looks 50 ms apart agree and JS has what it read
  let last = -1;
  for (let i = 0; i < 200; i++) {
    const s = probe.stats();
    const r = s.reader;
    if (r.recordsRead === last && r.recordsDelivered + readerShed(r) === r.recordsRead) return;
    last = r.recordsRead;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('the reader did not drain within 10 s');
}

function account(probe: Probe, received: number): Accounting {
  const s = probe.stats();
  return {
    received,
    kernelDropped: s.kinds.open.dropped,
    kernelBusy: s.kinds.open.busy,
    queueDropped: readerShed(s.reader),
  };
}

/** Wait synchronously (event loop blocked) until a child has exited. */
function waitExitSync(pid: number, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const sab = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let state = 'gone';
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      state = 'gone';
    }
    if (state === 'Z' || state === 'gone') return;
    if (Date.now() > deadline) throw new Error(`pid ${pid} still running after ${timeoutMs} ms`);
    Atomics.wait(sab, 0, 0, 5);
  }
}

describe('loss accounting: received + counted drops = issued, exactly', function () {
  this.timeout(60000);
  let sandbox: CgroupSandbox;
  let loadgen: string;
  let probe: Probe | undefined;

  before(function () {
    requireKernelTestPrivileges();
    loadgen = helperBinary('loadgen');
    sandbox = CgroupSandbox.create('loss');
  });

  afterEach(async function () {
    if (probe) await probe.close();
    probe = undefined;
  });

  after(async function () {
    if (sandbox) await sandbox.cleanup();
  });

  it('stalled reader with a one-page ring buffer: the kernel counts every record that did not fit', async () => {
    const cg = sandbox.child('stalled-reader');
    probe = Probe.load({ kinds: ['open'], cgroups: [cg.dir], ringBytes: 4096 });
    let received = 0;
    let pid = 0;
    let others = 0;
    probe.start((evs) => {
      for (const e of evs) {
        if (e.kind === 'open' && e.pid === pid) received++;
        else others++;
      }
    });
    probe.pause();
    const run = sandbox.spawnIn(cg, loadgen, ['open', String(N), '/etc/hostname']);
    pid = run.pid;
    const f = await run.done;
    assert.equal(f.code, 0, f.stderr);
    assert.equal(JSON.parse(f.stdout).errors, 0);
    probe.resume();
    await drained(probe);
    const a = account(probe, received);
    assert.equal(others, 0, 'nothing else happened in the cgroup');
    assert.ok(a.kernelDropped > N / 2, `a stalled reader must overflow a 4 KiB ring: ${JSON.stringify(a)}`);
    assert.ok(a.received > 0, 'what fitted in the ring is delivered after resume');
    assert.equal(a.received + a.kernelDropped + a.kernelBusy + a.queueDropped, N, JSON.stringify(a));
  });

  it('stalled JavaScript with a two-batch queue: the reader counts every record it could not hand over', async () => {
    const cg = sandbox.child('stalled-js');
    probe = Probe.load({ kinds: ['open'], cgroups: [cg.dir], ringBytes: 16 << 20, queueDepth: 2, batchBytes: 8192, pollIntervalMs: 1 });
    let received = 0;
    let pid = 0;
    probe.start((evs) => {
      for (const e of evs) if (e.kind === 'open' && e.pid === pid) received++;
    });
    // stdin from a FIFO so that the start byte can be written without the event loop
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-loss-'));
    const fifo = path.join(dir, 'go');
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [fifo]);
    const fd = fs.openSync(fifo, fs.constants.O_RDWR);
    try {
      const child = spawn(loadgen, ['--wait', 'open', String(N), '/etc/hostname'], { stdio: [fd, 'pipe', 'pipe'] });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      const done = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      pid = child.pid ?? 0;
      fs.writeFileSync(path.join(cg.dir, 'cgroup.procs'), String(pid));
      // from here until the child exits, JavaScript does not run
      fs.writeSync(fd, 'g');
      waitExitSync(pid, 30000);
      assert.equal(await done, 0);
      assert.equal(JSON.parse(out).errors, 0);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await drained(probe);
    const a = account(probe, received);
    assert.ok(a.queueDropped > 0, `a blocked event loop must overflow a 2-batch queue: ${JSON.stringify(a)}`);
    assert.equal(a.received + a.kernelDropped + a.kernelBusy + a.queueDropped, N, JSON.stringify(a));
  });

  it('a healthy pipeline loses nothing at all', async () => {
    const cg = sandbox.child('healthy');
    probe = Probe.load({ kinds: ['open'], cgroups: [cg.dir] });
    let received = 0;
    let pid = 0;
    probe.start((evs) => {
      for (const e of evs) if (e.kind === 'open' && e.pid === pid) received++;
    });
    const run = sandbox.spawnIn(cg, loadgen, ['open', String(N), '/etc/hostname']);
    pid = run.pid;
    assert.equal((await run.done).code, 0);
    await drained(probe);
    const a = account(probe, received);
    assert.deepEqual(a, { received: N, kernelDropped: 0, kernelBusy: 0, queueDropped: 0 });
  });
});
