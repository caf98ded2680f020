// Container runtime, container id, pod UID and QoS class read from a cgroup v2 path alone.
//
// The path is relative to the cgroup root ("/kubepods.slice/...", as in /proc/<pid>/cgroup
// after "0::"). Layouts recognised, by whoever names the cgroup:
//
//   kubelet, systemd driver  kubepods.slice / kubepods-<qos>.slice / kubepods-<qos>-pod<uid_>.slice
//                            (guaranteed pods sit directly under kubepods.slice: kubepods-pod<uid_>.slice;
//                            the UID's dashes become "_" because "-" is systemd's slice separator)
//   kubelet, cgroupfs driver kubepods / <qos> / pod<uid> / <64 hex>   (guaranteed: kubepods / pod<uid> / ...)
//   kubelet under a prefix   kubelet.slice / kubelet-kubepods.slice / ...  and  kubelet / kubepods / ...
//                            (kind, where --cgroup-root=/kubelet, nested under the node container)
//   containerd (CRI)         cri-containerd-<64 hex>.scope, or, when runc is not told to use systemd,
//                            the literal "<pod slice>:cri-containerd:<64 hex>" as one path component
//   CRI-O                    crio-<64 hex>.scope, crio-<64 hex> (cgroupfs), crio-conmon-<64 hex>.scope
//   Docker                   docker-<64 hex>.scope (systemd, also cri-dockerd), docker / <64 hex> (cgroupfs)
//   Podman                   libpod-<64 hex>.scope, libpod-<64 hex> (cgroupfs), libpod-conmon-<64 hex>.scope
//
// Each field comes from the deepest component that sets it. Entering a kubepods hierarchy clears
// everything found above it, and entering a pod clears any container found above it: in kind the
// node container (docker-<node>.scope) encloses the kubelet's tree, and the pod's own container
// must win over it. Components below a container's cgroup that name nothing (podman's
// "libpod-<id>.scope/container", the node's own "system.slice/containerd.service") keep that container.

export type ContainerRuntime = 'containerd' | 'cri-o' | 'docker' | 'podman';
export type QosClass = 'guaranteed' | 'burstable' | 'besteffort';

export interface CgroupIdentity {
  /** container runtime that made the leaf cgroup, if recognised */
  runtime: ContainerRuntime | null;
  /** full container id (64 lowercase hex for containerd/docker/cri-o), or null */
  containerId: string | null;
  /** Kubernetes pod UID in canonical dashed form (8-4-4-4-12 lowercase hex), or null */
  podUid: string | null;
  /** QoS class from the path: 'guaranteed' | 'burstable' | 'besteffort' | null (null when not a kubepods path) */
  qosClass: QosClass | null;
}

// Runtimes only ever write 64 lowercase hex digits. An id in upper case is not one they made, and
// folding it to lower case would let a cgroup named after a real id in capitals pass for that
// container, so it is rejected rather than normalised.
const CONTAINER_ID = /^[0-9a-f]{64}$/;

// "<runtime>-<id>.scope" (systemd) or "<runtime>-<id>" (cgroupfs).
const CONTAINER_SCOPE = /^(cri-containerd|crio|docker|libpod)-([0-9a-f]{64})(?:\.scope)?$/;

// The runtime's monitor process (conmon) for one container. It runs on the host, outside the
// container's namespaces, so it is reported as the runtime's cgroup but not as the container.
const CONMON_SCOPE = /^(crio|libpod)-conmon-[0-9a-f]{64}(?:\.scope)?$/;

// kubepods.slice, kubelet-kubepods.slice: the root of a kubelet's tree (systemd driver).
const KUBEPODS_SLICE = /^(?:.+-)?kubepods\.slice$/;

// kubepods-burstable.slice, kubelet-kubepods-besteffort.slice.
const QOS_SLICE = /^(?:.+-)?kubepods-(burstable|besteffort)\.slice$/;

// kubepods-burstable-pod<uid_>.slice, kubepods-pod<uid_>.slice (guaranteed), with any prefix.
const POD_SLICE = /^(?:.+-)?kubepods(?:-(burstable|besteffort))?-pod([^.]+)\.slice$/;

// A pod UID as kubelet's systemd driver writes it, and as its cgroupfs driver does. Kubernetes
// issues UIDs in lower case; a UUID is case-insensitive, so upper case is accepted and folded.
// A static pod's UID is a hash of its manifest (hex, no dashes), not a UUID: it yields null.
const UID_UNDERSCORED = /^[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}$/i;
const UID_DASHED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A Map, not an object literal: "constructor" or "toString" in a cgroup name must not find anything.
const RUNTIME_OF: ReadonlyMap<string, ContainerRuntime> = new Map<string, ContainerRuntime>([
  ['cri-containerd', 'containerd'],
  ['crio', 'cri-o'],
  ['docker', 'docker'],
  ['libpod', 'podman'],
]);

