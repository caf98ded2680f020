// deploy/grafana and deploy/prometheus: every expression parses as PromQL
// (Prometheus's own grammar), reads only metrics Vigil exports (docs/metrics.md,
// which test/controlplane/metrics.test.ts holds equal to the code), and the
// panels and alerts operators need are there.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../../common/repo';
import { documentedMetricNames, documentedMetricTypes, metricProblem, parsePromQL, substituteGrafanaVariables, type MetricType } from '../helpers/metric-names';

interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { type: string; uid: string };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  id: number | null;
  panels: Panel[];
  templating: { list: Variable[] };
  time: { from: string; to: string };
}
interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; interval?: string; rules: AlertRule[] }>;
}

const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
/** The series and label names an expression aggregates by: "by (a, b)" -> [a, b] per aggregation. */
const groupings = (expr: string): string[][] => [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].map((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean));
// Prometheus durations (model.ParseDuration)
const DURATION = /^(0|(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$/;

describe('deploy/grafana and deploy/prometheus', () => {
  const root = repoRoot();
  const exported: Map<string, MetricType> = documentedMetricTypes();
  const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'deploy', 'grafana', 'vigil-dashboard.json'), 'utf8')) as Dashboard;
  const alerts = parseYaml(fs.readFileSync(path.join(root, 'deploy', 'prometheus', 'vigil-alerts.yaml'), 'utf8')) as RuleFile;
  const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');

  /** Problems of one expression: syntax errors and metrics Vigil does not export. */
  const check = (expr: string, where: string): string[] => {
    const parsed = parsePromQL(expr);
    const problems = parsed.errors.map((e) => `${where}: PromQL syntax error at ${e}`);
    if (parsed.metrics.length === 0) problems.push(`${where}: reads no metric`);
    for (const m of parsed.metrics) {
      const p = metricProblem(m, exported);
      if (p) problems.push(`${where}: ${p}`);
    }
    return problems;
  };

  it('docs/metrics.md lists the metrics of the agent and the control plane, each with its type', () => {
    const names = documentedMetricNames();
    assert.deepEqual([...exported.keys()].sort(), [...names].sort());
    assert.ok(exported.size >= 18);
    assert.equal(exported.get('vigil_enforcement_latency_seconds'), 'histogram');
    assert.equal(exported.get('vigil_store_commit_seconds'), 'histogram');
  });

  it('the metric check itself: rejects names Vigil does not export, bare histograms and bad syntax', () => {
    assert.deepEqual(check('rate(vigil_events_total[5m])', 'ok'), []);
    assert.deepEqual(check('histogram_quantile(0.9, sum by (le) (rate(vigil_store_commit_seconds_bucket[5m])))', 'ok'), []);
    assert.match(check('rate(vigil_event_total[5m])', 'x').join('\n'), /vigil_event_total is not a metric Vigil exports/);
    assert.match(check('vigil_enforcement_latency_seconds', 'x').join('\n'), /is a histogram/);
    assert.match(check('vigil_events_total_bucket', 'x').join('\n'), /not a metric Vigil exports/);
    assert.match(check('sum(rate(vigil_events_total[5m])', 'x').join('\n'), /syntax error/);
    assert.match(check('up == 0', 'x').join('\n'), /up is not a metric Vigil exports/);
  });

  describe('vigil-dashboard.json', () => {
    it('is a Grafana dashboard that asks for its Prometheus data source', () => {
      assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
      assert.equal(dashboard.id, null, 'no database id: importable anywhere');
      assert.match(dashboard.uid, /^[a-zA-Z0-9_-]{1,40}$/);
      assert.ok(dashboard.title);
      const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
      assert.ok(ds, 'a data source variable');
      assert.equal(ds.query, 'prometheus');
      const ref = { type: 'prometheus', uid: `\${${ds.name}}` };
      const ids = allPanels(dashboard.panels).map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
      for (const p of panels) {
        assert.ok(p.title, `panel ${p.id} has a title`);
        assert.ok(p.gridPos && p.gridPos.w > 0 && p.gridPos.h > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: gridPos`);
        assert.deepEqual(p.datasource, ref, `${p.title}: uses the data source variable`);
        assert.ok(p.targets?.length, `${p.title}: has queries`);
        for (const t of p.targets ?? []) {
          assert.deepEqual(t.datasource, ref, `${p.title} ${t.refId}: uses the data source variable`);
          assert.ok(t.expr, `${p.title} ${t.refId}: has an expression`);
        }
      }
      for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) assert.deepEqual(v.datasource, ref, `variable ${v.name}`);
    });

    it('every expression parses and reads only metrics Vigil exports', () => {
      const problems: string[] = [];
      for (const p of panels) for (const t of p.targets ?? []) problems.push(...check(substituteGrafanaVariables(t.expr), `panel "${p.title}" ${t.refId}`));
      for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
        const q = typeof v.query === 'string' ? v.query : v.query.query;
        // label_values(metric, label) is Grafana's, not PromQL
        const lv = /^label_values\((\w+)\s*,\s*(\w+)\)$/.exec(q);
        problems.push(...(lv ? [metricProblem(lv[1], exported)].filter((x): x is string => !!x).map((x) => `variable ${v.name}: ${x}`) : check(q, `variable ${v.name}`)));
      }
      assert.deepEqual(problems, []);
    });

    it('has the panels operators need', () => {
      // [what, title, metric the panel must read, labels it must break down by]
      const required: Array<[string, RegExp, string, string[]]> = [
        ['events per second by kind', /events\/s by kind/i, 'vigil_events_total', ['kind']],
        ['drops by stage', /drops.*by stage/i, 'vigil_drops_total', ['stage']],
        ['alerts by rule and outcome', /alerts.*by rule and outcome/i, 'vigil_alerts_total', ['rule', 'outcome']],
        ['enforcement latency', /enforcement latency/i, 'vigil_enforcement_latency_seconds_bucket', ['le']],
        ['agents connected', /agents connected/i, 'vigil_agents_connected', []],
        ['policy version per node vs latest', /policy version per node/i, 'vigil_agent_policy_version', ['node']],
        ['spool depth', /spool depth/i, 'vigil_spool_depth', []],
      ];
      for (const [what, title, metric, by] of required) {
        const p = panels.find((x) => title.test(x.title));
        assert.ok(p, `a panel for ${what} (title ${title})`);
        const exprs = (p.targets ?? []).map((t) => substituteGrafanaVariables(t.expr));
        assert.ok(exprs.some((e) => parsePromQL(e).metrics.includes(metric)), `"${p.title}" reads ${metric}`);
        for (const label of by) assert.ok(exprs.some((e) => groupings(e).some((g) => g.includes(label))), `"${p.title}" breaks down by ${label}`);
      }
      const latency = panels.find((x) => /enforcement latency/i.test(x.title));
      assert.ok(latency?.targets?.every((t) => /^histogram_quantile\(0?\.\d+,/.test(t.expr)), 'latency as quantiles (histogram_quantile)');
      const skew = panels.find((x) => /policy version per node/i.test(x.title));
      assert.ok(skew?.targets?.some((t) => parsePromQL(t.expr).metrics.includes('vigil_policy_version')), 'per-node policy versions against the latest');
    });
  });

  describe('vigil-alerts.yaml', () => {
    const rules = alerts.groups.flatMap((g) => g.rules);

    it('is a Prometheus rule file: named groups, alerts with an expression, a severity and a summary', () => {
      assert.ok(alerts.groups.length > 0);
      const names = alerts.groups.map((g) => g.name);
      assert.equal(new Set(names).size, names.length, 'group names are unique');
      for (const g of alerts.groups) {
        assert.deepEqual(Object.keys(g).filter((k) => !['name', 'interval', 'limit', 'rules'].includes(k)), [], `group ${g.name}: known keys only`);
        for (const r of g.rules) {
          assert.deepEqual(Object.keys(r).filter((k) => !['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'].includes(k)), [], `${r.alert}: known keys only`);
          assert.ok(r.alert && /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(r.alert), `alert name ${r.alert}`);
          assert.ok(typeof r.expr === 'string' && r.expr.trim(), `${r.alert}: expr`);
          if (r.for !== undefined) assert.match(r.for, DURATION, `${r.alert}: for`);
          assert.ok(['critical', 'warning', 'info'].includes(r.labels?.severity ?? ''), `${r.alert}: severity`);
          assert.ok(r.annotations?.summary && r.annotations.description, `${r.alert}: summary and description`);
        }
      }
      const alertNames = rules.map((r) => r.alert);
      assert.equal(new Set(alertNames).size, alertNames.length, 'alert names are unique');
    });

    it('every expression parses and reads only metrics Vigil exports', () => {
      assert.deepEqual(rules.flatMap((r) => check(r.expr, `alert ${r.alert}`)), []);
    });

    it('has the alerts operators need', () => {
      const byMetrics = (...metrics: string[]): AlertRule[] => rules.filter((r) => metrics.every((m) => parsePromQL(r.expr).metrics.includes(m)));
      const drops = byMetrics('vigil_drops_total', 'vigil_events_total');
      assert.equal(drops.length, 1, 'one alert on drops over events');
      assert.match(drops[0].expr, /rate\(vigil_drops_total\[5m\]\)[\s\S]*\/[\s\S]*rate\(vigil_events_total\[5m\]\)[\s\S]*>\s*0\.01/, 'drops above 1% of events, rates over 5m');
      const disconnected = byMetrics('vigil_controlplane_connected').filter((r) => /vigil_controlplane_connected\s*==\s*0/.test(r.expr));
      assert.equal(disconnected.length, 1, 'an alert on agents that lost the control plane');
      assert.equal(disconnected[0].for, '5m');
      const missing = byMetrics('vigil_agents_connected');
      assert.equal(missing.length, 1, 'an alert on fewer agents connected than running');
      const skew = byMetrics('vigil_agent_policy_version', 'vigil_policy_version');
      assert.equal(skew.length, 1, 'an alert on agents whose policy version differs from the latest');
      assert.match(skew[0].expr, /!=/);
      assert.equal(skew[0].for, '10m');
    });
  });
});
