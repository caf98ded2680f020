// The vulnerability-disclosure process over time, with the real store and
// a local fake of GitHub (test/helpers/fake-github.ts): evidence changes as
// rescans see it (loaded -> ticket; never loaded long enough -> comment and
// close; loaded again -> reopen; upgraded away -> resolved), the gate
// policy and its hostile inputs, the quarantine rules file (checked by the
// agent's own rules loader), and the configuration's refusals.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validatePolicyFiles } from '../../../agent/rules/policy';
import { Store } from '../../../controlplane/store';
import { GitHubSink } from '../../../controlplane/tickets/github';
import { parseVdpConfig } from '../../../controlplane/vdp/config';
import { evaluateGate, parseGatePolicy, DEFAULT_GATE } from '../../../controlplane/vdp/gate';
import type { ComponentReach, ImageInventory, InventoryComponent } from '../../../controlplane/vdp/inventory';
import type { Match } from '../../../controlplane/vdp/match';
import { checkAllow, quarantineRules } from '../../../controlplane/vdp/quarantine';
import { Vdp } from '../../../controlplane/vdp/vdp';
import { OSV_LODASH } from '../../helpers/advisory-fixtures';
import { FakeGitHub } from '../../helpers/fake-github';
import { makeTestPki, type TestPki } from '../../helpers/https-ca';

const D = `sha256:${'e'.repeat(64)}`;
const SEC = 1_000_000_000n;

/** An inventory whose one image's component changes as the test says (the narrow interface matching reads). */
class Fleet implements ImageInventory {
  version = '4.17.20';
  reach: ComponentReach = { state: 'unknown', reason: 'not watched yet' };
  images() {
    return [{ digest: D, name: 'registry.example/shop' }];
  }
  components(): InventoryComponent[] {
    return [{ purl: `pkg:npm/lodash@${this.version}`, purl_key: 'npm//lodash', name: 'lodash', version: this.version, reach: this.reach }];
  }
  runners() {
    return { workloads: ['spiffe://x.example/ns/shop/sa/web'], nodes: ['n1'] };
  }
}

