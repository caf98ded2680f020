// A load generator for the control plane: one agent's uplink and spool, in
// its own process, sending N synthetic alerts as fast as the link takes them.
//   node dist/bench/fake-agent.js ADDRESS CERTS NODE COUNT SPOOL_DIR
import type { Alert } from '../agent/export/alert';
import { rfc3339Nanos } from '../common/time';
import { readTrustDomain } from '../common/spiffe/local-ca';
import { Spool } from '../agent/export/spool';
import { testUplink } from '../test/helpers/uplink';

async function main(): Promise<void> {
  const [address, certs, node, countText, spoolDir] = process.argv.slice(2);
  const count = Number(countText);
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
  for (let i = 0; i < count; ) {
    for (let k = 0; k < 1000 && i < count; k++, i++) {
      up.send({ ...base, time: rfc3339Nanos(BigInt(Date.now()) * 1_000_000n), output: `bench alert ${i}` });
    }
    await new Promise((r) => setImmediate(r));
  }
  while (spool.stats().depth > 0) await new Promise((r) => setTimeout(r, 10));
  await up.stop();
  spool.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`fake-agent: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
