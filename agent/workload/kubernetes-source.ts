// Pod identity: the pods of this node, watched through the Kubernetes API
// (@kubernetes/client-node's ListWatch, field selector spec.nodeName), give
// every pod a SPIFFE ID from a template, map pod UIDs and container ids (both
// read from cgroup paths at event time) to pods and containers, and pod IPs to
// SPIFFE IDs for destination rules.
//
// What the watch survives:
//   - pod churn: pods are keyed by UID; a pod recreated under the same name
//     (StatefulSet) is a new pod, the old one a tombstone;
//   - watch expiry: a 410 Gone (as a watch event or as the HTTP status) clears
//     the resourceVersion and the informer lists again; pods missing from the
//     new list are deleted;
//   - API server outages: the last known map stays in force while we retry
//     with capped, jittered backoff, and is reconciled by the next list;
//   - short-lived containers: the cgroup path is read when the event happens,
//     so the pod UID and container id survive the container; deleted pods stay
//     known for a grace period, and a pod we have not seen yet is `pending` so
//     its alerts can wait for enrichment.
import * as k8s from '@kubernetes/client-node';
import * as fs from 'node:fs';
import { errorMessage, VigilError } from '../../common/errors';
import { parseCidr } from '../../common/cidr';
import type { AddressIdentity, CgroupFacts, IdentityChange, IdentitySource, KubernetesMeta } from './source';
import { checkSpiffeId, checkTrustDomain } from '../../common/spiffe/spiffe-id';

export const DEFAULT_SPIFFE_TEMPLATE = 'spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}';
export const DEFAULT_WORKLOAD_TRUST_DOMAIN = 'cluster.local';

export interface KubernetesOptions {
  /** the node whose pods are watched (spec.nodeName) */
  node: string;
  /** trust domain of the workloads' SPIFFE IDs */
  trustDomain: string;
  /** SPIFFE ID template (DEFAULT_SPIFFE_TEMPLATE) */
  template?: string;
  /** a kubeconfig file; default: KUBECONFIG, ~/.kube/config, or the in-cluster service account */
  kubeconfig?: string;
  /** an already loaded configuration (tests) */
  kubeConfig?: k8s.KubeConfig;
  /** how long a deleted pod stays known for late events and enrichment (default 60 s) */
  tombstoneMs?: number;
  /** retry backoff after an API error: first and maximum delay (default 500 ms, 30 s) */
  backoffMs?: [number, number];
  log: (line: string) => void;
}

/** What one pod is to us. */
interface PodEntry {
  uid: string;
  namespace: string;
  name: string;
  serviceAccount: string;
  spiffeId: string | null;
  ips: string[];
  /** container id (64 hex) -> name, image */
  containers: Map<string, { name: string; image: string }>;
  created: number;
}

export interface KubernetesStatus {
  /** a list has succeeded since the last error */
  synced: boolean;
  pods: number;
  lists: number;
  watchErrors: number;
  lastError: string | null;
}

type Placeholder = (pod: k8s.V1Pod, td: string, node: string) => string | undefined;

