// When to load the rules files again: on SIGHUP, and when a rules file or
// directory changes (editors replace files by rename, which a file watch
// loses, so directories are watched; a mounted ConfigMap changes by swapping
// its "..data" symlink). Bursts of changes make one reload.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandRulePaths } from './load';

const DEBOUNCE_MS = 150;

export class RulesWatcher {
  private readonly watchers: { close(): void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    paths: readonly string[],
    private readonly reload: () => void,
  ) {
    const schedule = (): void => this.schedule();
    process.on('SIGHUP', schedule);
    this.watchers.push({ close: () => void process.off('SIGHUP', schedule) });
    if (paths.length === 0) return;
    const targets = new Set<string>();
    for (const p of paths) {
      const st = fs.statSync(p);
      targets.add(st.isDirectory() ? p : path.dirname(p));
    }
    const files = new Set(expandRulePaths([...paths]).map((f) => path.resolve(f)));
    for (const dir of targets) {
      const w = fs.watch(dir, (_ev, name) => {
        if (!name) return schedule();
        const full = path.resolve(dir, name.toString());
        if (files.has(full) || /\.ya?ml$/.test(full) || name.toString() === '..data') schedule();
      });
      this.watchers.push(w);
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.reload();
    }, DEBOUNCE_MS);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
  }
}
