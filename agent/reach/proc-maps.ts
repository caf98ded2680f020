// What a running process has loaded, from /proc: its executable and every
// file it maps executable (/proc/PID/maps: the dynamic loader and the
// program, which the kernel maps at exec without mmap(2), and every library
// mapped since). Read for processes older than the agent (start-up) and once
// per (container, program) after an exec.
//
// /proc/PID/maps prints a mapped file's path as d_path() from the reader's
// root; for a process in another mount namespace (a container) that is the
// path inside the container, and for one in ours the host path, which is the
// same thing for it. Each path is confirmed by looking it up inside the
// process's root (/proc/PID/root, resolved there, agent/enforce/file-ids.ts)
// and comparing the inode the maps line names; a path that does not confirm
// (deleted, replaced, mounted over) is counted, not guessed at.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveIn } from '../enforce/file-ids';

export interface MappedFile {
  path: string;
  how: 'exec' | 'maps';
}

export interface MapsResult {
  files: MappedFile[];
  /** mapped files whose path could not be confirmed inside the process's root */
  unconfirmed: number;
}

/** The executable-mapped file lines of a maps text: path and inode. */
export function parseMaps(text: string): { path: string; ino: bigint }[] {
  const out: { path: string; ino: bigint }[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    // start-end perms offset dev inode   path
    const m = /^[0-9a-f]+-[0-9a-f]+ ([rwxsp-]{4}) [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ (\d+)\s+(\/.*)$/.exec(line);
    if (!m || m[1][2] !== 'x' || m[2] === '0') continue;
    let p = m[3];
    if (p.endsWith(' (deleted)')) continue;
    // maps escapes a newline in a name as \012
    p = p.replace(/\\012/g, '\n');
    if (seen.has(p)) continue;
    seen.add(p);
    out.push({ path: p, ino: BigInt(m[2]) });
  }
  return out;
}

/** The executable and the executable mappings of one process, confirmed inside its root. */
export function readProcMaps(pid: number, procRoot = '/proc'): MapsResult | null {
  const base = path.join(procRoot, String(pid));
  let text: string;
  let exe: string;
  try {
    text = fs.readFileSync(path.join(base, 'maps'), 'utf8');
    exe = fs.readlinkSync(path.join(base, 'exe'));
  } catch {
    return null; // gone, or a kernel thread
  }
  const root = path.join(base, 'root');
  const files: MappedFile[] = [];
  let unconfirmed = 0;
  const confirm = (p: string, ino: bigint | null): boolean => {
    try {
      const r = resolveIn(root, p);
      if (r.real !== p) return false;
      const st = fs.statSync(r.host, { bigint: true });
      return st.isFile() && (ino === null || st.ino === ino);
    } catch {
      return false;
    }
  };
  const exePath = exe.replace(/ \(deleted\)$/, '');
  const mapped = parseMaps(text);
  const exeIno = mapped.find((m) => m.path === exePath)?.ino ?? null;
  if (!exe.endsWith(' (deleted)') && confirm(exePath, exeIno)) files.push({ path: exePath, how: 'exec' });
  else unconfirmed++;
  for (const m of mapped) {
    if (m.path === exePath) continue;
    if (confirm(m.path, m.ino)) files.push({ path: m.path, how: 'maps' });
    else unconfirmed++;
  }
  return { files, unconfirmed };
}
