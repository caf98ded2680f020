// The metric names Vigil exports (docs/metrics.md, which
// test/controlplane/metrics.test.ts checks against the code) and the metric
// names a PromQL expression reads, from Prometheus's own PromQL grammar.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { repoRoot } from '../../common/repo';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** Every metric name in the tables of docs/metrics.md (`| \`name\` | ...`). */
export function documentedMetricNames(): Set<string> {
  const text = fs.readFileSync(path.join(repoRoot(), 'docs', 'metrics.md'), 'utf8');
  return new Set([...text.matchAll(/^\| `(vigil_[a-z_]+)` \|/gm)].map((m) => m[1]));
}

/** name -> type, from the tables of docs/metrics.md (`| \`name\` | type | ...`). */
export function documentedMetricTypes(): Map<string, MetricType> {
  const text = fs.readFileSync(path.join(repoRoot(), 'docs', 'metrics.md'), 'utf8');
  const out = new Map<string, MetricType>();
  for (const m of text.matchAll(/^\| `(vigil_[a-z_]+)` \| (counter|gauge|histogram|summary) \|/gm)) out.set(m[1], m[2] as MetricType);
  return out;
}

/** Grafana's variables, replaced by values PromQL accepts, so the expression can be parsed. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, '5m')
    .replace(/\$\{(\w+)(:\w+)?\}|\$(\w+)/g, 'x');
}

export interface ParsedExpr {
  metrics: string[];
  /** "offset: text" of each syntax error */
  errors: string[];
}

/** Metric names of every vector selector of `expr`, and its syntax errors. */
export function parsePromQL(expr: string): ParsedExpr {
  const tree = parser.parse(expr);
  const metrics: string[] = [];
  const errors: string[] = [];
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`${n.from}: near "${expr.slice(Math.max(0, n.from - 10), n.to + 10)}"`);
      if (n.name === 'VectorSelector') {
        const id = n.node.getChild('Identifier');
        if (id) metrics.push(expr.slice(id.from, id.to));
      }
    },
  });
  return { metrics, errors };
}

/**
 * Problems with one metric name read by an expression: not exported, or a
 * histogram read without its _bucket/_sum/_count suffix (or a suffix on
 * something that is not a histogram).
 */
export function metricProblem(name: string, exported: Map<string, MetricType>): string | undefined {
  const suffix = /_(bucket|sum|count)$/.exec(name);
  if (suffix) {
    const base = name.slice(0, -suffix[0].length);
    if (exported.get(base) === 'histogram') return undefined;
  }
  const t = exported.get(name);
  if (t === undefined) return `${name} is not a metric Vigil exports (docs/metrics.md)`;
  if (t === 'histogram') return `${name} is a histogram: query ${name}_bucket, _sum or _count`;
  return undefined;
}
