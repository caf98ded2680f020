// `vigil up`: a control plane (SQLite under a data directory) and an agent
// with the default rule pack on this host, mTLS from a freshly minted local
// trust domain, metrics on documented ports, alerts shown live. The one
// command (with cli/) that runs both sides.
import { Option, type Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VigilError } from '../common/errors';
import { repoRoot } from '../common/repo';
import { hostPort, outputFormat, parseWith, seconds, vdpConfigOption, vigilCommand, type CliIo } from './args';
import { DEFAULT_IDS } from './certs';
import { DEFAULT_DATA_DIR, writeLocal } from './local';
import { untilStopped } from './signals';
import type { Agent as AgentInstance } from '../agent/agent';

export interface UpOptions {
  dataDir: string;
  listen: string;
  agentMetrics: string;
  cpMetrics: string;
  trustDomain: string;
  rules: string[];
  identities?: string;
  /** the control plane's advisories, ticket sinks and outputs (docs/vdp.md) */
  vdpConfig?: string;
  output: 'json' | 'text';
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  durationMs?: number;
}

export const UP_DEFAULTS = {
  dataDir: DEFAULT_DATA_DIR,
  listen: '127.0.0.1:7443',
  agentMetrics: '127.0.0.1:9464',
  cpMetrics: '127.0.0.1:9465',
  trustDomain: 'vigil.local',
};

interface Values {
  data: string;
  listen: string;
  agentMetrics: string;
  controlplaneMetrics: string;
  trustDomain: string;
  rules?: string[];
  identities?: string;
  vdpConfig?: string;
  output: 'json' | 'text';
  duration?: number;
}

export function upCommand(io?: CliIo): Command {
  const cmd = vigilCommand('up', 'control plane + agent with the default rule pack on this host, mTLS from a local trust domain, alerts shown live')
    .addOption(new Option('--data <dir>', 'store, certificates, agent state').default(UP_DEFAULTS.dataDir))
    .addOption(new Option('--listen <host:port>', "the control plane's gRPC address").argParser(hostPort('--listen')).default(UP_DEFAULTS.listen))
    .addOption(new Option('--agent-metrics <host:port>', "the agent's /metrics").argParser(hostPort('--agent-metrics')).default(UP_DEFAULTS.agentMetrics))
    .addOption(new Option('--controlplane-metrics <host:port>', "the control plane's /metrics").argParser(hostPort('--controlplane-metrics')).default(UP_DEFAULTS.cpMetrics))
    .addOption(new Option('--trust-domain <td>', 'the local trust domain minted on first run').default(UP_DEFAULTS.trustDomain))
    .addOption(new Option('--rules <path...>', 'rules (default: deploy/rules/default.yaml)'))
    .addOption(new Option('--identities <file>', 'cgroups, container ids and addresses -> SPIFFE IDs'))
    .addOption(vdpConfigOption())
    .addOption(new Option('-o, --output <format>', 'json or text').argParser(outputFormat()).default('json'))
    .addOption(new Option('--duration <seconds>', 'stop after this long').argParser(seconds('--duration')));
  if (io) cmd.action(async (v: Values) => io.exit(await runUp({ ...upOptions(v), out: io.out, err: io.err })));
  return cmd;
}

export function parseUpArgs(argv: string[]): Omit<UpOptions, 'out' | 'err'> {
  return upOptions(parseWith<Values>(upCommand(), argv));
}

function upOptions(v: Values): Omit<UpOptions, 'out' | 'err'> {
  const o: Omit<UpOptions, 'out' | 'err'> = {
    dataDir: v.data,
    listen: v.listen,
    agentMetrics: v.agentMetrics,
    cpMetrics: v.controlplaneMetrics,
    trustDomain: v.trustDomain,
    rules: v.rules ?? [],
    output: v.output,
  };
  if (v.identities !== undefined) o.identities = v.identities;
  if (v.vdpConfig !== undefined) o.vdpConfig = v.vdpConfig;
  if (v.duration !== undefined) o.durationMs = v.duration;
  return o;
}

/** Mint the local trust domain once; later runs reuse it. */
export async function ensureLocalTrustDomain(certs: string, trustDomain: string, node: string): Promise<void> {
  if (fs.existsSync(path.join(certs, 'ca.key'))) return;
  const { initTrustDomain, issueSvid } = await import('../common/spiffe/local-ca');
  await initTrustDomain(certs, trustDomain);
  await issueSvid(certs, DEFAULT_IDS.controlplane(trustDomain), 'controlplane');
  await issueSvid(certs, DEFAULT_IDS.admin(trustDomain, 'local'), 'admin');
  await issueSvid(certs, DEFAULT_IDS.agent(trustDomain, node), 'agent');
}

export async function runUp(o: UpOptions): Promise<number> {
  const [{ startControlPlane }, { Agent }, { pushPolicy }] = await Promise.all([import('../controlplane/controlplane'), import('../agent/agent'), import('./admin')]);
  // a bad VDP configuration fails before anything is minted or started (the control plane reads it again: the file is its input)
  if (o.vdpConfig) (await import('../controlplane/vdp/config')).loadVdpConfig(o.vdpConfig);
  const node = os.hostname();
  const certs = path.join(o.dataDir, 'certs');
  await ensureLocalTrustDomain(certs, o.trustDomain, node);
  const log = (who: string) => (l: string) => o.err.write(`vigil ${who}: ${l}\n`);
  const cpData = path.join(o.dataDir, 'controlplane');
  const cp = await startControlPlane({
    listen: o.listen,
    dataDir: cpData,
    certsDir: certs,
    insecure: false,
    metricsAddress: o.cpMetrics,
    vdpConfig: o.vdpConfig,
    log: log('controlplane'),
  });
  const address = `127.0.0.1:${cp.port}`;
  writeLocal(o.dataDir, { address, certs, data: cpData });
  const cpMetrics = `${o.cpMetrics.replace(/:\d+$/, '')}:${cp.metricsServer?.port ?? ''}`;
  o.err.write(`vigil up: control plane on ${o.listen.replace(/:\d+$/, '')}:${cp.port} (mTLS, trust domain ${cp.trustDomain}), metrics on ${cpMetrics}\n`);
  const admin = { address, certsDir: certs, insecure: false };
  const rules = o.rules.length ? o.rules : [path.join(repoRoot(), 'deploy', 'rules', 'default.yaml')];
  for (const r of rules) if (!fs.existsSync(r)) throw new VigilError('BAD_ARGUMENT', `vigil up: ${r} does not exist`);
  if (!cp.store.latestPolicy()) {
    const p = await pushPolicy(admin, rules);
    o.err.write(`vigil up: rules ${rules.join(', ')} signed as policy v${p.version}\n`);
  }
  let agent: AgentInstance;
  try {
    agent = await Agent.start({
      rules,
      identities: o.identities,
      output: o.output,
      node,
      controlplane: { address, insecure: false, certsDir: certs },
      stateDir: path.join(o.dataDir, 'agent'),
      metricsAddress: o.agentMetrics,
      out: o.out,
      err: o.err,
    });
  } catch (err) {
    await cp.close();
    throw err;
  }
  o.err.write(
    `vigil up: running. Alerts below; also, on this host: vigil alerts --follow, vigil agents, vigil policy push FILE, vigil audit verify\n` +
      `vigil up: agent metrics http://${o.agentMetrics.replace(/:\d+$/, '')}:${agent.metricsServer?.port ?? ''}/metrics, control plane metrics http://${cpMetrics}/metrics\n`,
  );
  await untilStopped(o.durationMs);
  await agent.stop();
  o.err.write(agent.summary());
  await cp.close();
  return 0;
}
