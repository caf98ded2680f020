// An image's packages and the files each owns, read from the image's own
// package databases through /proc/PID/root of a process running it:
//   dpkg    /var/lib/dpkg/status + /var/lib/dpkg/info/PKG[:ARCH].list
//   apk     /lib/apk/db/installed (P: V: A: records, F: directories, R: files)
//   python  site-packages / dist-packages: *.dist-info/METADATA + RECORD
//   npm     node_modules/NAME/package.json (and @SCOPE/NAME): every file below it
// Everything inside the image is hostile: every file is opened after
// resolving its path inside the root (an absolute symlink cannot point the
// agent at the host's files), reads are bounded in size and count, and
// names and versions are checked before they become purls.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makePurl } from '../../common/purl';
import { resolveIn } from '../enforce/file-ids';

export type DbSource = 'dpkg' | 'apk' | 'python-record' | 'npm-package';

export interface ImagePackage {
  ref: string;
  name: string;
  version: string;
  purl: string;
  type: string;
  files: { path: string; source: DbSource }[];
}

export interface Inventory {
  packages: ImagePackage[];
  /** directory symlinks of the image (/lib -> /usr/lib), for names SBOMs give through them */
  aliases: { link: string; target: string }[];
  /** what was skipped and why (bounds, unreadable files), counted */
  skipped: Record<string, number>;
}

export const INVENTORY_BOUNDS = {
  /** bytes read from one database file */
  fileBytes: 64 << 20,
  packages: 20_000,
  filesPerPackage: 50_000,
  files: 500_000,
  /** directories walked looking for node_modules and site-packages */
  walk: 20_000,
};

const NAME = /^[A-Za-z0-9@][A-Za-z0-9@._+\-/:~]{0,213}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+\-:~]{0,127}$/;

class Reader {
  readonly skipped: Record<string, number> = {};
  files = 0;
  constructor(readonly root: string) {}

  skip(why: string): void {
    this.skipped[why] = (this.skipped[why] ?? 0) + 1;
  }

  /** The host path of a path inside the image, resolved inside it; null when absent or unresolvable. */
  host(p: string): string | null {
    try {
      return resolveIn(this.root, p).host;
    } catch {
      return null;
    }
  }

  /** The canonical path inside the image (symlinks resolved there), or null. */
  real(p: string): string | null {
    try {
      return resolveIn(this.root, p).real;
    } catch {
      return null;
    }
  }

