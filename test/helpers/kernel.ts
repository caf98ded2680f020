// The one place kernel tests make real cgroups, processes and helper
// binaries, and the one place they are removed again, even when a test fails.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCgroup2Mount, cgroupIdOf } from '../../agent/kernel/cgroupfs';
import type { KernelEvent } from '../../agent/decode/events';
import { repoRoot } from '../../common/repo';
import { Probe as ProbeClass, type Probe } from '../../agent/kernel/probe';

/** Fail (never skip) with a message that says what is missing. */
export function requireKernelTestPrivileges(): void {
  if (typeof process.geteuid !== 'function' || process.geteuid() !== 0) {
    throw new Error(
      `kernel tests need root (BPF, cgroups): running as uid ${process.geteuid?.()}; run the suite as root: sudo ./scripts/setup.sh test`,
    );
  }
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) {
    throw new Error('kernel tests need a kernel with BTF: /sys/kernel/btf/vmlinux is missing (CONFIG_DEBUG_INFO_BTF=y)');
  }
  findCgroup2Mount(); // throws NO_CGROUP2 with its own message
}

/** Compile a C helper from test/helpers or bench/ into build/test-bin (cached by mtime). */
export function helperBinary(name: 'actions' | 'loadgen'): string {
  const root = repoRoot();
  const src = name === 'loadgen' ? path.join(root, 'bench', 'loadgen.c') : path.join(root, 'test', 'helpers', `${name}.c`);
  const outDir = path.join(root, 'build', 'test-bin');
  const out = path.join(outDir, name);
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
    fs.mkdirSync(outDir, { recursive: true });
    execFileSync('gcc', ['-O2', '-Wall', '-o', out, src], { stdio: 'pipe' });
  }
  return out;
}

export interface CgroupHandle {
  /** absolute directory */
  dir: string;
  /** path relative to the cgroup v2 root, starting with "/" */
  rel: string;
  id: number;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  pid: number;
  child: ChildProcess;
  done: Promise<Finished>;
}

/**
 * Remove what a run that was killed (SIGKILL: no exit hook ran) left under the
 * cgroup v2 root: directories named `<prefix>...-<pid>[-<time>]` whose process is
 * gone. Whatever is still in them is killed first (cgroup.kill); a directory of a
 * live process is never touched.
 */
export function sweepOrphanCgroups(prefix: string): void {
  const root = findCgroup2Mount();
  for (const name of fs.readdirSync(root)) {
    const m = name.startsWith(prefix) ? /-(\d+)(?:-[0-9a-z]+)?$/.exec(name) : null;
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    // still being freed by the kernel: the next sweep takes it
    removeCgroupTree(path.join(root, name));
  }
}

/** Is process pid alive (EPERM counts as alive: it exists)? */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Remove a cgroup directory and everything below it, deepest first, killing
 * what is still inside (cgroup.kill, where the hierarchy has it). False when
 * some directory is still busy (the kernel frees it soon: try again).
 */
export function removeCgroupTree(dir: string): boolean {
  try {
    fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
  } catch {
    // empty already, gone, or a v1 hierarchy
  }
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  let ok = true;
  for (const e of entries) if (e.isDirectory() && !removeCgroupTree(path.join(dir, e.name))) ok = false;
  try {
    fs.rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') ok = false;
  }
  return ok;
}

const live = new Set<CgroupSandbox>();
let exitHookInstalled = false;

/** A private subtree of the cgroup v2 hierarchy for one test file. */
export class CgroupSandbox {
  readonly root: string;
  readonly top: CgroupHandle;
  private readonly created: string[] = [];
  private readonly children = new Set<ChildProcess>();

  private constructor(root: string, top: CgroupHandle) {
    this.root = root;
    this.top = top;
  }

