// The one home for "path -> (device, inode), kept current": which file a
// rule's path names, as the kernel identifies it (inode->i_sb->s_dev and
// inode->i_ino), so that every other name for the same file (a hard link, a
// chroot, a bind mount, an open_tree clone) is the same file to a rule.
//
// Device numbers are the kernel's: `s_dev` of the file's super block, in
// the kernel's internal encoding (MKDEV: major << 20 | minor), which is what
// a BPF program reads from inode->i_sb->s_dev. stat(2)'s st_dev is not
// always that number (overlayfs on several file systems without xino and
// btrfs subvolumes report another device), so the device is taken from the
// mount the file was opened on: the file is opened with O_PATH, its mount
// id read from /proc/self/fdinfo and that mount's super block device from
// mountinfo (major:minor of sb->s_dev, exactly). The inode number is
// fstat's st_ino, which equals i_ino on every file system we know of
// (overlayfs sets i_ino to the st_ino it reports for non-directories).
//
// Kept current: each name is resolved component by component (symlinks
// followed as the kernel would, inside `root`), and the directories whose
// change can change the answer (the target's and each symlink's) are
// watched with inotify (fs.watch): a package manager's rename over the
// file, an unlink, a new symlink are events, re-resolved at once. A mount
// over a directory raises no inotify event, so every name is also re-resolved
// every `refreshMs`. When a name comes to mean another file, the identity it
// had is kept ("retired") while that file still has a link somewhere (an
// attacker's hard link to the old shell is still the shell), at most
// `retiredMax` per name; its O_PATH descriptor stays open meanwhile, so the
// inode cannot be freed and its number cannot be given to an unrelated file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, VigilError } from '../../common/errors';

/** A file as the kernel names it. */
export interface FileId {
  /** super block device, kernel encoding (major << 20 | minor) */
  dev: number;
  ino: bigint;
}

export type FileType = 'file' | 'dir' | 'other';

/** What one name resolves to now. */
export interface ResolvedFile {
  id: FileId;
  type: FileType;
  /** the name with every symlink resolved, inside the root */
  real: string;
  /** directories (host paths) whose change may change what the name resolves to */
  dirs: string[];
}

/** The linux open(2) flag: a descriptor that names a file without opening it for I/O (not in fs.constants). */
const O_PATH = 0o10000000;
const MAX_SYMLINKS = 40;
const MINORBITS = 20;

export function kernelDev(major: number, minor: number): number {
  return ((major << MINORBITS) | (minor & ((1 << MINORBITS) - 1))) >>> 0;
}

/** stat(2)'s st_dev (glibc / statx makedev encoding) in the kernel's encoding. */
export function kernelDevOfStat(stDev: bigint): number {
  const major = Number(((stDev >> 8n) & 0xfffn) | ((stDev >> 32n) & ~0xfffn));
  const minor = Number((stDev & 0xffn) | ((stDev >> 12n) & ~0xffn));
  return kernelDev(major, minor);
}

export function fileIdKey(id: FileId): string {
  return `${id.dev}:${id.ino}`;
}

export function sameFile(a: FileId, b: FileId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Mount id -> super block device (kernel encoding), from a mountinfo file. */
export function parseMountinfo(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const f = line.split(' ', 3);
    if (f.length < 3) continue;
    const id = Number(f[0]);
    const m = /^(\d+):(\d+)$/.exec(f[2]);
    if (!Number.isInteger(id) || !m) continue;
    out.set(id, kernelDev(Number(m[1]), Number(m[2])));
  }
  return out;
}

/** The mountinfo that lists the mounts a root sees: its process's for /proc/PID/root, else ours. */
function mountinfoFor(root: string): string {
  const m = /^\/proc\/(\d+)\/root\/?$/.exec(root);
  return m ? `/proc/${m[1]}/mountinfo` : '/proc/self/mountinfo';
}

function join(root: string, parts: readonly string[]): string {
  const rel = parts.join('/');
  if (root === '/') return `/${rel}`;
  return rel ? `${root.replace(/\/+$/, '')}/${rel}` : root;
}

/**
 * Resolve `name` (absolute) inside `root` the way the kernel walks it for a
 * process whose root is `root`: ".." stops at the root, an absolute symlink
 * starts again at the root. Returns the host path of the result and the
 * directories that decide it. Throws with the step that failed.
 */
