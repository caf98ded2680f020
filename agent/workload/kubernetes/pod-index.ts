// This node's pods as the agent uses them: by UID, by namespace/name, by
// container id and by IP, with tombstones so that late events and alerts
// of a deleted pod still resolve. Pure bookkeeping: what the API server says
// comes in (upsert, remove), what changed goes out.
import type * as k8s from '@kubernetes/client-node';
import { parseCidr } from '../../../common/cidr';
import type { AddressIdentity, CgroupFacts, IdentityChange } from '../source';

/** What one pod is to us. */
/** A container of a pod, from its status: `image` as asked for, `imageID` as it runs (with the digest). */
export interface ContainerEntry {
  name: string;
  image: string;
  imageID: string;
}

export interface PodEntry {
  uid: string;
  namespace: string;
  name: string;
  serviceAccount: string;
  spiffeId: string | null;
  ips: string[];
  /** container id (64 hex) -> name, image */
  containers: Map<string, ContainerEntry>;
  created: number;
}

/** "containerd://<64 hex>", "cri-o://...", "docker://..." -> the 64 hex digits, or null. */
export function containerIdOf(s: string | undefined): string | null {
  if (!s) return null;
  const m = /^[a-z0-9-]+:\/\/([0-9a-f]{64})$/.exec(s);
  return m ? m[1] : null;
}

function podIps(pod: k8s.V1Pod): string[] {
  const list = (pod.status?.podIPs ?? []).map((x) => x.ip).filter((x): x is string => typeof x === 'string' && x !== '');
  if (list.length === 0 && pod.status?.podIP) list.push(pod.status.podIP);
  return [...new Set(list)].filter((ip) => parseCidr(ip) !== null);
}

export class PodIndex {
  private readonly pods = new Map<string, PodEntry>();
  /** namespace/name -> uid of the live pod of that name */
  private readonly byName = new Map<string, string>();
  private readonly byContainer = new Map<string, ContainerEntry & { uid: string }>();
  private readonly byIp = new Map<string, string>();
  /** uid -> when a deleted pod is forgotten */
  private readonly tombstones = new Map<string, number>();
  private readonly badTemplateLogged = new Set<string>();
  private addrs: AddressIdentity[] = [];

  constructor(
    private readonly render: (pod: k8s.V1Pod, node: string) => string | null,
    private readonly node: string,
    private readonly tombstoneMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Live pods (deleted ones in their grace period not counted). */
  get live(): number {
    return this.pods.size - this.tombstones.size;
  }

  /** Every pod known, tombstones included. */
  get size(): number {
    return this.pods.size;
  }

  /** A pod was added or changed; returns what changed, or null when nothing we use did. */
  upsert(pod: k8s.V1Pod): IdentityChange | null {
    const uid = pod.metadata?.uid;
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    if (!uid) return null;
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
    const spiffeId = this.render(pod, this.node);
    if (spiffeId === null && !this.badTemplateLogged.has(uid)) {
      this.badTemplateLogged.add(uid);
      this.log(`kubernetes: pod ${ns}/${name}: the SPIFFE ID template makes no valid SPIFFE ID (missing label or annotation?); the pod has no identity`);
    }
    const containers = new Map<string, ContainerEntry>();
    const st = pod.status;
    for (const c of [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? []), ...(st?.ephemeralContainerStatuses ?? [])]) {
      const id = containerIdOf(c.containerID);
      if (id) containers.set(id, { name: c.name, image: c.image, imageID: c.imageID });
      // a restarted container's previous instance may still have events in flight
      const prev = containerIdOf(c.lastState?.terminated?.containerID);
      if (prev && !containers.has(prev)) containers.set(prev, { name: c.name, image: c.image, imageID: c.imageID });
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
    return same ? null : this.changed(change);
  }

  /** A pod was deleted. */
  remove(pod: k8s.V1Pod): IdentityChange | null {
    const uid = pod.metadata?.uid;
    if (!uid) return null;
    const change = { podUids: new Set<string>([uid]), containerIds: new Set<string>(), addresses: false };
    this.dropPod(uid, change);
    return this.changed(change);
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
    this.tombstones.set(uid, Date.now() + this.tombstoneMs);
  }

  /** Forget the pods deleted longer ago than the grace period. */
  forget(): void {
    const now = Date.now();
    for (const [uid, until] of this.tombstones) {
      if (until > now) continue;
      this.tombstones.delete(uid);
      const p = this.pods.get(uid);
      if (p) for (const id of p.containers.keys()) if (this.byContainer.get(id)?.uid === uid) this.byContainer.delete(id);
      this.pods.delete(uid);
      this.badTemplateLogged.delete(uid);
    }
  }

  private changed(c: IdentityChange): IdentityChange {
    if (c.addresses) this.rebuildAddresses();
    return c;
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

  /** The pod (and container) a cgroup belongs to. */
  podOf(cg: CgroupFacts): { pod: PodEntry; container: ContainerEntry | null } | null {
    if (cg.containerId) {
      const c = this.byContainer.get(cg.containerId);
      if (c) {
        const pod = this.pods.get(c.uid);
        if (pod) return { pod, container: { name: c.name, image: c.image, imageID: c.imageID } };
      }
    }
    if (cg.podUid) {
      const pod = this.pods.get(cg.podUid);
      if (pod) return { pod, container: null };
    }
    return null;
  }

  addresses(): readonly AddressIdentity[] {
    return this.addrs;
  }

  spiffeIds(): readonly string[] {
    const ids = new Set<string>();
    for (const [uid, p] of this.pods) if (p.spiffeId && !this.tombstones.has(uid)) ids.add(p.spiffeId);
    return [...ids];
  }
}
