// Runtime reachability end to end on the real kernel (issue 12): a workload whose identities entry names an
// image runs some of the image's programs and libraries; two agent processes (two node names) watch the same
// digest and report over mTLS; the control plane joins the loads with an imported SBOM and scanner findings.
// Checked: exactly the loaded components are affected, the others under_investigation before the window and
// not_affected (vulnerable_code_not_in_execute_path) after it; a data file read is no load; a load after
// not_affected revokes it (new version, vigil vex --changes); an agent restart in the middle (pinned, taken
// over) loses nothing and leaves no gap; the second node's loads and watch count; the signed document
// verifies offline; every document passes the OpenVEX 0.2.0 schema and field rules.
import * as assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../agent/kernel/native';
import { repoRoot } from '../../common/repo';
import { startControlPlane, type RunningControlPlane } from '../../controlplane/controlplane';
import { checkOpenVex, type VexDocument } from '../../controlplane/reach/openvex';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';
import { runVigil, startVigil, type Ran, type RunningVigil } from '../helpers/cli';
import { testTrustDomain } from '../helpers/trust-domain';
import { until } from '../helpers/wait';

const TD = 'reach.vigil';
const DIGEST = `sha256:${'5'.repeat(63)}a`;
const IMAGE = `registry.example/shop@${DIGEST}`;
const schema = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'reach', 'openvex_json_schema_0.2.0.json'), 'utf8')) as object;
const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(schema);

function conforms(doc: unknown): void {
  assert.ok(validate(doc), JSON.stringify(validate.errors));
  assert.deepEqual(checkOpenVex(doc), []);
}