export function resolveIn(root: string, name: string): { host: string; real: string; dirs: string[] } {
  if (!name.startsWith('/')) throw new VigilError('BAD_ARGUMENT', `resolving ${JSON.stringify(name)}: not an absolute path`);
  if (name.includes('\0')) throw new VigilError('BAD_ARGUMENT', `resolving ${JSON.stringify(name)}: a path cannot hold a NUL byte`);
  const todo = name.split('/').filter((c) => c !== '').reverse();
  const cur: string[] = [];
  const dirs = new Set<string>();
  let links = 0;
  while (todo.length > 0) {
    const c = todo.pop() as string;
    if (c === '.') continue;
    if (c === '..') {
      cur.pop();
      continue;
    }
    const host = join(root, [...cur, c]);
    const st = fs.lstatSync(host);
    if (!st.isSymbolicLink()) {
      cur.push(c);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new VigilError('BAD_ARGUMENT', `resolving ${name}: more than ${MAX_SYMLINKS} symbolic links (ELOOP)`);
    dirs.add(join(root, cur));
    const target = fs.readlinkSync(host);
    if (target.startsWith('/')) cur.length = 0;
    for (const t of target.split('/').filter((x) => x !== '').reverse()) todo.push(t);
  }
  const host = join(root, cur);
  dirs.add(cur.length ? join(root, cur.slice(0, -1)) : host);
  return { host, real: `/${cur.join('/')}`, dirs: [...dirs] };
}

/** Mount id of an open descriptor (/proc/self/fdinfo: "mnt_id:"). */
function mountIdOf(fd: number): number | null {
  const m = /^mnt_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return m ? Number(m[1]) : null;
}

interface Opened {
  fd: number;
  file: ResolvedFile;
  nlink: bigint;
}

/** Resolve and open (O_PATH) one name; the caller owns the descriptor. */
function openResolved(name: string, root: string, mounts: () => Map<number, number>): Opened {
  const r = resolveIn(root, name);
  // O_NOFOLLOW: the walk above followed every link; a link put there since is a change, seen at the next refresh
  const fd = fs.openSync(r.host, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    const mnt = mountIdOf(fd);
    const dev = (mnt !== null ? mounts().get(mnt) : undefined) ?? kernelDevOfStat(st.dev);
    const type: FileType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    return { fd, nlink: st.nlink, file: { id: { dev, ino: st.ino }, type, real: r.real, dirs: r.dirs } };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** Resolve one name now (no watching): what the kernel would call the file `name` names inside `root`. */
export function resolveFileId(name: string, root = '/'): ResolvedFile {
  let mounts: Map<number, number> | null = null;
  let o: Opened;
  try {
    o = openResolved(name, root, () => (mounts ??= parseMountinfo(fs.readFileSync(mountinfoFor(root), 'utf8'))));
  } catch (err) {
    if (err instanceof VigilError) throw err;
    throw new VigilError('BAD_ARGUMENT', `resolving ${name}${root === '/' ? '' : ` in ${root}`}: ${errorMessage(err)}`, { cause: err });
  }
  fs.closeSync(o.fd);
  return o.file;
}

/**
 * What a live process runs, as the kernel names it: /proc/PID/exe opened
 * (the magic link leads to the file itself, wherever it is mounted and
 * whatever its name now, deleted or memfd included), its mount's device
 * read from that process's mountinfo. null when it is gone or has none.
 */
export function procExeId(pid: number, procRoot = '/proc'): FileId | null {
  let fd: number;
  try {
    fd = fs.openSync(`${procRoot}/${pid}/exe`, O_PATH);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    const mnt = mountIdOf(fd);
    let dev: number | undefined;
    if (mnt !== null) {
      try {
        dev = parseMountinfo(fs.readFileSync(`${procRoot}/${pid}/mountinfo`, 'utf8')).get(mnt);
      } catch {
        dev = undefined;
      }
    }
    return { dev: dev ?? kernelDevOfStat(st.dev), ino: st.ino };
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** A name to keep resolved: `root` is the host path of the root it is resolved in ("/" or /proc/PID/root). */
export interface WatchedName {
  name: string;
  root?: string;
}

interface Held {
  id: FileId;
  fd: number;
}

interface Entry {
  name: string;
  root: string;
  current: (Held & { type: FileType; real: string }) | null;
  retired: Held[];
  dirs: string[];
  error: string | null;
}

/** One name's state, for callers and for `vigil rules check`. */
export interface FileIdState {
  name: string;
  root: string;
  current: FileId | null;
  type: FileType | null;
  real: string | null;
  /** identities the name had, whose files still have a link somewhere */
  retired: FileId[];
  /** why the name resolves to nothing now */
  error: string | null;
}

export interface FileIdsOptions {
  /** re-resolve every name this often (mounts raise no inotify event); 0 = never. Default 30 s. */
  refreshMs?: number;
  /** identities kept per name after it changed, while their files still have a link. Default 4. */
  retiredMax?: number;
  /** watch the deciding directories with inotify. Default true. */
  watch?: boolean;
  /** called (once per refresh) when some name's identities changed */
  onChange?: () => void;
}

const NONE: readonly string[] = [];

function keyOf(name: string, root: string): string {
  return `${root}\0${name}`;
}

export class FileIds {
  private readonly entries = new Map<string, Entry>();
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private readonly refreshMs: number;
  private readonly retiredMax: number;
  private readonly watchDirs: boolean;
  private readonly onChange: (() => void) | undefined;
  private timer: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private closed = false;
  /** times a name's identities changed (resolved anew, retired, dropped) */
  changes = 0;
  /** fileIdKey -> the names (root "/") that stand for it, rebuilt after a change */
  private aliases: Map<string, string[]> | null = null;

  constructor(opts: FileIdsOptions = {}) {
    this.refreshMs = opts.refreshMs ?? 30_000;
    this.retiredMax = opts.retiredMax ?? 4;
    this.watchDirs = opts.watch ?? true;
    this.onChange = opts.onChange;
    this.arm();
  }

  /**
   * Keep exactly these names resolved (others are forgotten, their
   * descriptors closed). New names are resolved at once; onChange is not
   * called for this call's own work: the caller reads the result.
   */
  set(names: readonly WatchedName[]): void {
    if (this.closed) throw new VigilError('BAD_ARGUMENT', 'FileIds.set after close');
    const want = new Map<string, { name: string; root: string }>();
    for (const n of names) {
      const root = n.root ?? '/';
      want.set(keyOf(n.name, root), { name: n.name, root });
    }
    for (const [k, e] of this.entries) {
      if (want.has(k)) continue;
      this.release(e);
      this.entries.delete(k);
    }
    const fresh: Entry[] = [];
    for (const [k, n] of want) {
      if (this.entries.has(k)) continue;
      const e: Entry = { name: n.name, root: n.root, current: null, retired: [], dirs: [], error: null };
      this.entries.set(k, e);
      fresh.push(e);
    }
    const mounts = this.mountsCache();
    for (const e of fresh) this.resolveEntry(e, mounts);
    this.aliases = null;
    this.syncWatchers();
  }

  /**
   * The watched names (root "/") that stand for this file: what rules'
   * binaries match on besides the path they see. Constant time: an index
   * rebuilt after each change.
   */
  aliasesOf(id: FileId): readonly string[] {
    if (!this.aliases) {
      const idx = new Map<string, string[]>();
      for (const e of this.entries.values()) {
        if (e.root !== '/') continue;
        for (const h of [...(e.current ? [e.current] : []), ...e.retired]) {
          const k = fileIdKey(h.id);
          const l = idx.get(k);
          if (!l) idx.set(k, [e.name]);
          else if (!l.includes(e.name)) l.push(e.name);
        }
      }
      this.aliases = idx;
    }
    return this.aliases.get(fileIdKey(id)) ?? NONE;
  }

  /** The identities a name stands for: what it names now, then what it named while still linked. */
  idsOf(name: string, root = '/'): FileId[] {
    const e = this.entries.get(keyOf(name, root));
    if (!e) return [];
    return [...(e.current ? [e.current.id] : []), ...e.retired.map((r) => r.id)];
  }

  /** Every watched name with its state. */
  states(): FileIdState[] {
    return [...this.entries.values()].map((e) => ({
      name: e.name,
      root: e.root,
      current: e.current?.id ?? null,
      type: e.current?.type ?? null,
      real: e.current?.real ?? null,
      retired: e.retired.map((r) => r.id),
      error: e.error,
    }));
  }

  /** The watched names (in `root`) that stand for this file. */
  namesOf(id: FileId, root = '/'): string[] {
    const out: string[] = [];
    for (const e of this.entries.values()) {
      if (e.root !== root) continue;
      if ((e.current && sameFile(e.current.id, id)) || e.retired.some((r) => sameFile(r.id, id))) out.push(e.name);
    }
    return out;
  }

  /**
   * Resolve every name again. Returns whether any name's identities
   * changed (and then calls onChange).
   */
  refresh(): boolean {
    if (this.closed) return false;
    const before = this.changes;
    const mounts = this.mountsCache();
    for (const e of this.entries.values()) this.resolveEntry(e, mounts);
    this.syncWatchers();
    const changed = this.changes !== before;
    if (changed) this.aliases = null;
    if (changed) this.onChange?.();
    return changed;
  }

  /** Close every descriptor and watcher; the object is unusable afterwards. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.timer = this.soon = null;
    for (const e of this.entries.values()) this.release(e);
    this.entries.clear();
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private mountsCache(): (root: string) => Map<number, number> {
    const cache = new Map<string, Map<number, number>>();
    return (root) => {
      const f = mountinfoFor(root);
      let m = cache.get(f);
      if (!m) {
        try {
          m = parseMountinfo(fs.readFileSync(f, 'utf8'));
        } catch {
          m = new Map();
        }
        cache.set(f, m);
      }
      return m;
    };
  }

  private resolveEntry(e: Entry, mounts: (root: string) => Map<number, number>): void {
    let o: Opened | null = null;
    try {
      o = openResolved(e.name, e.root, () => mounts(e.root));
      e.error = null;
      e.dirs = o.file.dirs;
    } catch (err) {
      e.error = errorMessage(err);
      // the deciding directories may come back: keep watching what we knew, and the parent of the name
      if (e.dirs.length === 0) e.dirs = [join(e.root, path.posix.dirname(e.name).split('/').filter((x) => x !== ''))];
    }
    const cur = e.current;
    if (o && cur && sameFile(cur.id, o.file.id)) {
      // the same file: keep the descriptor we hold, drop the new one
      fs.closeSync(o.fd);
      cur.type = o.file.type;
      cur.real = o.file.real;
    } else if (o || cur) {
      this.changes++;
      if (cur) this.retire(e, cur);
      if (o) {
        // a name that comes back to a file it once named takes it out of the retired list
        const back = e.retired.findIndex((r) => sameFile(r.id, o.file.id));
        if (back >= 0) fs.closeSync(e.retired.splice(back, 1)[0].fd);
        e.current = { id: o.file.id, fd: o.fd, type: o.file.type, real: o.file.real };
      } else {
        e.current = null;
      }
    }
    // retired files that lost their last link are gone for good
    e.retired = e.retired.filter((r) => {
      let nlink = 0n;
      try {
        nlink = fs.fstatSync(r.fd, { bigint: true }).nlink;
      } catch {
        nlink = 0n;
      }
      if (nlink > 0n) return true;
      fs.closeSync(r.fd);
      this.changes++;
      return false;
    });
  }

  private retire(e: Entry, h: Held): void {
    e.retired.unshift({ id: h.id, fd: h.fd });
    while (e.retired.length > this.retiredMax) fs.closeSync((e.retired.pop() as Held).fd);
  }

  private release(e: Entry): void {
    if (e.current) fs.closeSync(e.current.fd);
    for (const r of e.retired) fs.closeSync(r.fd);
    e.current = null;
    e.retired = [];
  }

  private syncWatchers(): void {
    if (!this.watchDirs) return;
    const want = new Set<string>();
    for (const e of this.entries.values()) for (const d of e.dirs) want.add(d);
    for (const [d, w] of this.watchers) {
      if (want.has(d)) continue;
      w.close();
      this.watchers.delete(d);
    }
    for (const d of want) {
      if (this.watchers.has(d)) continue;
      try {
        const w = fs.watch(d, { persistent: false }, () => this.refreshSoon());
        // a watched directory removed or unreadable: forget the watcher, the next refresh looks again
        w.on('error', () => {
          w.close();
          if (this.watchers.get(d) === w) this.watchers.delete(d);
          this.refreshSoon();
        });
        this.watchers.set(d, w);
      } catch {
        // it does not exist (yet): the periodic refresh finds it
      }
    }
  }

  /** An inotify event: re-resolve shortly (a package manager's rename and chmod come in a burst). */
  private refreshSoon(): void {
    if (this.closed || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.refresh();
    }, 20);
    this.soon.unref();
  }

  private arm(): void {
    if (this.refreshMs <= 0 || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh();
      this.arm();
    }, this.refreshMs);
    this.timer.unref();
  }
}
