// The `writable_layer` exec condition (issue 11 item 3) on the real kernel:
// the executed file's data is in the container's writable (overlayfs upper)
// layer, i.e. it was dropped into the container, not shipped in its image.
// In a real podman container (runc, overlay storage): a binary copied in at
// run time, reached by another name, or put there with `podman cp` matches;
// the image's busybox does not; a kill rule on it is decided in the kernel.
// On an overlay mounted here with metacopy=on: a chmod or a hard link of an
// image file copies up its metadata only (the data is the image's: no match),
// a write copies the data up (a match).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Alert } from '../../agent/export/alert';
import { AgentHarness } from '../helpers/agent';
import { Podman, type Container } from '../helpers/containers';
import { CgroupSandbox, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';

const TD = 'spiffe://test.vigil/ns/layer';

function show(as: readonly Alert[]): string {
  return JSON.stringify(as.map((a) => [a.rule, a.outcome, a.process.args, a.event.exe, a.event.writable_layer]));
}

describe('writable_layer: an executable from the container\'s writable layer, not from its image (issue 11 item 3)', function () {
  this.timeout(180000);
  let pm: Podman;
  let c: Container;
  let k: Container;
  let sb: CgroupSandbox;
  let o: CgroupHandle;
  let h: AgentHarness;
  let tmp: string;
  let merged = '';

  const same = (a: readonly string[] | null, b: readonly string[]): boolean => a !== null && a.length === b.length && a.every((x, i) => x === b[i]);

  /** Run argv in container x; it must succeed. */
  async function inCtr(x: Container, argv: string[]): Promise<void> {
    const r = await pm.exec(x, argv);
    assert.equal(r.code, 0, `${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
  }

  /** Run argv in the container and wait for the alert of `rule` that carries exactly these arguments. */
  async function fires(rule: string, argv: string[]): Promise<Alert> {
    await inCtr(c, argv);
    return h.waitFor(`${rule} ${argv.join(' ')}`, (a) => a.rule === rule && same(a.process.args, argv), 5000);
  }

  before(async function () {
    requireKernelTestPrivileges();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-layer-'));
    pm = await Podman.create('layer');
    sb = CgroupSandbox.create('layer');
    o = sb.child('o');
    const identities = `
workloads:
  - spiffe_id: ${TD}/sa/c
    cgroups: [${pm.cgroupBase.slice(1)}/c]
  - spiffe_id: ${TD}/sa/k
    cgroups: [${pm.cgroupBase.slice(1)}/k]
  - spiffe_id: ${TD}/sa/o
    cgroups: [${o.rel.slice(1)}]
`;
    // both values of the condition are rules, so that "no match" is an evaluation that said false, not a missing event
    const rules = `
rules:
  - name: dropped-exec
    workload: [${TD}/sa/c, ${TD}/sa/o]
    on: exec
    match: { writable_layer: true }
    action: alert
  - name: image-exec
    workload: [${TD}/sa/c, ${TD}/sa/o]
    on: exec
    match: { writable_layer: false }
    action: alert
    priority: debug
  - name: no-dropped-binaries
    workload: ${TD}/sa/k
    on: exec
    match: { writable_layer: true }
    action: kill
`;
    h = await new AgentHarness(rules, identities).start();
    c = await pm.createContainer({ cgroupParent: 'c' });
    k = await pm.createContainer({ cgroupParent: 'k' });
    await pm.start(c);
    await pm.start(k);
  });

  after(async () => {
    if (h) await h.stop();
    if (pm) await pm.cleanup();
    if (merged) {
      try {
        execFileSync('umount', [merged], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', merged], { stdio: 'pipe' });
      }
    }
    if (sb) await sb.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  // busybox picks its applet by the name it was run by: copies are named after applets
  it('a binary copied into the container at run time matches; /bin/busybox from the image does not', async () => {
    // the image's busybox, by its path and as an applet (a symlink in the image)
    const img = await fires('image-exec', ['/bin/busybox', 'true', 'image-run']);
    assert.equal(img.event.exe, '/bin/busybox');
    assert.equal(img.event.writable_layer, undefined);
    await fires('image-exec', ['true', 'image-applet']);
    await inCtr(c, ['cp', '/bin/busybox', '/root/true']);
    const hit = await fires('dropped-exec', ['/root/true', 'dropped-run']);
    assert.equal(hit.event.exe, '/root/true');
    assert.equal(hit.event.writable_layer, true);
    assert.equal(hit.workload.spiffe_id, `${TD}/sa/c`);
    assert.equal(hit.workload.container_id, c.id);
    await new Promise((r) => setTimeout(r, 300));
    const wrong = h.alerts.filter(
      (a) => (a.rule === 'dropped-exec' && a.process.args?.includes('image-run')) || (a.rule === 'image-exec' && a.process.args?.includes('dropped-run')),
    );
    assert.deepEqual(wrong, [], show(wrong));
  });

  it('other names for a dropped file match too: a symlink to it, a renamed copy, a file podman cp put there; a symlink in the writable layer to the image\'s busybox does not', async () => {
    await inCtr(c, ['/bin/busybox', 'mkdir', '-p', '/root/d1', '/root/d2', '/tmp/l1', '/tmp/l2']);
    await inCtr(c, ['cp', '/bin/busybox', '/root/d1/true']);
    await inCtr(c, ['/bin/busybox', 'ln', '-s', '/root/d1/true', '/tmp/l1/true']);
    const viaLink = await fires('dropped-exec', ['/tmp/l1/true', 'alias-run']);
    assert.equal(viaLink.event.exe, '/root/d1/true', 'the file executed, not the link');
    await inCtr(c, ['/bin/busybox', 'mv', '/root/d1/true', '/root/d2/true']);
    await fires('dropped-exec', ['/root/d2/true', 'renamed-run']);
    // from the host, as someone with access to the runtime would
    await pm.ok(['cp', '/bin/busybox', `${c.id}:/usr/local/bin/true`]);
    await fires('dropped-exec', ['/usr/local/bin/true', 'podman-cp-run']);
    // the link is new, the file it names is the image's
    await inCtr(c, ['/bin/busybox', 'ln', '-s', '/bin/busybox', '/tmp/l2/true']);
    const img = await fires('image-exec', ['/tmp/l2/true', 'img-alias-run']);
    assert.equal(img.event.exe, '/bin/busybox');
  });

  it('a kill rule on writable_layer is decided in the kernel: the dropped binary never runs, the image\'s does', async () => {
    const r = h.agent.pipeline.getRules().rules.find((x) => x.name === 'no-dropped-binaries');
    assert.equal(r?.enforcement, 'kernel-kill', r?.enforcementWhy);
    await inCtr(k, ['cp', '/bin/busybox', '/root/sh']);
    const run = await pm.exec(k, ['/root/sh', '-c', 'echo ran > /root/marker']);
    assert.equal(run.code, 137, `killed by SIGKILL: ${JSON.stringify(run)}`);
    const a = await h.waitFor('no-dropped-binaries', (x) => x.rule === 'no-dropped-binaries' && x.event.exe === '/root/sh');
    assert.equal(a.outcome, 'killed');
    assert.equal(a.note, 'killed in the kernel at exec: the new program never ran');
    assert.equal((await pm.exec(k, ['cat', '/root/marker'])).code, 1, 'the payload never wrote its marker');
    await inCtr(k, ['/bin/busybox', 'true', 'image-in-k']);
  });

  it('on an overlay with metacopy=on: a chmod or a hard link of an image file keeps its data in the image (no match), a write or a new file is in the writable layer', async () => {
    const lower = path.join(tmp, 'lower');
    const upper = path.join(tmp, 'upper');
    const work = path.join(tmp, 'work');
    merged = path.join(tmp, 'merged');
    for (const d of [lower, upper, work, merged]) fs.mkdirSync(d);
    for (const n of ['plain', 'chmodded', 'linked', 'written']) {
      fs.copyFileSync('/usr/bin/true', path.join(lower, n));
      fs.chmodSync(path.join(lower, n), 0o755);
    }
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work},metacopy=on`, merged], { stdio: 'pipe' });
    fs.chmodSync(path.join(merged, 'chmodded'), 0o700);
    fs.linkSync(path.join(merged, 'linked'), path.join(merged, 'linked-too'));
    fs.appendFileSync(path.join(merged, 'written'), Buffer.from([0]));
    fs.copyFileSync('/usr/bin/true', path.join(merged, 'created'));
    fs.chmodSync(path.join(merged, 'created'), 0o755);
    // the metadata of the first two was copied up (they are in upperdir), their data was not
    assert.ok(fs.existsSync(path.join(upper, 'chmodded')) && fs.existsSync(path.join(upper, 'linked-too')), 'metadata copied up');

    const expect: [string, string][] = [
      ['plain', 'image-exec'],
      ['chmodded', 'image-exec'],
      ['linked-too', 'image-exec'],
      ['written', 'dropped-exec'],
      ['created', 'dropped-exec'],
    ];
    const got: [string, string[]][] = [];
    for (const [name] of expect) {
      const s = sb.spawnIn(o, path.join(merged, name), [], { mode: 'exec' });
      const done = await s.done;
      assert.equal(done.code, 0, `${name}: ${JSON.stringify(done)}`);
      got.push([name, (await h.settledFor(s.pid)).map((a) => a.rule)]);
    }
    assert.deepEqual(got, expect.map(([n, r]) => [n, [r]]));
  });
});
