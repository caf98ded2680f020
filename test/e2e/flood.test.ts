// Flood control on the real kernel with the default pack: a workload opens
// /etc/shadow 100,000 times in a loop; the agent sends a bounded number of
// alert lines whose counts add up to 100,000, and its metrics count every one.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Alert } from '../../agent/export/alert';
import { repoRoot } from '../../common/repo';
import { AgentHarness } from '../helpers/agent';
import { CgroupSandbox, helperBinary, requireKernelTestPrivileges } from '../helpers/kernel';
import { until } from '../helpers/wait';

const OPENS = 100_000;

describe('flood control on the real kernel (default pack)', function () {
  this.timeout(120000);
  let sb: CgroupSandbox;
  let h: AgentHarness;

  before(async function () {
    requireKernelTestPrivileges();
    sb = CgroupSandbox.create('flood');
    const identities = `
workloads:
  - spiffe_id: spiffe://test.vigil/ns/flood/sa/loop
    cgroups: [${sb.top.rel.slice(1)}]
`;
    h = await new AgentHarness(fs.readFileSync(path.join(repoRoot(), 'deploy', 'rules', 'default.yaml'), 'utf8'), identities, {
      flood: { windowMs: 2000 },
      ringBytes: 64 << 20,
    }).start();
  });

  after(async function () {
    if (h) await h.stop();
    if (sb) await sb.cleanup();
  });

  it(`${OPENS} opens of /etc/shadow: a bounded number of alert lines whose counts add up to ${OPENS}`, async () => {
    const cg = sb.child('loop');
    const t0 = Date.now();
    const r = await sb.run(cg, helperBinary('actions'), [`opens:/etc/shadow:${OPENS}`]);
    const loopMs = Date.now() - t0;
    const mine = (): Alert[] => h.alerts.filter((a) => a.rule === 'read-sensitive-file' && a.process.pid === r.pid);
    const sum = (): number => mine().reduce((n, a) => n + (a.count ?? 1), 0);
    const stats = (): { lost: number } => {
      const p = h.agent.probe.stats();
      let lost = p.reader.queueDropRecords;
      for (const k of Object.values(p.kinds)) lost += k.dropped + k.busy;
      return { lost };
    };
    await until(`the counts of read-sensitive-file alerts to reach ${OPENS} (now ${sum()}, ${stats().lost} events lost)`, () => sum() >= OPENS || stats().lost > 0, 30000);
    // the agent may still be working through the loop's events after the loop ended (a loaded machine):
    // windows close for as long as events arrive, so the bound follows the time until the last count
    const doneMs = Date.now() - t0;
    assert.equal(stats().lost, 0, 'no event was lost on the way (else the counts cannot add up)');
    const lines = mine();
    assert.equal(sum(), OPENS);
    // per 2 s window: the key's first alert at once, then one collapsed alert at the window's end (the
    // next repeat after that opens a new window and again goes out at once), for as long as events arrive
    const bound = 2 * Math.ceil(doneMs / 2000) + 2;
    const shape = JSON.stringify(lines.map((l) => [l.count, l.collapsed, l.first_seen, l.last_seen]));
    assert.ok(lines.length <= bound, `${lines.length} alert lines for a ${loopMs} ms loop whose events were all judged after ${doneMs} ms (bound ${bound}): ${shape}`);
    assert.equal(lines[0].count, undefined);
    for (const [i, a] of lines.entries()) {
      if (a.count === undefined) {
        assert.equal(a.collapsed, undefined, shape);
        assert.ok(i === 0 || lines[i - 1].collapsed === 'repeats', `a plain alert follows a collapsed one (a new window): ${shape}`);
      } else {
        assert.equal(a.collapsed, 'repeats', shape);
        assert.ok(a.first_seen && a.last_seen && a.first_seen <= a.last_seen, shape);
      }
    }
    const metric = await h.agent.metrics.registry.getSingleMetricAsString('vigil_alerts_total');
    assert.match(metric, new RegExp(`vigil_alerts_total\\{rule="read-sensitive-file",action="alert",outcome="alerted"\\} ${OPENS}\\b`));
    const collapsed = await h.agent.metrics.registry.getSingleMetricAsString('vigil_alerts_collapsed_total');
    assert.match(collapsed, new RegExp(`vigil_alerts_collapsed_total\\{rule="read-sensitive-file",reason="repeats"\\} ${OPENS - lines.filter((l) => l.count === undefined).length}\\b`));
    process.stderr.write(`      (${OPENS} opens in ${loopMs} ms -> ${lines.length} alert lines, counts ${lines.map((a) => a.count ?? 1).join(' + ')})\n`);
  });
});