/** Parse a SPIFFE ID template; unknown placeholders and templates that cannot make a SPIFFE ID are refused. */
export function compileTemplate(template: string, trustDomain: string): (pod: k8s.V1Pod, node: string) => string | null {
  const parts: (string | Placeholder)[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    parts.push(template.slice(last, m.index));
    const name = m[1];
    if (name === 'trust_domain') parts.push((_p, td) => td);
    else if (name === 'namespace') parts.push((p) => p.metadata?.namespace);
    else if (name === 'service_account') parts.push((p) => p.spec?.serviceAccountName || 'default');
    else if (name === 'pod') parts.push((p) => p.metadata?.name);
    else if (name === 'node') parts.push((_p, _td, node) => node);
    else if (name.startsWith('label:') && name.length > 6) parts.push((p) => p.metadata?.labels?.[name.slice(6)]);
    else if (name.startsWith('annotation:') && name.length > 11) parts.push((p) => p.metadata?.annotations?.[name.slice(11)]);
    else {
      throw new VigilError(
        'BAD_ARGUMENT',
        `--spiffe-template "${template}": unknown placeholder {${name}} (expected {trust_domain}, {namespace}, {service_account}, {pod}, {node}, {label:KEY}, {annotation:KEY})`,
      );
    }
    last = m.index + m[0].length;
  }
  parts.push(template.slice(last));
  if (/[{}]/.test(parts.filter((p) => typeof p === 'string').join(''))) {
    throw new VigilError('BAD_ARGUMENT', `--spiffe-template "${template}": unbalanced { or }`);
  }
  const badTd = checkTrustDomain(trustDomain);
  if (badTd) throw new VigilError('BAD_ARGUMENT', `--workload-trust-domain "${trustDomain}": ${badTd}`);
  const render = (pod: k8s.V1Pod, node: string): string | null => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const v = p(pod, trustDomain, node);
        if (v === undefined || v === '') return null;
        out += v;
      }
    }
    return checkSpiffeId(out).ok ? out : null;
  };
  const sample: k8s.V1Pod = {
    metadata: { namespace: 'default', name: 'pod', labels: new Proxy({}, { get: () => 'x' }), annotations: new Proxy({}, { get: () => 'x' }) },
    spec: { serviceAccountName: 'default', containers: [] },
  };
  let probe = '';
  for (const p of parts) probe += typeof p === 'string' ? p : (p(sample, trustDomain, 'node') ?? '');
  const c = checkSpiffeId(probe);
  if (!c.ok) throw new VigilError('BAD_ARGUMENT', `--spiffe-template "${template}": makes "${probe}" for a sample pod, which is not a SPIFFE ID: ${c.reason}`);
  return render;
}

/** "containerd://<64 hex>", "cri-o://...", "docker://..." -> the 64 hex digits, or null. */
export function containerIdOf(s: string | undefined): string | null {
  if (!s) return null;
  const m = /^[a-z0-9-]+:\/\/([0-9a-f]{64})$/.exec(s);
  return m ? m[1] : null;
}

/** Where a kubeconfig comes from: the file given, else the library's default search (KUBECONFIG, ~/.kube/config, in-cluster). */
export function loadKubeConfig(file?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err) {
    throw new VigilError('KUBERNETES', `--kubernetes: cannot load the kubeconfig${file ? ` ${file}` : ''}: ${errorMessage(err)}`);
  }
  if (!kc.getCurrentCluster()) throw new VigilError('KUBERNETES', `--kubernetes: the kubeconfig${file ? ` ${file}` : ''} names no current cluster`);
  return kc;
}

/** True inside a pod with a service account token: --kubernetes is then the default. */
export function inCluster(env: NodeJS.ProcessEnv = process.env, tokenFile = '/var/run/secrets/kubernetes.io/serviceaccount/token'): boolean {
  if (!env.KUBERNETES_SERVICE_HOST) return false;
  try {
    return fs.statSync(tokenFile).isFile();
  } catch {
    return false;
  }
}

export class KubernetesIdentitySource implements IdentitySource {
  readonly name: string;
  private readonly pods = new Map<string, PodEntry>();
  /** namespace/name -> uid of the live pod of that name */
  private readonly byName = new Map<string, string>();
  private readonly byContainer = new Map<string, { uid: string; name: string; image: string }>();
  private readonly byIp = new Map<string, string>();
  /** uid -> when a deleted pod is forgotten */
  private readonly tombstones = new Map<string, number>();
  private addrs: AddressIdentity[] = [];
  private readonly listeners: ((c: IdentityChange) => void)[] = [];
  private readonly render: (pod: k8s.V1Pod, node: string) => string | null;
  private readonly informer: k8s.ListWatch<k8s.V1Pod>;
  private readonly badTemplateLogged = new Set<string>();
  private retry: NodeJS.Timeout | undefined;
  private sweep: NodeJS.Timeout;
  private attempt = 0;
  private closed = false;
  private firstList: Promise<void>;
  private firstListDone: () => void = () => undefined;
  readonly status: KubernetesStatus = { synced: false, pods: 0, lists: 0, watchErrors: 0, lastError: null };

