// One side of `bench pair`: load a checkout's probe scoped to a cgroup and answer on stdin.
//   node dist/bench/pair-child.js TREE CGROUP_DIR
// Prints "ready" once attached; then, per line read: "stats" -> one JSON line
// { delivered, progs: { name: { ns, runs } } } (its own programs' bpf_stats
// counters, cumulative); "close" -> detach, unload, exit 0.
import * as readline from 'node:readline';
import { ownPrograms, programStats } from './helpers';
import { loadTree } from './kernel';

async function main(): Promise<void> {
  const [tree, cg] = process.argv.slice(2);
  if (!tree || !cg) throw new Error('usage: pair-child TREE CGROUP_DIR');
  const { probe: mod, kinds } = loadTree(tree);
  const probe = mod.Probe.load({ kinds, cgroups: [cg] });
  let delivered = 0;
  probe.start((evs) => (delivered += evs.length));
  const progs = ownPrograms();
  process.stdout.write('ready\n');
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === 'stats') {
      process.stdout.write(JSON.stringify({ delivered, progs: Object.fromEntries(programStats(progs)) }) + '\n');
    } else if (line === 'close') {
      await probe.close();
      process.exit(0);
    }
  }
  // stdin closed without "close": the parent is gone
  await probe.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench pair-child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
