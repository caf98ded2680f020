// The ticket lifecycle against local HTTPS fakes of GitHub and Jira
// (test/helpers/fake-github.ts, fake-jira.ts: fakes of the documented
// protocols) and the real SQLite store: create, dedupe across repeats,
// comment on new evidence, close on not_affected, reopen on recurrence,
// won't-fix respected, a create whose answer was lost, rate limits, a sink
// down then up with nothing lost, and the token never in a log line.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Store } from '../../../controlplane/store';
import { TicketEngine, type SinkPolicy } from '../../../controlplane/tickets/engine';
import type { Finding } from '../../../controlplane/tickets/findings';
import { GitHubSink } from '../../../controlplane/tickets/github';
import { JiraSink } from '../../../controlplane/tickets/jira';
import type { TicketSink } from '../../../controlplane/tickets/sink';
import { VdpStore } from '../../../controlplane/vdp/vdp-store';
import { FakeGitHub } from '../../helpers/fake-github';
import { FakeJira } from '../../helpers/fake-jira';
import { makeTestPki, type TestPki } from '../../helpers/https-ca';

const GH_TOKEN = 'ghp_SECRETtoken1234567890';
const JIRA_TOKEN = 'ATATT-secret-jira-token-987';

const policy = (o: Partial<SinkPolicy> = {}): SinkPolicy => ({
  kinds: ['vulnerability', 'alert'],
  minPriority: 'debug',
  statuses: ['affected', 'under_investigation'],
  closeOnResolve: true,
  ...o,
});

const finding = (evidence: string, o: Partial<Finding> = {}): Finding => ({
  kind: 'vulnerability',
  fingerprint: 'vuln:GHSA-35jh-r3h4-6jhm:sha256:' + 'a'.repeat(64),
  title: 'GHSA-35jh-r3h4-6jhm in registry.example/shop (affected, loaded)',
  body: 'Vigil matched advisory GHSA-35jh-r3h4-6jhm to image registry.example/shop.',
  evidence,
  priority: 'error',
  labels: ['vigil', 'vulnerability'],
  severity: 'high',
  status: 'affected',
  ...o,
});

