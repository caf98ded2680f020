// Issue 9, "binaries by identity" and "fileless and indirect execution",
// tried the way an attacker inside a workload would, on the real kernel:
// a forbidden shell run under another name (a hard link, a bind mount of
// /usr/bin, a static busybox through chroot, an open_tree(OPEN_TREE_CLONE)
// detached mount, a host binary bind-mounted into a real podman container),
// the named file replaced by a package update; a memfd and a deleted file
// run with fexecve; a shell run by the dynamic loader
// (`ld-linux-x86-64.so.2 /usr/bin/dash`); and a kill rule with binary and
// parent-binary conditions decided in the kernel (issue 9 item 3), also
// under a flood of report-only events. Each technique has an allowed
// control.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Alert } from '../../agent/export/alert';
import { resolveFileId, sameFile } from '../../agent/enforce/file-ids';
import { EventKind, FileKey } from '../../agent/kernel/abi';
import { AgentFixture } from '../helpers/agent';
import { ACTIONS_IN_IMAGE, Podman, type Container } from '../helpers/containers';
import type { CgroupHandle, Started } from '../helpers/kernel';

const TD = 'spiffe://test.vigil/ns/exec';
const DASH = '/usr/bin/dash';
const BUSYBOX = '/usr/bin/busybox';
const LOADER = '/lib64/ld-linux-x86-64.so.2';

function show(alerts: readonly Alert[]): string {
  return JSON.stringify(alerts.map((a) => [a.rule, a.outcome, a.process.pid, a.event.exe]));
}