describe('runtime reachability: kernel -> two agents -> control plane -> signed OpenVEX', function () {
  this.timeout(180000);
  let dir: string;
  let certs: string;
  let sb: CgroupSandbox;
  let api: CgroupHandle;
  let api2: CgroupHandle;
  let cp: RunningControlPlane;
  let agentA: RunningVigil | null = null;
  let agentB: RunningVigil | null = null;
  let actions: string;
  let python: string | null;
  const pinDir = `/sys/fs/bpf/vigil-test-reach-${process.pid}`;
  const files: Record<string, string[]> = {};

  const vigil = (...argv: string[]): Promise<Ran> => runVigil(...argv, '--controlplane', `127.0.0.1:${cp.port}`, '--certs', certs);
  const agentArgs = (node: string, ids: string, state: string, extra: string[]): string[] => [
    'agent',
    '--node',
    node,
    '--controlplane',
    `127.0.0.1:${cp.port}`,
    '--certs',
    certs,
    '--identities',
    ids,
    '--state',
    state,
    '--no-kubernetes',
    '--reach-interval',
    '0.3',
    ...extra,
  ];
  const startA = (): Promise<RunningVigil> =>
    startVigil(agentArgs('reach-a', path.join(dir, 'ids-a.yaml'), path.join(dir, 'state-a'), ['--pin-dir', pinDir]), /runtime reachability on/, 60000);
  const state = (name: string): string => {
    const e = cp.store.reach.evidence(DIGEST).find((x) => x.component.name === name);
    return e ? e.reach.state : 'absent';
  };
  const vex = async (minWindow: string): Promise<VexDocument> => {
    const r = await vigil('vex', '--image', IMAGE, '--min-window', minWindow);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as VexDocument;
    conforms(doc);
    return doc;
  };
  const statusOf = (doc: VexDocument): Record<string, string> =>
    Object.fromEntries(doc.statements.map((s) => [(s.products[0].subcomponents?.[0]['@id'] ?? '').replace(/^pkg:generic\/|@.*$/g, ''), s.status + (s.justification ? `/${s.justification}` : '')]));

  before(async () => {
    requireKernelTestPrivileges();
    actions = fs.realpathSync(helperBinary('actions'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-reach-e2e-'));
    fs.chmodSync(dir, 0o755);
    certs = path.join(dir, 'certs');
    await testTrustDomain(certs, TD, { admin: 'vigil/admin/test', agent: 'vigil/agent/reach-a', 'agent-reach-b': 'vigil/agent/reach-b' });
    sb = CgroupSandbox.create('reach');
    api = sb.child('api');
    api2 = sb.child('api2');
    cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'cp'), certsDir: certs, insecure: false, log: () => undefined });
    const entry = (cg: CgroupHandle): string => `workloads:\n  - { spiffe_id: spiffe://${TD}/ns/shop/sa/api, cgroups: [${cg.rel.slice(1)}], image: "${IMAGE}" }\n`;
    fs.writeFileSync(path.join(dir, 'ids-a.yaml'), entry(api));
    fs.writeFileSync(path.join(dir, 'ids-b.yaml'), entry(api2));

    // the "image": real files of this host, named as an SBOM of it would name them
    const lib = path.join(dir, 'lib');
    fs.mkdirSync(lib, { mode: 0o755 });
    // neither executable nor named like code: only the executable mapping can make it a load
    fs.writeFileSync(path.join(lib, 'mapped.bin'), Buffer.alloc(8192, 0x90), { mode: 0o644 });
    fs.writeFileSync(path.join(lib, 'plugin.bin'), Buffer.alloc(8192, 0x90), { mode: 0o644 });
    fs.writeFileSync(path.join(lib, 'data.txt'), 'just data\n', { mode: 0o644 });
    python = fs.existsSync('/root/.pyenv/versions/3.11.7/bin/python3.11') ? '/root/.pyenv/versions/3.11.7/bin/python3.11' : null;
    const real = (p: string): string => fs.realpathSync(p);
    files.ls = [real('/usr/bin/ls')];
    // through the /lib symlink, as dpkg names it: the control plane applies the image's directory aliases
    files.libc = ['/lib/x86_64-linux-gnu/libc.so.6'];
    files.head = [real('/usr/bin/head')];
    files.tail = [real('/usr/bin/tail')];
    files.tac = [real('/usr/bin/tac')];
    files.od = [real('/usr/bin/od')];
    files.mapx = [path.join(lib, 'mapped.bin')];
    files.protx = [path.join(lib, 'plugin.bin')];
    files.data = [path.join(lib, 'data.txt')];
    files.nofiles = [];
    if (python) {
      const out = execFileSync(python, ['-c', 'import json, importlib.util; print(json.__file__); print(importlib.util.cache_from_source(json.__file__))'], { encoding: 'utf8' });
      files.pyjson = out.trim().split('\n');
    }
    const components = Object.entries(files).map(([name, fl]) => ({
      'bom-ref': name,
      type: 'library',
      name,
      version: '1.0',
      purl: `pkg:generic/${name}@1.0`,
      ...(fl.length ? { evidence: { occurrences: fl.map((location) => ({ location })) } } : {}),
    }));
    fs.writeFileSync(path.join(dir, 'sbom.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components }));
    fs.writeFileSync(
      path.join(dir, 'grype.json'),
      JSON.stringify({ matches: Object.keys(files).map((name, i) => ({ vulnerability: { id: `CVE-2026-${1000 + i}` }, artifact: { name, version: '1.0', purl: `pkg:generic/${name}@1.0` } })) }),
    );
  });

  after(async () => {
    await agentA?.stop();
    await agentB?.stop();
    spawnSync(path.join(repoRoot(), 'bin', 'vigil'), ['agent', '--uninstall', '--pin-dir', pinDir], { encoding: 'utf8' });
    try {
      native().unpinAll(pinDir);
    } catch {
      // already gone
    }
    fs.rmSync(pinDir, { recursive: true, force: true });
    await sb?.cleanup();
    await cp?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loaded components are affected, the others under_investigation before the window', async () => {
    const imp = await vigil('sbom', 'import', path.join(dir, 'sbom.json'), '--image', IMAGE);
    assert.equal(imp.code, 0, imp.err);
    agentA = await startA();
    await sb.run(api, files.ls[0], ['/'], { mode: 'exec' });
    await sb.run(api, actions, [`mmapx:${files.mapx[0]}`, `mprotx:${files.protx[0]}`, `open:${files.data[0]}`]);
    if (python) await sb.run(api, python, ['-c', 'import json'], { mode: 'exec' });
    const want = ['ls', 'libc', 'mapx', 'protx', ...(python ? ['pyjson'] : [])];
    await until('the loads reach the control plane', () => want.every((n) => state(n) === 'loaded'), 30000).catch((err: Error) => {
      throw new Error(`${err.message}: ${want.map((n) => `${n}=${state(n)}`).join(' ')}; loaded: ${[...cp.store.reach.loadedFiles(DIGEST).keys()].join(' ')}\n${agentA?.err()}`);
    });
    // the agent also sent the image's package databases (read through /proc/PID/root)
    await until('the package databases reach the control plane', () => cp.store.reach.sboms(DIGEST).some((s) => s.origin === 'agent'), 30000);
    const r = await vigil('vex', '--image', IMAGE, '--vulns', path.join(dir, 'grype.json'), '--min-window', '1h');
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as VexDocument;
    conforms(doc);
    const st = statusOf(doc);
    for (const n of ['ls', 'libc', 'mapx', 'protx', ...(python ? ['pyjson'] : [])]) assert.equal(st[n], 'affected', n);
    for (const n of ['head', 'tail', 'tac', 'od', 'data', 'nofiles']) assert.equal(st[n], 'under_investigation', n);
    const mapx = doc.statements.find((s) => s.products[0].subcomponents?.[0]['@id'].includes('mapx'));
    assert.match(mapx?.action_statement ?? '', /mapped\.bin \(mmap, first /, JSON.stringify(mapx));
    assert.equal(state('data'), 'not_loaded', 'reading a data file is no load');
    const protx = doc.statements.find((s) => s.products[0].subcomponents?.[0]['@id'].includes('protx'));
    assert.match(protx?.action_statement ?? '', /plugin\.bin \(mmap, first /, 'made executable by mprotect after a plain mapping');
    if (python) {
      const py = doc.statements.find((s) => s.products[0].subcomponents?.[0]['@id'].includes('pyjson'));
      assert.match(py?.action_statement ?? '', /json\/__pycache__\/__init__\.cpython-311\.pyc \(open, first /, 'an interpreter reading a module');
    }
  });

  it('an agent restart in the middle loses nothing: what ran while it was down is reported, without a gap', async () => {
    const before = agentA ? await agentA.stop() : null;
    assert.equal(before, 0);
    agentA = null;
    // the pinned programs keep recording into the pinned ring while no agent runs
    await sb.run(api, files.head[0], ['-c1', '/etc/hostname'], { mode: 'exec' });
    agentA = await startA();
    assert.match(agentA.err(), /took over the enforcement in force/);
    assert.match(agentA.err(), /runtime reachability on \(run [0-9a-f-]+, continued\)/);
    await until('head, run while the agent was down, is reported', () => state('head') === 'loaded', 30000);
    assert.deepEqual(cp.store.reach.window(DIGEST)?.gaps, []);
    assert.deepEqual(cp.store.reach.window(DIGEST)?.nodes, ['reach-a']);
  });

  it('a second node running the same digest contributes its loads and its watch', async () => {
    agentB = await startVigil(
      agentArgs('reach-b', path.join(dir, 'ids-b.yaml'), path.join(dir, 'state-b'), ['--no-pin', '--cert', path.join(certs, 'agent-reach-b.pem'), '--key', path.join(certs, 'agent-reach-b.key')]),
      /runtime reachability on/,
      60000,
    );
    await sb.run(api2, files.tail[0], ['-n1', '/etc/hostname'], { mode: 'exec' });
    await until('tail, run on node b, is loaded', () => state('tail') === 'loaded', 30000);
    const tail = cp.store.reach.evidence(DIGEST).find((e) => e.component.name === 'tail')?.reach;
    assert.ok(tail && tail.state === 'loaded' && tail.nodes === 1);
    await until('both nodes watch the image', () => (cp.store.reach.window(DIGEST)?.nodes ?? []).length === 2, 10000);
  });

  it('after the window: not_affected with the right justification; a later load revokes it', async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const d1 = await vex('2s');
    const st = statusOf(d1);
    for (const n of ['tac', 'od', 'data']) assert.equal(st[n], 'not_affected/vulnerable_code_not_in_execute_path', n);
    assert.equal(st.nofiles, 'under_investigation');
    for (const n of ['ls', 'libc', 'head', 'tail', 'mapx', 'protx']) assert.equal(st[n], 'affected', n);
    const tac = d1.statements.find((s) => s.products[0].subcomponents?.[0]['@id'].includes('tac'));
    assert.match(tac?.impact_statement ?? '', /watched on 2 nodes \(reach-a, reach-b\) in 2 containers, without a gap/);

    await sb.run(api, files.tac[0], ['/etc/hostname'], { mode: 'exec' });
    await until('the load of tac revokes its not_affected', () => cp.cp.vex.revocations(DIGEST).length > 0, 30000);
    const changes = await vigil('vex', '--changes', '--image', IMAGE);
    assert.equal(changes.code, 0, changes.err);
    assert.match(changes.out, new RegExp(`${DIGEST} CVE-2026-\\d+ pkg:generic/tac@1\\.0: not_affected in version ${d1.version}, affected from version ${d1.version + 1}: ${files.tac[0]} loaded `));
    const d2 = await vex('2s');
    assert.equal(d2.version, d1.version + 1);
    assert.equal(statusOf(d2).tac, 'affected');
    assert.ok(Date.parse(d2.timestamp) >= Date.parse(d1.timestamp));
  });

  it('the signed document verifies offline with the control plane key', async () => {
    const r = await vigil('vex', '--image', IMAGE, '--min-window', '2s', '--output', 'dsse');
    assert.equal(r.code, 0, r.err);
    const f = path.join(dir, 'vex.dsse.json');
    fs.writeFileSync(f, r.out);
    const ver = await runVigil('vex', 'verify', f, '--public-key', path.join(dir, 'cp', 'vex-signing.pub'), '--image', IMAGE);
    assert.equal(ver.code, 0);
    assert.match(ver.out, /^verified: OpenVEX version \d+ for registry\.example\/shop \(sha256:5+a\) by spiffe:\/\/reach\.vigil\/vigil\/controlplane: /);
    const entries = [...cp.store.auditEntries()].map((e) => e.kind);
    assert.ok(entries.includes('sbom') && entries.includes('findings') && entries.includes('vex'));
  });
});