describe('tickets: lifecycle against fakes of GitHub and Jira (controlplane/tickets/engine.ts)', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let dir: string;
  let store: Store;
  let vdp: VdpStore;
  let gh: FakeGitHub;
  let jira: FakeJira;
  let logs: string[];
  let engines: TicketEngine[];

  before(() => {
    pki = makeTestPki();
  });
  after(() => pki.remove());

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tickets-'));
    store = new Store(path.join(dir, 'vigil.db'));
    vdp = new VdpStore(store.db, (fn) => store.audited(fn));
    gh = new FakeGitHub(pki, 'acme/security', GH_TOKEN);
    jira = new FakeJira(pki, 'SEC', `Basic ${Buffer.from(`bot@acme.example:${JIRA_TOKEN}`).toString('base64')}`);
    await gh.start();
    await jira.start();
    logs = [];
    engines = [];
  });

  afterEach(async () => {
    for (const e of engines) await e.close();
    await gh.stop();
    await jira.stop();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const githubSink = (): TicketSink => new GitHubSink({ name: 'github', url: gh.url, repo: 'acme/security', token: () => GH_TOKEN, caFile: pki.caFile, labels: ['security'], timeoutMs: 3000 });
  const jiraSink = (api: 2 | 3): TicketSink =>
    new JiraSink({
      name: 'jira',
      url: jira.url,
      api,
      project: 'SEC',
      issueType: 'Bug',
      user: 'bot@acme.example',
      token: () => JIRA_TOKEN,
      caFile: pki.caFile,
      labels: ['vigil'],
      priorities: { critical: 'Highest', error: 'High', warning: 'Medium' },
      wontFix: ["Won't Fix", "Won't Do"],
      timeoutMs: 3000,
    });

  const engine = (sinks: { sink: TicketSink; policy: SinkPolicy }[], s: Store = store): TicketEngine => {
    const e = new TicketEngine({ store: s === store ? vdp : new VdpStore(s.db, (fn) => s.audited(fn)), sinks, log: (l) => logs.push(l), backoffMs: 50, maxBackoffMs: 300 });
    engines.push(e);
    e.start();
    return e;
  };

  it('GitHub: one issue per fingerprint; repeats with the same evidence change nothing; new evidence is a comment', async () => {
    const e = engine([{ sink: githubSink(), policy: policy() }]);
    e.submit(finding('lodash loaded by 3 processes'));
    e.submit(finding('lodash loaded by 3 processes'));
    await e.idle();
    assert.equal(gh.issues.size, 1);
    const issue = [...gh.issues.values()][0];
    assert.match(issue.body, /vigil-fingerprint: vuln:GHSA-35jh-r3h4-6jhm:sha256:a{64}/);
    assert.ok(issue.labels.includes('security') && issue.labels.includes('priority:error') && issue.labels.some((l) => /^vigil-fp-[0-9a-f]{16}$/.test(l)), issue.labels.join(','));
    assert.equal(issue.comments.length, 0);
    e.submit(finding('lodash loaded by 7 processes on 2 nodes'));
    await e.idle();
    assert.equal(gh.issues.size, 1);
    assert.equal(issue.comments.length, 1);
    assert.match(issue.comments[0], /7 processes on 2 nodes/);
    assert.equal(vdp.tickets('github')[0].remote_key, String(issue.number));
  });

  it('GitHub: not_affected closes it with a comment; recurrence reopens; closed as not planned (won\'t fix) stays closed', async () => {
    const e = engine([{ sink: githubSink(), policy: policy() }]);
    const f = finding('loaded');
    e.submit(f);
    await e.idle();
    const issue = [...gh.issues.values()][0];
    e.resolve(f.fingerprint, 'present but never loaded for 8.0 days (vulnerable_code_not_in_execute_path)');
    await e.idle();
    assert.equal(issue.state, 'closed');
    assert.equal(issue.state_reason, 'completed');
    assert.match(issue.comments.at(-1) ?? '', /never loaded for 8\.0 days/);
    e.submit(finding('loaded again at 12:00'));
    await e.idle();
    assert.equal(issue.state, 'open', 'recurrence reopens');
    assert.match(issue.comments.at(-1) ?? '', /recurred, reopened[\s\S]*loaded again at 12:00/);
    gh.closeByHand(issue.number, 'not_planned');
    const before = issue.comments.length;
    e.submit(finding('loaded a third time'));
    await e.idle();
    assert.equal(issue.state, 'closed', "won't fix is respected");
    assert.equal(issue.comments.length, before);
    assert.equal(vdp.tickets('github')[0].state, 'wont_fix');
    assert.equal(gh.issues.size, 1);
  });

  it('GitHub: a create whose answer was lost is found by its label and marker, not created twice (pagination followed)', async () => {
    // other Vigil tickets with the same label prefix would be on earlier pages: make the label's list span pages
    gh.perPageMax = 1;
    const { fingerprintLabel } = await import('../../../controlplane/tickets/sink');
    const label = fingerprintLabel(finding('').fingerprint);
    // two issues carrying the label without the marker (a person copied the label): the right one is on page 3
    for (const n of [101, 102]) gh.issues.set(n, { number: n, title: `copy ${n}`, body: 'no marker', labels: [label], state: 'open', state_reason: null, comments: [] });
    const e = engine([{ sink: githubSink(), policy: policy() }]);
    gh.loseNextCreateAnswer = true;
    e.submit(finding('loaded'));
    await e.idle();
    assert.equal(gh.issues.size, 3, [...gh.issues.values()].map((i) => i.title).join('\n'));
    assert.ok(gh.requests.some((r) => /[?&]page=3/.test(r.path)), 'followed the Link header to page 3');
    assert.equal(vdp.tickets('github')[0].remote_key, '1');
    assert.equal(vdp.tickets('github').length, 1);
    assert.ok(logs.some((l) => /kept in the spool, retrying/.test(l)));
    assert.ok(gh.issues.get(1)?.comments.length === 0);
  });

  it('GitHub: primary and secondary rate limits are waited out, not lost', async () => {
    const e = engine([{ sink: githubSink(), policy: policy() }]);
    gh.primaryLimited = 1;
    gh.secondaryLimited = 1;
    const t0 = Date.now();
    e.submit(finding('loaded'));
    await e.idle();
    assert.equal(gh.issues.size, 1);
    assert.ok(Date.now() - t0 >= 900, 'retry-after / x-ratelimit-reset honoured');
    assert.ok(logs.some((l) => /rate limited \(429\)/.test(l)) && logs.some((l) => /rate limited \(403\)/.test(l)), logs.join('\n'));
  });

  it('a sink that is down keeps every ticket in the spool (across a control-plane restart) and delivers them when it is back', async () => {
    gh.down = true;
    const e1 = engine([{ sink: githubSink(), policy: policy() }]);
    for (let i = 0; i < 5; i++) e1.submit(finding(`evidence ${i}`, { fingerprint: `vuln:ADV-${i}:sha256:${'b'.repeat(64)}`, title: `ADV-${i}` }));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(gh.issues.size, 0);
    assert.equal(vdp.spoolDepth('github'), 5);
    // the control plane restarts: a new store handle on the same file, a new engine
    await e1.close();
    engines.splice(engines.indexOf(e1), 1);
    store.close();
    store = new Store(path.join(dir, 'vigil.db'));
    vdp = new VdpStore(store.db, (fn) => store.audited(fn));
    gh.down = false;
    const e2 = engine([{ sink: githubSink(), policy: policy() }]);
    await e2.idle();
    assert.deepEqual([...gh.issues.values()].map((i) => i.title).sort(), ['ADV-0', 'ADV-1', 'ADV-2', 'ADV-3', 'ADV-4']);
    assert.equal(vdp.spoolDepth(), 0);
  });

  it('a sink that is down does not hold up another sink', async () => {
    gh.down = true;
    const e = engine([
      { sink: githubSink(), policy: policy() },
      { sink: jiraSink(3), policy: policy() },
    ]);
    e.submit(finding('loaded'));
    const deadline = Date.now() + 5000;
    while (jira.issues.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(jira.issues.size, 1);
    assert.equal(gh.issues.size, 0);
    gh.down = false;
    await e.idle();
    assert.equal(gh.issues.size, 1);
  });

  for (const api of [2, 3] as const) {
    it(`Jira REST v${api}: create (priority mapped), JQL dedupe, comment, close by transition, reopen, won't fix respected`, async () => {
      jira.pageSize = 1;
      const e = engine([{ sink: jiraSink(api), policy: policy() }]);
      e.submit(finding('loaded'));
      e.submit(finding('loaded'));
      await e.idle();
      assert.equal(jira.issues.size, 1);
      const issue = [...jira.issues.values()][0];
      assert.equal(issue.priority, 'High', 'error -> High');
      assert.ok(issue.labels.some((l) => /^vigil-fp-/.test(l)));
      if (api === 3) assert.equal((issue.description as { type: string }).type, 'doc', 'v3 descriptions are Atlassian Documents');
      else assert.equal(typeof issue.description, 'string');
      e.submit(finding('loaded by 9 processes'));
      await e.idle();
      assert.equal(issue.comments.length, 1);
      e.resolve(finding('').fingerprint, 'not affected: never loaded in 7 days');
      await e.idle();
      assert.equal(issue.status, 'Done');
      e.submit(finding('loaded again'));
      await e.idle();
      assert.equal(issue.status, 'To Do');
      jira.resolveByHand(issue.key, "Won't Fix");
      const n = issue.comments.length;
      e.submit(finding('loaded once more'));
      await e.idle();
      assert.equal(issue.status, 'Done');
      assert.equal(issue.comments.length, n);
      // the local record lost: the JQL search finds the ticket (no second one)
      store.db.prepare('DELETE FROM tickets').run();
      e.submit(finding('after losing the record'));
      await e.idle();
      assert.equal(jira.issues.size, 1);
      assert.ok(jira.requests.some((r) => r.path === (api === 3 ? '/rest/api/3/search/jql' : '/rest/api/2/search')));
    });
  }

  it('Jira: 429 with Retry-After is waited out', async () => {
    jira.rateLimited = 2;
    const e = engine([{ sink: jiraSink(3), policy: policy() }]);
    e.submit(finding('loaded'));
    await e.idle();
    assert.equal(jira.issues.size, 1);
  });

  it('sink policy: kinds, minimum priority and statuses filter what is sent', async () => {
    const e = engine([{ sink: githubSink(), policy: policy({ kinds: ['vulnerability'], minPriority: 'error', statuses: ['affected'] }) }]);
    assert.deepEqual(e.submit(finding('x', { priority: 'warning' })), []);
    assert.deepEqual(e.submit(finding('x', { status: 'under_investigation' })), []);
    assert.deepEqual(e.submit(finding('x', { kind: 'alert', fingerprint: 'alert:r:1' })), []);
    assert.deepEqual(e.submit(finding('x')), ['github']);
    await e.idle();
    assert.equal(gh.issues.size, 1);
  });

  it('the tokens never appear in a log line or an error, and travel only in Authorization', async () => {
    gh.down = true;
    const e = engine([
      { sink: githubSink(), policy: policy() },
      { sink: jiraSink(2), policy: policy() },
    ]);
    e.submit(finding('loaded'));
    await new Promise((r) => setTimeout(r, 300));
    gh.down = false;
    // a wrong token: a refusal (401) is logged with the server's words
    const bad = new GitHubSink({ name: 'github-bad', url: gh.url, repo: 'acme/security', token: () => 'ghp_WRONGtoken', caFile: pki.caFile, labels: [] });
    await assert.rejects(bad.create({ fingerprint: 'f', title: 't', body: 'b', labels: [], priority: 'error' }), (err: Error) => {
      logs.push(err.message);
      return /401: Bad credentials/.test(err.message) && !err.message.includes('ghp_WRONGtoken');
    });
    await bad.dispose();
    await e.idle();
    const all = logs.join('\n') + JSON.stringify(vdp.spooled('github')) + JSON.stringify(store.db.prepare('SELECT * FROM sink_spool').all());
    assert.ok(logs.length > 0);
    assert.ok(!all.includes(GH_TOKEN) && !all.includes(JIRA_TOKEN), 'a token leaked');
    for (const r of gh.requests) assert.ok(!r.path.includes(GH_TOKEN) && !r.body.includes(GH_TOKEN));
    for (const r of jira.requests) assert.ok(!r.path.includes(JIRA_TOKEN) && !r.body.includes(JIRA_TOKEN));
  });

  it('refuses to follow a Link header to another server (a lying peer)', async () => {
    const s = githubSink();
    // an issue page whose Link points elsewhere
    gh.perPageMax = 1;
    gh.issues.set(1, { number: 1, title: 'x', body: '', labels: ['vigil-fp-0000000000000000'], state: 'open', state_reason: null, comments: [] });
    gh.issues.set(2, { number: 2, title: 'y', body: '', labels: ['vigil-fp-0000000000000000'], state: 'open', state_reason: null, comments: [] });
    const { nextLink } = await import('../../../controlplane/tickets/github');
    assert.equal(nextLink('<https://evil.example/x?page=2>; rel="next"'), 'https://evil.example/x?page=2');
    const http = (s as unknown as { http: { call(m: string, p: string): Promise<unknown> } }).http;
    await assert.rejects(http.call('GET', 'https://evil.example/repos/acme/security/issues'), /refused to follow a link to another server/);
    await s.dispose();
  });
});
