// path -> (device, inode) as the kernel names files, kept current, on the
// real kernel and real file systems. The kernel's own view is read from
// /proc/locks (MAJOR:MINOR:INODE of the locked file's inode->i_sb->s_dev and
// i_ino, printed by fs/locks.c): a file locked with flock(1) shows what a
// BPF program reads from inode->i_sb->s_dev. Mounts (tmpfs, overlayfs, bind)
// are made in a private temporary directory and removed in after(), even
// when a test fails.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileIds, fileIdKey, kernelDev, kernelDevOfStat, parseMountinfo, resolveFileId, resolveIn, sameFile, type FileId } from '../../../agent/enforce/file-ids';
import { requireKernelTestPrivileges } from '../../helpers/kernel';

/** The kernel's (s_dev, i_ino) of a file, from /proc/locks while flock(1) holds a lock on it. */
async function kernelIdOf(file: string): Promise<FileId> {
  const holder: ChildProcess = spawn('flock', ['--shared', file, 'sleep', '30'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 200; i++) {
      for (const line of fs.readFileSync('/proc/locks', 'utf8').split('\n')) {
        // "1: FLOCK  ADVISORY  READ 1234 fd:01:5678 0 EOF" (the pid is flock's own child, sleep, or flock)
        const m = /^\d+:\s+FLOCK\s+\S+\s+\S+\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
        if (!m) continue;
        const pid = Number(m[1]);
        if (pid !== holder.pid && !fs.existsSync(`/proc/${pid}/task`)) continue;
        if (pid !== holder.pid) {
          const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
          if (ppid !== holder.pid) continue;
        }
        return { dev: kernelDev(parseInt(m[2], 16), parseInt(m[3], 16)), ino: BigInt(m[4]) };
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no lock of flock pid ${holder.pid} on ${file} in /proc/locks`);
  } finally {
    holder.kill('SIGKILL');
  }
}

function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('agent/enforce/file-ids', () => {
  let tmp = '';
  const mounts: string[] = [];
  const idsToClose: FileIds[] = [];

  const mount = (args: string[], target: string): void => {
    execFileSync('mount', [...args, target], { stdio: 'pipe' });
    mounts.push(target);
  };

  before(function () {
    requireKernelTestPrivileges();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-file-ids-'));
  });

  afterEach(() => {
    for (const f of idsToClose.splice(0)) f.close();
  });

  after(() => {
    for (const m of mounts.reverse()) {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'pipe' });
      } catch {
        // already gone
      }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const track = (f: FileIds): FileIds => {
    idsToClose.push(f);
    return f;
  };

  it('turns stat device numbers into the kernel encoding (major << 20 | minor), large numbers included', () => {
    assert.equal(kernelDevOfStat(0x801n), kernelDev(8, 1));
    assert.equal(kernelDev(8, 1), (8 << 20) | 1);
    // glibc makedev(259, 300): minor bits above 8 sit at 12..31, major bits above 12 at 32..
    const major = 0x1234n;
    const minor = 0x12345n;
    const st = ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);
    assert.equal(kernelDevOfStat(st), kernelDev(0x1234, 0x12345));
    assert.equal(fileIdKey({ dev: 5, ino: 7n }), '5:7');
  });

  it('reads mountinfo: mount id -> super block device, malformed lines ignored', () => {
    const m = parseMountinfo('36 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root rw\nbroken\n37 36 0:45 / /x rw - overlay o rw\n\n');
    assert.deepEqual([...m], [
      [36, kernelDev(98, 0)],
      [37, kernelDev(0, 45)],
    ]);
  });

  it('names a host binary as the kernel does, and every name for it (hard link, symlink, bind mount) the same', async () => {
    const dash = resolveFileId('/usr/bin/dash');
    assert.equal(dash.type, 'file');
    assert.deepEqual(dash.id, await kernelIdOf('/usr/bin/dash'));
    const dir = path.join(tmp, 'names');
    fs.mkdirSync(dir);
    // a hard link needs the same file system: copy dash there, then link it
    const orig = path.join(dir, 'sh-copy');
    fs.copyFileSync('/usr/bin/dash', orig);
    fs.linkSync(orig, path.join(dir, 'innocent'));
    fs.symlinkSync('innocent', path.join(dir, 'via-link'));
    const bind = path.join(tmp, 'bind');
    fs.mkdirSync(bind);
    mount(['--bind', dir], bind);
    const a = resolveFileId(orig);
    assert.ok(sameFile(a.id, resolveFileId(path.join(dir, 'innocent')).id));
    const viaLink = resolveFileId(path.join(dir, 'via-link'));
    assert.ok(sameFile(a.id, viaLink.id));
    assert.equal(viaLink.real, path.join(dir, 'innocent'));
    assert.ok(viaLink.dirs.includes(dir));
    assert.ok(sameFile(a.id, resolveFileId(path.join(bind, 'innocent')).id));
    assert.ok(!sameFile(a.id, dash.id), 'a copy is another file');
    assert.deepEqual(a.id, await kernelIdOf(path.join(bind, 'innocent')));
  });

  it('overlayfs over two file systems without xino: stat lies about the device, the kernel\'s s_dev is used', async () => {
    const lower = path.join(tmp, 'ovl-lower');
    const upper = path.join(tmp, 'ovl-upper');
    const work = path.join(tmp, 'ovl-work');
    const merged = path.join(tmp, 'ovl-merged');
    for (const d of [lower, upper, work, merged]) fs.mkdirSync(d);
    mount(['-t', 'tmpfs', 'lowerfs'], lower);
    fs.copyFileSync('/usr/bin/true', path.join(lower, 'tool'));
    mount(['-t', 'overlay', 'vigil-ovl', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work},xino=off`], merged);
    const file = path.join(merged, 'tool');
    const st = fs.statSync(file, { bigint: true });
    const kernel = await kernelIdOf(file);
    assert.notEqual(kernelDevOfStat(st.dev), kernel.dev, 'this overlay reports the lower layer\'s device to stat: the case mountinfo is for');
    assert.deepEqual(resolveFileId(file).id, kernel);
  });

  it('resolves inside a root as a chroot would: absolute symlinks and ".." stay in the root', () => {
    const root = path.join(tmp, 'chroot');
    fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
    fs.copyFileSync('/usr/bin/true', path.join(root, 'bin', 'busybox'));
    fs.symlinkSync('/bin/busybox', path.join(root, 'bin', 'sh'));
    const r = resolveIn(root, '/bin/sh');
    assert.equal(r.host, path.join(root, 'bin', 'busybox'));
    assert.equal(r.real, '/bin/busybox');
    assert.ok(sameFile(resolveFileId('/bin/sh', root).id, resolveFileId(path.join(root, 'bin/busybox')).id));
    // ".." at the root is the root
    assert.equal(resolveIn(root, '/../../../bin/busybox').host, path.join(root, 'bin', 'busybox'));
    fs.symlinkSync('../../../../etc/passwd', path.join(root, 'bin', 'escape'));
    assert.throws(() => resolveFileId('/bin/escape', root), /resolving \/bin\/escape in .*ENOENT/);
  });

  it('refuses relative names, NUL bytes and symlink loops, and says which name', () => {
    assert.throws(() => resolveFileId('usr/bin/dash'), /not an absolute path/);
    assert.throws(() => resolveFileId('/usr/bin/dash\0x'), /NUL/);
    const d = path.join(tmp, 'loop');
    fs.mkdirSync(d);
    fs.symlinkSync(path.join(d, 'b'), path.join(d, 'a'));
    fs.symlinkSync(path.join(d, 'a'), path.join(d, 'b'));
    assert.throws(() => resolveFileId(path.join(d, 'a')), /more than 40 symbolic links \(ELOOP\)/);
  });

  it('follows a package update (write aside, rename over) at once, by inotify; the old file is forgotten when no link is left', async () => {
    const d = path.join(tmp, 'upd');
    fs.mkdirSync(d);
    const name = path.join(d, 'tool');
    fs.writeFileSync(name, 'v1');
    let changed = 0;
    const ids = track(new FileIds({ refreshMs: 0, onChange: () => changed++ }));
    ids.set([{ name }]);
    const v1 = ids.idsOf(name);
    assert.equal(v1.length, 1);
    fs.writeFileSync(`${name}.new`, 'v2');
    fs.renameSync(`${name}.new`, name);
    await until('the rename to be seen', () => changed > 0);
    const v2 = ids.idsOf(name);
    assert.equal(v2.length, 1, 'v1 lost its last link with the rename: nothing to keep');
    assert.ok(!sameFile(v2[0], v1[0]));
    assert.deepEqual(v2[0], await kernelIdOf(name));
    assert.deepEqual(ids.namesOf(v2[0]), [name]);
    assert.deepEqual(ids.namesOf(v1[0]), []);
  });

  it('keeps the old identity while an attacker\'s hard link to it lives, and drops it when that goes', async () => {
    const d = path.join(tmp, 'keep');
    fs.mkdirSync(d);
    const name = path.join(d, 'shell');
    fs.writeFileSync(name, 'old shell');
    const ids = track(new FileIds({ refreshMs: 0 }));
    ids.set([{ name }]);
    const [old] = ids.idsOf(name);
    fs.linkSync(name, path.join(d, 'stash'));
    fs.writeFileSync(`${name}.new`, 'new shell');
    fs.renameSync(`${name}.new`, name);
    await until('the new identity', () => !sameFile(ids.idsOf(name)[0], old));
    const both = ids.idsOf(name);
    assert.equal(both.length, 2);
    assert.ok(sameFile(both[1], old), 'the stashed old shell is still the shell');
    assert.deepEqual(ids.namesOf(old), [name]);
    // the stash is in the watched directory: its unlink is an inotify event there
    fs.unlinkSync(path.join(d, 'stash'));
    await until('the old shell to be forgotten', () => ids.idsOf(name).length === 1);
    assert.equal(ids.states()[0].retired.length, 0);
  });

  it('bounds what it keeps per name (retiredMax) and holds one descriptor per identity, all closed by close()', async () => {
    const d = path.join(tmp, 'bound');
    fs.mkdirSync(d);
    const name = path.join(d, 'f');
    const fds0 = fdCount();
    const ids = new FileIds({ refreshMs: 0, retiredMax: 2, watch: false });
    fs.writeFileSync(name, '0');
    ids.set([{ name }]);
    for (let i = 1; i <= 5; i++) {
      fs.linkSync(name, path.join(d, `keep${i}`)); // every old version keeps a link
      fs.writeFileSync(`${name}.new`, String(i));
      fs.renameSync(`${name}.new`, name);
      ids.refresh();
    }
    assert.equal(ids.idsOf(name).length, 3, 'current + 2 retired');
    assert.equal(fdCount() - fds0, 3);
    ids.close();
    assert.equal(fdCount(), fds0);
  });

  it('sees an unlink and the name coming back, a symlink retargeted, and a mount over the directory (periodic refresh)', async () => {
    const d = path.join(tmp, 'live');
    const other = path.join(tmp, 'live-other');
    fs.mkdirSync(d);
    fs.mkdirSync(other);
    const target = path.join(d, 'bin');
    fs.writeFileSync(target, 'a');
    fs.writeFileSync(path.join(d, 'alt'), 'b');
    const link = path.join(d, 'cmd');
    fs.symlinkSync('bin', link);
    let changed = 0;
    const ids = track(new FileIds({ refreshMs: 50, onChange: () => changed++ }));
    ids.set([{ name: target }, { name: link }]);
    const first = ids.idsOf(target)[0];
    assert.ok(sameFile(ids.idsOf(link)[0], first));

    fs.unlinkSync(link);
    fs.symlinkSync('alt', link);
    await until('the retargeted symlink', () => sameFile(ids.idsOf(link)[0] ?? first, resolveFileId(path.join(d, 'alt')).id));

    fs.renameSync(target, path.join(other, 'moved'));
    await until('the unlink', () => ids.states().find((s) => s.name === target)?.current === null);
    const st = ids.states().find((s) => s.name === target);
    assert.match(st?.error ?? '', /ENOENT/);
    assert.ok(st && sameFile(st.retired[0], first), 'moved away, still linked: still that binary');
    fs.renameSync(path.join(other, 'moved'), target);
    await until('the name back', () => {
      const s = ids.states().find((x) => x.name === target);
      return s !== undefined && s.current !== null && sameFile(s.current, first) && s.retired.length === 0;
    });

    // a bind mount over the directory changes every name in it without an inotify event there
    fs.writeFileSync(path.join(other, 'bin'), 'c');
    const before = changed;
    mount(['--bind', other], d);
    await until('the periodic refresh to see the mount', () => changed > before && sameFile(ids.idsOf(target)[0], resolveFileId(path.join(other, 'bin')).id));
  });
});