describe('binaries by identity, fileless and indirect execution, binary conditions in the kernel (issue 9 items 5, 6, 3)', function () {
  this.timeout(180000);
  let fx: AgentFixture;
  /** kill rules on the shells, by name: every other name must die too */
  let k: CgroupHandle;
  /** kill fileless execs */
  let f: CgroupHandle;
  /** dash killed unless make runs it; a report-only rule for floods */
  let p: CgroupHandle;
  /** a real container with the host's /usr/bin bind-mounted at /hostbin, in the shells' workload */
  let pm: Podman;
  let ctr: Container;

  const spawn = (cg: CgroupHandle, ...args: string[]): Started => fx.sb.spawnIn(cg, fx.actions, args);

  async function killed(cg: CgroupHandle, rule: string, ...args: string[]): Promise<Alert> {
    const s = spawn(cg, ...args);
    const done = await s.done;
    assert.equal(done.signal, 'SIGKILL', `${args.join(' ')}: ${JSON.stringify(done)}`);
    const a = await fx.h.waitFor(rule, (x) => x.rule === rule && x.process.pid === s.pid);
    assert.equal(a.outcome, 'killed');
    assert.equal(a.note, 'killed in the kernel at exec: the new program never ran');
    return a;
  }

  async function allowed(cg: CgroupHandle, ...args: string[]): Promise<number> {
    const s = spawn(cg, ...args);
    const done = await s.done;
    assert.equal(done.code, 0, `${args.join(' ')}: ${JSON.stringify(done)}`);
    return s.pid;
  }

  before(async function () {
    fx = AgentFixture.create('exec', TD);
    for (const bin of [DASH, BUSYBOX, LOADER, '/usr/bin/make']) {
      if (!fs.existsSync(bin)) throw new Error(`this test needs ${bin}: apt-get install dash busybox-static make`);
    }
    // on the file system of /usr/bin: hard links to the shells must be possible
    if (fs.statSync(fx.tmp).dev !== fs.statSync('/usr/bin').dev) throw new Error(`${os.tmpdir()} and /usr/bin are on different file systems: no hard links to test with`);
    fs.mkdirSync(path.join(fx.tmp, 'tools'));
    fs.copyFileSync('/usr/bin/true', path.join(fx.tmp, 'tools', 'forbidden'));
    fs.chmodSync(path.join(fx.tmp, 'tools', 'forbidden'), 0o755);
    k = fx.workload('k');
    f = fx.workload('f');
    p = fx.workload('p');
    pm = await Podman.create('exec');
    fx.defer('removing the podman container', () => pm.cleanup());
    ctr = await pm.createContainer({ cgroupParent: 'exec', flags: ['-v', '/usr/bin:/hostbin:ro'] });
    await pm.start(ctr);
    fx.identity('c', `${pm.cgroupBase}/exec`);
    const rules = `
rules:
  - name: shells-by-identity
    workload: [${TD}/sa/k, ${TD}/sa/c]
    on: exec
    match: { binary: { in: [${DASH}, ${BUSYBOX}, ${fx.tmp}/tools/forbidden] } }
    action: kill
  - name: no-fileless
    workload: ${TD}/sa/f
    on: exec
    match: { fileless: true }
    action: kill
  - name: dash-unless-make
    workload: ${TD}/sa/p
    on: exec
    match: { binary: { in: [${DASH}] } }
    exceptions:
      - name: builds
        match: { parent_binary: { in: [/usr/bin/make] } }
    action: kill
  - name: flood-reads
    workload: ${TD}/sa/p
    on: open
    match: { path: { in: [${fx.tmp}/flood] } }
    action: alert
    priority: informational
`;
    fs.writeFileSync(path.join(fx.tmp, 'flood'), 'x');
    await fx.start(rules);
  });

  // the bind mounts lived in the helpers' private mount namespaces: gone with them
  after(() => fx?.cleanup());

  describe('a forbidden binary under another name (item 5)', () => {
    it('a hard link to dash is dash: killed at exec; a hard link to true is not (control)', async () => {
      fs.linkSync(DASH, path.join(fx.tmp, 'innocent'));
      fs.linkSync('/usr/bin/true', path.join(fx.tmp, 'harmless'));
      const a = await killed(k, 'shells-by-identity', `exec:${fx.tmp}/innocent:-c:exit 0`);
      assert.equal(a.event.exe, `${fx.tmp}/innocent`, 'the alert names the file by the name used');
      await allowed(k, `exec:${fx.tmp}/harmless`);
    });

    it('dash through a bind mount of /usr/bin (private mount namespace) is killed; true through it is not', async () => {
      const mnt = path.join(fx.tmp, 'mnt');
      fs.mkdirSync(mnt);
      const a = await killed(k, 'shells-by-identity', 'unshare-mnt', `bind:/usr/bin:${mnt}`, `exec:${mnt}/dash:-c:exit 0`);
      assert.equal(a.event.exe, `${mnt}/dash`);
      await allowed(k, 'unshare-mnt', `bind:/usr/bin:${mnt}`, `exec:${mnt}/true`);
    });

    it('a static busybox reached through chroot is killed; a copy of it (another file) is not', async () => {
      const root = path.join(fx.tmp, 'jail');
      fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
      fs.linkSync(BUSYBOX, path.join(root, 'bin', 'sh'));
      // busybox picks its applet by the name it runs under: the copy is "true"
      fs.copyFileSync(BUSYBOX, path.join(root, 'bin', 'true'));
      fs.chmodSync(path.join(root, 'bin', 'true'), 0o755);
      const a = await killed(k, 'shells-by-identity', `chroot:${root}`, 'exec:/bin/sh:-c:exit 0');
      assert.equal(a.event.exe, '/bin/sh', 'the path inside the chroot');
      await allowed(k, `chroot:${root}`, 'exec:/bin/true');
    });

    it('dash in an open_tree(OPEN_TREE_CLONE) detached copy of /usr/bin is killed; true in it is not', async () => {
      const a = await killed(k, 'shells-by-identity', 'tree-exec:/usr/bin:dash:-c:exit 0');
      assert.match(String(a.event.exe), /\/dash$/);
      await allowed(k, 'tree-exec:/usr/bin:true');
    });

    it('a package update (write aside, rename over) moves the rule to the new file; a stashed link to the old one stays forbidden', async () => {
      const name = path.join(fx.tmp, 'tools', 'forbidden');
      fs.linkSync(name, path.join(fx.tmp, 'stash-v1'));
      fs.copyFileSync('/usr/bin/true', `${name}.new`);
      fs.chmodSync(`${name}.new`, 0o755);
      fs.renameSync(`${name}.new`, name);
      const v2 = resolveFileId(name).id;
      // the agent hears of it by inotify and writes the new identity into the kernel
      const deadline = Date.now() + 5000;
      const inKernel = (): boolean => {
        const m = fx.h.agent.plan.fileRules;
        for (let i = 0; i < m.count; i++) {
          const key = Buffer.from(m.keys.subarray(i * FileKey.SIZE, (i + 1) * FileKey.SIZE));
          if (key.readUInt8(FileKey.kind) === EventKind.exec && sameFile({ dev: key.readUInt32LE(FileKey.dev), ino: key.readBigUInt64LE(FileKey.ino) }, v2)) return true;
        }
        return false;
      };
      while (!inKernel()) {
        if (Date.now() > deadline) throw new Error('the new identity never reached the kernel rules');
        await new Promise((r) => setTimeout(r, 20));
      }
      fs.linkSync(name, path.join(fx.tmp, 'stash-v2'));
      await killed(k, 'shells-by-identity', `exec:${fx.tmp}/stash-v2`);
      await killed(k, 'shells-by-identity', `exec:${fx.tmp}/stash-v1`);
      // control: the same program (true) as another file is not the named one
      await allowed(k, `exec:${fx.tmp}/harmless`);
    });
  });

  describe('fileless and indirect execution (item 6)', () => {
    it('a memfd run with fexecve is reported as /memfd:NAME (deleted), flagged fileless, and killed; true from its file is not', async () => {
      const a = await killed(f, 'no-fileless', 'memfd-exec:/usr/bin/true:payload');
      assert.equal(a.event.exe, '/memfd:payload (deleted)');
      assert.equal(a.event.fileless, true);
      assert.equal(a.event.memfd, true);
      await allowed(f, 'exec:/usr/bin/true');
    });

    it('a deleted file run from its descriptor is reported as PATH (deleted) and killed', async () => {
      const a = await killed(f, 'no-fileless', `deleted-exec:/usr/bin/true:${fx.tmp}/gone`);
      assert.equal(a.event.exe, `${fx.tmp}/gone (deleted)`);
      assert.equal(a.event.fileless, true);
      assert.equal(a.event.memfd, undefined);
    });

    it('a memfd copy of dash is not dash by identity (a copy), but fileless: the rule names it', async () => {
      const a = await killed(f, 'no-fileless', `memfd-exec:${DASH}:sh:-c:exit 0`);
      assert.equal(a.event.exe, '/memfd:sh (deleted)');
    });

    it('ld-linux-x86-64.so.2 /usr/bin/dash is judged as an exec of dash and killed before dash runs; the loader running true is not', async () => {
      const a = await killed(k, 'shells-by-identity', `exec:${LOADER}:${DASH}:-c:exit 0`);
      assert.equal(a.event.exe, DASH);
      assert.equal(a.event.via_loader, true);
      assert.deepEqual(a.process.args?.slice(0, 2), [LOADER, DASH]);
      const pid = await allowed(k, `exec:${LOADER}:/usr/bin/true`);
      const mine = await fx.h.settledFor(pid);
      assert.deepEqual(mine.map((x) => x.rule), [], 'nothing raised for the control');
    });

    it('a static binary (no interpreter either) runs as before: no exec is made up for it (control)', async () => {
      const pid = await allowed(f, `exec:${BUSYBOX}:true`);
      const mine = await fx.h.settledFor(pid);
      assert.deepEqual(mine, [], show(mine));
    });
  });

  describe('binary and parent-binary conditions decided in the kernel (item 3)', () => {
    it('the rule is a kernel kill: no urgent records for exec', () => {
      const r = fx.h.agent.pipeline.getRules().rules.find((x) => x.name === 'dash-unless-make');
      assert.equal(r?.enforcement, 'kernel-kill');
      assert.match(r?.enforcementWhy ?? '', /checked there/);
      assert.equal(fx.h.agent.plan.urgentKinds & (1 << EventKind.exec), 0);
    });

    it('dash is killed in the kernel; dash run by make is spared (the exception, in the kernel)', async () => {
      await killed(p, 'dash-unless-make', `exec:${DASH}:-c:exit 0`);
      const mk = path.join(fx.tmp, 'Makefile');
      // a recipe with a redirection: make runs it with /bin/sh (dash)
      fs.writeFileSync(mk, `all:\n\t@exit 0 > /dev/null\n`);
      const pid = await allowed(p, `exec:/usr/bin/make:-s:-f:${mk}`);
      const mine = await fx.h.settledFor(pid, 500);
      assert.deepEqual(mine, [], show(mine));
    });

    it('under a flood of report-only events: every dash dies in the kernel, every make-run dash lives, and the kills are alerted', async () => {
      const floods = [spawn(p, `opens:${fx.tmp}/flood:3000000`), spawn(p, `opens:${fx.tmp}/flood:3000000`)];
      const mk = path.join(fx.tmp, 'Makefile');
      try {
        await new Promise((r) => setTimeout(r, 300));
        const runs: Promise<void>[] = [];
        const pids: number[] = [];
        for (let i = 0; i < 10; i++) {
          const s = spawn(p, `exec:${DASH}:-c:exit 0`);
          pids.push(s.pid);
          runs.push(s.done.then((d) => assert.equal(d.signal, 'SIGKILL', `dash #${i}: ${JSON.stringify(d)}`)));
          const m = spawn(p, `exec:/usr/bin/make:-s:-f:${mk}`);
          runs.push(m.done.then((d) => assert.equal(d.code, 0, `make #${i}: ${JSON.stringify(d)}`)));
        }
        await Promise.all(runs);
        for (const pid of pids) {
          const a = await fx.h.waitFor(`dash ${pid}`, (x) => x.rule === 'dash-unless-make' && x.process.pid === pid, 30000);
          assert.equal(a.note, 'killed in the kernel at exec: the new program never ran');
        }
      } finally {
        for (const fl of floods) fl.child.kill('SIGKILL');
        await Promise.all(floods.map((fl) => fl.done));
      }
    });
  });

  describe('in a real podman container', () => {
    it('the host busybox bind-mounted into a container is killed there by its host name; the image\'s own busybox is not', async () => {
      const r = await pm.exec(ctr, [ACTIONS_IN_IMAGE, 'exec:/hostbin/busybox:sh:-c:exit 0']);
      assert.equal(r.code, 137, `killed (128 + SIGKILL): ${JSON.stringify(r)}`);
      const a = await fx.h.waitFor('container busybox', (x) => x.rule === 'shells-by-identity' && x.event.exe === '/hostbin/busybox');
      assert.equal(a.outcome, 'killed');
      assert.equal(a.workload.spiffe_id, `${TD}/sa/c`);
      const ok = await pm.exec(ctr, [ACTIONS_IN_IMAGE, 'exec:/bin/busybox:true']);
      assert.equal(ok.code, 0, `the image's busybox is another file: ${JSON.stringify(ok)}`);
    });
  });
});
