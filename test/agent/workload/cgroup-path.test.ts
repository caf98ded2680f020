// Cgroup paths as kubelet, containerd, CRI-O, Docker and Podman lay them out, one table row each.
import * as assert from 'node:assert/strict';
import { canonicalPodUid, parseCgroupPath } from '../../../agent/workload/cgroup-path';
import type { CgroupIdentity } from '../../../agent/workload/cgroup-path';

const CTR = '286640c393fb04ee6930d6aa3788e9aad2bb7b0112fc0259f4a9683b5f1b309f';
const CTR2 = '07fbdd9c2315e9f31cf3c2563eacd2eea85f1ce5edb2f4151183740a7cab87a8';
const NODE = '517af0bb5d95e624502698930c17a0ffd2682b9dc5fed851c0278c9accbea371';
const POD = '1227e887-592b-457e-9a23-2e78b48529f5';
const POD_ = POD.replaceAll('-', '_'); // as the systemd driver writes it
const STATIC_POD = '994237ceeb8dc4b77b657b51752236c3'; // a static pod's UID: a manifest hash, not a UUID

/** The whole expected identity: anything not named is null. */
const want = (fields: Partial<CgroupIdentity>): CgroupIdentity => ({
  runtime: null,
  containerId: null,
  podUid: null,
  qosClass: null,
  ...fields,
});
const NONE = want({});

interface Case {
  name: string;
  path: string;
  want: CgroupIdentity;
}

