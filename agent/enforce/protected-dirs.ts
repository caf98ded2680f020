// Protected directories by identity (issue 9 item 7): the directories that
// file rules name as prefixes ("/usr/local/bin/"), as the kernel identifies
// them ((device, inode), resolved and kept current by file-ids.ts, the agent's one FileIds), so that
// such a rule still holds in a chroot into the directory, through a bind
// mount or an open_tree clone of it, under its old name after a rename, and
// above where a path too deep or too long to report was cut. The kernel looks
// the directories up while it walks up a file's dentries (bpf/lib/path.h) and
// reports the one a rule named (file_event.dir_*); user space names the file
// by that directory's rule name again (identityPath).
import { cleanLexicalPath } from '../decode/decode';
import type { DirId, FileEvent, KernelEvent } from '../decode/events';
import { Flag, ID_ABOVE } from '../kernel/abi';
import type { FileIds, FileId } from './file-ids';
import type { RuleSet } from '../rules/compile';

/** The name a prefix's directory is watched under: "/usr/local/bin/" -> "/usr/local/bin" ("/" stays). */
export function dirNameOf(prefix: string): string {
  return prefix.length > 1 && prefix.endsWith('/') ? prefix.replace(/\/+$/, '') : prefix;
}

/** The directories the kernel protects by identity: the prefixes of file rules (not exec's), as watched names. */
export function dirNames(rs: RuleSet): string[] {
  const out = new Set<string>();
  for (const r of rs.rules) for (const p of r.kernelPaths?.prefixes ?? []) if (r.kind !== 'exec') out.add(dirNameOf(p));
  return [...out].sort();
}

/** What a prefix's directory is (now, and identities it had while they still exist): a directory, or nothing. */
export function dirIdsOf(ids: FileIds, prefix: string): FileId[] {
  const name = dirNameOf(prefix);
  const state = ids.states().find((s) => s.name === name && s.root === '/');
  if (!state || (state.type !== null && state.type !== 'dir')) return [];
  return ids.idsOf(name);
}

/** The rule name of a protected directory by its identity (the first, sorted, when rules name it twice), or null. */
export function dirNameById(ids: FileIds, dev: number, ino: bigint): string | null {
  return ids.namesOf({ dev, ino }).sort()[0] ?? null;
}

/**
 * The bit of vigil_config.dir_bloom an inode number sets (bpf/lib/path.h
 * walk_check_id: (ino ^ ino >> 8) & 255).
 */
export function bloomBit(ino: bigint): number {
  return Number((ino ^ (ino >> 8n)) & 255n);
}

/** vigil_config.dir_bloom for these directories: eight 32-bit words, low first. */
export function dirBloom(ids: readonly FileId[]): number[] {
  const words = new Array<number>(8).fill(0);
  for (const id of ids) {
    const b = bloomBit(id.ino);
    words[b >> 5] = (words[b >> 5] | (1 << (b & 31))) >>> 0;
  }
  return words;
}

/**
 * A file's path by the protected directory it is in: the directory's rule
 * name, then the part of the reported path below it (`.` and `..` removed
 * after, so a name that leads back out of the directory is not in it). When
 * the directory was met above the path's start: past a chroot's root or a
 * clone's mount root, all of the path is below it; above where a long path
 * was cut, "…" marks what is missing.
 */
export function identityPath(id: DirId, dirName: string, truncated: boolean): string {
  const raw = id.raw.startsWith('/') ? id.raw : `/${id.raw}`;
  let below: string;
  if (id.off === ID_ABOVE) below = truncated ? `/\u2026${raw}` : raw;
  else below = id.off >= id.raw.length ? '' : id.raw.slice(id.off);
  if (below !== '' && !below.startsWith('/')) below = `/${below}`;
  const base = dirName === '/' ? '' : dirName;
  return cleanLexicalPath(`${base}${below}`) || '/';
}

/** A protected directory's rule name by its identity, or null (dirNameById). */
export type DirName = (dev: number, ino: bigint) => string | null;

const TWO_NAMES = new Set(['rename', 'link', 'symlink']);

/**
 * A file event's paths by the protected directories they are in, where that
 * differs from the paths reported; null when neither does (or the event has
 * no such directory).
 */
export function eventIdentity(ev: KernelEvent, dirName: DirName | undefined): { path: string | null; newPath: string | null } | null {
  if (!dirName || !('dirId' in ev) || (!ev.dirId && !ev.newDirId)) return null;
  const fe = ev as FileEvent;
  const one = (id: DirId | null | undefined, reported: string, truncated: boolean): string | null => {
    if (!id) return null;
    const name = dirName(id.dev, id.ino);
    if (name === null) return null;
    const p = identityPath(id, name, truncated);
    return p === reported ? null : p;
  };
  const path = one(fe.dirId, fe.path, (fe.flags & Flag.PATH_TRUNCATED) !== 0);
  const newPath = TWO_NAMES.has(fe.kind) ? one(fe.newDirId, fe.newPath, (fe.flags & Flag.STR2_TRUNCATED) !== 0) : null;
  return path === null && newPath === null ? null : { path, newPath };
}