  static create(label: string): CgroupSandbox {
    sweepOrphanCgroups('vigil-test-');
    const root = findCgroup2Mount();
    const name = `vigil-test-${label}-${process.pid}-${Date.now().toString(36)}`;
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    const sb = new CgroupSandbox(root, { dir, rel: `/${name}`, id: cgroupIdOf(dir) });
    sb.created.push(dir);
    live.add(sb);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const s of live) s.cleanupSync();
      });
    }
    return sb;
  }

  /** A child cgroup below the sandbox (relative name, may contain '/'). */
  child(name: string): CgroupHandle {
    const dir = path.join(this.top.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    let d = dir;
    const added: string[] = [];
    while (d !== this.top.dir && !this.created.includes(d)) {
      added.unshift(d);
      d = path.dirname(d);
    }
    this.created.push(...added);
    return { dir, rel: dir.slice(this.root.length), id: cgroupIdOf(dir) };
  }

  /**
   * Start a helper binary in a cgroup. mode 'wait' (default): start
   * `cmd --wait args...`, move it into the cgroup, then let it go: every
   * syscall it makes from then on is the cgroup's, nothing else is (its own
   * exec and dynamic loading happened outside). mode 'exec': a shell moves
   * itself into the cgroup and execs the helper, so the exec is seen too.
   * `fds` (mode 'wait'): descriptors of this process the helper gets as 3, 4, ...
   * (opened outside the cgroup, as an inherited or passed-in descriptor is).
   */
  spawnIn(cg: CgroupHandle, cmd: string, args: string[], opts: { cwd?: string; mode?: 'wait' | 'exec'; fds?: number[] } = {}): Started {
    const mode = opts.mode ?? 'wait';
    const child =
      mode === 'wait'
        ? spawn(cmd, ['--wait', ...args], { stdio: ['pipe', 'pipe', 'pipe', ...(opts.fds ?? [])], cwd: opts.cwd })
        : spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg.dir, cmd, ...args], {
            stdio: ['ignore', 'pipe', 'pipe'],
            cwd: opts.cwd,
          });
    this.children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<Finished>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        this.children.delete(child);
        resolve({ code, signal, stdout, stderr });
      });
    });
    if (child.pid === undefined) throw new Error(`spawning ${cmd}: no pid`);
    if (mode === 'wait') {
      fs.writeFileSync(path.join(cg.dir, 'cgroup.procs'), `${child.pid}\n`);
      child.stdin?.end('g');
    }
    return { pid: child.pid, child, done };
  }

  /** Run a helper in a cgroup to completion; rejects on a non-zero exit. */
  async run(
    cg: CgroupHandle,
    cmd: string,
    args: string[],
    opts: { cwd?: string; mode?: 'wait' | 'exec' } = {},
  ): Promise<Finished & { pid: number }> {
    const s = this.spawnIn(cg, cmd, args, opts);
    const f = await s.done;
    if (f.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${f.code ?? f.signal}: ${f.stderr}`);
    return { ...f, pid: s.pid };
  }

  /** Kill everything in the sandbox and remove every cgroup it made. */
  async cleanup(): Promise<void> {
    this.killAll();
    for (let attempt = 0; attempt < 50; attempt++) {
      if (this.removeDirs()) {
        live.delete(this);
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`removing test cgroups under ${this.top.dir}: still busy after 1s`);
  }

  cleanupSync(): void {
    this.killAll();
    const deadline = Date.now() + 1000;
    while (!this.removeDirs() && Date.now() < deadline) {
      // busy-wait: only used from process 'exit', where nothing async runs
    }
    live.delete(this);
  }

  private killAll(): void {
    for (const c of this.children) c.kill('SIGKILL');
    const killFile = path.join(this.top.dir, 'cgroup.kill');
    try {
      if (fs.existsSync(killFile)) fs.writeFileSync(killFile, '1');
    } catch {
      // cgroup already gone
    }
  }

  private removeDirs(): boolean {
    let ok = true;
    // deepest first
    const dirs = [...this.created].sort((a, b) => b.length - a.length);
    for (const d of dirs) {
      try {
        if (fs.existsSync(d)) fs.rmdirSync(d);
      } catch {
        ok = false;
      }
    }
    return ok;
  }
}

/** Collects every event a probe delivers and waits for the ones a test expects. */
export class EventLog {
  /** events from the monitored cgroups */
  readonly events: KernelEvent[] = [];
  /** everything delivered, including the out-of-scope process life cycle */
  readonly all: KernelEvent[] = [];

  attach(probe: Probe): this {
    probe.start((evs) => {
      for (const e of evs) {
        this.all.push(e);
        if (ProbeClass.inScope(e)) this.events.push(e);
      }
    });
    return this;
  }

  async waitFor<T extends KernelEvent>(
    what: string,
    pred: (e: KernelEvent) => e is T,
    timeoutMs = 5000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(`no ${what} event within ${timeoutMs} ms (${this.events.length} events seen)`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  of(pid: number): KernelEvent[] {
    return this.events.filter((e) => e.pid === pid);
  }
}

/** /proc/self/fd entries that are BPF objects (programs, maps, links). */
export function bpfFds(): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const t = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (/^anon_inode:bpf/.test(t)) out.push(`${fd} ${t}`);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

export function threadCount(): number {
  return fs.readdirSync('/proc/self/task').length;
}

/**
 * A network namespace joined to this host by a veth pair, with a TCP
 * server listening in it: a destination for connect rules.
 */
export class NetnsSandbox {
  readonly name: string;
  readonly hostAddr: string;
  readonly peerAddr: string;
  readonly port = 8080;
  private server: ChildProcess | undefined;
  private readonly hostIf: string;

  private constructor(name: string, hostIf: string, hostAddr: string, peerAddr: string) {
    this.name = name;
    this.hostIf = hostIf;
    this.hostAddr = hostAddr;
    this.peerAddr = peerAddr;
  }

  static async create(subnet: number): Promise<NetnsSandbox> {
    const tag = `${process.pid % 10000}${subnet}`;
    const name = `vigil-t-${tag}`;
    const hostIf = `vth${tag}`;
    const peerIf = `vtp${tag}`;
    const sb = new NetnsSandbox(name, hostIf, `10.213.${subnet}.1`, `10.213.${subnet}.2`);
    liveNetns.add(sb);
    const ip = (...args: string[]): void => {
      execFileSync('ip', args, { stdio: 'pipe' });
    };
    ip('netns', 'add', name);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf);
    ip('link', 'set', peerIf, 'netns', name);
    ip('addr', 'add', `${sb.hostAddr}/24`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', name, 'addr', 'add', `${sb.peerAddr}/24`, 'dev', peerIf);
    ip('-n', name, 'link', 'set', peerIf, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
    const server = spawn(
      'ip',
      ['netns', 'exec', name, process.execPath, '-e', `require('net').createServer((s) => { s.on('error', () => {}); s.end('hi'); }).listen(${sb.port}, () => console.log('listening'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    sb.server = server;
    await new Promise<void>((resolve, reject) => {
      server.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) resolve();
      });
      server.on('exit', (code) => reject(new Error(`test server in ${name} exited ${code}`)));
    });
    return sb;
  }

  cleanupSync(): void {
    this.server?.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'pipe' });
    } catch {
      // already gone
    }
    try {
      execFileSync('ip', ['link', 'del', this.hostIf], { stdio: 'pipe' });
    } catch {
      // deleted with the namespace
    }
    liveNetns.delete(this);
  }
}

const liveNetns = new Set<NetnsSandbox>();
process.on('exit', () => {
  for (const n of liveNetns) n.cleanupSync();
});