const systemdDriver: Case[] = [
  {
    name: 'burstable pod, containerd',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${CTR}.scope`,
    want: want({ runtime: 'containerd', containerId: CTR, podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'guaranteed pod (no QoS slice), CRI-O',
    path: `/kubepods.slice/kubepods-pod${POD_}.slice/crio-${CTR}.scope`,
    want: want({ runtime: 'cri-o', containerId: CTR, podUid: POD, qosClass: 'guaranteed' }),
  },
  {
    name: 'besteffort pod, containerd',
    path: `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${CTR}.scope`,
    want: want({ runtime: 'containerd', containerId: CTR, podUid: POD, qosClass: 'besteffort' }),
  },
  {
    name: 'besteffort pod, CRI-O',
    path: `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/crio-${CTR}.scope`,
    want: want({ runtime: 'cri-o', containerId: CTR, podUid: POD, qosClass: 'besteffort' }),
  },
  {
    name: 'burstable pod, Docker through cri-dockerd',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/docker-${CTR}.scope`,
    want: want({ runtime: 'docker', containerId: CTR, podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'pod-level cgroup, no container',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice`,
    want: want({ podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'guaranteed pod-level cgroup',
    path: `/kubepods.slice/kubepods-pod${POD_}.slice`,
    want: want({ podUid: POD, qosClass: 'guaranteed' }),
  },
  {
    name: 'QoS slice alone: a class but no pod',
    path: '/kubepods.slice/kubepods-besteffort.slice',
    want: want({ qosClass: 'besteffort' }),
  },
  {
    name: 'kubepods.slice alone: no pod, so no class either',
    path: '/kubepods.slice',
    want: NONE,
  },
  {
    name: 'CRI-O conmon: the runtime\'s monitor, not the container (id withheld)',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-conmon-${CTR}.scope`,
    want: want({ runtime: 'cri-o', podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'static pod: manifest-hash UID is not a UUID, so no pod UID; class and container still read',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${STATIC_POD}.slice/cri-containerd-${CTR}.scope`,
    want: want({ runtime: 'containerd', containerId: CTR, qosClass: 'burstable' }),
  },
];

const cgroupfsDriver: Case[] = [
  {
    name: 'burstable pod, container id leaf (runtime unnamed)',
    path: `/kubepods/burstable/pod${POD}/${CTR}`,
    want: want({ containerId: CTR, podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'guaranteed pod directly under kubepods',
    path: `/kubepods/pod${POD}/${CTR}`,
    want: want({ containerId: CTR, podUid: POD, qosClass: 'guaranteed' }),
  },
  {
    name: 'besteffort pod',
    path: `/kubepods/besteffort/pod${POD}/${CTR2}`,
    want: want({ containerId: CTR2, podUid: POD, qosClass: 'besteffort' }),
  },
  {
    name: 'pod directory, no container',
    path: `/kubepods/burstable/pod${POD}`,
    want: want({ podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'CRI-O with cgroupfs names its leaf crio-<id>',
    path: `/kubepods/burstable/pod${POD}/crio-${CTR}`,
    want: want({ runtime: 'cri-o', containerId: CTR, podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'systemd-style underscored UID is not a cgroupfs pod UID',
    path: `/kubepods/burstable/pod${POD_}/${CTR}`,
    want: want({ containerId: CTR, qosClass: 'burstable' }),
  },
];

const containerdColon: Case[] = [
  {
    name: 'containerd without SystemdCgroup: slice:cri-containerd:id in one component',
    path: `/system.slice/containerd.service/kubepods-burstable-pod${POD_}.slice:cri-containerd:${CTR}`,
    want: want({ runtime: 'containerd', containerId: CTR, podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'colon form, guaranteed pod',
    path: `/system.slice/containerd.service/kubepods-pod${POD_}.slice:cri-containerd:${CTR}`,
    want: want({ runtime: 'containerd', containerId: CTR, podUid: POD, qosClass: 'guaranteed' }),
  },
  {
    name: 'colon form, besteffort pod',
    path: `/system.slice/containerd.service/kubepods-besteffort-pod${POD_}.slice:cri-containerd:${CTR2}`,
    want: want({ runtime: 'containerd', containerId: CTR2, podUid: POD, qosClass: 'besteffort' }),
  },
  {
    name: 'colon form with an unknown runtime prefix is not recognised',
    path: `/system.slice/containerd.service/kubepods-burstable-pod${POD_}.slice:rkt:${CTR}`,
    want: NONE,
  },
];

const outsideKubernetes: Case[] = [
  {
    name: 'Docker, systemd driver',
    path: `/system.slice/docker-${CTR}.scope`,
    want: want({ runtime: 'docker', containerId: CTR }),
  },
  {
    name: 'Docker, cgroupfs driver',
    path: `/docker/${CTR}`,
    want: want({ runtime: 'docker', containerId: CTR }),
  },
  {
    name: 'Podman, rootful',
    path: `/machine.slice/libpod-${CTR}.scope`,
    want: want({ runtime: 'podman', containerId: CTR }),
  },
  {
    name: 'Podman, rootless, payload in the scope\'s container child',
    path: `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${CTR}.scope/container`,
    want: want({ runtime: 'podman', containerId: CTR }),
  },
  {
    name: 'Podman, cgroupfs',
    path: `/libpod_parent/libpod-${CTR}`,
    want: want({ runtime: 'podman', containerId: CTR }),
  },
  {
    name: 'Podman conmon: the runtime\'s monitor, not the container',
    path: `/machine.slice/libpod-conmon-${CTR}.scope`,
    want: want({ runtime: 'podman' }),
  },
];

const kindNesting: Case[] = [
  {
    name: 'kind: pod container wins over the enclosing node container',
    path:
      `/system.slice/docker-${NODE}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice` +
      `/kubelet-kubepods-besteffort-pod${POD_}.slice/cri-containerd-${CTR}.scope`,
    want: want({ runtime: 'containerd', containerId: CTR, podUid: POD, qosClass: 'besteffort' }),
  },
  {
    name: 'kind with a private cgroup namespace: the node\'s tree starts at /kubelet.slice',
    path: `/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod${POD_}.slice/cri-containerd-${CTR}.scope`,
    want: want({ runtime: 'containerd', containerId: CTR, podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'kind, guaranteed pod',
    path: `/system.slice/docker-${NODE}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod${POD_}.slice/cri-containerd-${CTR}.scope`,
    want: want({ runtime: 'containerd', containerId: CTR, podUid: POD, qosClass: 'guaranteed' }),
  },
  {
    name: 'kind pod-level cgroup: the node container does not leak into the pod',
    path: `/system.slice/docker-${NODE}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${POD_}.slice`,
    want: want({ podUid: POD, qosClass: 'besteffort' }),
  },
  {
    name: 'kind node\'s own services belong to the node container',
    path: `/system.slice/docker-${NODE}.scope/system.slice/containerd.service`,
    want: want({ runtime: 'docker', containerId: NODE }),
  },
  {
    name: 'kind on a cgroupfs host: /docker/<node>/kubelet/kubepods/...',
    path: `/docker/${NODE}/kubelet/kubepods/burstable/pod${POD}/${CTR}`,
    want: want({ containerId: CTR, podUid: POD, qosClass: 'burstable' }),
  },
];

const host: Case[] = [
  { name: 'the root', path: '/', want: NONE },
  { name: 'empty string', path: '', want: NONE },
  { name: 'a login session', path: '/user.slice/user-0.slice/session-1.scope', want: NONE },
  { name: 'a system service', path: '/system.slice/sshd.service', want: NONE },
  { name: 'a hand-made cgroup', path: '/vigil-demo/payments-api', want: NONE },
  { name: 'containerd itself', path: '/system.slice/containerd.service', want: NONE },
  { name: 'a bare 64-hex name outside docker/ or a pod is not taken as an id', path: `/vigil-demo/${CTR}`, want: NONE },
];

const malformed: Case[] = [
  {
    name: '63 hex digits is not an id',
    path: `/system.slice/docker-${CTR.slice(1)}.scope`,
    want: NONE,
  },
  {
    name: '65 hex digits is not an id',
    path: `/system.slice/docker-${CTR}a.scope`,
    want: NONE,
  },
  {
    name: 'non-hex is not an id',
    path: `/system.slice/docker-${CTR.slice(1)}g.scope`,
    want: NONE,
  },
  {
    name: 'upper-case hex is not an id (runtimes write lower case; folding would alias real ids)',
    path: `/system.slice/docker-${CTR.toUpperCase()}.scope`,
    want: NONE,
  },
  {
    name: 'a bad container id under a pod leaves the pod',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${CTR.slice(1)}.scope`,
    want: want({ podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'cgroupfs: 63 hex under a pod leaves the pod',
    path: `/kubepods/besteffort/pod${POD}/${CTR.slice(1)}`,
    want: want({ podUid: POD, qosClass: 'besteffort' }),
  },
  {
    name: 'upper-case pod UID is folded to lower case',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_.toUpperCase()}.slice/cri-containerd-${CTR}.scope`,
    want: want({ runtime: 'containerd', containerId: CTR, podUid: POD, qosClass: 'burstable' }),
  },
  {
    name: 'dashed UID in a systemd slice is not a UID (dashes are slice separators there)',
    path: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD}.slice/cri-containerd-${CTR}.scope`,
    want: want({ runtime: 'containerd', containerId: CTR, qosClass: 'burstable' }),
  },
  {
    name: 'a pod UID with one group short is not a UID',
    path: `/kubepods.slice/kubepods-pod${POD_.slice(1)}.slice/crio-${CTR}.scope`,
    want: want({ runtime: 'cri-o', containerId: CTR, qosClass: 'guaranteed' }),
  },
  {
    name: 'doubled and trailing slashes are ignored',
    path: `//kubepods.slice//kubepods-pod${POD_}.slice/crio-${CTR}.scope/`,
    want: want({ runtime: 'cri-o', containerId: CTR, podUid: POD, qosClass: 'guaranteed' }),
  },
];

const tables: [string, Case[]][] = [
  ['systemd cgroup driver', systemdDriver],
  ['cgroupfs cgroup driver', cgroupfsDriver],
  ['containerd colon form', containerdColon],
  ['outside Kubernetes', outsideKubernetes],
  ['kind nesting', kindNesting],
  ['host paths', host],
  ['malformed', malformed],
];

describe('parseCgroupPath', () => {
  for (const [title, cases] of tables) {
    describe(title, () => {
      for (const c of cases) {
        it(c.name, () => assert.deepEqual(parseCgroupPath(c.path), c.want, c.path));
      }
    });
  }

  it('returns a fresh object each call', () => {
    const a = parseCgroupPath(`/system.slice/docker-${CTR}.scope`);
    a.containerId = 'changed';
    assert.deepEqual(parseCgroupPath(`/system.slice/docker-${CTR}.scope`), want({ runtime: 'docker', containerId: CTR }));
  });
});

describe('canonicalPodUid', () => {
  it('turns the systemd form into the dashed lower-case form', () => {
    assert.equal(canonicalPodUid(POD_), POD);
    assert.equal(canonicalPodUid(POD.toUpperCase()), POD);
  });

  it('rejects mixed separators, wrong lengths and static-pod hashes', () => {
    assert.equal(canonicalPodUid(POD_.replace('_', '-')), null);
    assert.equal(canonicalPodUid(POD.slice(0, -1)), null);
    assert.equal(canonicalPodUid(STATIC_POD), null);
    assert.equal(canonicalPodUid(''), null);
  });
});
