// Which identity sources an agent runs: the identities file (hosts, tests,
// `vigil up`), the Kubernetes pods of this node (asked for, or on by itself
// inside a cluster), or both (the file wins where it names a cgroup).
import { CompositeIdentitySource } from './composite-source';
import { DEFAULT_WORKLOAD_TRUST_DOMAIN, inCluster, KubernetesIdentitySource } from './kubernetes-source';
import type { IdentitySource } from './source';
import { StaticIdentitySource } from './static-source';

/** Pod identity from the Kubernetes API (docs/deploy.md). */
export interface KubernetesLink {
  /** a kubeconfig file (default: KUBECONFIG, ~/.kube/config, or the in-cluster service account) */
  kubeconfig?: string;
  /** SPIFFE ID template (default spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}) */
  template?: string;
  /** trust domain of the workloads (default: the agent's own, else cluster.local) */
  trustDomain?: string;
  /** how long start waits for the first pod list (default 10 s; the agent starts anyway) */
  syncWaitMs?: number;
}

export interface SourceOptions {
  node: string;
  identities?: string;
  /** undefined: on when running in a cluster (service account token present); false: off */
  kubernetes?: KubernetesLink | false;
  /** the agent's own trust domain, the default for pods' */
  trustDomain?: string;
  log(line: string): void;
}

export interface OpenedSources {
  identities: IdentitySource;
  kube: KubernetesIdentitySource | null;
}

/** Open the sources; with Kubernetes, wait (bounded) for the first pod list. */
export async function openIdentitySources(o: SourceOptions): Promise<OpenedSources> {
  const fromFile = o.identities ? StaticIdentitySource.load(o.identities) : null;
  const k = o.kubernetes ?? (inCluster() ? {} : false);
  if (!k) return { identities: fromFile ?? StaticIdentitySource.empty(), kube: null };
  const kube = new KubernetesIdentitySource({
    node: o.node,
    trustDomain: k.trustDomain ?? o.trustDomain ?? DEFAULT_WORKLOAD_TRUST_DOMAIN,
    template: k.template,
    kubeconfig: k.kubeconfig,
    log: o.log,
  });
  const waitMs = k.syncWaitMs ?? 10_000;
  if (!(await kube.start(waitMs))) {
    o.log(`kubernetes: no pod list within ${waitMs / 1000} s (${kube.status.lastError ?? 'no answer'}); starting without pod identities, still trying`);
  }
  return { identities: fromFile ? new CompositeIdentitySource([fromFile, kube]) : kube, kube };
}
