// The spool on disk: acknowledgements by range never cover a gap, and a
// damaged state file or log is named, kept aside and recovered from without
// losing an alert or reusing a sequence number.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Spool } from '../../../agent/export/spool';

const rec = (i: number): { timeNs: string; rule: string; priority: string; action: string; outcome: string; spiffeId: string; json: string } => ({
  timeNs: String(i),
  rule: 'r',
  priority: 'p',
  action: 'a',
  outcome: 'o',
  spiffeId: '',
  json: JSON.stringify({ i }),
});

describe('spool', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-spool-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an ack for a later range leaves the gap in the spool, also across a restart', () => {
    const s = new Spool(dir, 'boot-a');
    for (let i = 1; i <= 10; i++) s.add(rec(i));
    s.sync();
    assert.equal(s.ack('boot-a', 6, 10), 5);
    assert.deepEqual(
      s.unacked().map((r) => r.sequence),
      [1, 2, 3, 4, 5],
    );
    assert.equal(s.ack('boot-b', 1, 5), 0, 'another boot is not this one');
    s.close();
    const again = new Spool(dir, 'boot-a');
    const seqs = again.unacked().map((r) => r.sequence);
    for (const i of [1, 2, 3, 4, 5]) assert.ok(seqs.includes(i), `sequence ${i} is still to be sent after the restart`);
    again.ack('boot-a', 1, 10);
    assert.equal(again.stats().depth, 0);
    assert.equal(again.add(rec(11))?.sequence, 11, 'numbering goes on');
    again.close();
  });

  it('a corrupt state.json is named and set aside; every alert in the log is sent again and new ones get a boot id of their own', () => {
    const s = new Spool(dir, 'boot-a');
    for (let i = 1; i <= 3; i++) s.add(rec(i));
    s.close();
    fs.writeFileSync(path.join(dir, 'state.json'), '{"boots": {"boot-a": {"last": 3, "ac');
    const said: string[] = [];
    const r = new Spool(dir, 'boot-a', 100, 1 << 20, (l) => said.push(l));
    assert.equal(said.length, 1);
    assert.match(said[0], new RegExp(`${path.join(dir, 'state.json').replace(/[.]/g, '\\.')} is corrupt \\(.*\\); set aside as .*state\\.json\\.corrupt-`));
    assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-')).length, 1, 'the damaged file is kept');
    assert.deepEqual(
      r.unacked().map((x) => [x.bootId, x.sequence]),
      [
        ['boot-a', 1],
        ['boot-a', 2],
        ['boot-a', 3],
      ],
    );
    // boot-a's sequences given out are unknown now: a new alert must not reuse one the control plane may hold
    const n = r.add(rec(4));
    assert.notEqual(n?.bootId, 'boot-a');
    assert.match(n?.bootId ?? '', /^boot-a~r/);
    assert.equal(n?.sequence, 1);
    r.close();
  });

  it('a state.json of the wrong shape is corrupt too', () => {
    new Spool(dir, 'boot-a').close();
    fs.writeFileSync(path.join(dir, 'state.json'), '{"boots": {"boot-a": {"last": "many", "acked": 0}}}');
    const said: string[] = [];
    new Spool(dir, 'boot-a', 100, 1 << 20, (l) => said.push(l)).close();
    assert.match(said.join('\n'), /"last" and "acked" must be whole numbers/);
  });

  it('a torn line in the log is counted, the log as found is kept, and the readable alerts are sent', () => {
    const s = new Spool(dir, 'boot-a');
    for (let i = 1; i <= 3; i++) s.add(rec(i));
    s.close();
    fs.appendFileSync(path.join(dir, 'alerts.log'), '{"bootId":"boot-a","sequ');
    const said: string[] = [];
    const r = new Spool(dir, 'boot-a', 100, 1 << 20, (l) => said.push(l));
    assert.equal(r.stats().unreadable, 1);
    assert.equal(r.stats().depth, 3);
    assert.match(said.join('\n'), /1 lines of .*alerts\.log could not be read .* kept as .*alerts\.log\.unreadable-/);
    assert.equal(r.add(rec(4))?.sequence, 4);
    r.close();
  });

  it('state is written with fsync and rename: no temporary file is left behind', () => {
    const s = new Spool(dir, 'boot-a');
    s.add(rec(1));
    s.sync();
    s.ack('boot-a', 1, 1);
    s.close();
    assert.deepEqual(fs.readdirSync(dir).sort(), ['alerts.log', 'state.json']);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')), { boots: { 'boot-a': { last: 1, acked: 1 } } });
  });
});
