// controlplane/reach/store.ts: SBOMs, components and runtime evidence per image digest, in a real SQLite
// file: merged across nodes and pods, idempotent on resend, durable across reopen, gaps restart the window,
// hostile reports refused with the field named, every SBOM in the audit log.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Store } from '../../../controlplane/store';
import type { ComponentIn, ReachReportIn, WatchIn } from '../../../controlplane/reach/store';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;
const S = (n: number): string => String(BigInt(n) * 1_000_000_000n);

const comps = (): ComponentIn[] => [
  {
    ref: 'pkg:deb/debian/libssl3@3.0.11-1?arch=amd64',
    name: 'libssl3',
    version: '3.0.11-1',
    purl: 'pkg:deb/debian/libssl3@3.0.11-1?arch=amd64&distro=debian-12',
    type: 'library',
    files: [
      // the SBOM names the file through the /lib symlink; the kernel reports /usr/lib
      { path: '/lib/x86_64-linux-gnu/libssl.so.3', source: 'syft-location' },
      { path: '/usr/share/doc/libssl3/copyright', source: 'syft-location' },
    ],
  },
  {
    ref: 'curl',
    name: 'curl',
    version: '7.88.1',
    purl: 'pkg:deb/debian/curl@7.88.1',
    type: 'library',
    files: [{ path: '/usr/bin/curl', source: 'syft-location' }],
  },
  { ref: 'mystery', name: 'mystery', version: '1.0', purl: 'pkg:generic/mystery@1.0', type: 'library', files: [] },
];

function watch(container: string, since: number, until: number, loads: WatchIn['loads'] = [], lost = 0, lostAt = 0): WatchIn {
  return { container, workload: `spiffe://td/ns/a/sa/${container}`, since_ns: S(since), until_ns: S(until), lost, lost_at_ns: S(lostAt), loads };
}

function report(node: string, run: string, watches: WatchIn[], digest = D1): ReachReportIn {
  return { node, run, digest, name: 'registry.example/app', watches, aliases: [{ link: '/lib', target: '/usr/lib' }] };
}

