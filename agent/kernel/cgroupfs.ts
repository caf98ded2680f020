// cgroup v2: where it is mounted, and cgroup id <-> path.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VigilError } from '../../common/errors';
import { native } from './native';

/** Unescape the octal escapes of /proc/self/mounts (\040 for a space, ...). */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * The cgroup v2 mount point, from /proc/self/mounts: /sys/fs/cgroup on unified
 * hosts, /sys/fs/cgroup/unified on hybrid ones. Never hard-coded.
 */
export function findCgroup2Mount(mountsText?: string): string {
  const text = mountsText ?? fs.readFileSync('/proc/self/mounts', 'utf8');
  const candidates: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length >= 3 && f[2] === 'cgroup2') candidates.push(unescapeMountField(f[1]));
  }
  if (candidates.length === 0) {
    throw new VigilError('NO_CGROUP2', 'finding the cgroup v2 mount: no cgroup2 filesystem in /proc/self/mounts (mount -t cgroup2 none /sys/fs/cgroup/unified)');
  }
  // prefer the shortest path: the host's own mount rather than a bind mount below it
  candidates.sort((a, b) => a.length - b.length);
  return candidates[0];
}

/** The cgroup id of a cgroup v2 directory: its inode number. */
export function cgroupIdOf(dir: string): number {
  return Number(fs.statSync(dir, { bigint: true }).ino);
}

/** Normalize a user-given cgroup (absolute under the mount, or relative to it) to an absolute directory. */
export function cgroupDir(root: string, p: string): string {
  const abs = p.startsWith(root + '/') || p === root ? p : path.join(root, p.replace(/^\/+/, ''));
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new VigilError('CGROUP_NOT_FOUND', `resolving cgroup ${p}: ${abs} does not exist`);
  }
  if (!st.isDirectory()) throw new VigilError('CGROUP_NOT_FOUND', `resolving cgroup ${p}: ${abs} is not a directory`);
  return abs;
}

/** The directory and every cgroup below it. */
export function cgroupTree(dir: string): string[] {
  const out = [dir];
  for (let i = 0; i < out.length; i++) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(out[i], { withFileTypes: true });
    } catch {
      continue; // removed while we walked
    }
    for (const e of entries) if (e.isDirectory()) out.push(path.join(out[i], e.name));
  }
  return out;
}

/** cgroup id -> path relative to the cgroup v2 root, cached. */
export class CgroupResolver {
  private readonly cache = new Map<number, string | null>();
  constructor(
    readonly root: string,
    private readonly maxEntries = 16384,
  ) {}

  /** "/" for the root, "/a/b" below it, null if the cgroup no longer exists. */
  resolve(id: number): string | null {
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit;
    let p: string | null;
    try {
      p = native().cgroupPath(this.root, BigInt(id));
    } catch {
      p = null;
    }
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(id, p);
    return p;
  }

  /** Remember a path we already know (e.g. a cgroup we created). */
  remember(id: number, relPath: string): void {
    this.cache.set(id, relPath);
  }
}
