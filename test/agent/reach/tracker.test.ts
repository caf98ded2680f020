// agent/reach/: the tracker (reports until acknowledged, state across restarts, losses as gaps), the
// package-database reader on a made-up image root (including a hostile one), and /proc/PID/maps parsing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AgentMessage } from '../../../common/proto/generated/vigil/v1/AgentMessage';
import type { KernelEvent } from '../../../agent/decode/events';
import { readInventory } from '../../../agent/reach/package-db';
import { parseMaps, readProcMaps } from '../../../agent/reach/proc-maps';
import { ReachTracker, type ReachTrackerOptions } from '../../../agent/reach/tracker';
import type { WorkloadInfo } from '../../../agent/workload/resolver';

const DIGEST = `sha256:${'e'.repeat(64)}`;
const info = (over: Partial<WorkloadInfo> = {}): WorkloadInfo =>
  ({ spiffeId: 'spiffe://td/ns/a/sa/b', cgroupId: 7, cgroup: null, containerId: 'c1', podUid: null, kubernetes: null, image: { name: 'registry.example/app', tag: null, digest: DIGEST }, ...over }) as WorkloadInfo;

function code(p: string, pid = 100, t = 1n, cgroupId = 7, workload = 1): KernelEvent {
  return { kind: 'code', flags: 0, ktimeNs: t, pid, tid: pid, uid: 0, gid: 0, cgroupId, comm: 'x', workload, procFlags: 0, path: p, dev: 1, ino: 2n, how: 'mmap' } as KernelEvent;
}

const reports = (ms: AgentMessage[]): NonNullable<AgentMessage['reach']>[] => ms.map((m) => m.reach).filter((r): r is NonNullable<AgentMessage['reach']> => !!r);
const loadsOf = (ms: AgentMessage[]): string[] => reports(ms).flatMap((r) => (r.watches ?? []).flatMap((w) => (w.loads ?? []).map((l) => String(l.path)))).sort();

