// Flood control with synthesized alerts and a clock the test moves: repeats
// collapse with their count, kills and denials always go out, the rate limit
// folds what it holds back, the table stays bounded, and every alert raised
// is accounted for in what is delivered.
import * as assert from 'node:assert/strict';
import type { Alert, Outcome } from '../../../agent/export/alert';
import { FloodControl, floodKey, type FloodOptions } from '../../../agent/export/flood';

function alert(o: { rule?: string; path?: string; exe?: string; spiffe?: string; outcome?: Outcome; ns: number }): Alert {
  const time = `2026-01-01T00:00:00.${String(o.ns).padStart(9, '0')}Z`;
  return {
    time,
    rule: o.rule ?? 'read-sensitive-file',
    priority: 'warning',
    action: o.outcome === 'killed' ? 'kill' : 'alert',
    outcome: o.outcome ?? 'alerted',
    tags: [],
    node: 'n',
    output: 'x',
    workload: { spiffe_id: o.spiffe ?? 'spiffe://t/ns/a/sa/b', cgroup_id: 7, cgroup: '/a', container_id: null, pod_uid: null, kubernetes: null, image: null },
    process: { pid: 1, ppid: null, exe: o.exe ?? '/usr/bin/cat', args: null, uid: 0, exec_id: null, parent_exe: null },
    event: { kind: 'open', time, pid: 1, path: o.path ?? '/etc/shadow' },
  };
}

function harness(o: Partial<FloodOptions> = {}): { f: FloodControl; out: Alert[]; counts: Map<string, number>; clock: { t: number } } {
  const out: Alert[] = [];
  const counts = new Map<string, number>();
  const clock = { t: 1000 };
  const f = new FloodControl({
    windowMs: 1000,
    ratePerRule: 0,
    maxKeys: 100,
    deliver: (a) => out.push(a),
    counted: (what) => counts.set(what, (counts.get(what) ?? 0) + 1),
    now: () => clock.t,
    ...o,
  });
  return { f, out, counts, clock };
}

const total = (as: Alert[]): number => as.reduce((n, a) => n + (a.count ?? 1), 0);

describe('flood control', () => {
  it('the first alert goes out at once; repeats in the window go out once, with count, first_seen and last_seen', () => {
    const { f, out, counts } = harness();
    for (let i = 1; i <= 1000; i++) f.offer(alert({ ns: i }));
    assert.equal(out.length, 1);
    assert.equal(out[0].count, undefined, 'a plain alert stands for one');
    f.close();
    assert.equal(out.length, 2);
    const c = out[1];
    assert.deepEqual(Object.keys(c).slice(0, 6), ['time', 'count', 'first_seen', 'last_seen', 'collapsed', 'rule']);
    assert.equal(c.count, 999);
    assert.equal(c.first_seen, '2026-01-01T00:00:00.000000002Z');
    assert.equal(c.last_seen, '2026-01-01T00:00:00.000001000Z');
    assert.equal(c.time, c.last_seen);
    assert.equal(c.collapsed, 'repeats');
    assert.match(c.output, /\(999 times from .*0002Z to .*1000Z\)$/);
    assert.equal(total(out), 1000);
    assert.equal(counts.get('collapsed'), 999);
  });

  it('a new window after the old one ended: the collapsed alert goes out when its window ends (timer)', async () => {
    const { f, out, clock } = harness({ now: undefined, windowMs: 50 });
    void clock;
    f.offer(alert({ ns: 1 }));
    f.offer(alert({ ns: 2 }));
    f.offer(alert({ ns: 3 }));
    assert.equal(out.length, 1);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(out.map((a) => a.count ?? 1), [1, 2]);
    f.offer(alert({ ns: 4 }));
    assert.equal(out.length, 3, 'the next one starts a new window and goes out at once');
    f.close();
  });

  it('different key fields, executables, workloads or rules are different alerts', () => {
    const { f, out } = harness();
    f.offer(alert({ ns: 1 }));
    f.offer(alert({ ns: 2, path: '/etc/gshadow' }));
    f.offer(alert({ ns: 3, exe: '/usr/bin/less' }));
    f.offer(alert({ ns: 4, spiffe: 'spiffe://t/ns/a/sa/c' }));
    f.offer(alert({ ns: 5, rule: 'other' }));
    assert.equal(out.length, 5);
    assert.equal(new Set(out.map((a) => floodKey(a))).size, 5);
  });

  it('kills and denials are never collapsed: each goes out', () => {
    const { f, out } = harness();
    for (let i = 1; i <= 50; i++) f.offer(alert({ ns: i, outcome: 'killed' }));
    for (let i = 1; i <= 50; i++) f.offer(alert({ ns: i, outcome: 'denied' }));
    f.offer(alert({ ns: 1, outcome: 'kill_failed' }));
    assert.equal(out.length, 101);
    assert.ok(out.every((a) => a.count === undefined));
  });

  it('the per-rule rate limit folds what it holds back into one alert per rule and workload, counted', () => {
    const { f, out, counts, clock } = harness({ ratePerRule: 10, ruleRates: new Map([['loud', 2]]) });
    // an attacker varies the path: every alert is a new key
    for (let i = 1; i <= 1000; i++) f.offer(alert({ ns: i, path: `/etc/x${i}` }));
    for (let i = 1; i <= 10; i++) f.offer(alert({ ns: i, rule: 'loud', path: `/etc/y${i}` }));
    assert.equal(out.length, 10 + 2, 'a burst of one second\'s worth for each rule');
    assert.equal(counts.get('rate_limited'), 990 + 8);
    clock.t += 500; // half a second: 5 more tokens for the first rule
    f.offer(alert({ ns: 2000, path: '/etc/z' }));
    assert.equal(out.length, 13);
    f.close();
    const folded = out.filter((a) => a.collapsed === 'rate_limit');
    assert.deepEqual(folded.map((a) => [a.rule, a.count]), [['read-sensitive-file', 990], ['loud', 8]]);
    assert.equal(total(out), 1011);
    assert.ok(f.entries === 0);
  });

  it('the table is bounded: the oldest entry makes room, its collapsed alert sent early and counted', () => {
    const { f, out, counts } = harness({ maxKeys: 10 });
    for (let i = 1; i <= 10; i++) {
      f.offer(alert({ ns: i, path: `/p${i}` }));
      f.offer(alert({ ns: i, path: `/p${i}` }));
    }
    assert.equal(f.entries, 10);
    for (let i = 11; i <= 1000; i++) f.offer(alert({ ns: i, path: `/p${i}` }));
    assert.ok(f.entries <= 10);
    assert.equal(counts.get('evicted'), 10, 'the ten with a repeat were sent early');
    f.close();
    assert.equal(total(out), 1010);
  });

  it('window 0: nothing is collapsed', () => {
    const { f, out } = harness({ windowMs: 0 });
    for (let i = 1; i <= 5; i++) f.offer(alert({ ns: i }));
    assert.equal(out.length, 5);
  });
});