/** What the previous path component was, for the cgroupfs layouts that depend on their parent. */
const enum Parent {
  other,
  fsKubepods, // ".../kubepods"
  fsQos, // ".../kubepods/burstable"
  fsPod, // ".../kubepods/[qos/]pod<uid>"
  fsDocker, // ".../docker"
}

/**
 * The canonical (lowercase, dashed) form of a pod UID written either way, or null. The parser
 * itself is stricter: a systemd slice must use "_", a cgroupfs directory "-".
 */
export function canonicalPodUid(raw: string): string | null {
  return podUidFromSlice(raw) ?? podUidFromDir(raw);
}

function podUidFromSlice(raw: string): string | null {
  return UID_UNDERSCORED.test(raw) ? raw.replaceAll('_', '-').toLowerCase() : null;
}

function podUidFromDir(raw: string): string | null {
  return UID_DASHED.test(raw) ? raw.toLowerCase() : null;
}

/** Who made a cgroup, and for which container and pod, from its path relative to the cgroup v2 root. */
export function parseCgroupPath(path: string): CgroupIdentity {
  const id: CgroupIdentity = { runtime: null, containerId: null, podUid: null, qosClass: null };
  let parent = Parent.other;
  for (const part of path.split('/')) {
    if (part === '') continue;
    parent = component(id, part, parent);
  }
  return id;
}

/** Apply one path component to id; returns what this component is as a parent of the next. */
function component(id: CgroupIdentity, part: string, parent: Parent): Parent {
  // cgroupfs driver: kubepods/[burstable|besteffort/]pod<uid>/<id>
  if (part === 'kubepods') {
    clear(id);
    return Parent.fsKubepods;
  }
  if (parent === Parent.fsKubepods && (part === 'burstable' || part === 'besteffort')) {
    id.qosClass = part;
    return Parent.fsQos;
  }
  if ((parent === Parent.fsKubepods || parent === Parent.fsQos) && part.startsWith('pod')) {
    enterPod(id, podUidFromDir(part.slice(3)), parent === Parent.fsKubepods ? 'guaranteed' : id.qosClass);
    return Parent.fsPod;
  }
  if (part === 'docker') return Parent.fsDocker;
  if (parent === Parent.fsPod || parent === Parent.fsDocker) {
    if (CONTAINER_ID.test(part)) {
      // the pod's leaf names no runtime under cgroupfs; a /docker parent does
      setContainer(id, parent === Parent.fsDocker ? 'docker' : null, part);
      return Parent.other;
    }
  }

  // containerd without SystemdCgroup: "<pod slice>:<runtime prefix>:<id>" is one component
  if (part.includes(':')) {
    const fields = part.split(':');
    if (fields.length === 3) {
      const pod = POD_SLICE.exec(fields[0]);
      const runtime = RUNTIME_OF.get(fields[1]);
      if (runtime !== undefined && CONTAINER_ID.test(fields[2])) {
        if (pod !== null) enterPod(id, podUidFromSlice(pod[2]), qosOf(pod[1]));
        setContainer(id, runtime, fields[2]);
      }
    }
    return Parent.other;
  }

  // systemd driver
  if (KUBEPODS_SLICE.test(part)) {
    clear(id);
    return Parent.other;
  }
  const qos = QOS_SLICE.exec(part);
  if (qos !== null) {
    clear(id);
    id.qosClass = qosOf(qos[1]);
    return Parent.other;
  }
  const pod = POD_SLICE.exec(part);
  if (pod !== null) {
    enterPod(id, podUidFromSlice(pod[2]), qosOf(pod[1]));
    return Parent.other;
  }
  const scope = CONTAINER_SCOPE.exec(part);
  if (scope !== null) {
    setContainer(id, RUNTIME_OF.get(scope[1]) ?? null, scope[2]);
    return Parent.other;
  }
  const conmon = CONMON_SCOPE.exec(part);
  if (conmon !== null) {
    setContainer(id, RUNTIME_OF.get(conmon[1]) ?? null, null);
    return Parent.other;
  }
  return Parent.other;
}

/** The QoS class named in a systemd slice; a pod slice without one is a guaranteed pod. */
function qosOf(named: string | undefined): QosClass {
  return named === 'burstable' || named === 'besteffort' ? named : 'guaranteed';
}

function clear(id: CgroupIdentity): void {
  id.runtime = null;
  id.containerId = null;
  id.podUid = null;
  id.qosClass = null;
}

function enterPod(id: CgroupIdentity, podUid: string | null, qosClass: QosClass | null): void {
  id.runtime = null;
  id.containerId = null;
  id.podUid = podUid;
  id.qosClass = qosClass;
}

function setContainer(id: CgroupIdentity, runtime: ContainerRuntime | null, containerId: string | null): void {
  id.runtime = runtime;
  id.containerId = containerId;
}
