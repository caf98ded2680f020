// `npm run bench`: every benchmark, a table each on stdout, JSON in bench/results/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../common/repo';
import { pipelineTable, runPipelineBench } from './pipeline';
import { rulesTable, runRulesBench } from './rules';
import { controlPlaneTable, runControlPlaneBench } from './controlplane';
import { noiseTable, runNoiseBench } from './noise';
import { reachMemoryTable, runReachMemoryBench } from './reach';
import { kernelTable, runKernelBench } from './kernel';
import { profileTable, runProfileBench } from './profile';
import { pairTable, runPairBench } from './pair';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.filter((a) => !a.startsWith('--'));
  const outDir = path.join(repoRoot(), 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const results: Record<string, unknown> = {};

  if (only.length === 0 || only.includes('pipeline')) {
    process.stdout.write('== event pipeline: cost per operation, bare vs every event decoded in JS ==\n');
    const r = await runPipelineBench({ quick });
    process.stdout.write(pipelineTable(r) + '\n\n');
    results.pipeline = r;
  }

  if (only.length === 0 || only.includes('rules')) {
    process.stdout.write('== rules: matching, kernel kills, user-space kill latency, unwatched kinds ==\n');
    const r = await runRulesBench({ quick });
    process.stdout.write(rulesTable(r) + '\n\n');
    results.rules = r;
  }

  if (only.length === 0 || only.includes('controlplane')) {
    process.stdout.write('== control plane: ingest from 10 agents, kernel event to committed row ==\n');
    const r = await runControlPlaneBench({ quick, only: args.includes('--offered-only') ? 'offered' : undefined });
    process.stdout.write(controlPlaneTable(r) + '\n\n');
    results.controlplane = r;
  }

  if (only.length === 0 || only.includes('reach')) {
    process.stdout.write('== runtime reachability: memory per 10,000 distinct files of one image ==\n');
    const r = await runReachMemoryBench();
    process.stdout.write(reachMemoryTable(r) + '\n\n');
    results.reach = r;
  }

  // only when named: before/after comparisons of the in-kernel cost, program by program
  if (only.includes('kernel')) {
    process.stdout.write('== in-kernel cost per program, median of several rounds ==\n');
    const tree = args.find((a) => a.startsWith('--tree='))?.slice('--tree='.length);
    const rounds = args.find((a) => a.startsWith('--rounds='));
    const loops = process.env.VIGIL_BENCH_LOOPS?.split(/\s*;\s*/).filter((x) => x);
    const reps = args.find((a) => a.startsWith('--reps='));
    const r = await runKernelBench({
      tree,
      rounds: rounds ? Number(rounds.split('=')[1]) : undefined,
      reps: reps ? Number(reps.split('=')[1]) : undefined,
      loops,
    });
    process.stdout.write(kernelTable(r) + '\n\n');
    results.kernel = r;
  }

  // only when named: where the in-kernel time goes, source line by source line (perf)
  if (only.includes('profile')) {
    process.stdout.write('== in-kernel time by BPF source line, perf samples of each loop ==\n');
    const tree = args.find((a) => a.startsWith('--tree='))?.slice('--tree='.length);
    const secs = args.find((a) => a.startsWith('--seconds='));
    const loops = process.env.VIGIL_BENCH_LOOPS?.split(/\s*;\s*/).filter((x) => x);
    const r = await runProfileBench({ tree, seconds: secs ? Number(secs.split('=')[1]) : undefined, loops });
    process.stdout.write(profileTable(r) + '\n\n');
    results.profile = r;
  }

  // only when named: two checkouts' in-kernel cost measured at the same time (before/after budgets)
  if (only.includes('pair')) {
    process.stdout.write('== in-kernel cost of two trees, both loaded, attach order alternating ==\n');
    const opt = (k: string): string | undefined => args.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
    const a = opt('a');
    if (!a) throw new Error('bench pair: --a=DIR (the tree to compare against) is required; --b=DIR defaults to this one');
    const rounds = opt('rounds');
    const loops = process.env.VIGIL_BENCH_LOOPS?.split(/\s*;\s*/).filter((x) => x);
    const r = await runPairBench({ a, b: opt('b') ?? path.join(__dirname, '..', '..'), rounds: rounds ? Number(rounds) : undefined, loops });
    process.stdout.write(pairTable(r) + '\n\n');
    results.pair = r;
  }

  // minutes long: only when named
  if (only.includes('noise')) {
    process.stdout.write('== default pack on a benign busy workload: a CI build in a workload cgroup ==\n');
    const it = args.find((a) => a.startsWith('--iterations='));
    const r = await runNoiseBench({ iterations: it ? Number(it.split('=')[1]) : 1 });
    process.stdout.write(noiseTable(r) + '\n\n');
    results.noise = r;
  }

  const file = path.join(outDir, `bench-${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`JSON: ${file}\n`);
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
