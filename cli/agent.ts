// `vigil agent`: match rules about SPIFFE workloads on this node; alert,
// kill or deny; with a control plane, durable delivery and signed policy.
import { loadOutputsFile } from '../common/outputs/config';
import { Option, type Command } from 'commander';
import * as fs from 'node:fs';
import { VigilError } from '../common/errors';
import type { AgentOptions, ControlPlaneLink } from '../agent/agent';
import type { KubernetesLink } from '../agent/workload/sources';
import { anyTlsOption, hostPort, integer, outputFormat, parseWith, seconds, tlsFlags, tlsOptions, vigilCommand, type CliIo, type TlsOptionValues } from './args';
import { untilStopped } from './signals';

export type AgentArgs = Omit<AgentOptions, 'out' | 'err'> & { durationMs?: number; uninstall?: boolean };

/** Where `vigil agent` pins the kernel's enforcement (bpffs). */
export const DEFAULT_PIN_DIR = '/sys/fs/bpf/vigil';

interface Values extends TlsOptionValues {
  rules?: string[];
  identities?: string;
  outputs?: string;
  kubernetes?: boolean;
  kubeconfig?: string;
  spiffeTemplate?: string;
  workloadTrustDomain?: string;
  enrichWait?: number;
  output: 'json' | 'text';
  node?: string;
  controlplane?: string;
  state?: string;
  metrics?: string;
  maxCgroups?: number;
  pinDir: string;
  pin: boolean;
  uninstall?: boolean;
  duration?: number;
  alertWindow?: number;
  alertRate: [string | null, number][];
  reach: boolean;
  reachInterval?: number;
}

/** --alert-rate N (every rule) or RULE=N (one rule): alerts a second a rule delivers on its own, 0 = no limit. */
function alertRate(v: string, prev: [string | null, number][] = []): [string | null, number][] {
  const m = /^(?:([A-Za-z0-9][A-Za-z0-9_.-]*)=)?(\d+)$/.exec(v);
  const n = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(n) || n > 1_000_000) throw new VigilError('BAD_ARGUMENT', `--alert-rate: expected N or RULE=N (alerts a second, 0 = no limit), got "${v}"`);
  return [...prev, [m[1] ?? null, n]];
}

export function agentCommand(io?: CliIo): Command {
  const cmd = tlsOptions(
    vigilCommand('agent', 'match rules about SPIFFE workloads on this node; alert, kill or deny (one JSON alert per line)')
      .addOption(new Option('--rules <path...>', 'rules files or directories (not needed with --controlplane: signed policy)'))
      .addOption(new Option('--identities <file>', 'cgroups, container ids and addresses -> SPIFFE IDs'))
      .addOption(new Option('--outputs <file>', "this node's own outputs: webhook, falcosidekick, syslog (docs/vdp.md)"))
      .addOption(new Option('--kubernetes', 'pod identity from the Kubernetes API (on by itself inside a cluster)'))
      .addOption(new Option('--no-kubernetes', 'no pod identity, even inside a cluster'))
      .addOption(new Option('--kubeconfig <file>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, in-cluster)'))
      .addOption(new Option('--spiffe-template <t>', 'SPIFFE ID of a pod (default spiffe://{trust_domain}/ns/{namespace}/sa/{service_account})'))
      .addOption(new Option('--workload-trust-domain <td>', "the pods' trust domain (default: the agent's, else cluster.local)"))
      .addOption(new Option('--enrich-wait <seconds>', 'how long an alert from a pod not seen yet waits for it (0-60, default 2)').argParser(seconds('--enrich-wait', 0, 60)))
      .addOption(new Option('-o, --output <format>', 'json or text').argParser(outputFormat()).default('json'))
      .addOption(new Option('--node <name>', 'this node (default: NODE_NAME, else the host name)'))
      .addOption(new Option('--controlplane <host:port>', 'the control plane: durable delivery, signed policy, the identity map').argParser(hostPort('--controlplane')))
      .addOption(new Option('--state <dir>', 'spool and last good policy (default /var/lib/vigil/agent)'))
      .addOption(new Option('--max-cgroups <n>', "size of the kernel's cgroups map: cgroups that name a workload of their own (default 16384)").argParser(integer('--max-cgroups', 16, 16777216)))
      .addOption(new Option('--metrics <host:port>', '/metrics and /healthz').argParser(hostPort('--metrics')))
      .addOption(new Option('--pin-dir <dir>', 'pin the kernel enforcement here (bpffs): kills and denies go on while no agent runs, and the next agent takes over').default(DEFAULT_PIN_DIR))
      .addOption(new Option('--no-pin', 'nothing outlives the agent: its programs detach when it stops'))
      .addOption(new Option('--uninstall', 'remove the pinned enforcement (stop the agent first) and exit'))
      .addOption(new Option('--alert-window <seconds>', 'repeats of an alert within this long go out as one, with their count (0-3600, 0: never; default 10)').argParser(seconds('--alert-window', 0, 3600)))
      .addOption(new Option('--alert-rate <n>', 'alerts a second each rule sends on its own, the rest are counted into one (N or RULE=N, repeatable; 0: no limit; default 100)').argParser(alertRate).default([]))
      .addOption(new Option('--reach-interval <seconds>', 'how often reachability reports go to the control plane (0.1-3600, default 10)').argParser(seconds('--reach-interval', 0.1, 3600)))
      .addOption(new Option('--no-reach', 'no runtime reachability: which files each image runs is not watched nor reported (docs/vex.md; on with --controlplane)'))
      .addOption(new Option('--duration <seconds>', 'stop after this long (tests, demos)').argParser(seconds('--duration'))),
    { policyKey: true, serverId: true },
  );
  if (io) cmd.action(async (v: Values) => io.exit(await runAgent({ ...agentArgs(v), out: io.out, err: io.err })));
  return cmd;
}

