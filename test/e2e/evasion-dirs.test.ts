// Issue 9 item 7, "protected directories by identity", tried the way an
// attacker inside a workload would, on the real kernel, against a rule that
// kills writes below a protected directory: write there under another name
// for the same directory (a chroot into it, a bind mount of it, an
// open_tree(OPEN_TREE_CLONE) detached copy of it), and through paths the
// kernel's path string cannot hold (deeper than 64 levels, longer than 1023
// bytes), which used to lose the directory's name and pass the kernel's path
// filter. Each technique has a control that is allowed.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AgentFixture } from '../helpers/agent';
import type { CgroupHandle } from '../helpers/kernel';
import type { Alert } from '../../agent/export/alert';

const TD = 'spiffe://test.vigil/ns/dirs';

/**
 * An agent with `rules(dir)` for workload w, and three directories in its tmp: the protected one
 * (`name`), another for the controls, and an empty one to mount on.
 */
async function dirsAgent(
  label: string,
  name: string,
  rules: (dir: string) => string,
): Promise<{ fx: AgentFixture; w: CgroupHandle; dir: string; other: string; mnt: string }> {
  const fx = AgentFixture.create(label, TD);
  const w = fx.workload('w');
  const [dir, other, mnt] = [name, 'other', 'mnt'].map((d) => path.join(fx.tmp, d));
  for (const d of [dir, other, mnt]) fs.mkdirSync(d);
  await fx.start(rules(dir));
  return { fx, w, dir, other, mnt };
}

describe('protected directories by identity (issue 9 item 7)', function () {
  this.timeout(120000);
  let fx: AgentFixture;
  let w: CgroupHandle;
  /** the protected directory */
  let bin: string;
  /** an unprotected one, for the controls */
  let other: string;
  let mnt: string;

  const killed = async (pid: number): Promise<Alert> => {
    const a = await fx.h.waitFor('no-writes-below-bin', (x) => x.rule === 'no-writes-below-bin' && x.process.pid === pid);
    assert.equal(a.outcome, 'killed', JSON.stringify(a));
    assert.match(a.note ?? '', /killed in the kernel/);
    return a;
  };

  before(async function () {
    ({ fx, w, dir: bin, other, mnt } = await dirsAgent(
      'dirs',
      'bin',
      (dir) => `
rules:
  - name: no-writes-below-bin
    workload: ${TD}/sa/w
    on: open
    match: { path: { prefix: [${dir}/] }, flags: { any: [write, create, trunc] } }
    action: kill
`,
    ));
  });

  after(() => fx?.cleanup());

  describe('another name for the same directory', () => {
    it('a chroot into it: "/x" is killed, and named by the directory it is in', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`chroot:${bin}`, 'write:/chrooted']);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killed(s.pid);
      assert.equal(a.event.path, '/chrooted', 'the path as the process sees it');
      assert.equal(a.event.identity_path, `${bin}/chrooted`);
    });

    it('a chroot above it: "/bin/x" under another root is the same directory', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`chroot:${fx.tmp}`, 'write:/bin/above']);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killed(s.pid);
      assert.equal(a.event.path, '/bin/above');
      assert.equal(a.event.identity_path, `${bin}/above`);
    });

    it('a bind mount of it (in the process\'s own mount namespace) is killed', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, ['unshare-mnt', `bind:${bin}:${mnt}`, `write:${mnt}/bound`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killed(s.pid);
      assert.equal(a.event.path, `${mnt}/bound`);
      assert.equal(a.event.identity_path, `${bin}/bound`);
    });

    it('an open_tree(OPEN_TREE_CLONE) detached copy of it is killed', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`clone-write:${bin}:cloned`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killed(s.pid);
      assert.equal(a.event.path, '/cloned', 'a detached mount has no path above its root');
      assert.equal(a.event.identity_path, `${bin}/cloned`);
    });

    it('control: a chroot, a bind mount and a clone of another directory are allowed and raise nothing', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [
        `clone-write:${other}:c1`,
        'unshare-mnt',
        `bind:${other}:${mnt}`,
        `write:${mnt}/c2`,
        `chroot:${other}`,
        'write:/c3',
      ]);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stderr, '');
      assert.deepEqual(await fx.h.settledFor(s.pid), []);
      for (const n of ['c1', 'c2', 'c3']) assert.ok(fs.existsSync(path.join(other, n)), `${n} was written`);
    });
  });

  describe('a path the kernel cannot name whole', () => {
    let deep: string;
    let long: string;

    before(() => {
      deep = bin;
      for (let i = 0; i < 70; i++) deep = path.join(deep, 'd');
      fs.mkdirSync(deep, { recursive: true });
      long = bin;
      while (long.length < 1300) long = path.join(long, 'l'.repeat(200));
      fs.mkdirSync(long, { recursive: true });
    });

    it('deeper than 64 levels below it: not dropped by the path filter, killed, flagged truncated', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`cd-write:${deep}:deep`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killed(s.pid);
      assert.ok(String(a.event.path).endsWith('/d/d/deep'), String(a.event.path));
      assert.ok(!String(a.event.path).startsWith(bin), 'the path was cut: its top is missing');
      assert.equal(a.event.path_truncated, true, 'flagged as cut');
      assert.ok(String(a.event.identity_path).startsWith(`${bin}/\u2026/`), String(a.event.identity_path));
    });

    it('longer than 1023 bytes below it: the same', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`cd-write:${long}:long`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killed(s.pid);
      assert.ok(String(a.event.path).endsWith('/long'));
      assert.ok(String(a.event.path).length <= 1023);
      assert.equal(a.event.path_truncated, true, 'flagged as cut');
      assert.ok(String(a.event.identity_path).startsWith(`${bin}/\u2026/`), String(a.event.identity_path));
    });

    it('control: as deep and as long elsewhere is allowed and raises nothing', async () => {
      let d = other;
      for (let i = 0; i < 70; i++) d = path.join(d, 'd');
      fs.mkdirSync(d, { recursive: true });
      let l = other;
      while (l.length < 1300) l = path.join(l, 'l'.repeat(200));
      fs.mkdirSync(l, { recursive: true });
      const s = fx.sb.spawnIn(w, fx.actions, [`cd-write:${d}:deep`, `cd-write:${l}:long`]);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.deepEqual(await fx.h.settledFor(s.pid), []);
    });
  });
  describe('the directory itself changes', () => {
    it('replaced by a new directory under its name: the new one is protected once the agent sees it, the old one while it exists', async () => {
      const old = path.join(fx.tmp, 'bin.old');
      fs.renameSync(bin, old);
      fs.mkdirSync(bin);
      // the agent follows (inotify on the name, then the rules applied again): write until the kernel kills
      const deadline = Date.now() + 10000;
      let pid = 0;
      for (;;) {
        const s = fx.sb.spawnIn(w, fx.actions, [`write:${bin}/fresh`]);
        const f = await s.done;
        if (f.signal === 'SIGKILL') {
          pid = s.pid;
          break;
        }
        assert.ok(Date.now() < deadline, 'the new directory under the protected name was not protected within 10 s');
        await new Promise((r) => setTimeout(r, 250));
      }
      await killed(pid);
      // the old identity is kept while the directory it names still exists (moved away, not removed)
      const s = fx.sb.spawnIn(w, fx.actions, [`write:${old}/stale`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killed(s.pid);
      assert.equal(a.event.path, `${old}/stale`);
      assert.equal(a.event.identity_path, `${bin}/stale`);
    });
  });
});