  constructor(private readonly o: KubernetesOptions) {
    this.render = compileTemplate(o.template ?? DEFAULT_SPIFFE_TEMPLATE, o.trustDomain);
    const kc = o.kubeConfig ?? loadKubeConfig(o.kubeconfig);
    this.name = `kubernetes (${kc.getCurrentCluster()?.server ?? '?'}, node ${o.node})`;
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const fieldSelector = `spec.nodeName=${o.node}`;
    this.firstList = new Promise((r) => (this.firstListDone = r));
    const list = async (): Promise<k8s.V1PodList> => {
      const l = await core.listPodForAllNamespaces({ fieldSelector });
      this.status.lists++;
      this.reachable(`listed ${l.items.length} pods of node ${o.node}`);
      // the informer applies the list after this returns
      setImmediate(() => this.firstListDone());
      return l;
    };
    // After an outage the informer resumes the watch from its resourceVersion (no list unless
    // the server says 410): a watch the server accepted is the sign that we are in sync again.
    const reachable = (what: string): void => this.reachable(what);
    class ResumingWatch extends k8s.Watch {
      override async watch(
        path: string,
        query: Record<string, string | number | boolean | undefined>,
        cb: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
        done: (err: unknown) => void,
      ): Promise<AbortController> {
        let failed = false;
        const c = await super.watch(path, query, cb, (err: unknown) => {
          if (err) failed = true;
          done(err);
        });
        if (!failed) reachable(`watching pods of node ${o.node} from resourceVersion ${String(query.resourceVersion ?? '')}`);
        return c;
      }
    }
    // The server ends each watch after timeoutSeconds (spread, as client-go's reflector does) so a
    // connection that died silently is noticed; bookmarks keep the resourceVersion fresh.
    const timeout = 300 + Math.floor(Math.random() * 300);
    this.informer = new k8s.ListWatch<k8s.V1Pod>(
      `/api/v1/pods?timeoutSeconds=${timeout}&allowWatchBookmarks=true`,
      new ResumingWatch(kc),
      list,
      false,
      undefined,
      fieldSelector,
    );
    this.informer.on(k8s.ADD, (p) => this.upsert(p));
    this.informer.on(k8s.UPDATE, (p) => this.upsert(p));
    this.informer.on(k8s.DELETE, (p) => this.remove(p));
    this.informer.on(k8s.ERROR, (err) => this.failed(err));
    this.sweep = setInterval(() => this.forget(), Math.min(this.o.tombstoneMs ?? 60_000, 10_000));
    this.sweep.unref();
  }

