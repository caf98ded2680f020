// Issue 9 item 8, "every way to put a file in place", tried the way an
// attacker inside a workload would, on the real kernel, against a rule that
// kills writes below a protected directory (and one that kills chmods there):
// a hard link or a symlink into it, an O_TMPFILE file written elsewhere and
// then linked in (by AT_EMPTY_PATH or through /proc/self/fd/N), truncate,
// ftruncate and fallocate of a protected file, rename into it, and
// renameat2(RENAME_EXCHANGE) with the protected name first or second. Each
// technique has a control case that is allowed.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AgentFixture } from '../helpers/agent';
import type { CgroupHandle } from '../helpers/kernel';
import type { Alert } from '../../agent/export/alert';

const TD = 'spiffe://test.vigil/ns/files';

describe('every way to put a file in place (issue 9 item 8)', function () {
  this.timeout(120000);
  let fx: AgentFixture;
  /** kernel-enforced rules */
  let w: CgroupHandle;
  /** the same write rule with an exception: judged and killed from user space */
  let u: CgroupHandle;
  let bin: string;
  let scratch: string;
  /** two names of about 1000 bytes: a record with both is longer than 2 KiB */
  let longSrc: string;
  let longDst: string;
  const opened: number[] = [];

  const killedBy = async (rule: string, pid: number): Promise<Alert> => {
    const a = await fx.h.waitFor(rule, (x) => x.rule === rule && x.process.pid === pid);
    assert.equal(a.outcome, 'killed', `${rule}: ${JSON.stringify(a)}`);
    return a;
  };

  /** a fresh protected file (the tests change them) */
  const tool = (name: string): string => {
    const p = path.join(bin, name);
    fs.writeFileSync(p, '#!/bin/sh\necho tool\n', { mode: 0o755 });
    return p;
  };

  before(async function () {
    fx = AgentFixture.create('files', TD);
    fx.defer('closing the descriptors the tests opened', () => opened.forEach((fd) => fs.closeSync(fd)));
    w = fx.workload('w');
    u = fx.workload('u');
    bin = path.join(fx.tmp, 'bin');
    scratch = path.join(fx.tmp, 'scratch');
    fs.mkdirSync(bin);
    fs.mkdirSync(scratch);
    fs.writeFileSync(path.join(fx.tmp, 'secret'), 'x');
    longSrc = scratch;
    while (longSrc.length < 990) longSrc = path.join(longSrc, 's'.repeat(60));
    longDst = path.join(scratch, 'dst');
    while (longDst.length < 940) longDst = path.join(longDst, 't'.repeat(60));
    fs.mkdirSync(longSrc, { recursive: true });
    fs.mkdirSync(longDst, { recursive: true });
    longDst = path.join(longDst, 'f'.repeat(1015 - longDst.length));
    const rules = `
rules:
  - name: no-writes-below-bin
    workload: ${TD}/sa/w
    on: open
    match: { path: { prefix: [${bin}/] }, flags: { any: [write, create, trunc] } }
    action: kill
  - name: no-long-name
    workload: ${TD}/sa/w
    on: open
    match: { path: { in: [${longDst}] }, flags: { any: [create] } }
    action: kill
  - name: no-chmod-below-bin
    workload: ${TD}/sa/w
    on: chmod
    match: { path: { prefix: [${bin}/] } }
    action: kill
  - name: no-unlink-below-bin
    workload: ${TD}/sa/w
    on: unlink
    match: { path: { prefix: [${bin}/] } }
    action: kill
  - name: renames-in-bin
    workload: ${TD}/sa/w
    on: rename
    match: { path: { prefix: [${bin}/] } }
    action: alert
  - name: secret-linked
    workload: ${TD}/sa/w
    on: link
    match: { path: { in: [${fx.tmp}/secret] } }
    action: alert
  - name: no-writes-below-bin-user
    workload: ${TD}/sa/u
    on: open
    match: { path: { prefix: [${bin}/] }, flags: { any: [write, create] } }
    exceptions:
      # args are judged in user space only (a binary exception is decided in the kernel since issue 9 item 3)
      - name: never
        match: { args: { contains: [--nonexistent-installer-flag] } }
    action: kill
`;
    await fx.start(rules);
  });

  after(() => fx?.cleanup());

  describe('link and symlink are events; a name put into the protected directory is a write there', () => {
    it('a hard link into it is killed by the write rule; path is the existing file, new_path the new name', async () => {
      fs.writeFileSync(path.join(scratch, 'payload'), 'x', { mode: 0o755 });
      const s = fx.sb.spawnIn(w, fx.actions, [`link:${scratch}/payload:${bin}/linked`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.kind, 'link');
      assert.equal(a.event.path, `${scratch}/payload`);
      assert.equal(a.event.new_path, `${bin}/linked`);
      assert.match(a.note ?? '', /the link itself completed/);
    });

    it('a symlink into it is killed; path is the link content as given', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`symlink:/bin/sh:${bin}/sl`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.kind, 'symlink');
      assert.equal(a.event.path, '/bin/sh');
      assert.equal(a.event.new_path, `${bin}/sl`);
    });

    it('an O_TMPFILE file written elsewhere and then linked in (AT_EMPTY_PATH) is killed at the link', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`tmpfile-link:${scratch}:${bin}/tmpfile`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.kind, 'link');
      assert.deepEqual(a.event.flags, ['AT_EMPTY_PATH']);
      assert.equal(a.event.new_path, `${bin}/tmpfile`);
      assert.ok(String(a.event.path).startsWith(`${scratch}/`), `the unnamed file's own path, in ${scratch}: ${String(a.event.path)}`);
    });

    it('the same, linked in through /proc/self/fd/N (AT_SYMLINK_FOLLOW)', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`tmpfile-proclink:${scratch}:${bin}/tmpfile2`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.new_path, `${bin}/tmpfile2`);
      assert.deepEqual(a.event.flags, ['AT_SYMLINK_FOLLOW']);
    });

    it('a link between two long names (the new one ends past 2 KiB of the record) is judged by the whole new name, in the kernel', async () => {
      fs.writeFileSync(path.join(longSrc, 'payload'), 'x');
      const s = fx.sb.spawnIn(w, fx.actions, [`link:${longSrc}/payload:${longDst}`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-long-name', s.pid);
      assert.equal(a.event.path, `${longSrc}/payload`);
      assert.equal(a.event.new_path, longDst);
      assert.match(a.note ?? '', /killed in the kernel/);
    });

    it('a link rule matches the existing file by path (alert)', async () => {
      const s = fx.sb.spawnIn(w, fx.actions, [`link:${fx.tmp}/secret:${scratch}/s2`]);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      const a = await fx.h.waitFor('secret-linked', (x) => x.rule === 'secret-linked' && x.process.pid === s.pid);
      assert.equal(a.outcome, 'alerted');
      assert.equal(a.event.new_path, `${scratch}/s2`);
    });

    it('control: links, symlinks and O_TMPFILE links elsewhere, and a link from the protected directory out, are allowed and raise nothing', async () => {
      const t = tool('out');
      fs.writeFileSync(path.join(scratch, 'c1'), 'x');
      const s = fx.sb.spawnIn(w, fx.actions, [
        `link:${scratch}/c1:${scratch}/c1-link`,
        `symlink:${bin}/out:${scratch}/c1-sym`,
        `tmpfile-link:${scratch}:${scratch}/c1-tmp`,
        `link:${t}:${scratch}/out-link`,
      ]);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stderr, '');
      assert.deepEqual(await fx.h.settledFor(s.pid), []);
      assert.ok(fs.existsSync(path.join(scratch, 'c1-tmp')), 'the O_TMPFILE link happened');
    });
  });

  describe('truncation is a write', () => {
    it('truncate(2) of a protected file is killed, reported as a write (O_TRUNC)', async () => {
      const t = tool('t1');
      const s = fx.sb.spawnIn(w, fx.actions, [`truncate:${t}`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.kind, 'open');
      assert.equal(a.event.path, t);
      assert.deepEqual(a.event.flags, ['O_WRONLY', 'O_TRUNC']);
    });

    it('ftruncate(2) on a descriptor opened outside the workload is killed, with the file\'s own path', async () => {
      const t = tool('t2');
      const fd = fs.openSync(t, 'r+');
      opened.push(fd);
      const s = fx.sb.spawnIn(w, fx.actions, ['ftruncate-fd:3'], { fds: [fd] });
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.path, t);
      assert.deepEqual(a.event.flags, ['O_WRONLY', 'O_TRUNC']);
    });

    it('fallocate(2) on such a descriptor is killed as a write', async () => {
      const t = tool('t3');
      const fd = fs.openSync(t, 'r+');
      opened.push(fd);
      const s = fx.sb.spawnIn(w, fx.actions, ['fallocate-fd:3'], { fds: [fd] });
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.path, t);
      assert.deepEqual(a.event.flags, ['O_WRONLY']);
    });

    it('control: truncate, ftruncate and fallocate elsewhere are allowed and raise nothing', async () => {
      const p = path.join(scratch, 'big');
      fs.writeFileSync(p, 'xxxx');
      const fd = fs.openSync(p, 'r+');
      opened.push(fd);
      const s = fx.sb.spawnIn(w, fx.actions, [`truncate:${p}`, 'ftruncate-fd:3', 'fallocate-fd:3'], { fds: [fd] });
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stderr, '');
      assert.deepEqual(await fx.h.settledFor(s.pid), []);
    });
  });

  describe('rename', () => {
    it('a rename into the protected directory is killed by the write rule', async () => {
      fs.writeFileSync(path.join(scratch, 'evil'), 'x');
      const s = fx.sb.spawnIn(w, fx.actions, [`rename:${scratch}/evil:${bin}/evil`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.kind, 'rename');
      assert.equal(a.event.new_path, `${bin}/evil`);
    });

    for (const first of [true, false]) {
      it(`RENAME_EXCHANGE with the protected name ${first ? 'first' : 'second'} tests both names: killed, and the rename rule on the protected name alerts`, async () => {
        const t = tool(first ? 'x1' : 'x2');
        const other = path.join(scratch, first ? 'swap1' : 'swap2');
        fs.writeFileSync(other, 'evil');
        const s = fx.sb.spawnIn(w, fx.actions, [first ? `exchange:${t}:${other}` : `exchange:${other}:${t}`]);
        assert.equal((await s.done).signal, 'SIGKILL');
        const a = await killedBy('no-writes-below-bin', s.pid);
        assert.deepEqual(a.event.flags, ['RENAME_EXCHANGE']);
        const r = await fx.h.waitFor('renames-in-bin', (x) => x.rule === 'renames-in-bin' && x.process.pid === s.pid);
        assert.equal(r.outcome, 'alerted');
        assert.equal(fs.readFileSync(t, 'utf8'), 'evil', 'the exchange itself completed (no BPF LSM)');
      });
    }

    it('control: renames and exchanges elsewhere are allowed and raise nothing', async () => {
      fs.writeFileSync(path.join(scratch, 'r1'), 'x');
      fs.writeFileSync(path.join(scratch, 'r2'), 'y');
      const s = fx.sb.spawnIn(w, fx.actions, [`rename:${scratch}/r1:${scratch}/r3`, `exchange:${scratch}/r2:${scratch}/r3`]);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stderr, '');
      assert.deepEqual(await fx.h.settledFor(s.pid), []);
    });
  });

  describe('the file actually touched, not the name used (a symlink, a symlinked directory, /proc/self/fd/N)', () => {
    let link: string;
    let dirLink: string;

    before(() => {
      dirLink = path.join(scratch, 'd');
      fs.symlinkSync(bin, dirLink);
    });

    it('chmod through a symlink is killed in the kernel; path is the file changed', async () => {
      const t = tool('c1');
      link = path.join(scratch, 'ch1-link');
      fs.symlinkSync(t, link);
      const s = fx.sb.spawnIn(w, fx.actions, [`chmod:${link}:4755`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-chmod-below-bin', s.pid);
      assert.equal(a.event.path, t);
      assert.match(a.note ?? '', /killed in the kernel/);
    });

    it('chmod through /proc/self/fd/N of an O_PATH descriptor is killed; path is the file changed', async () => {
      const t = tool('c2');
      const s = fx.sb.spawnIn(w, fx.actions, [`chmod-procfd:${t}:4755`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-chmod-below-bin', s.pid);
      assert.equal(a.event.path, t);
    });

    it('truncate through a symlink is killed as a write of the file itself', async () => {
      const t = tool('c3');
      const l = path.join(scratch, 'c3-link');
      fs.symlinkSync(t, l);
      const s = fx.sb.spawnIn(w, fx.actions, [`truncate:${l}`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.path, t);
    });

    it('a rename through a symlinked directory is killed; new_path is where the file went', async () => {
      fs.writeFileSync(path.join(scratch, 'evil2'), 'x');
      const s = fx.sb.spawnIn(w, fx.actions, [`rename:${scratch}/evil2:${dirLink}/evil2`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin', s.pid);
      assert.equal(a.event.path, `${scratch}/evil2`);
      assert.equal(a.event.new_path, `${bin}/evil2`);
    });

    it('a rename out of the protected directory through a symlinked directory names the directory it left', async () => {
      const t = tool('c4');
      const s = fx.sb.spawnIn(w, fx.actions, [`rename:${dirLink}/c4:${scratch}/c4`]);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      const a = await fx.h.waitFor('renames-in-bin', (x) => x.rule === 'renames-in-bin' && x.process.pid === s.pid);
      assert.equal(a.event.path, t);
      assert.equal(a.event.new_path, `${scratch}/c4`);
    });

    it('a link and a symlink made through a symlinked directory are killed with their real new names', async () => {
      fs.writeFileSync(path.join(scratch, 'p3'), 'x');
      const s1 = fx.sb.spawnIn(w, fx.actions, [`link:${scratch}/p3:${dirLink}/p3`]);
      const s2 = fx.sb.spawnIn(w, fx.actions, [`symlink:/bin/sh:${dirLink}/sh3`]);
      assert.equal((await s1.done).signal, 'SIGKILL');
      assert.equal((await s2.done).signal, 'SIGKILL');
      assert.equal((await killedBy('no-writes-below-bin', s1.pid)).event.new_path, `${bin}/p3`);
      assert.equal((await killedBy('no-writes-below-bin', s2.pid)).event.new_path, `${bin}/sh3`);
    });

    it('an unlink through a symlinked directory is killed; path names the directory it was in', async () => {
      const t = tool('c5');
      const s = fx.sb.spawnIn(w, fx.actions, [`unlink:${dirLink}/c5`]);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-unlink-below-bin', s.pid);
      assert.equal(a.event.path, t);
    });

    it('control: the same through symlinks to files elsewhere is allowed and raises nothing', async () => {
      const other = path.join(scratch, 'other');
      fs.mkdirSync(other);
      fs.writeFileSync(path.join(other, 'f'), 'x');
      fs.symlinkSync(path.join(other, 'f'), path.join(scratch, 'f-link'));
      fs.symlinkSync(other, path.join(scratch, 'o'));
      fs.writeFileSync(path.join(scratch, 'g'), 'x');
      const s = fx.sb.spawnIn(w, fx.actions, [
        `chmod:${scratch}/f-link:700`,
        `truncate:${scratch}/f-link`,
        `rename:${scratch}/g:${scratch}/o/g`,
        `unlink:${scratch}/o/g`,
      ]);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.equal(f.stderr, '');
      assert.deepEqual(await fx.h.settledFor(s.pid), []);
    });
  });

  describe('judged in user space (a rule with an exception)', () => {
    it('a link into the protected directory is killed from user space', async () => {
      fs.writeFileSync(path.join(scratch, 'u1'), 'x');
      const s = fx.sb.spawnIn(u, fx.actions, [`link:${scratch}/u1:${bin}/u1`, 'sleep:2000']);
      assert.equal((await s.done).signal, 'SIGKILL');
      const a = await killedBy('no-writes-below-bin-user', s.pid);
      assert.equal(a.note, 'killed from user space (pidfd)');
      assert.equal(a.event.new_path, `${bin}/u1`);
    });

    it('control: a symlink elsewhere is allowed', async () => {
      const s = fx.sb.spawnIn(u, fx.actions, [`symlink:${bin}:${scratch}/u-sym`]);
      const f = await s.done;
      assert.equal(f.code, 0, f.stderr);
      assert.deepEqual(await fx.h.settledFor(s.pid), []);
    });
  });
});