// The same attacker against an alert rule, when another rule on the same kind names no path: the
// kernel then filters nothing for that kind, and the directory's identity must still be looked up,
// or a bind mount of the directory would not be the directory to the alert rule.
describe('protected directories by identity for alert rules, no path filter on the kind (issue 9 item 7)', function () {
  this.timeout(120000);
  let fx: AgentFixture;
  let w: CgroupHandle;
  let etc: string;
  let other: string;
  let mnt: string;

  before(async function () {
    ({ fx, w, dir: etc, other, mnt } = await dirsAgent(
      'dirs-alert',
      'etc',
      (dir) => `
rules:
  - name: writes-below-etc
    workload: ${TD}/sa/w
    on: open
    match: { path: { prefix: [${dir}/] }, flags: { any: [write, create, trunc] } }
  - name: any-creation
    workload: ${TD}/sa/nobody
    on: open
    match: { flags: { any: [create] } }
`,
    ));
  });

  after(() => fx?.cleanup());

  const alerted = async (steps: string[], seen: string, below: string): Promise<void> => {
    const s = fx.sb.spawnIn(w, fx.actions, steps);
    const f = await s.done;
    assert.equal(f.code, 0, f.stderr);
    const a = await fx.h.waitFor('writes-below-etc', (x) => x.rule === 'writes-below-etc' && x.process.pid === s.pid);
    assert.equal(a.event.path, seen, 'the path as the process sees it');
    assert.equal(a.event.identity_path, `${etc}/${below}`);
  };

  it('a bind mount of the directory: the write below it raises the alert, named by the directory', async () => {
    await alerted(['unshare-mnt', `bind:${etc}:${mnt}`, `write:${mnt}/bound`], `${mnt}/bound`, 'bound');
  });

  it('a chroot into it, and an open_tree clone of it: the same', async () => {
    await alerted([`chroot:${etc}`, 'write:/chrooted'], '/chrooted', 'chrooted');
    await alerted([`clone-write:${etc}:cloned`], '/cloned', 'cloned');
  });

  it('control: a bind mount of another directory raises nothing', async () => {
    const s = fx.sb.spawnIn(w, fx.actions, ['unshare-mnt', `bind:${other}:${mnt}`, `write:${mnt}/c1`]);
    const f = await s.done;
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual(await fx.h.settledFor(s.pid), []);
  });
});