  /** Start watching; resolves once the first list is applied, or after waitMs (the API may be down: we keep trying). */
  async start(waitMs: number): Promise<boolean> {
    void this.informer.start().catch((err: unknown) => this.failed(err));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), waitMs)));
    const ok = await Promise.race([this.firstList.then(() => true), timedOut]);
    clearTimeout(timer);
    return ok;
  }

  private reachable(what: string): void {
    if (!this.status.synced && this.status.lastError !== null) this.o.log(`kubernetes: API server reachable again: ${what}`);
    this.status.synced = true;
    this.status.lastError = null;
    this.attempt = 0;
  }

  private failed(err: unknown): void {
    if (this.closed) return;
    this.status.watchErrors++;
    const msg = describe(err);
    if (this.status.synced || this.status.lastError === null) {
      this.o.log(`kubernetes: list/watch of pods on node ${this.o.node} failed (${msg}); keeping the last known ${this.pods.size} pods, retrying`);
    }
    this.status.synced = false;
    this.status.lastError = msg;
    const [first, max] = this.o.backoffMs ?? [500, 30_000];
    const base = Math.min(max, first * 2 ** Math.min(this.attempt, 16));
    this.attempt++;
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closed) void this.informer.start().catch((e: unknown) => this.failed(e));
    }, delay);
  }

  private upsert(pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid;
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    if (!uid) return;
    const change = { podUids: new Set<string>([uid]), containerIds: new Set<string>(), addresses: false };
    // a pod recreated under the same name (StatefulSet) is another pod
    const prevUid = this.byName.get(`${ns}/${name}`);
    if (prevUid !== undefined && prevUid !== uid) {
      this.dropPod(prevUid, change);
      change.podUids.add(prevUid);
    }
    this.byName.set(`${ns}/${name}`, uid);
    this.tombstones.delete(uid);
    const old = this.pods.get(uid);
    const spiffeId = this.render(pod, this.o.node);
    if (spiffeId === null && !this.badTemplateLogged.has(uid)) {
      this.badTemplateLogged.add(uid);
      this.o.log(`kubernetes: pod ${ns}/${name}: the SPIFFE ID template makes no valid SPIFFE ID (missing label or annotation?); the pod has no identity`);
    }
    const containers = new Map<string, { name: string; image: string }>();
    const st = pod.status;
    for (const c of [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? []), ...(st?.ephemeralContainerStatuses ?? [])]) {
      const id = containerIdOf(c.containerID);
      if (id) containers.set(id, { name: c.name, image: c.image });
      // a restarted container's previous instance may still have events in flight
      const prev = containerIdOf(c.lastState?.terminated?.containerID);
      if (prev && !containers.has(prev)) containers.set(prev, { name: c.name, image: c.image });
    }
    // pods that finished give their IPs back; a host-network pod's IP is the node's
    const done = st?.phase === 'Succeeded' || st?.phase === 'Failed';
    const ips = done || pod.spec?.hostNetwork ? [] : podIps(pod);
    const entry: PodEntry = {
      uid,
      namespace: ns,
      name,
      serviceAccount: pod.spec?.serviceAccountName || 'default',
      spiffeId,
      ips,
      containers,
      created: Date.parse(String(pod.metadata?.creationTimestamp ?? '')) || 0,
    };
    if (old) {
      for (const id of old.containers.keys()) {
        if (!containers.has(id) && this.byContainer.get(id)?.uid === uid) this.byContainer.delete(id);
      }
      change.addresses = old.ips.join() !== ips.join() || old.spiffeId !== spiffeId;
    } else {
      change.addresses = ips.length > 0;
    }
    for (const [id, c] of containers) {
      const had = this.byContainer.get(id);
      if (!had || had.uid !== uid || had.name !== c.name) change.containerIds.add(id);
      this.byContainer.set(id, { uid, ...c });
    }
    this.pods.set(uid, entry);
    if (old) for (const ip of old.ips) if (this.byIp.get(ip) === uid) this.byIp.delete(ip);
    for (const ip of ips) {
      // two live pods claiming one IP: the newer one has it
      const holder = this.pods.get(this.byIp.get(ip) ?? '');
      if (!holder || holder.uid === uid || holder.created <= entry.created) this.byIp.set(ip, uid);
    }
    const same =
      old !== undefined &&
      old.spiffeId === spiffeId &&
      old.namespace === ns &&
      old.name === name &&
      change.containerIds.size === 0 &&
      old.containers.size === containers.size &&
      !change.addresses;
    if (!same) this.changed(change);
  }

  private remove(pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const change = { podUids: new Set<string>([uid]), containerIds: new Set<string>(), addresses: false };
    this.dropPod(uid, change);
    this.changed(change);
  }

  /** A pod is gone: its addresses at once, its identity after the grace period. */
  private dropPod(uid: string, change: { addresses: boolean }): void {
    const p = this.pods.get(uid);
    if (!p) return;
    if (this.byName.get(`${p.namespace}/${p.name}`) === uid) this.byName.delete(`${p.namespace}/${p.name}`);
    for (const ip of p.ips) {
      if (this.byIp.get(ip) === uid) {
        this.byIp.delete(ip);
        change.addresses = true;
      }
    }
    p.ips = [];
    this.tombstones.set(uid, Date.now() + (this.o.tombstoneMs ?? 60_000));
  }

  private forget(): void {
    const now = Date.now();
    for (const [uid, until] of this.tombstones) {
      if (until > now) continue;
      this.tombstones.delete(uid);
      const p = this.pods.get(uid);
      if (p) for (const id of p.containers.keys()) if (this.byContainer.get(id)?.uid === uid) this.byContainer.delete(id);
      this.pods.delete(uid);
      this.badTemplateLogged.delete(uid);
    }
    this.status.pods = this.pods.size - this.tombstones.size;
  }

  private changed(c: IdentityChange): void {
    this.status.pods = this.pods.size - this.tombstones.size;
    if (c.addresses) this.rebuildAddresses();
    for (const l of this.listeners) l(c);
  }

  private rebuildAddresses(): void {
    const out: AddressIdentity[] = [];
    for (const [ip, uid] of this.byIp) {
      const id = this.pods.get(uid)?.spiffeId;
      const cidr = parseCidr(ip);
      if (id && cidr) out.push({ cidr, spiffeId: id });
    }
    this.addrs = out;
  }

  private podOf(cg: CgroupFacts): { pod: PodEntry; container: { name: string; image: string } | null } | null {
    if (cg.containerId) {
      const c = this.byContainer.get(cg.containerId);
      if (c) {
        const pod = this.pods.get(c.uid);
        if (pod) return { pod, container: { name: c.name, image: c.image } };
      }
    }
    if (cg.podUid) {
      const pod = this.pods.get(cg.podUid);
      if (pod) return { pod, container: null };
    }
    return null;
  }

  spiffeIdFor(cg: CgroupFacts): string | null {
    return this.podOf(cg)?.pod.spiffeId ?? null;
  }

  metaFor(cg: CgroupFacts): KubernetesMeta | null {
    const hit = this.podOf(cg);
    if (!hit) return null;
    return {
      namespace: hit.pod.namespace,
      pod: hit.pod.name,
      pod_uid: hit.pod.uid,
      service_account: hit.pod.serviceAccount,
      container: hit.container?.name ?? null,
      image: hit.container?.image ?? null,
    };
  }

  pending(cg: CgroupFacts): boolean {
    if (!cg.podUid && !cg.containerId) return false;
    const hit = this.podOf(cg);
    if (!hit) return true;
    // a container whose status the kubelet has not posted yet (a pod sandbox's never is: it waits the bound out)
    return cg.containerId !== null && hit.container === null;
  }

  addresses(): readonly AddressIdentity[] {
    return this.addrs;
  }

  spiffeIds(): readonly string[] {
    const ids = new Set<string>();
    for (const [uid, p] of this.pods) if (p.spiffeId && !this.tombstones.has(uid)) ids.add(p.spiffeId);
    return [...ids];
  }

  subscribe(cb: (c: IdentityChange) => void): void {
    this.listeners.push(cb);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    clearInterval(this.sweep);
    await this.informer.stop();
  }
}

function podIps(pod: k8s.V1Pod): string[] {
  const list = (pod.status?.podIPs ?? []).map((x) => x.ip).filter((x): x is string => typeof x === 'string' && x !== '');
  if (list.length === 0 && pod.status?.podIP) list.push(pod.status.podIP);
  return [...new Set(list)].filter((ip) => parseCidr(ip) !== null);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const e = err as Error & { code?: string | number; statusCode?: number; body?: unknown };
    const status = e.statusCode ?? (typeof e.code === 'number' ? e.code : undefined);
    const text = e.message.split('\n')[0];
    return status !== undefined ? `HTTP ${status}: ${text}` : e.code ? `${String(e.code)}: ${text}` : text;
  }
  return String(err);
}
