// End to end, advisory -> ticket -> gate -> quarantine, on the real kernel
// with a real control plane, a real agent and the vigil command:
//   - SBOMs of two images are imported (vigil sbom import) and an OSV
//     advisory for a component of both (vigil advisories import FILE): both
//     are under_investigation, no ticket (the sink opens tickets for
//     affected images only);
//   - a process in image A's workload cgroup reads the component's module
//     (lodash.js): the kernel's code probe reports it, the agent sends it
//     over the mTLS stream, the control plane grades the advisory affected
//     and a ticket appears in (a local fake of) GitHub with that evidence;
//     image B's workload runs longer than min_window without loading it:
//     not_affected, no ticket;
//   - vigil gate fails for A and passes for B;
//   - vigil quarantine --image A (its workloads: those the agent reported
//     running it): the workload's egress fails with EPERM in the kernel
//     except to the allowed destination; the ticket gets a comment, the
//     audit log an entry; --lift restores it.
import * as assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../../agent/agent';
import { parseOutputs } from '../../common/outputs/config';
import { startControlPlane, type RunningControlPlane } from '../../controlplane/controlplane';
import { OSV_LODASH } from '../helpers/advisory-fixtures';
import { spawnVigil } from '../helpers/cli';
import { FakeGitHub } from '../helpers/fake-github';
import { makeTestPki, type TestPki } from '../helpers/https-ca';
import { CgroupSandbox, NetnsSandbox, helperBinary, requireKernelTestPrivileges, type CgroupHandle } from '../helpers/kernel';
import { testTrustDomain } from '../helpers/trust-domain';
import { until } from '../helpers/wait';

const TD = 'vdp.vigil';
const WEB = `spiffe://${TD}/ns/shop/sa/web`;
const BATCH = `spiffe://${TD}/ns/shop/sa/batch`;
const A = `sha256:${'a1'.repeat(32)}`;
const B = `sha256:${'b2'.repeat(32)}`;
const TOKEN = 'ghp_e2eSECRETtoken';

/** A CycloneDX 1.5 SBOM as syft writes it: one npm component with the files it owns (evidence.occurrences). */
function sbom(lodashDir: string): string {
  return JSON.stringify({
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    version: 1,
    metadata: { component: { type: 'container', name: 'registry.example/shop' } },
    components: [
      {
        'bom-ref': 'pkg:npm/lodash@4.17.20',
        type: 'library',
        name: 'lodash',
        version: '4.17.20',
        purl: 'pkg:npm/lodash@4.17.20',
        evidence: { occurrences: [{ location: path.join(lodashDir, 'lodash.js') }, { location: path.join(lodashDir, 'package.json') }] },
      },
    ],
  });
}

