// `vigil controlplane`: the control plane server (gRPC over mTLS, the SQLite
// store, signed policy, metrics) until SIGINT/SIGTERM.
import { Option, type Command } from 'commander';
import { hostPort, integer, need, tlsFlags, tlsOptions, vdpConfigOption, vigilCommand, type CliIo, type TlsOptionValues } from './args';
import { untilStopped } from './signals';

interface Values extends TlsOptionValues {
  listen: string;
  data: string;
  metrics?: string;
  agentId?: string[];
  adminId?: string[];
  retentionDays?: number;
  agentRate?: number;
  maxBatchAlerts?: number;
  nodeRanges?: string;
  workloadTrustDomain?: string[];
  identityMaxWidth?: number;
  identityMaxEntries?: number;
  maxPolicyBytes?: number;
  vdpConfig?: string;
  vexKey?: string;
}

export function controlplaneCommand(io?: CliIo): Command {
  const cmd = tlsOptions(
    vigilCommand('controlplane', 'the control plane: agents stream alerts in, signed policy and the identity map go out')
      .addOption(new Option('--listen <host:port>', 'gRPC address (required)').argParser(hostPort('--listen')))
      .addOption(new Option('--data <dir>', 'where the SQLite store lives (required)'))
      .addOption(new Option('--metrics <host:port>', '/metrics and /healthz').argParser(hostPort('--metrics')))
      .addOption(new Option('--agent-id <pattern...>', 'SPIFFE ID patterns of agents (default spiffe://TD/vigil/agent/*)'))
      .addOption(new Option('--admin-id <pattern...>', 'SPIFFE ID patterns of admins (default spiffe://TD/vigil/admin/*)'))
      .addOption(new Option('--retention-days <n>', 'days of alerts to keep (0: forever)').argParser(integer('--retention-days', 0, 36500)))
      .addOption(
        new Option('--agent-rate <n>', 'alerts per second one agent may send; past it its stream is paused, its spool holds on (0: no quota)')
          .argParser(integer('--agent-rate', 0, 10_000_000))
          .default(20_000),
      )
      .addOption(
        new Option('--max-batch-alerts <n>', 'the most alerts one batch may carry (a larger batch ends the stream)').argParser(integer('--max-batch-alerts', 1, 1_000_000)).default(10_000),
      )
      .addOption(new Option('--node-ranges <file>', 'YAML: the address ranges each node may claim for its workloads (without it identity reports are refused)'))
      .addOption(new Option('--workload-trust-domain <td...>', 'trust domains of workload SPIFFE IDs nodes may report (default: ours)'))
      .addOption(new Option('--identity-max-width <bits>', 'the most host bits one reported address block may cover (8: /24, /120)').argParser(integer('--identity-max-width', 0, 32)).default(8))
      .addOption(new Option('--identity-max-entries <n>', 'the most addresses one node may report').argParser(integer('--identity-max-entries', 1, 1_000_000)).default(4096))
      .addOption(
        new Option('--max-policy-bytes <n>', 'the largest signed policy a push may make (agents take 64 MiB); a larger push is refused naming the limit')
          .argParser(integer('--max-policy-bytes', 1024, 1 << 30))
          .default(16 << 20),
      )
      .addOption(vdpConfigOption())
      .addOption(new Option('--vex-key <file>', 'ECDSA P-256 key (PKCS #8 PEM) that signs VEX documents (default: DATA/vex-signing.key, made at first start)')),
    { policyKey: true, serverId: false },
  );
  if (io) cmd.action(async (v: Partial<Values>) => io.exit(await runControlPlane({ ...v, listen: need(v.listen, '--listen', cmd), data: need(v.data, '--data', cmd) }, io)));
  return cmd;
}

async function runControlPlane(v: Values, io: CliIo): Promise<number> {
  const { startControlPlane } = await import('../controlplane/controlplane');
  const running = await startControlPlane({
    listen: v.listen,
    dataDir: v.data,
    ...tlsFlags(v),
    insecure: v.insecure === true,
    agentIds: v.agentId,
    adminIds: v.adminId,
    metricsAddress: v.metrics,
    retentionDays: v.retentionDays,
    agentRate: v.agentRate,
    maxBatchAlerts: v.maxBatchAlerts,
    nodeRanges: v.nodeRanges,
    workloadTrustDomains: v.workloadTrustDomain,
    identityMaxWidth: v.identityMaxWidth,
    identityMaxEntries: v.identityMaxEntries,
    maxPolicyBytes: v.maxPolicyBytes,
    vdpConfig: v.vdpConfig,
    vexKey: v.vexKey,
    log: (l) => io.err.write(`vigil controlplane: ${l}\n`),
  });
  io.err.write(
    `vigil controlplane: listening on ${v.listen.replace(/:\d+$/, '')}:${running.port}${running.trustDomain ? ` (mTLS, trust domain ${running.trustDomain})` : ''}` +
      `${running.metricsServer ? `, metrics on :${running.metricsServer.port}` : ''}\n`,
  );
  await untilStopped();
  await running.close();
  return 0;
}