describe('the vulnerability-disclosure process (controlplane/vdp/vdp.ts)', function () {
  this.timeout(20_000);
  let pki: TestPki;
  before(() => {
    pki = makeTestPki();
  });
  after(() => pki.remove());

  it('tickets follow the evidence across rescans: loaded -> open; never loaded for the window -> closed; loaded again -> reopened; upgraded -> resolved', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-vdp-'));
    const gh = new FakeGitHub(pki, 'acme/security', 'tok');
    await gh.start();
    const store = new Store(path.join(dir, 'vigil.db'));
    const fleet = new Fleet();
    const vdp = new Vdp({
      store,
      inventory: fleet,
      log: () => undefined,
      config: {
        minWindowMs: 5000,
        rescanMs: 60_000,
        advisoriesDir: null,
        groupBy: ['rule'],
        alertBatchMs: 60_000,
        outputs: [],
        sinks: [
          {
            sink: new GitHubSink({ name: 'github', url: gh.url, repo: 'acme/security', token: () => 'tok', caFile: pki.caFile, labels: [] }),
            policy: { kinds: ['vulnerability'], minPriority: 'debug', statuses: ['affected', 'under_investigation'], closeOnResolve: true },
          },
        ],
      },
    });
    try {
      vdp.start();
      const r = vdp.importFiles([{ name: 'osv.json', text: JSON.stringify(OSV_LODASH) }], 'spiffe://x.example/vigil/admin/t');
      assert.deepEqual([r.added, r.matches, r.errors], [1, 1, []]);
      await vdp.engine.idle();
      assert.equal(gh.issues.size, 1, 'under investigation opens a ticket');
      const issue = [...gh.issues.values()][0];
      assert.match(issue.body, /under_investigation[\s\S]*no runtime evidence: not watched yet/);
      // loaded
      fleet.reach = { state: 'loaded', first_ns: String(1_700_000_000n * SEC), processes: 3, containers: 2, nodes: 1, files: ['/app/node_modules/lodash/lodash.js'] };
      vdp.rescan();
      await vdp.engine.idle();
      assert.match(issue.comments.at(-1) ?? '', /new evidence[\s\S]*loaded and running: \/app\/node_modules\/lodash\/lodash\.js loaded by 3 processes in 2 containers/);
      assert.equal(issue.state, 'open');
      // watched 3 s without a load (shorter than the window): still under investigation, a comment
      const t0 = 1_700_000_000n * SEC;
      fleet.reach = { state: 'not_loaded', since_ns: String(t0), until_ns: String(t0 + 3n * SEC), gaps: 0, nodes: ['n1'], containers: 1, files: 2 };
      vdp.rescan();
      await vdp.engine.idle();
      assert.equal(issue.state, 'open');
      // 8 s without a load: not_affected with evidence -> comment and close
      fleet.reach = { ...fleet.reach, until_ns: String(t0 + 8n * SEC) };
      vdp.rescan();
      await vdp.engine.idle();
      assert.equal(issue.state, 'closed');
      assert.match(issue.comments.at(-1) ?? '', /not affected any more[\s\S]*not_affected \(vulnerable_code_not_in_execute_path\)[\s\S]*never loaded/);
      // loaded again: reopened
      fleet.reach = { state: 'loaded', first_ns: String(t0 + 9n * SEC), processes: 1, containers: 1, nodes: 1, files: ['/app/node_modules/lodash/lodash.js'] };
      vdp.rescan();
      await vdp.engine.idle();
      assert.equal(issue.state, 'open');
      assert.match(issue.comments.at(-1) ?? '', /recurred, reopened/);
      // upgraded to the fixed version: no match any more -> resolved and closed
      fleet.version = '4.17.21';
      assert.equal(vdp.rescan(), 0);
      await vdp.engine.idle();
      assert.equal(issue.state, 'closed');
      assert.match(issue.comments.at(-1) ?? '', /upgraded or removed/);
      assert.equal(gh.issues.size, 1, 'one ticket for the whole story');
      // the import is in the audit log
      assert.ok([...store.auditEntries()].some((e) => e.kind === 'advisory'));
      assert.equal(store.verifyAudit().intact, true);
    } finally {
      await vdp.close();
      await gh.stop();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a watched directory imports what is dropped in it; runtime alerts become one ticket per rule x workload x executable, new ones a comment', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-vdp-'));
    const gh = new FakeGitHub(pki, 'acme/security', 'tok');
    await gh.start();
    const store = new Store(path.join(dir, 'vigil.db'));
    const watched = path.join(dir, 'advisories');
    const vdp = new Vdp({
      store,
      inventory: new Fleet(),
      log: () => undefined,
      config: {
        minWindowMs: 5000,
        rescanMs: 1000,
        advisoriesDir: watched,
        groupBy: ['rule', 'workload', 'executable'],
        alertBatchMs: 200,
        outputs: [],
        sinks: [
          {
            sink: new GitHubSink({ name: 'github', url: gh.url, repo: 'acme/security', token: () => 'tok', caFile: pki.caFile, labels: [] }),
            policy: { kinds: ['alert'], minPriority: 'warning', statuses: ['affected'], closeOnResolve: true },
          },
        ],
      },
    });
    const alerts = (from: number, list: [string, string, string][]): void =>
      void store.insertAlerts(
        list.map(([rule, wl, exe], i) => ({
          node: 'n1',
          bootId: 'b',
          sequence: from + i,
          timeNs: String(from + i),
          rule,
          priority: 'critical',
          action: 'alert',
          outcome: 'alerted',
          spiffeId: wl,
          json: JSON.stringify({ time: `2026-12-02T10:00:0${i}Z`, rule, priority: rule === 'noise' ? 'notice' : 'critical', output: `${rule} by ${exe}`, node: 'n1', workload: { spiffe_id: wl }, process: { exe } }),
        })),
      );
    try {
      vdp.start();
      fs.writeFileSync(path.join(watched, 'lodash.json'), JSON.stringify(OSV_LODASH));
      const deadline = Date.now() + 8000;
      while (vdp.db.countAdvisories() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(vdp.db.countAdvisories(), 1, 'imported from the watched directory');
      const w = 'spiffe://x.example/ns/pay/sa/api';
      alerts(1, [
        ['shell', w, '/bin/sh'],
        ['shell', w, '/bin/sh'],
        ['shell', w, '/bin/bash'],
        ['noise', w, '/bin/true'],
      ]);
      while (gh.issues.size < 2 && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 50));
      await vdp.engine.idle();
      assert.deepEqual([...gh.issues.values()].map((i) => i.title).sort(), [`shell: ${w} (/bin/bash)`, `shell: ${w} (/bin/sh)`], 'grouped; below min_priority left out');
      const sh = [...gh.issues.values()].find((i) => i.title.endsWith('(/bin/sh)'));
      assert.match(sh?.body ?? '', /2 alerts from/);
      alerts(5, [['shell', w, '/bin/sh']]);
      while ((sh?.comments.length ?? 0) === 0 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 50));
      assert.equal(gh.issues.size, 2, 'a repeat is never a new ticket');
      assert.match(sh?.comments[0] ?? '', /1 alert from/);
    } finally {
      await vdp.close();
      await gh.stop();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the gate policy', () => {
    const m = (o: Partial<Match>): Match => ({
      advisory: 'GHSA-1',
      severity: 'high',
      digest: D,
      image: 'shop',
      purl: 'pkg:npm/x@1',
      version: '1',
      status: 'affected',
      justification: null,
      reachability: 'loaded',
      why: '',
      evidence: 'loaded and running',
      fixed: ['2'],
      reach: { state: 'unknown', reason: '' },
      ...o,
    });
    const img = { digest: D, name: 'shop', known: true };

    it('thresholds, statuses and exceptions by image', () => {
      assert.equal(evaluateGate(img, [m({})], DEFAULT_GATE).pass, false);
      assert.equal(evaluateGate(img, [m({ severity: 'medium' })], DEFAULT_GATE).pass, true);
      assert.equal(evaluateGate(img, [m({ status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' })], DEFAULT_GATE).pass, true);
      const p = parseGatePolicy('g.yaml', 'min_severity: medium\nfail_on: [affected]\nexceptions:\n  - { advisory: GHSA-1, image: other, expires: 2999-01-01, reason: r }\n');
      assert.equal(evaluateGate(img, [m({ status: 'under_investigation' })], p).pass, true);
      assert.equal(evaluateGate(img, [m({ severity: 'medium' })], p).pass, false, 'the exception names another image');
      const today = parseGatePolicy('g.yaml', `exceptions:\n  - { advisory: GHSA-1, expires: "2026-06-01", reason: r }\n`);
      assert.equal(evaluateGate(img, [m({})], today, Date.parse('2026-06-01T23:00:00Z')).pass, true, 'an exception lasts through the day it names');
      assert.equal(evaluateGate(img, [m({})], today, Date.parse('2026-06-02T00:00:01Z')).pass, false);
    });

    it('refuses policies that would silently weaken it', () => {
      assert.throws(() => parseGatePolicy('g.yaml', 'exceptions:\n  - { advisory: GHSA-1, reason: forever }\n'), /exceptions\[0\]\.expires: expected a date/);
      assert.throws(() => parseGatePolicy('g.yaml', 'exceptions:\n  - { advisory: GHSA-1, expires: 2999-01-01 }\n'), /exceptions\[0\]\.reason/);
      assert.throws(() => parseGatePolicy('g.yaml', 'min_severity: urgent\n'), /min_severity: expected one of/);
      assert.throws(() => parseGatePolicy('g.yaml', 'fail_on: [not_affected]\n'), /fail_on/);
      assert.throws(() => parseGatePolicy('g.yaml', 'min_sevrity: low\n'), /min_sevrity: unknown key/);
      assert.throws(() => parseGatePolicy('g.yaml', 'a: [\n'), /malformed YAML/);
    });
  });

  describe('quarantine rules', () => {
    it('the generated file is valid rules for the agent: connect deny of the workloads except the allowed destinations', () => {
      const text = quarantineRules([
        { digest: D, image: 'shop', workloads: ['spiffe://x.example/ns/shop/sa/web'], allow: ['10.0.0.10/32', 'spiffe://x.example/ns/kube-system/sa/dns'], reason: 'GHSA-1 "loaded"\n\u001b[31m' },
        { digest: `sha256:${'f'.repeat(64)}`, image: '', workloads: ['spiffe://x.example/ns/a/sa/b'], allow: [], reason: 'r' },
      ]);
      assert.ok(text);
      const rs = validatePolicyFiles([{ name: 'vigil-quarantine.yaml', text }]);
      assert.deepEqual(
        rs.rules.map((r) => [r.name, r.enforcement, r.spec.match.destination]),
        [
          ['vigil-quarantine-eeeeeeeeeeeeeeee', 'kernel-deny', { not_cidr: ['10.0.0.10/32'], not_workload: ['spiffe://x.example/ns/kube-system/sa/dns'] }],
          ['vigil-quarantine-ffffffffffffffff', 'kernel-deny', { cidr: ['0.0.0.0/0', '::/0'] }],
        ],
      );
      assert.doesNotMatch(text, /\u001b/, 'no control characters from the reason');
      assert.equal(quarantineRules([]), null);
    });

    it('the allow list takes IPs, CIDRs and SPIFFE IDs only', () => {
      assert.deepEqual(checkAllow(['10.0.0.1', '10.0.0.0/8', '::1', 'spiffe://x.example/ns/a/sa/b']), []);
      assert.equal(checkAllow(['example.com', '10.0.0.0/33', 'spiffe://X_bad/ns', '0.0.0.0/0; rm -rf /']).length, 4);
    });
  });

  describe('the configuration', () => {
    it('refuses inline credentials, unknown keys and bad values, naming the path', () => {
      const bad = (text: string, re: RegExp): void => assert.throws(() => parseVdpConfig('vdp.yaml', text), re);
      bad('tickets:\n  - { name: gh, type: github, repo: a/b, token: ghp_inline }\n', /tickets\[0\]: unknown key "token"/);
      bad('tickets:\n  - { name: gh, type: github, repo: a/b }\n', /tickets\[0\]: give token_file or token_env/);
      bad('tickets:\n  - { name: gh, type: github, repo: a/b, token_env: VIGIL_TEST_UNSET_VAR }\n', /VIGIL_TEST_UNSET_VAR is not set/);
      bad('tickets:\n  - { name: j, type: jira, url: https://j, project: SEC, api: 4, token_env: HOME }\n', /tickets\[0\]\.api: expected 2/);
      bad('min_window: forever\n', /min_window: expected a duration/);
      bad('alerts: { group_by: [pod] }\n', /alerts\.group_by\[0\]: expected one of rule, workload, executable, node, image/);
      bad('outputs:\n  - { type: webhook, url: ftp://x }\n', /outputs: outputs\[0\]\.url: expected an http\(s\) URL/);
      bad('tickets:\n  - { name: gh, type: github, repo: "a/b; x", token_env: HOME }\n', /repo: expected OWNER\/REPO/);
      const ok = parseVdpConfig('vdp.yaml', 'min_window: 1s\ntickets:\n  - { name: gh, type: github, repo: acme/security, token_env: HOME }\n');
      assert.equal(ok.minWindowMs, 1000);
      assert.equal(ok.sinks[0].sink.name, 'gh');
      void ok.sinks[0].sink.dispose();
    });
  });
});
