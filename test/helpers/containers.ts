// The one place tests make container images and real containers (podman with
// runc), and the one place they are removed again, even when a test fails.
//
// No registry is reachable: the image is built here, from a busybox-static
// root file system plus a statically linked `actions` helper, imported with
// `podman import`. Each Podman instance keeps its own storage (--root,
// --runroot, --tmpdir under a temporary directory) and puts its containers'
// cgroups under a cgroup parent of its own, so nothing of the host's podman
// is touched and everything can be removed: containers, storage, mounts and
// the cgroup directories podman leaves behind in every hierarchy (cgroup v2
// and, on hybrid hosts, each v1 controller).
//
// On this host crun refuses hybrid cgroups, podman's systemd cgroup manager
// and journald events need a systemd that runs us: hence runc, cgroupfs and a
// file events backend; runc cannot raise rlimits above the caller's hard
// limits, hence explicit --ulimit values.
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findCgroup2Mount } from '../../agent/kernel/cgroupfs';
import { repoRoot } from '../../common/repo';
import { pidAlive, removeCgroupTree } from './kernel';

/** The image every container test uses: busybox (applets as links) and /usr/local/bin/actions. */
export const TEST_IMAGE = 'localhost/vigil-test-busybox:1';

/** Where the static actions helper lives inside the image. */
export const ACTIONS_IN_IMAGE = '/usr/local/bin/actions';

const NEED: readonly [string, string][] = [
  ['/usr/bin/podman', 'podman'],
  ['/usr/sbin/runc', 'runc'],
  ['/usr/share/doc/busybox-static', 'busybox-static'],
  ['/usr/lib/x86_64-linux-gnu/libc.a', 'libc6-dev (a static libc for the actions helper)'],
];

/** Fail (never skip) with what is missing and how to get it. */
export function requireContainerTools(): void {
  const missing = NEED.filter(([f]) => !fs.existsSync(f)).map(([, pkg]) => pkg);
  if (missing.length) {
    throw new Error(`container tests need ${missing.join(', ')}: run ./scripts/setup.sh test (it installs them), or apt-get install ${missing.map((m) => m.split(' ')[0]).join(' ')}`);
  }
}

/** The actions helper (test/helpers/actions.c), linked statically so that it runs in a libc-less image. */
export function staticActions(): string {
  const src = path.join(repoRoot(), 'test', 'helpers', 'actions.c');
  const out = path.join(repoRoot(), 'build', 'test-bin', 'actions-static');
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    execFileSync('gcc', ['-O2', '-Wall', '-static', '-o', out, src], { stdio: 'pipe' });
  }
  return out;
}

/** Every cgroup hierarchy mounted here: the v2 one and, on hybrid hosts, each v1 controller's. */
function cgroupMounts(): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[2] === 'cgroup' || f[2] === 'cgroup2') out.push(f[1].replace(/\\040/g, ' '));
  }
  return out;
}

export interface Container {
  id: string;
  name: string;
  /** the container's cgroup v2 path, relative to the root ("/parent/libpod-<id>") */
  cgroup: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CreateOptions {
  /** below this Podman's own cgroup parent, e.g. "kubepods/besteffort/pod<uid>" (default "plain") */
  cgroupParent?: string;
  /** the command (default: the actions helper waiting for SIGTERM) */
  cmd?: string[];
  user?: string;
  /** more `podman create` flags */
  flags?: string[];
}

const live = new Set<Podman>();
const OWNER_FILE = 'owner.pid';

/** The mount points below dir, deepest first. */
function mountsBelow(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m): m is string => m !== undefined && m.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

function unmountBelow(dir: string): void {
  for (const m of mountsBelow(dir)) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'pipe' });
    } catch {
      // already gone
    }
  }
}

/**
 * What a killed run left in the temp directory: podman storage (and the
 * overlay mounts below it) whose owner process is gone. A directory without
 * an owner file is left alone (being made, or not ours to judge).
 */
