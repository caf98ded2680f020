// A load generator for the control plane: one agent's uplink and spool, in
// its own process, sending N synthetic alerts as fast as the link takes them,
// or at RATE alerts per second (each stamped with the time it is raised).
//   node dist/bench/fake-agent.js ADDRESS CERTS NODE COUNT SPOOL_DIR [RATE]
// It says "ready" on stdout once connected and starts when a line comes on
// stdin (so that every agent starts together, none during another's start-up).
import type { Alert } from '../agent/export/alert';
import { rfc3339Nanos } from '../common/time';
import { readTrustDomain } from '../common/spiffe/local-ca';
import { Spool } from '../agent/export/spool';
import { testUplink } from '../test/helpers/uplink';

async function main(): Promise<void> {
  const [address, certs, node, countText, spoolDir, rateText] = process.argv.slice(2);
  const count = Number(countText);
  const rate = Number(rateText ?? 0);
  const td = readTrustDomain(certs);
  const spool = new Spool(spoolDir, `boot-${node}`, count + 10, 1 << 30);
  const up = testUplink({ address, certs, trustDomain: td, node, bootId: `boot-${node}`, spool, version: 'bench', batchSize: 1000 });
  up.start();
  const base: Omit<Alert, 'time' | 'output'> = {
    rule: 'bench-rule',
    priority: 'warning',
    action: 'alert',
    outcome: 'alerted',
    tags: ['bench'],
    node,
    workload: { spiffe_id: `spiffe://${td}/ns/bench/sa/w`, cgroup_id: 1, cgroup: '/bench', container_id: null, pod_uid: null, kubernetes: null, image: null },
    process: { pid: 1, ppid: 0, exe: '/usr/bin/true', args: ['true'], uid: 0, exec_id: null, parent_exe: null },
    event: { kind: 'exec' },
  };
  while (!up.stats.connected) await new Promise((r) => setTimeout(r, 10));
  process.stdout.write('ready\n');
  await new Promise<void>((r) => process.stdin.once('data', () => r()));
  process.stdin.pause();
  const t0 = Date.now();
  for (let i = 0; i < count; ) {
    // paced: what is due by now (every 10 ms, as an agent reads its ring buffer), else as fast as the link takes them
    const due = rate > 0 ? Math.min(count, Math.floor(((Date.now() - t0) / 1000) * rate)) : i + 1000;
    for (; i < due && i < count; i++) {
      up.send({ ...base, time: rfc3339Nanos(BigInt(Date.now()) * 1_000_000n), output: `bench alert ${i}` });
    }
    await new Promise((r) => (rate > 0 ? setTimeout(r, 10) : setImmediate(r)));
  }
  while (spool.stats().depth > 0) await new Promise((r) => setTimeout(r, 10));
  await up.stop();
  spool.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`fake-agent: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