describe('reach store', () => {
  let dir: string;
  let file: string;
  let store: Store;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-reach-'));
    file = path.join(dir, 'vigil.db');
    store = new Store(file);
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const importSbom = (digest = D1, components = comps()): number =>
    store.reach.putSbom({ digest, name: 'registry.example/app', origin: 'import', format: 'cyclonedx-1.6', sha256: 'f'.repeat(64), by: 'spiffe://td/vigil/admin/x', components });

  it('components of an image with purl, version and where their files came from', () => {
    importSbom();
    const c = store.reach.components(D1);
    assert.deepEqual(
      c.map((x) => [x.name, x.version, x.purl_key, x.files, x.file_source, x.origin]),
      [
        ['libssl3', '3.0.11-1', 'deb/debian/libssl3', 2, 'syft-location', 'import'],
        ['curl', '7.88.1', 'deb/debian/curl', 1, 'syft-location', 'import'],
        ['mystery', '1.0', 'generic//mystery', 0, '', 'import'],
      ],
    );
  });

  it('loaded / not loaded since the window start / unknown, and not_present for a package the image lacks', () => {
    importSbom();
    store.reach.recordReport(report('n1', 'r1', [watch('c1', 100, 200, [{ path: '/usr/lib/x86_64-linux-gnu/libssl.so.3', first_ns: S(150), how: 'mmap', processes: 1 }])]));
    const ev = store.reach.evidence(D1);
    const ssl = ev[0].reach;
    assert.equal(ssl.state, 'loaded');
    if (ssl.state === 'loaded') {
      assert.equal(ssl.first_ns, S(150));
      assert.deepEqual(ssl.files.map((f) => [f.path, f.how, f.processes, f.containers, f.nodes]), [['/usr/lib/x86_64-linux-gnu/libssl.so.3', 'mmap', 1, 1, 1]]);
    }
    const curl = ev[1].reach;
    assert.equal(curl.state, 'not_loaded');
    if (curl.state === 'not_loaded') assert.deepEqual([curl.window.since_ns, curl.window.until_ns, curl.window.nodes, curl.window.containers], [S(100), S(200), ['n1'], 1]);
    assert.equal(ev[2].reach.state, 'unknown');
    // any version and qualifiers of the purl name the package
    const one = store.reach.componentEvidence(D1, 'pkg:deb/debian/libssl3@9.9');
    assert.ok(Array.isArray(one) && one.length === 1 && one[0].reach.state === 'loaded');
    assert.equal(store.reach.componentEvidence(D1, 'pkg:deb/debian/openssh-server@1'), 'not_present');
    assert.throws(() => store.reach.componentEvidence(D1, 'not a purl'), /not a package URL/);
  });

  it('an image no agent watched: its known components are unknown, not "not loaded"', () => {
    importSbom();
    const ev = store.reach.evidence(D1);
    assert.deepEqual(
      ev.map((e) => e.reach.state),
      ['unknown', 'unknown', 'unknown'],
    );
    assert.match((ev[1].reach as { reason: string }).reason, /no container of this image was watched/);
  });

  it('merges nodes and pods of one digest; a resent report changes nothing', () => {
    importSbom();
    const r1 = report('n1', 'r1', [watch('c1', 100, 200, [{ path: '/usr/bin/curl', first_ns: S(160), how: 'exec', processes: 2 }])]);
    assert.deepEqual(store.reach.recordReport(r1), ['/usr/bin/curl']);
    assert.deepEqual(store.reach.recordReport(r1), [], 'not new the second time');
    store.reach.recordReport(report('n2', 'r9', [watch('c7', 120, 260, [{ path: '/usr/bin/curl', first_ns: S(130), how: 'exec', processes: 1 }])]));
    const curl = store.reach.evidence(D1)[1].reach;
    assert.equal(curl.state, 'loaded');
    if (curl.state === 'loaded') assert.deepEqual([curl.first_ns, curl.processes, curl.containers, curl.nodes], [S(130), 3, 2, 2]);
    const w = store.reach.window(D1);
    assert.deepEqual([w?.since_ns, w?.until_ns, w?.nodes, w?.containers], [S(100), S(260), ['n1', 'n2'], 2]);
    assert.deepEqual(store.reach.image(D1), { digest: D1, name: 'registry.example/app', first_seen_ns: S(100), last_seen_ns: S(260) });
  });

  it('finds every image holding a package, for advisories', () => {
    importSbom(D1);
    importSbom(D2, comps().slice(0, 1));
    const hits = store.reach.findComponents('pkg:deb/debian/libssl3');
    assert.deepEqual(hits.map((h) => [h.digest, h.version]).sort(), [
      [D1, '3.0.11-1'],
      [D2, '3.0.11-1'],
    ]);
    assert.deepEqual(store.reach.findByPackage('deb', 'debian', 'curl').map((h) => h.digest), [D1]);
  });

  it('an agent-down hole in one container restarts the window; a run that took over does not', () => {
    importSbom();
    store.reach.recordReport(report('n1', 'r1', [watch('c1', 100, 200)]));
    // the next run carried the watch over (pinned state): since reaches back, no gap
    store.reach.recordReport(report('n1', 'r2', [watch('c1', 100, 300)]));
    assert.deepEqual(store.reach.window(D1)?.gaps, []);
    // a third run began fresh at 400 while c1 kept running: 300..400 is a gap
    store.reach.recordReport(report('n1', 'r3', [watch('c1', 400, 500)]));
    const w = store.reach.window(D1);
    assert.deepEqual(w?.gaps.map((g) => [g.from_ns, g.to_ns, g.why]), [[S(300), S(400), 'agent down']]);
    assert.equal(w?.since_ns, S(400));
    assert.equal(w?.first_watch_ns, S(100));
  });

  it('events lost for a container restart the window at the loss', () => {
    importSbom();
    store.reach.recordReport(report('n1', 'r1', [watch('c1', 100, 500, [], 3, 250), watch('c2', 100, 500)]));
    const w = store.reach.window(D1);
    assert.equal(w?.since_ns, S(250));
    assert.deepEqual(w?.gaps.map((g) => g.why), ['events lost']);
  });

  it('survives a restart of the control plane', () => {
    importSbom();
    store.reach.recordReport(report('n1', 'r1', [watch('c1', 100, 200, [{ path: '/usr/bin/curl', first_ns: S(150), how: 'exec', processes: 1 }])]));
    const before = JSON.stringify(store.reach.evidence(D1));
    store.close();
    store = new Store(file);
    assert.equal(JSON.stringify(store.reach.evidence(D1)), before);
  });

  it('files from the package databases fill an imported SBOM that lists none, saying so', () => {
    importSbom(D1, [{ ref: 'x', name: 'curl', version: '7.88.1', purl: 'pkg:deb/debian/curl@7.88.1?arch=amd64', type: 'library', files: [] }]);
    store.reach.putSbom({
      digest: D1,
      name: '',
      origin: 'agent',
      format: 'package-databases',
      sha256: 'e'.repeat(64),
      by: 'n1',
      components: [{ ref: 'dpkg:curl', name: 'curl', version: '7.88.1', purl: 'pkg:deb/debian/curl@7.88.1?arch=amd64&distro=debian-12', type: 'deb', files: [{ path: '/usr/bin/curl', source: 'dpkg' }] }],
    });
    const [c] = store.reach.components(D1);
    assert.deepEqual([c.origin, c.file_source, c.files], ['import', 'dpkg', 1]);
    // a re-import replaces the old SBOM of that origin
    importSbom(D1, comps());
    assert.equal(store.reach.components(D1).length, 3);
    assert.equal(store.reach.sboms(D1).length, 2);
  });

  it('records every SBOM in the audit log, and a refused one leaves the chain as it was', () => {
    importSbom();
    const sbomEntries = [...store.auditEntries()].filter((e) => e.kind === 'sbom');
    assert.equal(sbomEntries.length, 1);
    assert.equal((sbomEntries[0].data as { digest: string }).digest, D1);
    assert.throws(() => importSbom('sha256:short'), /not a sha256 digest/);
    // a failure inside the transaction rolls back the entry and the root
    const head = store.verifyAudit().root;
    assert.throws(() =>
      store.audited((audit) => {
        audit('vex', { x: 1 });
        throw new Error('boom');
      }),
    );
    assert.equal(store.verifyAudit().root, head);
    importSbom();
    assert.equal(store.verifyAudit().intact, true);
  });

  describe('hostile reports are refused, naming the field', () => {
    const cases: [string, (r: ReachReportIn) => void, RegExp][] = [
      ['a digest that is not one', (r) => (r.digest = 'sha256:xyz'), /digest: "sha256:xyz" is not sha256/],
      ['a relative path', (r) => ((r.watches[0].loads as WatchIn['loads'][number][])[0].path = 'usr/bin/x'), /watches\[0\]\.loads\[0\]\.path: not an absolute path/],
      ['a .. segment (another name for the same file)', (r) => ((r.watches[0].loads as WatchIn['loads'][number][])[0].path = '/usr/lib/../bin/curl'), /loads\[0\]\.path/],
      ['a NUL in a path', (r) => ((r.watches[0].loads as WatchIn['loads'][number][])[0].path = '/usr/bin/cu\0rl'), /loads\[0\]\.path/],
      ['an oversize path', (r) => ((r.watches[0].loads as WatchIn['loads'][number][])[0].path = '/' + 'a'.repeat(5000)), /loads\[0\]\.path/],
      ['until before since', (r) => (r.watches[0].until_ns = S(1)), /watches\[0\]\.until_ns: before since_ns/],
      ['a time that is not a number', (r) => (r.watches[0].since_ns = '1e9'), /watches\[0\]\.since_ns: "1e9" is not nanoseconds/],
      ['a made-up load kind', (r) => ((r.watches[0].loads as WatchIn['loads'][number][])[0].how = 'psychic'), /how: "psychic"/],
      ['zero processes', (r) => ((r.watches[0].loads as WatchIn['loads'][number][])[0].processes = 0), /processes: not a positive count/],
      ['an alias into itself', (r) => (r.aliases = [{ link: '/usr', target: '/usr/lib' }]), /aliases\[0\]: a link into itself/],
      ['too many loads', (r) => ((r.watches as WatchIn[])[0] = { ...r.watches[0], loads: Array.from({ length: 20001 }, (_, i) => ({ path: `/f${i}`, first_ns: S(150), how: 'open', processes: 1 })) }), /more than 20000/],
    ];
    for (const [name, spoil, re] of cases) {
      it(name, () => {
        const r = report('n1', 'r1', [watch('c1', 100, 200, [{ path: '/usr/bin/curl', first_ns: S(150), how: 'exec', processes: 1 }])]);
        spoil(r);
        assert.throws(() => store.reach.recordReport(r), (e: Error) => re.test(e.message) && /^reach report from n1: /.test(e.message));
        assert.equal(store.reach.loadedFiles(D1).size, 0, 'nothing of it stored');
      });
    }
  });
});
