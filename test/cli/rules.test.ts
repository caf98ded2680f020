// `vigil rules test`: exit 0 when every expectation holds, 1 when one fails
// (naming the fixture and the event), JSON lines with --output json.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../common/repo';
import { runVigil } from '../helpers/cli';

describe('vigil rules test', () => {
  const root = repoRoot();
  const pack = path.join(root, 'deploy', 'rules', 'default.yaml');
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rules-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the default pack passes its fixture: exit 0, one line per rule that would fire, a summary', async () => {
    const r = await runVigil('rules', 'test', pack, '--events', path.join(root, 'test', 'fixtures', 'rules', 'default-pack.yaml'));
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /default-pack\.yaml:\d+: alert: shell-in-workload: exec of \/usr\/bin\/dash/);
    assert.match(r.out, /exempted from mount-in-workload by runtime-init/);
    assert.match(r.out, /\d+ expectations, 0 failed\n$/);
  });

  it('a failed expectation: exit 1, the fixture, the line and the case named', async () => {
    const fx = path.join(dir, 'f.yaml');
    fs.writeFileSync(fx, 'events:\n  - name: cat reads hostname\n    event: {kind: open, pid: 1, exe: /usr/bin/cat, path: /etc/hostname, flags: [O_RDONLY]}\n    expect: {fire: [read-sensitive-file]}\n');
    const r = await runVigil('rules', 'test', pack, '--events', fx);
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`FAILED ${fx.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: "cat reads hostname": expected rule read-sensitive-file to fire; no rule fired\n`));
    const j = await runVigil('rules', 'test', pack, '--events', fx, '--output', 'json');
    assert.equal(j.code, 1);
    assert.equal(j.out, '');
    assert.match(j.err, /vigil rules test: FAILED .*f\.yaml:2:/);
  });

  it('--output json: one object per rule that would fire, with the alert it would raise', async () => {
    const tr = path.join(dir, 't.json');
    fs.writeFileSync(tr, JSON.stringify({ kind: 'open', time: '2026-01-01T00:00:00.000000001Z', pid: 5, uid: 0, comm: 'cat', exe: '/usr/bin/cat', args: ['cat'], cgroup_id: 1, cgroup: '/', path: '/etc/shadow', flags: ['O_RDONLY'] }) + '\n');
    const r = await runVigil('rules', 'test', pack, '--events', tr, '-o', 'json');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { at: string; rule: string; exempted_by: string | null; alert: { rule: string; event: { path: string } } });
    assert.equal(lines.length, 1);
    assert.equal(lines[0].at, `${tr}:1`);
    assert.equal(lines[0].rule, 'read-sensitive-file');
    assert.equal(lines[0].exempted_by, null);
    assert.equal(lines[0].alert.event.path, '/etc/shadow');
  });

  it('unreadable events are a failure (exit 1) named by file:line:col, nothing judged', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{"kind":"open"}\n{oops\n');
    const r = await runVigil('rules', 'test', pack, '--events', bad);
    assert.equal(r.code, 1);
    assert.match(r.err, /^[^\n]*bad\.json:2:1: not a JSON object/);
    assert.equal(r.out, '');
  });
});