describe('end to end: advisory -> ticket -> gate -> quarantine (real kernel, control plane, agent)', function () {
  this.timeout(90_000);
  let dir: string;
  let certs: string;
  let pki: TestPki;
  let gh: FakeGitHub;
  let sb: CgroupSandbox;
  let shop: CgroupHandle;
  let batch: CgroupHandle;
  let lodashDir: string;
  let netns: NetnsSandbox;
  let cp: RunningControlPlane;
  let agent: Agent;
  let actions: string;
  let local: net.Server;
  let localPort = 0;
  let hook: http.Server;
  const hooked: { body: string; signature: string }[] = [];
  const logs: string[] = [];
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });

  before(async () => {
    requireKernelTestPrivileges();
    actions = fs.realpathSync(helperBinary('actions'));
    // the kernel reports canonical paths: the SBOM names the files as the kernel will
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-vdp-')));
    fs.chmodSync(dir, 0o755);
    // the "image": the component's files on this host, named in the SBOM as they are found
    lodashDir = path.join(dir, 'app', 'node_modules', 'lodash');
    fs.mkdirSync(lodashDir, { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(lodashDir, 'lodash.js'), 'module.exports = {};\n', { mode: 0o644 });
    fs.writeFileSync(path.join(lodashDir, 'package.json'), '{"name":"lodash","version":"4.17.20"}\n', { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'app', 'data.json'), '{}\n', { mode: 0o644 });
    // other names for the same file: a symlink (the kernel reports the file it opened) and a hard link (same inode)
    fs.symlinkSync(path.join('node_modules', 'lodash', 'lodash.js'), path.join(dir, 'app', 'util.js'));
    fs.linkSync(path.join(lodashDir, 'lodash.js'), path.join(dir, 'app', 'vendor.js'));
    pki = makeTestPki();
    gh = new FakeGitHub(pki, 'acme/security', TOKEN);
    await gh.start();
    certs = path.join(dir, 'certs');
    await testTrustDomain(certs, TD, { admin: 'vigil/admin/test', agent: 'vigil/agent/vdp-node' });
    sb = CgroupSandbox.create('vdp');
    shop = sb.child('shop');
    batch = sb.child('batch');
    netns = await NetnsSandbox.create(13);
    local = net.createServer((s) => s.end('hi'));
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    localPort = (local.address() as net.AddressInfo).port;
    fs.writeFileSync(path.join(dir, 'gh-token'), `${TOKEN}\n`);
    // the agent's own webhook output (a node's --outputs), signed with a secret from a file
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooked.push({ body, signature: String(req.headers['x-vigil-signature-256'] ?? '') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    fs.writeFileSync(path.join(dir, 'hook-secret'), 'hook-s3cret\n');
    fs.writeFileSync(
      path.join(dir, 'vdp.yaml'),
      [
        'min_window: 1s',
        'rescan: 1s',
        'tickets:',
        '  - name: github',
        '    type: github',
        `    url: ${gh.url}`,
        '    repo: acme/security',
        `    token_file: ${path.join(dir, 'gh-token')}`,
        `    ca_file: ${pki.caFile}`,
        '    kinds: [vulnerability]',
        '    statuses: [affected]',
        '    min_priority: debug',
        '',
      ].join('\n'),
    );
    cp = await startControlPlane({
      listen: '127.0.0.1:0',
      dataDir: path.join(dir, 'cp'),
      certsDir: certs,
      insecure: false,
      vdpConfig: path.join(dir, 'vdp.yaml'),
      log: (l) => logs.push(l),
    });
    fs.writeFileSync(
      path.join(dir, 'ids.yaml'),
      `workloads:\n  - { spiffe_id: ${WEB}, cgroups: [${shop.rel.slice(1)}], image: "registry.example/shop@${A}" }\n` +
        `  - { spiffe_id: ${BATCH}, cgroups: [${batch.rel.slice(1)}], image: "registry.example/shop@${B}" }\n`,
    );
    fs.writeFileSync(path.join(dir, 'base.yaml'), `rules:\n  - { name: shell-in-shop, workload: ${WEB}, on: exec, match: { binary: { in: [/bin/sh] } } }\n`);
    agent = await Agent.start({
      rules: [],
      identities: path.join(dir, 'ids.yaml'),
      output: 'json',
      node: 'vdp-node',
      controlplane: { address: `127.0.0.1:${cp.port}`, insecure: false, certsDir: certs },
      stateDir: path.join(dir, 'agent-state'),
      reachIntervalMs: 300,
      outputs: parseOutputs([{ type: 'webhook', url: `http://127.0.0.1:${(hook.address() as net.AddressInfo).port}/`, secret_file: path.join(dir, 'hook-secret'), min_priority: 'critical' }], 'outputs'),
      out: quiet,
      err: quiet,
    });
    await until('the agent is connected', () => agent.uplink?.stats.connected === true);
    const pushed = await spawnVigil(['policy', 'push', path.join(dir, 'base.yaml'), ...admin()]);
    assert.equal(pushed.code, 0, pushed.err);
    await until('the agent applied v1', () => agent.policyVersion === 1);
  });

  after(async () => {
    if (agent) await agent.stop();
    if (cp) await cp.close();
    if (gh) await gh.stop();
    if (local) await new Promise<void>((r) => local.close(() => r()));
    if (hook) await new Promise<void>((r) => hook.close(() => r()));
    if (netns) netns.cleanupSync();
    if (sb) await sb.cleanup();
    if (pki) pki.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const admin = (): string[] => ['--controlplane', `127.0.0.1:${cp.port}`, '--certs', certs, '--cert', path.join(certs, 'admin.pem'), '--key', path.join(certs, 'admin.key')];

  it('a workload loads the component an imported OSV advisory names: a ticket with the kernel\'s evidence; not_affected opens none', async () => {
    assert.ok(agent.reach, 'runtime reachability is on (the agent has a control plane)');
    fs.writeFileSync(path.join(dir, 'sbom.json'), sbom(lodashDir));
    for (const d of [A, B]) {
      const r = await spawnVigil(['sbom', 'import', path.join(dir, 'sbom.json'), '--image', `registry.example/shop@${d}`, ...admin()]);
      assert.equal(r.code, 0, r.err);
    }
    fs.writeFileSync(path.join(dir, 'osv.json'), JSON.stringify(OSV_LODASH));
    const imp = await spawnVigil(['advisories', 'import', path.join(dir, 'osv.json'), ...admin()]);
    assert.equal(imp.code, 0, imp.err);
    assert.match(imp.out, /1 new, 0 updated, 0 unchanged; 2 matches in the fleet/);
    const status = (): string[][] => cp.cp.vdp.matches().map((m) => [m.digest, m.status]).sort((x, y) => x[0].localeCompare(y[0]));
    assert.deepEqual(status(), [
      [A, 'under_investigation'],
      [B, 'under_investigation'],
    ], 'nothing watched yet');
    await cp.cp.vdp.engine.idle();
    assert.equal(gh.issues.size, 0, 'under_investigation opens no ticket at this sink (statuses: [affected])');

    // each workload's program starts in its cgroup (exec: the agent starts watching the container there);
    // image B's reads data, never the module; image A's reads data and the module
    await sb.run(batch, actions, [`open:${path.join(dir, 'app', 'data.json')}`], { mode: 'exec' });
    // through a symlink: the evidence names the file the kernel opened, the one the SBOM lists
    await sb.run(shop, actions, [`open:${path.join(dir, 'app', 'data.json')}`, `open:${path.join(dir, 'app', 'util.js')}`], { mode: 'exec' });
    // the same program again, the same module by its own name and by a hard link: every file is new only once per workload
    // (the kernel's LRU keys by device and inode), no code record
    const codeRecords = (): number => agent.probe.stats().kinds.code.emitted;
    await until('the first code records are counted', () => codeRecords() > 0);
    const emitted = codeRecords();
    await sb.run(shop, actions, [`open:${path.join(lodashDir, 'lodash.js')}`, `open:${path.join(dir, 'app', 'vendor.js')}`], { mode: 'exec' });
    assert.equal(codeRecords(), emitted, 'a second load of the same files in the same workload costs no record');
    await until('a ticket for image A', () => gh.issues.size > 0, 20000).catch((err: Error) => {
      throw new Error(`${err.message}: matches ${JSON.stringify(status())}; loaded by A: ${[...cp.store.reach.loadedFiles(A).keys()].join(' ')}`);
    });
    await until('image B graded not_affected (watched longer than min_window, nothing loaded)', () => status().some(([d, st]) => d === B && st === 'not_affected'), 20000);
    await cp.cp.vdp.engine.idle();
    assert.equal(gh.issues.size, 1, 'one ticket: not_affected (image B) opens none');
    const issue = [...gh.issues.values()][0];
    assert.match(issue.title, /GHSA-35jh-r3h4-6jhm in registry\.example\/shop \(affected, loaded\)/);
    // the evidence is what the kernel saw: the file, how many processes, where
    const lodashJs = path.join(lodashDir, 'lodash.js').replace(/[/.]/g, '\\$&');
    assert.match(issue.body, new RegExp(`loaded and running: ${lodashJs} loaded by 1 process in 1 container on 1 node, first at 20`));
    assert.doesNotMatch(issue.body, /data\.json|util\.js|vendor\.js/, 'reading data is no load; other names of the file are not other files');
    assert.match(issue.body, new RegExp(A));
    assert.ok(issue.labels.includes('priority:error'), issue.labels.join(','));
    // the workload that runs image A is known from the agent's report (quarantine uses it)
    assert.deepEqual(cp.cp.vdp.inventory.runners(A).workloads, [WEB]);
    const list = await spawnVigil(['advisories', 'list', '--output', 'json', ...admin()]);
    const statuses = list.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { match?: { digest: string; status: string; justification: string | null } })
      .filter((x) => x.match)
      .map((x) => [x.match?.digest, x.match?.status, x.match?.justification]);
    assert.deepEqual(statuses.sort(), [
      [A, 'affected', null],
      [B, 'not_affected', 'vulnerable_code_not_in_execute_path'],
    ]);
  });

  it('vigil gate fails for the affected image and passes for the not_affected one', async () => {
    const failA = await spawnVigil(['gate', '--image', `registry.example/shop@${A}`, ...admin()]);
    assert.equal(failA.code, 1, failA.out + failA.err);
    assert.match(failA.err, /FAIL: GHSA-35jh-r3h4-6jhm \(high\) in pkg:npm\/lodash@4\.17\.20: affected; loaded and running/);
    assert.match(failA.err, /fixed in 4\.17\.21/);
    const passB = await spawnVigil(['gate', '--image', `registry.example/shop@${B}`, ...admin()]);
    assert.equal(passB.code, 0, passB.out + passB.err);
    assert.match(passB.out, /ok: GHSA-35jh-r3h4-6jhm .*not_affected \(vulnerable_code_not_in_execute_path\)/);
    assert.match(passB.out, /gate passed/);
    // an exception that has not expired lets A through; an expired one does not
    fs.writeFileSync(path.join(dir, 'gate.yaml'), `exceptions:\n  - { advisory: GHSA-35jh-r3h4-6jhm, expires: "2999-01-01", reason: upgrade scheduled }\n`);
    assert.equal((await spawnVigil(['gate', '--image', `registry.example/shop@${A}`, '--policy', path.join(dir, 'gate.yaml'), ...admin()])).code, 0);
    fs.writeFileSync(path.join(dir, 'gate.yaml'), `exceptions:\n  - { advisory: GHSA-35jh-r3h4-6jhm, expires: "2020-01-01", reason: old }\n`);
    const expired = await spawnVigil(['gate', '--image', `registry.example/shop@${A}`, '--policy', path.join(dir, 'gate.yaml'), ...admin()]);
    assert.equal(expired.code, 1);
    assert.match(expired.err, /the exception expired 2020-01-01/);
    // only admin SVIDs: an agent's SVID is refused (exit 4), and so is its quarantine attempt
    const asAgent = ['--controlplane', `127.0.0.1:${cp.port}`, '--certs', certs, '--cert', path.join(certs, 'agent.pem'), '--key', path.join(certs, 'agent.key')];
    const refused = await spawnVigil(['gate', '--image', `registry.example/shop@${A}`, ...asAgent]);
    assert.equal(refused.code, 4, refused.err);
    assert.equal((await spawnVigil(['quarantine', '--image', `registry.example/shop@${A}`, '--reason', 'x', ...asAgent])).code, 4);
    // an image the control plane knows nothing of fails closed
    const unknown = await spawnVigil(['gate', '--image', `registry.example/other@sha256:${'c3'.repeat(32)}`, ...admin()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /unknown to the control plane/);
  });

  it('quarantine denies the workload\'s egress in the kernel (EPERM) except to the allowed destination; lifting restores it', async () => {
    const before = await sb.run(shop, actions, [`connect4:127.0.0.1:${localPort}`]);
    assert.doesNotMatch(before.stderr, /Operation not permitted/, 'egress works before the quarantine');
    const q = await spawnVigil(['quarantine', '--image', `registry.example/shop@${A}`, '--allow', `${netns.peerAddr}/32`, '--reason', 'GHSA-35jh-r3h4-6jhm loaded', ...admin()]);
    assert.equal(q.code, 0, q.err);
    assert.match(q.out, new RegExp(`quarantined: policy v2; workloads ${WEB.replace(/[/.]/g, '\\$&')}`));
    await until('the agent applied the quarantine', () => agent.policyVersion === 2);
    const denied = await sb.run(shop, actions, [`connect4:127.0.0.1:${localPort}`]);
    assert.match(denied.stderr, /connect.*Operation not permitted/);
    const allowed = await sb.run(shop, actions, [`connect4:${netns.peerAddr}:${netns.port}`]);
    assert.doesNotMatch(allowed.stderr, /Operation not permitted/, 'the allowed destination is reachable');
    // the rules that were in force stay in force
    assert.deepEqual(agent.pipeline.getRules().rules.map((r) => r.name).sort(), ['shell-in-shop', `vigil-quarantine-${A.slice(7, 23)}`]);
    await until('the denial is stored', () => cp.store.queryAlerts({ rule: `vigil-quarantine-${A.slice(7, 23)}` }).length > 0);
    assert.equal(JSON.parse(cp.store.queryAlerts({ rule: `vigil-quarantine-${A.slice(7, 23)}` })[0].json).outcome, 'denied');
    assert.equal(cp.store.queryAlerts({ rule: 'vigil:quarantine' }).length, 1, 'the quarantine itself is an alert');
    // the agent's own webhook got the denial, signed
    await until('the webhook got the denial', () => hooked.some((h) => JSON.parse(h.body).rule === `vigil-quarantine-${A.slice(7, 23)}`));
    for (const h of hooked) assert.equal(h.signature, `sha256=${createHmac('sha256', 'hook-s3cret').update(h.body).digest('hex')}`);
    await cp.cp.vdp.engine.idle();
    const issue = [...gh.issues.values()][0];
    assert.match(issue.comments.at(-1) ?? '', /quarantined by spiffe:\/\/vdp\.vigil\/vigil\/admin\/test \(policy v2\)/);
    // a new rules push keeps the quarantine
    const pushed = await spawnVigil(['policy', 'push', path.join(dir, 'base.yaml'), ...admin()]);
    assert.equal(pushed.code, 0, pushed.err);
    await until('the agent applied v3', () => agent.policyVersion === 3);
    assert.match((await sb.run(shop, actions, [`connect4:127.0.0.1:${localPort}`])).stderr, /Operation not permitted/);

    const lift = await spawnVigil(['quarantine', '--image', `registry.example/shop@${A}`, '--lift', '--reason', 'upgraded to 4.17.21', ...admin()]);
    assert.equal(lift.code, 0, lift.err);
    await until('the agent applied the lifting', () => agent.policyVersion === 4);
    const after = await sb.run(shop, actions, [`connect4:127.0.0.1:${localPort}`]);
    assert.doesNotMatch(after.stderr, /Operation not permitted/, 'egress works again');
    const kinds = [...cp.store.auditEntries()].filter((e) => e.kind === 'quarantine').map((e) => (e.data as { action: string }).action);
    assert.deepEqual(kinds, ['quarantine', 'lift']);
    assert.equal(cp.store.verifyAudit().intact, true);
    await cp.cp.vdp.engine.idle();
    assert.match(issue.comments.at(-1) ?? '', /lifted by .* \(policy v4\)\. Reason: upgraded to 4\.17\.21/);
  });

  it('the GitHub token never reached a log line', () => {
    assert.ok(logs.length > 0);
    assert.ok(!logs.join('\n').includes(TOKEN));
  });
});