describe('reach tracker', () => {
  let dir: string;
  let now = 1_000_000_000_000n;
  const opts = (over: Partial<ReachTrackerOptions> = {}): ReachTrackerOptions => ({
    node: 'n1',
    stateDir: dir,
    workloadOf: (id) => (id === 7 ? info() : id === 8 ? info({ image: null, containerId: 'c2' }) : info({ containerId: 'c3' })),
    wallNs: (k) => 1_000_000_000n + k,
    cgroupRoot: '/nonexistent',
    continued: false,
    log: () => undefined,
    now: () => now,
    inventory: async () => ({ packages: [], aliases: [{ link: '/lib', target: '/usr/lib' }], skipped: {} }),
    ...over,
  });
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tracker-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reports loads of image workloads until acknowledged, and only those', () => {
    const t = new ReachTracker(opts());
    t.onEvents([code('/usr/lib/libssl.so.3'), code('/usr/lib/libssl.so.3', 101), code('/x', 100, 1n, 8), code('/y', 100, 1n, 7, 0)]);
    const m1 = t.messages();
    assert.deepEqual(loadsOf(m1), ['/usr/lib/libssl.so.3']);
    const r = reports(m1)[0];
    assert.equal(r.digest, DIGEST);
    assert.equal(r.watches?.[0].loads?.[0].processes, 2, 'two processes');
    // not acknowledged: said again (idempotent at the control plane)
    assert.deepEqual(loadsOf(t.messages()), ['/usr/lib/libssl.so.3']);
    for (const x of reports(t.messages())) t.acked(String(x.id), '');
    assert.deepEqual(loadsOf(t.messages()), [], 'acknowledged: not resent');
    // a third process loading it: the count goes up, so it is said again
    t.onEvents([code('/usr/lib/libssl.so.3', 102)]);
    assert.deepEqual(loadsOf(t.messages()), ['/usr/lib/libssl.so.3']);
  });

  it('losses of code or exec records mark every live watch (a gap at the control plane)', () => {
    const t = new ReachTracker(opts());
    t.onEvents([code('/a')]);
    t.noteLosses(5); // the baseline
    now += 1000n;
    t.noteLosses(5);
    assert.equal(reports(t.messages())[0].watches?.[0].lost, 0);
    now += 1000n;
    t.noteLosses(9);
    const w = reports(t.messages())[0].watches?.[0];
    assert.deepEqual([w?.lost, w?.lost_at_unix_nano], [4, String(now)]);
  });

  it('a restart that took over continues the run; one that did not starts another, still sending the old run until acknowledged', () => {
    const t1 = new ReachTracker(opts());
    t1.onEvents([code('/a'), code('/b')]);
    const m = t1.messages();
    const first = reports(m)[0];
    // /a acknowledged, /b not
    t1.acked(String(first.id), '');
    t1.onEvents([code('/c')]);
    t1.save();
    const run1 = t1.run;

    const t2 = new ReachTracker(opts({ continued: true }));
    assert.equal(t2.run, run1);
    assert.deepEqual(loadsOf(t2.messages()), ['/c']);
    assert.equal(reports(t2.messages())[0].watches?.[0].since_unix_nano, first.watches?.[0].since_unix_nano, 'the watch keeps its start');

    const t3 = new ReachTracker(opts({ continued: false }));
    assert.notEqual(t3.run, run1);
    const m3 = reports(t3.messages());
    assert.deepEqual(
      m3.map((r) => [r.run, (r.watches ?? []).flatMap((w) => (w.loads ?? []).map((l) => l.path))]),
      [[run1, ['/c']]],
      'the old run still says what was not acknowledged',
    );
    t3.acked(String(m3[0].id), '');
    assert.deepEqual(reports(t3.messages()), [], 'then it is dropped');
  });

  it('a state file that is not ours starts a new run, saying so', () => {
    fs.writeFileSync(path.join(dir, 'reach.json'), '{"version": 99}');
    const logs: string[] = [];
    const t = new ReachTracker(opts({ log: (l) => logs.push(l) }));
    assert.match(t.run, /^[0-9a-f-]{36}$/);
    assert.match(logs[0], /reach\.json not used \(not a reach state file of this version\)/);
  });

  it('sends the image inventory once per run until acknowledged; a failed read is tried again', async () => {
    let calls = 0;
    const t = new ReachTracker(
      opts({
        inventory: async () => {
          calls++;
          if (calls === 1) throw new Error('gone');
          return { packages: [{ ref: 'dpkg:x', name: 'x', version: '1', purl: 'pkg:deb/debian/x@1', type: 'deb', files: [{ path: '/usr/bin/x', source: 'dpkg' }] }], aliases: [], skipped: {} };
        },
      }),
    );
    t.onEvents([code('/a')]);
    while (t.reading) await new Promise((r) => setImmediate(r));
    t.onEvents([code('/b')]);
    while (t.reading) await new Promise((r) => setImmediate(r));
    assert.equal(calls, 2);
    const inv = t.messages().filter((m) => m.inventory);
    assert.equal(inv.length, 1);
    assert.equal(inv[0].inventory?.components?.[0].name, 'x');
    assert.equal(t.messages().filter((m) => m.inventory).length, 0, 'not twice on one stream');
    t.reconnected();
    assert.equal(t.messages().filter((m) => m.inventory).length, 1, 'again on a new stream');
    t.acked(String(inv[0].inventory?.id), '');
    t.reconnected();
    assert.equal(t.messages().filter((m) => m.inventory).length, 0);
  });

  it('a big inventory goes in parts of one set, each under the stream limit', async () => {
    const files = Array.from({ length: 40_000 }, (_, i) => ({ path: `/usr/share/pkg/file-${i}`, source: 'dpkg' as const }));
    // one package with more files than a part holds: split, joined again by ref at the control plane
    const t = new ReachTracker(opts({ inventory: async () => ({ packages: [{ ref: 'big', name: 'big', version: '1', purl: '', type: 'deb', files: files.slice(0, 32_000) }, { ref: 'p', name: 'p', version: '1', purl: '', type: 'deb', files: files.slice(32_000) }], aliases: [], skipped: {} }) }));
    t.onEvents([code('/a')]);
    while (t.reading) await new Promise((r) => setImmediate(r));
    const inv = t.messages().filter((m) => m.inventory).map((m) => m.inventory);
    assert.deepEqual(inv.map((i) => [i?.part, i?.parts, i?.components?.length]), [[0, 3, 1], [1, 3, 1], [2, 3, 2]]);
    assert.equal(new Set(inv.map((i) => i?.set)).size, 1);
    for (const i of inv) assert.ok(JSON.stringify(i).length < 2 << 20);
  });
});

