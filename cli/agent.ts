// `vigil agent`: its options, and running it until stopped.
import { VigilError } from '../common/errors';
import { splitHostPort } from '../common/host-port';
import { Agent, type AgentOptions, type ControlPlaneLink } from '../agent/agent';
import type { KubernetesLink } from '../agent/workload/sources';
import { ArgReader } from './args';
import { untilStopped } from './signals';

export function parseAgentArgs(argv: string[]): Omit<AgentOptions, 'out' | 'err'> & { durationMs?: number } {
  const o: Omit<AgentOptions, 'out' | 'err'> & { durationMs?: number } = { rules: [], output: 'json' };
  let cp: Partial<ControlPlaneLink> | undefined;
  const link = (): Partial<ControlPlaneLink> => (cp ??= { insecure: false });
  let kube: KubernetesLink | false | undefined;
  const k8s = (): KubernetesLink => {
    if (kube === false) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --no-kubernetes with a Kubernetes option');
    if (kube === undefined) kube = {};
    return kube;
  };
  const r = new ArgReader(argv);
  for (let flag = r.next(); flag !== undefined; flag = r.next()) {
    switch (flag) {
      case '--rules':
        o.rules.push(...r.values());
        break;
      case '--identities':
        o.identities = r.value();
        break;
      case '--kubernetes':
        r.switch('use --kubeconfig FILE');
        k8s();
        break;
      case '--no-kubernetes':
        r.switch();
        if (kube) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --no-kubernetes with a Kubernetes option');
        kube = false;
        break;
      case '--kubeconfig':
        k8s().kubeconfig = r.value();
        break;
      case '--spiffe-template':
        k8s().template = r.value();
        break;
      case '--workload-trust-domain':
        k8s().trustDomain = r.value();
        break;
      case '--enrich-wait':
        o.enrichWaitMs = r.seconds(0, 60);
        break;
      case '--output':
      case '-o':
        o.output = r.output();
        break;
      case '--node':
        o.node = r.value();
        break;
      case '--controlplane':
        link().address = r.value();
        break;
      case '--certs':
        link().certsDir = r.value();
        break;
      case '--cert':
        link().cert = r.value();
        break;
      case '--key':
        link().key = r.value();
        break;
      case '--server-id':
        link().serverId = r.value();
        break;
      case '--trust-domain':
        link().trustDomain = r.value();
        break;
      case '--bundle':
        link().bundle = r.value();
        break;
      case '--policy-key':
        link().policyKey = r.value();
        break;
      case '--insecure':
        r.switch();
        link().insecure = true;
        break;
      case '--state':
        o.stateDir = r.value();
        break;
      case '--metrics':
        o.metricsAddress = r.value();
        splitHostPort(o.metricsAddress);
        break;
      case '--duration':
        o.durationMs = r.seconds();
        break;
      default:
        r.unknown('agent');
    }
  }
  if (kube !== undefined) o.kubernetes = kube;
  if (cp) {
    if (!cp.address) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --certs, --bundle, --cert, --key, --trust-domain, --policy-key, --server-id and --insecure need --controlplane HOST:PORT');
    o.controlplane = { ...cp, address: cp.address, insecure: cp.insecure ?? false };
  }
  if (o.rules.length === 0 && !o.controlplane) throw new VigilError('BAD_ARGUMENT', 'vigil agent: --rules PATH... is required (or --controlplane for signed policy)');
  return o;
}

export async function runAgent(o: AgentOptions & { durationMs?: number }): Promise<void> {
  const agent = await Agent.start(o);
  await untilStopped(o.durationMs);
  await agent.stop();
  o.err.write(agent.summary());
}
