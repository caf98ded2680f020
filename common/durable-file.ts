// State files that survive a crash and say when they did not: written whole
// or not at all (a temporary file, fsync, rename, fsync of the directory),
// and read back with a corrupt one named and set aside instead of stopping
// whoever reads it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from './errors';

/** Replace `file` with `data` atomically and durably: a crash leaves the old file or the new one, never a torn one. */
export function writeFileDurable(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncDir(path.dirname(file));
}

/** fsync a directory, so that a rename in it survives a crash. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export type StateRead<T> = { state: 'missing' } | { state: 'ok'; value: T } | { state: 'corrupt'; problem: string; setAside: string };

/**
 * Read a state file with `parse` (which throws on anything it does not
 * accept). A file that cannot be read or parsed is renamed to
 * FILE.corrupt-TIME (kept for whoever investigates) and reported, so that
 * the caller starts from what else it has.
 */
export function readStateFile<T>(file: string, parse: (text: string) => T): StateRead<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return setAside(file, `cannot be read: ${errorMessage(err)}`);
  }
  try {
    return { state: 'ok', value: parse(text) };
  } catch (err) {
    return setAside(file, errorMessage(err));
  }
}

function setAside<T>(file: string, problem: string): StateRead<T> {
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  fs.renameSync(file, aside);
  return { state: 'corrupt', problem, setAside: aside };
}
