// `vigil up`, then the admin commands on the same host with no flags: they
// find the local control plane and its certificates under vigil up's data
// directory (/var/lib/vigil). The test's /var/lib is a tmpfs in a private
// mount namespace, so that it neither sees nor touches the host's.
// vigil up --vdp-config turns tickets on: an internal report entered with
// vigil advisories add against an imported SBOM opens an issue at a local
// fake of GitHub (test/helpers/fake-github.ts).
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../common/repo';
import { FakeGitHub } from '../helpers/fake-github';
import { makeTestPki, type TestPki } from '../helpers/https-ca';
import { requireKernelTestPrivileges } from '../helpers/kernel';
import { until } from '../helpers/wait';

describe('vigil up, then alerts, agents, policy push and audit verify with no flags', function () {
  this.timeout(120000);
  const vigil = path.join(repoRoot(), 'bin', 'vigil');
  let up: ChildProcess | null = null;
  let upErr = '';
  let tmp = '';
  let pki: TestPki | null = null;
  let gh: FakeGitHub | null = null;
  const TOKEN = 'ghp_upSECRETtoken';

  /** `vigil ARGS...` inside vigil up's mount namespace (where its /var/lib/vigil is). */
  const admin = (...args: string[]): { code: number | null; out: string; err: string } => {
    const r = spawnSync('nsenter', [`--mount=/proc/${up?.pid}/ns/mnt`, '--', process.execPath, vigil, ...args], { encoding: 'utf8', timeout: 30000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  before(async () => {
    requireKernelTestPrivileges();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-up-'));
    pki = makeTestPki();
    gh = new FakeGitHub(pki, 'acme/security', TOKEN);
    await gh.start();
    fs.writeFileSync(path.join(tmp, 'gh-token'), `${TOKEN}\n`);
    fs.writeFileSync(
      path.join(tmp, 'vdp.yaml'),
      `tickets:\n  - { name: github, type: github, url: "${gh.url}", repo: acme/security, token_file: ${path.join(tmp, 'gh-token')}, ca_file: ${pki.caFile}, min_priority: debug }\n`,
    );
    // ports 0: a vigil up of the operator's own may hold the defaults; the admin commands learn the port from local.json
    up = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs vigil-test /var/lib && exec "$0" "$@"', process.execPath, vigil, 'up',
        '--listen', '127.0.0.1:0', '--agent-metrics', '127.0.0.1:0', '--controlplane-metrics', '127.0.0.1:0', '--duration', '110',
        '--vdp-config', path.join(tmp, 'vdp.yaml')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    up.stderr?.on('data', (d: Buffer) => (upErr += d.toString()));
    await until('vigil up is running', () => /vigil up: running/.test(upErr) || up?.exitCode !== null, 60000);
    assert.match(upErr, /vigil up: running/, upErr);
  });

  after(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGINT');
      const exited = await Promise.race([new Promise((r) => up?.once('exit', r)), new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
      if (exited === 'timeout') up.kill('SIGKILL');
    }
    if (gh) await gh.stop();
    if (pki) pki.remove();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('finds the local control plane: the alert of a credential read, as JSON lines when piped and one line in text', async () => {
    spawnSync('cat', ['/etc/shadow'], { stdio: 'ignore' });
    let r = admin('alerts');
    await until('the alert is stored', () => {
      r = admin('alerts');
      return r.code === 0 && r.out.split('\n').some((l) => l.includes('"rule":"read-sensitive-file"') && l.includes('/etc/shadow'));
    }, 20000);
    const line = r.out.split('\n').find((l) => l.includes('"rule":"read-sensitive-file"')) as string;
    assert.equal((JSON.parse(line) as { node: string }).node, os.hostname());
    const text = admin('alerts', '--output', 'text', '--rule', 'read-sensitive-file');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z WARNING +${os.hostname()} read-sensitive-file: open of /etc/shadow`, 'm'));
  });

  it('agents lists this node, connected', () => {
    const r = admin('agents');
    assert.equal(r.code, 0, r.err);
    const a = JSON.parse(r.out.trim().split('\n')[0]) as { node: string; connected: boolean; policy_version: number };
    assert.equal(a.node, os.hostname());
    assert.equal(a.connected, true);
  });

  it('policy push signs the next version and the agent applies it; audit verify checks the local store', async () => {
    const rules = path.join(tmp, 'rules.yaml');
    fs.writeFileSync(rules, 'rules:\n  - name: no-nc\n    on: exec\n    match: { binary: { in: [/usr/bin/nc] } }\n    action: alert\n');
    const r = admin('policy', 'push', rules);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'policy v2 signed and sent to 1 connected agents\n');
    await until('the agent applies v2', () => /signed policy v2 in force: 1 rules/.test(upErr), 10000);
    // the current signed checkpoint, kept outside the store, then the store verified against it (signatures with vigil up's log.pub)
    const c = admin('audit', 'checkpoint');
    assert.equal(c.code, 0, c.err);
    assert.match(c.out, /^vigil\.local\/vigil\/audit\n\d+\n[A-Za-z0-9+/]{43}=\n\n— vigil\.local\/vigil\/audit \S+\n$/);
    const cpFile = path.join(tmp, 'checkpoint.txt');
    fs.writeFileSync(cpFile, c.out);
    const v = admin('audit', 'verify', '--checkpoint', cpFile);
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /^audit log intact: \d+ entries, root [A-Za-z0-9+/]{43}=\n/);
    assert.match(v.out, /rows checked against their entries: [1-9]\d* alerts/, 'the credential read alert is among the rows checked');
    assert.match(v.out, /2 policies/);
    assert.match(v.out, /the log extends it \(signature verified\)/);
  });

  it('--vdp-config turns tickets on: an internal report against an imported SBOM opens an issue at the GitHub sink', async () => {
    const digest = `sha256:${'d4'.repeat(32)}`;
    const sbom = path.join(tmp, 'sbom.json');
    fs.writeFileSync(sbom, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1, components: [{ type: 'library', name: 'acme-auth', version: '2.1.0', purl: 'pkg:npm/acme-auth@2.1.0' }] }));
    const imp = admin('sbom', 'import', sbom, '--image', `registry.example/auth@${digest}`);
    assert.equal(imp.code, 0, imp.err);
    const add = admin('advisories', 'add', '--id', 'ACME-2026-0007', '--purl', 'pkg:npm/acme-auth', '--affected', '>= 2.0.0, < 2.4.1', '--severity', 'critical', '--summary', 'token check bypass');
    assert.equal(add.code, 0, add.err);
    await until('the ticket is at the fake GitHub', () => (gh?.issues.size ?? 0) > 0, 20000);
    const issue = [...(gh?.issues.values() ?? [])][0];
    assert.match(issue.title, /^ACME-2026-0007 in registry\.example\/auth \(under investigation\)$/);
    assert.match(issue.body, new RegExp(`pkg:npm/acme-auth@2\\.1\\.0: under_investigation`));
    assert.ok(!upErr.includes(TOKEN), 'the token never reaches the log');
  });
});