  read(p: string): string | null {
    const h = this.host(p);
    if (!h) return null;
    let fd: number;
    try {
      fd = fs.openSync(h, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch {
      return null;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return null;
      if (st.size > INVENTORY_BOUNDS.fileBytes) {
        this.skip(`${p}: larger than ${INVENTORY_BOUNDS.fileBytes} bytes`);
        return null;
      }
      const buf = Buffer.alloc(st.size);
      const n = fs.readSync(fd, buf, 0, st.size, 0);
      return buf.toString('utf8', 0, n);
    } catch {
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }

  list(p: string): fs.Dirent[] {
    const h = this.host(p);
    if (!h) return [];
    try {
      return fs.readdirSync(h, { withFileTypes: true });
    } catch {
      return [];
    }
  }

  /** Normalize a listed path: absolute, no "." or "..", bounded; null otherwise. */
  clean(p: string): string | null {
    if (!p || p.length > 4096 || p.includes('\0')) return null;
    const out: string[] = [];
    for (const s of p.split('/')) {
      if (s === '' || s === '.') continue;
      if (s === '..') {
        if (!out.length) return null;
        out.pop();
        continue;
      }
      out.push(s);
    }
    return out.length ? `/${out.join('/')}` : null;
  }

  take(pkg: ImagePackage, p: string, source: DbSource): void {
    if (pkg.files.length >= INVENTORY_BOUNDS.filesPerPackage) {
      this.skip(`${pkg.name}: more than ${INVENTORY_BOUNDS.filesPerPackage} files`);
      return;
    }
    if (this.files >= INVENTORY_BOUNDS.files) {
      this.skip(`more than ${INVENTORY_BOUNDS.files} files in the image's databases`);
      return;
    }
    const c = this.clean(p);
    if (!c) {
      this.skip('a path that is not a path inside the image');
      return;
    }
    pkg.files.push({ path: c, source });
    this.files++;
  }
}

/** /etc/os-release ID and VERSION_ID (for deb and apk purls' namespace and distro). */
function osRelease(r: Reader): { id: string; version: string } {
  const text = r.read('/etc/os-release') ?? r.read('/usr/lib/os-release') ?? '';
  const get = (k: string): string => {
    const m = new RegExp(`^${k}=(?:"([^"\\n]*)"|([^\\n]*))$`, 'm').exec(text);
    const v = (m?.[1] ?? m?.[2] ?? '').trim();
    return /^[A-Za-z0-9._-]{1,64}$/.test(v) ? v : '';
  };
  return { id: get('ID').toLowerCase(), version: get('VERSION_ID') };
}

function purl(r: Reader, type: string, ns: string | null, name: string, version: string, q?: Record<string, string>): string {
  try {
    return makePurl(type, ns, name, version || null, q);
  } catch {
    r.skip(`no purl for ${type} ${name.slice(0, 60)}`);
    return '';
  }
}

function dpkg(r: Reader, os: { id: string; version: string }, out: ImagePackage[]): void {
  const status = r.read('/var/lib/dpkg/status');
  if (status === null) return;
  const ns = os.id || 'debian';
  for (const para of status.split(/\n\n+/)) {
    if (out.length >= INVENTORY_BOUNDS.packages) return r.skip(`more than ${INVENTORY_BOUNDS.packages} packages`);
    const field = (k: string): string => new RegExp(`^${k}: *(.*)$`, 'm').exec(para)?.[1]?.trim() ?? '';
    const name = field('Package');
    if (!name) continue;
    if (!/install ok (installed|half-configured|unpacked)/.test(field('Status'))) continue;
    const version = field('Version');
    const arch = field('Architecture');
    if (!NAME.test(name) || (version && !VERSION.test(version)) || !/^[a-z0-9-]{0,32}$/.test(arch)) {
      r.skip('a dpkg entry with a malformed name, version or architecture');
      continue;
    }
    const pkg: ImagePackage = {
      ref: `dpkg:${name}:${arch}`,
      name,
      version,
      purl: purl(r, 'deb', ns, name, version, { arch, distro: os.id && os.version ? `${os.id}-${os.version}` : '' }),
      type: 'deb',
      files: [],
    };
    const list = r.read(`/var/lib/dpkg/info/${name}:${arch}.list`) ?? r.read(`/var/lib/dpkg/info/${name}.list`);
    for (const line of (list ?? '').split('\n')) if (line && line !== '/.') r.take(pkg, line, 'dpkg');
    out.push(pkg);
  }
}

function apk(r: Reader, os: { id: string; version: string }, out: ImagePackage[]): void {
  const db = r.read('/lib/apk/db/installed');
  if (db === null) return;
  for (const rec of db.split(/\n\n+/)) {
    if (out.length >= INVENTORY_BOUNDS.packages) return r.skip(`more than ${INVENTORY_BOUNDS.packages} packages`);
    let name = '';
    let version = '';
    let arch = '';
    let dir = '';
    const files: string[] = [];
    for (const line of rec.split('\n')) {
      const k = line.slice(0, 2);
      const v = line.slice(2);
      if (k === 'P:') name = v;
      else if (k === 'V:') version = v;
      else if (k === 'A:') arch = v;
      else if (k === 'F:') dir = v;
      else if (k === 'R:') files.push(`/${dir}/${v}`);
    }
    if (!name) continue;
    if (!NAME.test(name) || (version && !VERSION.test(version)) || !/^[a-z0-9_-]{0,32}$/.test(arch)) {
      r.skip('an apk entry with a malformed name, version or architecture');
      continue;
    }
    const pkg: ImagePackage = {
      ref: `apk:${name}`,
      name,
      version,
      purl: purl(r, 'apk', os.id || 'alpine', name, version, { arch, distro: os.id && os.version ? `${os.id}-${os.version}` : '' }),
      type: 'apk',
      files: [],
    };
    for (const f of files) r.take(pkg, f, 'apk');
    out.push(pkg);
  }
}

/** site-packages and dist-packages directories, and node_modules directories, found by a bounded walk. */
function findDirs(r: Reader, starts: string[], want: (name: string) => boolean, maxDepth: number): string[] {
  const found: string[] = [];
  let walked = 0;
  const walk = (dir: string, depth: number): void => {
    if (walked++ >= INVENTORY_BOUNDS.walk) return;
    for (const e of r.list(dir)) {
      if (!e.isDirectory()) continue;
      const p = `${dir === '/' ? '' : dir}/${e.name}`;
      if (want(e.name)) {
        found.push(p);
        continue;
      }
      if (depth < maxDepth && e.name !== 'node_modules') walk(p, depth + 1);
    }
  };
  for (const s of starts) walk(s, 0);
  if (walked >= INVENTORY_BOUNDS.walk) r.skip(`more than ${INVENTORY_BOUNDS.walk} directories walked`);
  return found;
}

function python(r: Reader, out: ImagePackage[]): void {
  const sites = findDirs(r, ['/usr/lib', '/usr/local/lib', '/opt', '/app', '/venv', '/srv'], (n) => n === 'site-packages' || n === 'dist-packages', 4);
  for (const site of sites) {
    for (const e of r.list(site)) {
      if (!e.isDirectory() || !e.name.endsWith('.dist-info')) continue;
      if (out.length >= INVENTORY_BOUNDS.packages) return r.skip(`more than ${INVENTORY_BOUNDS.packages} packages`);
      const meta = r.read(`${site}/${e.name}/METADATA`) ?? '';
      const name = /^Name: *(.+)$/m.exec(meta)?.[1]?.trim() ?? '';
      const version = /^Version: *(.+)$/m.exec(meta)?.[1]?.trim() ?? '';
      if (!name || !NAME.test(name) || (version && !VERSION.test(version))) {
        r.skip('a Python distribution with a malformed name or version');
        continue;
      }
      const pkg: ImagePackage = { ref: `pypi:${site}/${name}`, name, version, purl: purl(r, 'pypi', null, name, version), type: 'python', files: [] };
      const record = r.read(`${site}/${e.name}/RECORD`) ?? '';
      for (const line of record.split('\n')) {
        // path,hash,size (a path with a comma is quoted)
        const p = line.startsWith('"') ? line.slice(1, line.indexOf('"', 1)) : line.split(',')[0];
        if (p) r.take(pkg, path.posix.join(site, p), 'python-record');
      }
      out.push(pkg);
    }
  }
}

function npm(r: Reader, out: ImagePackage[]): void {
  const roots = findDirs(r, ['/usr/lib', '/usr/local/lib', '/app', '/srv', '/opt', '/home', '/usr/src', '/var/www'], (n) => n === 'node_modules', 4);
  const pkgDir = (dir: string): void => {
    if (out.length >= INVENTORY_BOUNDS.packages) return r.skip(`more than ${INVENTORY_BOUNDS.packages} packages`);
    const text = r.read(`${dir}/package.json`);
    if (text === null) return;
    let j: { name?: unknown; version?: unknown };
    try {
      j = JSON.parse(text) as typeof j;
    } catch {
      return r.skip('a package.json that is not JSON');
    }
    if (typeof j.name !== 'string' || !NAME.test(j.name) || (j.version !== undefined && (typeof j.version !== 'string' || !VERSION.test(j.version)))) {
      return r.skip('a package.json with a malformed name or version');
    }
    const scoped = j.name.startsWith('@') ? j.name.split('/') : null;
    const version = typeof j.version === 'string' ? j.version : '';
    const pkg: ImagePackage = {
      ref: `npm:${dir}`,
      name: j.name,
      version,
      purl: purl(r, 'npm', scoped ? scoped[0] : null, scoped ? scoped.slice(1).join('/') : j.name, version),
      type: 'npm',
      files: [],
    };
    // every file below the package, its own node_modules (other packages) excepted
    const walk = (d: string, depth: number): void => {
      for (const e of r.list(d)) {
        const p = `${d}/${e.name}`;
        if (e.isDirectory()) {
          if (e.name !== 'node_modules' && depth < 12) walk(p, depth + 1);
        } else if (e.isFile()) r.take(pkg, p, 'npm-package');
      }
    };
    walk(dir, 0);
    out.push(pkg);
    if (r.list(`${dir}/node_modules`).length) modules(`${dir}/node_modules`);
  };
  const modules = (nm: string): void => {
    for (const e of r.list(nm)) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      if (e.name.startsWith('@')) {
        for (const s of r.list(`${nm}/${e.name}`)) if (s.isDirectory()) pkgDir(`${nm}/${e.name}/${s.name}`);
      } else pkgDir(`${nm}/${e.name}`);
    }
  };
  const done = new Set<string>();
  for (const nm of roots) {
    if (done.has(nm)) continue;
    done.add(nm);
    modules(nm);
  }
}

/** Directory symlinks at the top of the image and under /usr (usrmerge: /lib -> usr/lib). */
function aliases(r: Reader): { link: string; target: string }[] {
  const out: { link: string; target: string }[] = [];
  for (const dir of ['/', '/usr']) {
    for (const e of r.list(dir)) {
      if (!e.isSymbolicLink()) continue;
      const link = `${dir === '/' ? '' : dir}/${e.name}`;
      const target = r.real(link);
      if (!target || target === link || target.startsWith(link + '/') || target === '/') continue;
      const h = r.host(link);
      try {
        if (h && fs.statSync(h).isDirectory()) out.push({ link, target });
      } catch {
        // dangling
      }
      if (out.length >= 256) return out;
    }
  }
  return out;
}

/**
 * The packages of the image a process runs, read through `root`
 * (/proc/PID/root). Paths in the result are as the image names them,
 * normalized; directory aliases are reported beside them.
 */
export function readInventory(root: string): Inventory {
  // the process may be gone already: then there is nothing to read, which is not an empty image
  try {
    fs.readdirSync(root);
  } catch (err) {
    throw new Error(`${root}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (the process is gone?)`);
  }
  const r = new Reader(root);
  const os = osRelease(r);
  const packages: ImagePackage[] = [];
  dpkg(r, os, packages);
  apk(r, os, packages);
  python(r, packages);
  npm(r, packages);
  return { packages, aliases: aliases(r), skipped: r.skipped };
}