export function sweepOrphanPodmanDirs(tmp: string = os.tmpdir()): void {
  for (const name of fs.readdirSync(tmp)) {
    if (!name.startsWith('vigil-podman-')) continue;
    const dir = path.join(tmp, name);
    let owner: number;
    try {
      owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8').trim());
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || pidAlive(owner)) continue;
    unmountBelow(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
let exitHook = false;

/** A private podman: its own storage, its own cgroup parent, one image built here. */
export class Podman {
  readonly dir: string;
  /** relative to every cgroup hierarchy's root: "/vigil-test-ctr-<label>-<pid>-<time>" */
  readonly cgroupBase: string;
  private readonly containers = new Set<string>();
  private cleaned = false;

  private constructor(label: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `vigil-podman-${label}-`));
    // whose storage this is: a later run removes it once this process is gone (a SIGKILL runs no exit hook)
    fs.writeFileSync(path.join(this.dir, OWNER_FILE), String(process.pid));
    this.cgroupBase = `/vigil-test-ctr-${label}-${process.pid}-${Date.now().toString(36)}`;
  }

  /** Podman with private storage and the test image built and imported. */
  static async create(label: string): Promise<Podman> {
    requireContainerTools();
    sweepOrphanPodmanDirs();
    const p = new Podman(label);
    live.add(p);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const x of live) x.cleanupSync();
      });
    }
    try {
      await p.buildImage();
    } catch (err) {
      p.cleanupSync();
      throw err;
    }
    return p;
  }

  private globalFlags(): string[] {
    return [
      '--root', path.join(this.dir, 'root'),
      '--runroot', path.join(this.dir, 'run'),
      '--tmpdir', path.join(this.dir, 'tmp'),
      '--cgroup-manager=cgroupfs',
      '--events-backend=file',
      '--runtime', '/usr/sbin/runc',
      '--storage-driver', 'overlay',
    ];
  }

  /** The full podman command line for these arguments (for a test that wants to run it itself). */
  argv(args: string[]): string[] {
    return ['/usr/bin/podman', ...this.globalFlags(), ...args];
  }

  /** Run podman; resolves with its exit status and output (never rejects on a non-zero status). */
  podman(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const child = execFile('/usr/bin/podman', [...this.globalFlags(), ...args], { timeout: opts.timeoutMs ?? 60000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new Error(`podman ${args.join(' ')}: ${err.message}`));
          return;
        }
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }

  /** podman ARGS..., which must succeed; its stdout. */
  async ok(args: string[]): Promise<string> {
    const r = await this.podman(args);
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** busybox-static with its applets, /etc/passwd and group, the static actions helper: imported as TEST_IMAGE. */
  private async buildImage(): Promise<void> {
    const rootfs = path.join(this.dir, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'usr/local/bin', 'root']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    // the default pack's tests (test/e2e/default-pack.test.ts) run these tools by their names, as an image would
    for (const applet of ['sh', 'ls', 'cat', 'echo', 'sleep', 'true', 'id', 'stat', 'cp', 'chmod', 'mkdir', 'rm', 'mount', 'touch', 'mv', 'grep', 'find', 'nc', 'shred', 'crontab', 'nsenter', 'unshare', 'dpkg']) {
      fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
    }
    fs.copyFileSync(staticActions(), path.join(rootfs, 'usr', 'local', 'bin', 'actions'));
    fs.chmodSync(path.join(rootfs, 'usr', 'local', 'bin', 'actions'), 0o755);
    fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    fs.writeFileSync(path.join(rootfs, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o600 });
    const tar = path.join(this.dir, 'rootfs.tar');
    execFileSync('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.'], { stdio: 'pipe' });
    await this.ok(['import', '--quiet', tar, TEST_IMAGE]);
  }

  /** The cgroup parent (relative to the cgroup root) for a container created with `cgroupParent`. */
  parentFor(cgroupParent = 'plain'): string {
    return `${this.cgroupBase}/${cgroupParent.replace(/^\/+|\/+$/g, '')}`;
  }

  /** podman create (not started): no network, explicit ulimits, our cgroup parent. */
  async createContainer(o: CreateOptions = {}): Promise<Container> {
    const parent = this.parentFor(o.cgroupParent);
    const name = `vigil-t-${process.pid}-${this.containers.size}-${Date.now().toString(36)}`;
    const args = [
      'create',
      '--name', name,
      '--network', 'none',
      '--cgroup-parent', parent,
      '--ulimit', 'nofile=1024:1024',
      '--ulimit', 'nproc=1024:1024',
      ...(o.user ? ['--user', o.user] : []),
      ...(o.flags ?? []),
      TEST_IMAGE,
      ...(o.cmd ?? [ACTIONS_IN_IMAGE, 'until-term']),
    ];
    const id = (await this.ok(args)).trim().split('\n').pop() ?? '';
    if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`podman create: expected a container id, got "${id}"`);
    this.containers.add(id);
    return { id, name, cgroup: `${parent}/libpod-${id}` };
  }

  async start(c: Container): Promise<void> {
    await this.ok(['start', c.id]);
  }

  /** podman exec; resolves with the status (137: killed by SIGKILL) and output. */
  exec(c: Container, cmd: string[]): Promise<ExecResult> {
    return this.podman(['exec', c.id, ...cmd]);
  }

  /** podman stop (SIGTERM, then SIGKILL after timeoutS). */
  async stop(c: Container, timeoutS = 5): Promise<void> {
    await this.ok(['stop', '--time', String(timeoutS), c.id]);
  }

  async remove(c: Container): Promise<void> {
    await this.ok(['rm', '--force', '--time', '0', c.id]);
    this.containers.delete(c.id);
  }

  /** podman run --rm: create, start, wait, remove in one. */
  async run(o: CreateOptions = {}): Promise<ExecResult & { container: Container }> {
    const c = await this.createContainer(o);
    const r = await this.podman(['start', '--attach', c.id]);
    await this.remove(c);
    return { ...r, container: c };
  }

  /** The pid of a running container's first process, on the host. */
  async pid(c: Container): Promise<number> {
    return Number((await this.ok(['inspect', '--format', '{{.State.Pid}}', c.id])).trim());
  }

  /** Remove every container, the storage (unmounting what podman left mounted) and the cgroup directories, in every hierarchy. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    try {
      if (this.containers.size) await this.podman(['rm', '--all', '--force', '--time', '0'], { timeoutMs: 60000 });
    } finally {
      this.cleanupSync();
    }
  }

  cleanupSync(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    live.delete(this);
    const problems: string[] = [];
    if (this.containers.size) {
      try {
        execFileSync('/usr/bin/podman', [...this.globalFlags(), 'rm', '--all', '--force', '--time', '0'], { stdio: 'pipe', timeout: 60000 });
      } catch (err) {
        problems.push(`podman rm --all: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    // processes still in our cgroups (a test that failed half-way): gone first
    const v2 = findCgroup2Mount();
    const kill = path.join(v2, this.cgroupBase, 'cgroup.kill');
    try {
      if (fs.existsSync(kill)) fs.writeFileSync(kill, '1');
    } catch {
      // gone meanwhile
    }
    // overlay mounts podman left below its storage
    unmountBelow(this.dir);
    for (const root of cgroupMounts()) {
      const dir = path.join(root, this.cgroupBase);
      let removed = false;
      for (let i = 0; i < 100 && !removed; i++) {
        removed = removeCgroupTree(dir);
        if (!removed) execFileSync('sleep', ['0.02']);
      }
      if (!removed) problems.push(`${dir} is still busy`);
    }
    // podman can still be mounting its storage's overlay dir when the first unmount runs (seen once in
    // CI: EBUSY on root/overlay): unmount what is there now and try again before giving up
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.rmSync(this.dir, { recursive: true, force: true });
        break;
      } catch (err) {
        if (attempt === 0 && (err as NodeJS.ErrnoException).code === 'EBUSY') {
          unmountBelow(this.dir);
          continue;
        }
        problems.push(`removing ${this.dir}: ${(err as Error).message}`);
      }
    }
    if (problems.length) process.stderr.write(`test/helpers/containers: cleanup: ${problems.join('; ')}\n`);
  }
}
