// The metrics the code exports are the ones docs/metrics.md lists, and both
// endpoints serve them; the generated proto types match the .proto.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentMetrics } from '../../agent/export/metrics';
import { serveMetrics } from '../../common/metrics-server';
import { repoRoot } from '../../common/repo';
import { ProcessCache } from '../../agent/process/process-cache';
import { CpMetrics } from '../../controlplane/metrics';
import { Store } from '../../controlplane/store';
import { documentedMetricNames } from '../helpers/metric-names';

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('metrics', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-metrics-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every metric the agent and the control plane export is documented, and nothing else is', async () => {
    const store = new Store(path.join(dir, 'm.db'));
    const names = [
      ...(await new AgentMetrics(new ProcessCache('n')).registry.getMetricsAsJSON()).map((m) => m.name),
      ...(await new CpMetrics(store).registry.getMetricsAsJSON()).map((m) => m.name),
    ];
    store.close();
    assert.deepEqual([...new Set(names)].sort(), [...documentedMetricNames()].sort());
    for (const n of names) assert.match(n, /^vigil_[a-z_]+$/);
  });

  it('serves /metrics and /healthz', async () => {
    const store = new Store(path.join(dir, 'h.db'));
    const m = new CpMetrics(store);
    m.alertsIngested.inc(3);
    m.agentsConnected(1);
    m.agentPolicyVersion('node-a', 4);
    const s = await serveMetrics(m.registry, '127.0.0.1', 0);
    try {
      const r = await get(`http://127.0.0.1:${s.port}/metrics`);
      assert.equal(r.status, 200);
      assert.match(r.body, /^vigil_alerts_ingested_total 3$/m);
      assert.match(r.body, /^vigil_agents_connected 1$/m);
      assert.match(r.body, /^vigil_agent_policy_version\{node="node-a"\} 4$/m);
      assert.match(r.body, /^# HELP vigil_audit_entries /m);
      assert.equal((await get(`http://127.0.0.1:${s.port}/healthz`)).status, 200);
      assert.equal((await get(`http://127.0.0.1:${s.port}/nope`)).status, 404);
    } finally {
      await s.close();
      store.close();
    }
  });

  it('the generated proto types are what proto/vigil/v1/vigil.proto gives (npm run gen:proto)', () => {
    const out = path.join(dir, 'gen');
    execFileSync(
      path.join(repoRoot(), 'node_modules', '.bin', 'proto-loader-gen-types'),
      ['--grpcLib=@grpc/grpc-js', '--longs=String', '--defaults', '--oneofs', '--keepCase', `--outDir=${out}`, 'proto/vigil/v1/vigil.proto'],
      { cwd: repoRoot(), stdio: 'pipe' },
    );
    const walk = (d: string): string[] =>
      fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    const committed = path.join(repoRoot(), 'common', 'proto', 'generated');
    const mine = walk(out).map((f) => path.relative(out, f)).sort();
    assert.deepEqual(mine, walk(committed).map((f) => path.relative(committed, f)).sort());
    for (const f of mine) assert.equal(fs.readFileSync(path.join(out, f), 'utf8'), fs.readFileSync(path.join(committed, f), 'utf8'), f);
  });
});