describe('image package databases', () => {
  let root: string;
  let outside: string;
  const put = (p: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  };
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-image-'));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.list'), '/host/secret\n');
    put('etc/os-release', 'ID=debian\nVERSION_ID="12"\n');
    put(
      'var/lib/dpkg/status',
      'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u2\n\n' +
        'Package: removed\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n\n' +
        'Package: evil name\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n' +
        'Package: secret\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n',
    );
    put('var/lib/dpkg/info/libssl3:amd64.list', '/.\n/usr\n/usr/lib/x86_64-linux-gnu/libssl.so.3\n/usr/lib/../../../etc/shadow\n');
    // a hostile image: an absolute symlink meant to make the agent read the host's files
    fs.symlinkSync(path.join(outside, 'secret.list'), path.join(root, 'var/lib/dpkg/info/secret:amd64.list'));
    put('lib/apk/db/installed', 'P:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\n\n');
    put('usr/lib/python3/dist-packages/PyYAML-6.0.1.dist-info/METADATA', 'Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.1\n');
    put('usr/lib/python3/dist-packages/PyYAML-6.0.1.dist-info/RECORD', 'yaml/__init__.py,sha256=x,1\n"yaml/odd,name.py",,\n../../../bin/yaml-tool,,\n');
    put('app/node_modules/@scope/pkg/package.json', '{"name":"@scope/pkg","version":"1.2.3"}');
    put('app/node_modules/@scope/pkg/index.js', '');
    put('app/node_modules/@scope/pkg/node_modules/dep/package.json', '{"name":"dep","version":"0.1.0"}');
    put('app/node_modules/@scope/pkg/node_modules/dep/lib.js', '');
    put('app/node_modules/bad/package.json', '{"name":"../../etc","version":"1"}');
    fs.mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
    fs.symlinkSync('usr/lib', path.join(root, 'lib64'));
  });
  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('dpkg, apk, Python RECORD and node_modules, with purls; nothing read outside the root; malformed entries skipped and counted', () => {
    const inv = readInventory(root);
    const byName = new Map(inv.packages.map((p) => [p.name, p]));
    assert.deepEqual([...byName.keys()].sort(), ['@scope/pkg', 'PyYAML', 'dep', 'libssl3', 'musl', 'secret']);
    assert.equal(byName.get('libssl3')?.purl, 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12');
    assert.deepEqual(
      byName.get('libssl3')?.files.map((f) => f.path),
      ['/usr', '/usr/lib/x86_64-linux-gnu/libssl.so.3'],
      'the climb out of the root is refused',
    );
    // the symlink to the host file resolves inside the root: nothing there, no files
    assert.deepEqual(byName.get('secret')?.files, []);
    assert.deepEqual(byName.get('musl')?.files.map((f) => [f.path, f.source]), [['/lib/ld-musl-x86_64.so.1', 'apk']]);
    assert.equal(byName.get('musl')?.purl, 'pkg:apk/debian/musl@1.2.4-r2?arch=x86_64&distro=debian-12');
    assert.deepEqual(byName.get('PyYAML')?.files.map((f) => f.path), [
      '/usr/lib/python3/dist-packages/yaml/__init__.py',
      '/usr/lib/python3/dist-packages/yaml/odd,name.py',
      '/usr/bin/yaml-tool',
    ]);
    assert.equal(byName.get('PyYAML')?.purl, 'pkg:pypi/pyyaml@6.0.1');
    assert.equal(byName.get('@scope/pkg')?.purl, 'pkg:npm/%40scope/pkg@1.2.3');
    assert.deepEqual(byName.get('@scope/pkg')?.files.map((f) => f.path), ['/app/node_modules/@scope/pkg/index.js', '/app/node_modules/@scope/pkg/package.json']);
    assert.deepEqual(byName.get('dep')?.files.map((f) => f.path).sort(), ['/app/node_modules/@scope/pkg/node_modules/dep/lib.js', '/app/node_modules/@scope/pkg/node_modules/dep/package.json']);
    assert.deepEqual(inv.aliases, [{ link: '/lib64', target: '/usr/lib' }]);
    assert.equal(inv.skipped['a dpkg entry with a malformed name, version or architecture'], 1);
    assert.equal(inv.skipped['a package.json with a malformed name or version'], 1);
    assert.equal(inv.skipped['a path that is not a path inside the image'], 1);
  });

  it('a root that is gone is an error, not an empty image', () => {
    assert.throws(() => readInventory(path.join(root, 'nope')), /ENOENT \(the process is gone\?\)/);
  });
});

describe('/proc/PID/maps', () => {
  it('keeps executable file mappings, once each; skips anonymous, deleted and non-executable ones', () => {
    const text = [
      '55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1234   /usr/bin/cat',
      '55d0c0a02000-55d0c0a06000 r-xp 00002000 fd:01 1234   /usr/bin/cat',
      '7f0000000000-7f0000020000 r-xp 00000000 fd:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7f0000020000-7f0000030000 r-xp 00020000 fd:01 99     /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7f0000040000-7f0000041000 r-xp 00000000 00:00 0      [vdso]',
      '7f0000050000-7f0000051000 r-xp 00000000 fd:01 77     /tmp/gone.so (deleted)',
      '7f0000060000-7f0000061000 rw-p 00000000 fd:01 55     /usr/lib/locale/data',
      '7f0000070000-7f0000071000 r-xp 00000000 fd:01 56     /weird\\012name.so',
    ].join('\n');
    assert.deepEqual(
      parseMaps(text).map((m) => [m.path, String(m.ino)]),
      [
        ['/usr/bin/cat', '1234'],
        ['/usr/lib/x86_64-linux-gnu/libc.so.6', '99'],
        ['/weird\nname.so', '56'],
      ],
    );
  });

  it('reads this process: its executable and its libraries, confirmed inside its root', () => {
    const r = readProcMaps(process.pid);
    assert.ok(r);
    assert.equal(r.files[0].how, 'exec');
    assert.equal(r.files[0].path, fs.realpathSync(process.execPath));
    assert.ok(r.files.some((f) => /libc\.so/.test(f.path) && f.how === 'maps'), JSON.stringify(r.files.slice(0, 5)));
    assert.equal(readProcMaps(2 ** 30), null);
  });
});