/** The options of `vigil agent ARGS...`, checked together. */
export function agentArgs(v: Values): AgentArgs {
  const o: AgentArgs = { rules: v.rules ?? [], output: v.output };
  if (v.pin) o.pinDir = v.pinDir;
  if (v.uninstall) {
    if (!v.pin) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --uninstall with --no-pin: name the directory with --pin-dir');
    return { ...o, uninstall: true };
  }
  const kubeFlags = v.kubeconfig !== undefined || v.spiffeTemplate !== undefined || v.workloadTrustDomain !== undefined;
  if (v.kubernetes === false && kubeFlags) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --no-kubernetes with a Kubernetes option');
  if (v.kubernetes === false) o.kubernetes = false;
  else if (v.kubernetes === true || kubeFlags) {
    const k: KubernetesLink = {};
    if (v.kubeconfig !== undefined) k.kubeconfig = v.kubeconfig;
    if (v.spiffeTemplate !== undefined) k.template = v.spiffeTemplate;
    if (v.workloadTrustDomain !== undefined) k.trustDomain = v.workloadTrustDomain;
    o.kubernetes = k;
  }
  if (v.identities !== undefined) o.identities = v.identities;
  if (v.outputs !== undefined) o.outputs = loadOutputsFile(v.outputs);
  if (v.enrichWait !== undefined) o.enrichWaitMs = v.enrichWait;
  if (v.node !== undefined) o.node = v.node;
  if (v.state !== undefined) o.stateDir = v.state;
  if (v.metrics !== undefined) o.metricsAddress = v.metrics;
  if (v.duration !== undefined) o.durationMs = v.duration;
  if (v.maxCgroups !== undefined) o.maxCgroups = v.maxCgroups;
  if (v.reach === false) o.reach = false;
  if (v.reachInterval !== undefined) o.reachIntervalMs = v.reachInterval;
  if (v.alertWindow !== undefined || v.alertRate.length) {
    const flood: NonNullable<AgentOptions['flood']> = {};
    if (v.alertWindow !== undefined) flood.windowMs = v.alertWindow;
    const perRule = new Map<string, number>();
    for (const [rule, n] of v.alertRate) {
      if (rule === null) flood.ratePerRule = n;
      else perRule.set(rule, n);
    }
    if (perRule.size) flood.ruleRates = perRule;
    o.flood = flood;
  }
  if (v.controlplane === undefined) {
    if (anyTlsOption(v)) {
      throw new VigilError('BAD_ARGUMENT', 'vigil agent: --certs, --bundle, --cert, --key, --trust-domain, --policy-key, --server-id and --insecure need --controlplane HOST:PORT');
    }
  } else {
    const cp: ControlPlaneLink = { address: v.controlplane, insecure: v.insecure === true, ...tlsFlags(v) };
    if (v.serverId !== undefined) cp.serverId = v.serverId;
    o.controlplane = cp;
  }
  if (o.rules.length === 0 && !o.controlplane) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --rules PATH... is required (or --controlplane for signed policy)');
  return o;
}

/** `vigil agent ARGS...` -> options (tests and the deploy checks use this). */
export function parseAgentArgs(argv: string[]): AgentArgs {
  return agentArgs(parseWith<Values>(agentCommand(), argv));
}

export async function runAgent(o: AgentArgs & Pick<AgentOptions, 'out' | 'err'>): Promise<number> {
  if (o.uninstall) {
    const { requirePrivileges } = await import('../agent/kernel/probe');
    const { native } = await import('../agent/kernel/native');
    requirePrivileges('vigil agent --uninstall');
    const dir = o.pinDir ?? DEFAULT_PIN_DIR;
    const removed = native().unpinAll(dir);
    try {
      fs.rmdirSync(dir);
    } catch {
      // not there, or not empty (something else pinned there): left as it is
    }
    const links = removed.filter((p) => p.includes('/links/')).length;
    o.err.write(`vigil agent: uninstalled ${dir}: ${links} programs detached, ${removed.length - links} pins removed\n`);
    return 0;
  }
  const { Agent } = await import('../agent/agent');
  const agent = await Agent.start(o);
  await untilStopped(o.durationMs);
  await agent.stop();
  o.err.write(agent.summary());
  return 0;
}
