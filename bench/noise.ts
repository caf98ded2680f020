// How many alerts the default pack raises on a benign, busy workload: a CI
// build of this repository (npm ci, whose install script builds the BPF
// objects and the addon, then tsc) run inside a workload cgroup, with the
// agent watching it. Alerts are counted as raised (every match) and as
// delivered after flood control (the agent's defaults: 10 s window, 100 a
// second per rule). Not part of `npm run bench`: name it (`node
// dist/bench/run.js noise`); it takes minutes.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '../agent/agent';
import type { Alert } from '../agent/export/alert';
import { repoRoot } from '../common/repo';
import { benchCgroup } from './helpers';

export interface NoiseReport {
  workload: string;
  iterations: number;
  seconds_per_iteration: number;
  /** the pipeline's counts over the whole run */
  events: number;
  evaluated: number;
  /** every rule match, by rule (what flood control starts from) */
  raised: Record<string, number>;
  raised_total: number;
  /** alert lines after flood control, by rule */
  delivered: Record<string, number>;
  delivered_total: number;
  /** raised alerts an hour of such builds back to back would give */
  raised_per_hour: number;
  delivered_per_hour: number;
}

const quiet = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

function runIn(cg: string, cwd: string, cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn('/bin/sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg, cmd, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(code) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

export async function runNoiseBench(opts: { iterations?: number } = {}): Promise<NoiseReport> {
  if (process.geteuid?.() !== 0) throw new Error('the noise benchmark needs root (BPF, cgroups)');
  const iterations = opts.iterations ?? 1;
  const bench = benchCgroup('noise');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-noise-'));
  const rulesPath = path.join(dir, 'rules.yaml');
  const idsPath = path.join(dir, 'ids.yaml');
  fs.copyFileSync(path.join(repoRoot(), 'deploy', 'rules', 'default.yaml'), rulesPath);
  fs.writeFileSync(idsPath, `workloads:\n  - { spiffe_id: spiffe://bench.vigil/ns/ci/sa/build, cgroups: [${bench.rel}] }\n`);
  const raised: Record<string, number> = {};
  const delivered: Record<string, number> = {};
  let agent: Agent | undefined;
  try {
    agent = await Agent.start({
      rules: [rulesPath],
      identities: idsPath,
      output: 'json',
      out: quiet(),
      err: quiet(),
      onAlert: (a: Alert) => {
        if (!(a.workload.cgroup ?? '').startsWith(`/${bench.rel}`)) return;
        delivered[a.rule] = (delivered[a.rule] ?? 0) + 1;
        raised[a.rule] = (raised[a.rule] ?? 0) + (a.count ?? 1);
      },
    });
    const t0 = Date.now();
    for (let i = 0; i < iterations; i++) {
      const src = path.join(dir, `src${i}`);
      fs.mkdirSync(src);
      // the sources of this commit, as a CI job checks them out
      execFileSync('sh', ['-c', `git -C "${repoRoot()}" archive HEAD | tar -x -C "${src}"`]);
      await runIn(bench.dir, src, 'npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund']);
      await runIn(bench.dir, src, 'node_modules/.bin/tsc', ['-p', 'tsconfig.json']);
    }
    const seconds = (Date.now() - t0) / 1000 / iterations;
    await new Promise((r) => setTimeout(r, 1000));
    const stats = agent.pipeline.stats;
    await agent.stop(); // flushes what flood control still holds
    agent = undefined;
    const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
    const perHour = (n: number): number => Math.round((n / iterations) * (3600 / seconds));
    return {
      workload: 'npm ci (install script: make -C bpf, node-gyp rebuild) + tsc, in a workload cgroup',
      iterations,
      seconds_per_iteration: Math.round(seconds),
      events: stats.events,
      evaluated: stats.evaluated,
      raised,
      raised_total: sum(raised),
      delivered,
      delivered_total: sum(delivered),
      raised_per_hour: perHour(sum(raised)),
      delivered_per_hour: perHour(sum(delivered)),
    };
  } finally {
    if (agent) await agent.stop();
    await bench.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function noiseTable(r: NoiseReport): string {
  const rows = Object.keys(r.raised)
    .sort((a, b) => r.raised[b] - r.raised[a])
    .map((k) => `  ${k}: ${r.raised[k]} raised, ${r.delivered[k] ?? 0} delivered`);
  return [
    `${r.workload}: ${r.iterations} run(s), ${r.seconds_per_iteration} s each; ${r.events} events, ${r.evaluated} judged`,
    `alerts: ${r.raised_total} raised, ${r.delivered_total} delivered after flood control; an hour of it: ${r.raised_per_hour} raised, ${r.delivered_per_hour} delivered`,
    ...rows,
  ].join('\n');
}
