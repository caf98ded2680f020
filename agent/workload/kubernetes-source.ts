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
import { Backoff } from '../../common/backoff';
import type { AddressIdentity, CgroupFacts, IdentityChange, IdentitySource, KubernetesMeta } from './source';
import { imageFromStatus, type ImageRef } from '../../common/image-ref';
import { PodIndex } from './kubernetes/pod-index';
import { compileTemplate } from './kubernetes/spiffe-template';

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

export interface KubernetesStatus {
  /** a list has succeeded since the last error */
  synced: boolean;
  pods: number;
  lists: number;
  watchErrors: number;
  lastError: string | null;
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
  private readonly index: PodIndex;
  private readonly listeners: ((c: IdentityChange) => void)[] = [];
  private readonly informer: k8s.ListWatch<k8s.V1Pod>;
  private retry: NodeJS.Timeout | undefined;
  private sweep: NodeJS.Timeout;
  private readonly backoff: Backoff;
  private closed = false;
  private firstList: Promise<void>;
  private firstListDone: () => void = () => undefined;
  readonly status: KubernetesStatus = { synced: false, pods: 0, lists: 0, watchErrors: 0, lastError: null };

  constructor(private readonly o: KubernetesOptions) {
    this.index = new PodIndex(compileTemplate(o.template ?? DEFAULT_SPIFFE_TEMPLATE, o.trustDomain), o.node, o.tombstoneMs ?? 60_000, o.log);
    const [first, max] = o.backoffMs ?? [500, 30_000];
    this.backoff = new Backoff(first, max, 'equal');
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
    this.informer.on(k8s.ADD, (p) => this.changed(this.index.upsert(p)));
    this.informer.on(k8s.UPDATE, (p) => this.changed(this.index.upsert(p)));
    this.informer.on(k8s.DELETE, (p) => this.changed(this.index.remove(p)));
    this.informer.on(k8s.ERROR, (err) => this.failed(err));
    this.sweep = setInterval(() => {
      this.index.forget();
      this.status.pods = this.index.live;
    }, Math.min(this.o.tombstoneMs ?? 60_000, 10_000));
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
    this.backoff.reset();
  }

  private failed(err: unknown): void {
    if (this.closed) return;
    this.status.watchErrors++;
    const msg = describe(err);
    if (this.status.synced || this.status.lastError === null) {
      this.o.log(`kubernetes: list/watch of pods on node ${this.o.node} failed (${msg}); keeping the last known ${this.index.size} pods, retrying`);
    }
    this.status.synced = false;
    this.status.lastError = msg;
    const delay = this.backoff.next();
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closed) void this.informer.start().catch((e: unknown) => this.failed(e));
    }, delay);
  }

  spiffeIdFor(cg: CgroupFacts): string | null {
    return this.index.podOf(cg)?.pod.spiffeId ?? null;
  }

  imageFor(cg: CgroupFacts): ImageRef | null {
    const c = this.index.podOf(cg)?.container;
    return c ? imageFromStatus(c.image, c.imageID) : null;
  }

  metaFor(cg: CgroupFacts): KubernetesMeta | null {
    const hit = this.index.podOf(cg);
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
    const hit = this.index.podOf(cg);
    if (!hit) return true;
    // a container whose status the kubelet has not posted yet (a pod sandbox's never is: it waits the bound out)
    return cg.containerId !== null && hit.container === null;
  }

  addresses(): readonly AddressIdentity[] {
    return this.index.addresses();
  }

  spiffeIds(): readonly string[] {
    return this.index.spiffeIds();
  }

  private changed(c: IdentityChange | null): void {
    this.status.pods = this.index.live;
    if (c) for (const l of this.listeners) l(c);
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

function describe(err: unknown): string {
  if (err instanceof Error) {
    const e = err as Error & { code?: string | number; statusCode?: number; body?: unknown };
    const status = e.statusCode ?? (typeof e.code === 'number' ? e.code : undefined);
    const text = e.message.split('\n')[0];
    return status !== undefined ? `HTTP ${status}: ${text}` : e.code ? `${String(e.code)}: ${text}` : text;
  }
  return String(err);
}
