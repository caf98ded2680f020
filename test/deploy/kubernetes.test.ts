// deploy/kubernetes: every overlay renders with plain `kubectl kustomize`, every
// object it renders is valid Kubernetes (kubernetes-models: 1.33 API schemas,
// Prometheus Operator CRDs) with no field the API does not know, and the
// security-relevant settings are exactly what docs/deploy.md promises.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseWith } from '../../cli/args';
import { parseAgentArgs } from '../../cli/agent';
import { controlplaneCommand } from '../../cli/controlplane';
import { FieldChecker, validateWithModel, type KubeObject } from '../helpers/k8s-schema';
import { KUBERNETES_DIR, overlayNames, render } from '../helpers/kustomize';
import { repoRoot } from '../../common/repo';

// --- minimal shapes of what the tests read -----------------------------------

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: { name: string; key: string } } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  securityContext?: {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    runAsUser?: number;
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string };
    appArmorProfile?: { type: string };
  };
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  configMap?: { name: string };
  secret?: { secretName: string; defaultMode?: number };
  persistentVolumeClaim?: { claimName: string };
  csi?: { driver: string; readOnly?: boolean };
  emptyDir?: { medium?: string };
  [source: string]: unknown;
}
interface PodSpec {
  hostPID?: boolean;
  hostNetwork?: boolean;
  hostIPC?: boolean;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  priorityClassName?: string;
  tolerations?: Array<{ operator?: string; key?: string; effect?: string }>;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number; seccompProfile?: { type: string } };
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
}
interface Workload extends KubeObject {
  spec: { replicas?: number; strategy?: { type: string }; template: { spec: PodSpec } };
}
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

// Vigil's own containers (the others are spiffe-helper)
const AGENT = 'agent';
const CONTROLPLANE = 'controlplane';
const AGENT_CAPABILITIES = ['BPF', 'PERFMON', 'SYS_RESOURCE', 'SYS_ADMIN', 'KILL', 'SYS_PTRACE', 'DAC_READ_SEARCH'];
// Secrets the overlays use and do not create: made by the operator (docs/deploy.md)
const EXTERNAL_SECRETS: Record<string, string[]> = {
  secrets: ['vigil-agent-svids', 'vigil-controlplane-svid'],
  monitoring: ['vigil-agent-svids', 'vigil-controlplane-svid'],
  spire: ['vigil-policy-key', 'vigil-policy-pub'],
  'spire+monitoring': ['vigil-policy-key', 'vigil-policy-pub'],
};

const find = <T extends KubeObject>(objs: KubeObject[], kind: string, name: string): T => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind} ${name} is rendered`);
  return o as T;
};
const container = (w: Workload, name: string): Container => {
  const c = w.spec.template.spec.containers.find((x) => x.name === name);
  assert.ok(c, `${w.kind} ${w.metadata.name} has a container named ${name}`);
  return c;
};
const allContainers = (p: PodSpec): Container[] => [...(p.initContainers ?? []), ...p.containers];
const workloads = (objs: KubeObject[]): Workload[] => objs.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment') as Workload[];
const volumeSources = (v: Volume): string[] => Object.keys(v).filter((k) => k !== 'name');
/** The value after `flag` in an argument list (Kubernetes expands $(VAR) from env). */
const flagValue = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

describe('deploy/kubernetes', () => {
  const rendered = new Map<string, KubeObject[]>();
  let tmp: string;

  before(function () {
    this.timeout(120000);
    for (const name of overlayNames()) rendered.set(name, render(path.join(KUBERNETES_DIR(), 'overlays', name)));
    // the monitoring component also goes on top of the SPIRE overlay, as
    // docs/deploy.md tells SPIRE users to do (kustomize wants relative paths)
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-kustomize-'));
    fs.writeFileSync(
      path.join(tmp, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        `  - ${path.relative(tmp, path.join(KUBERNETES_DIR(), 'overlays', 'spire'))}`,
        'components:',
        `  - ${path.relative(tmp, path.join(KUBERNETES_DIR(), 'components', 'monitoring'))}`,
        '',
      ].join('\n'),
    );
    rendered.set('spire+monitoring', render(tmp));
  });
  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const each = (fn: (objs: KubeObject[], overlay: string) => void): void => {
    assert.ok(rendered.size > 0);
    for (const [overlay, objs] of rendered) {
      try {
        fn(objs, overlay);
      } catch (err) {
        if (err instanceof Error) err.message = `overlay ${overlay}: ${err.message}`;
        throw err;
      }
    }
  };

  it('ships the secrets, spire and monitoring overlays, each rendering the whole installation', () => {
    assert.deepEqual(overlayNames(), ['monitoring', 'secrets', 'spire']);
    each((objs) => {
      for (const [kind, name] of [
        ['Namespace', 'vigil-system'],
        ['PriorityClass', 'vigil-agent'],
        ['ServiceAccount', 'vigil-agent'],
        ['ServiceAccount', 'vigil-controlplane'],
        ['ClusterRole', 'vigil-agent'],
        ['ClusterRoleBinding', 'vigil-agent'],
        ['DaemonSet', 'vigil-agent'],
        ['Deployment', 'vigil-controlplane'],
        ['Service', 'vigil-controlplane'],
        ['PersistentVolumeClaim', 'vigil-controlplane-data'],
      ]) {
        find(objs, kind, name);
      }
      const keys = objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], 'no object twice');
    });
    for (const overlay of ['monitoring', 'spire+monitoring']) {
      const objs = rendered.get(overlay) ?? [];
      find(objs, 'ServiceMonitor', 'vigil-agent');
      find(objs, 'ServiceMonitor', 'vigil-controlplane');
      find(objs, 'PrometheusRule', 'vigil');
    }
  });

  it('every object is valid against the Kubernetes and Prometheus Operator schemas, with no unknown field', function () {
    this.timeout(120000);
    const all = [...rendered.values()].flat();
    const fields = new FieldChecker(all);
    const problems: string[] = [];
    each((objs, overlay) => {
      for (const o of objs) {
        const what = `${overlay}: ${o.kind} ${o.metadata?.name}`;
        for (const p of validateWithModel(o)) problems.push(`${what}: ${p}`);
        for (const p of fields.unknownFields(o)) problems.push(`${what}: ${p}`);
      }
    });
    assert.deepEqual(problems, []);
  });

  it('finds a misspelt field and a wrong type (the schema check itself)', () => {
    const ds = structuredClone(find<Workload>(rendered.get('secrets') ?? [], 'DaemonSet', 'vigil-agent'));
    const sc = container(ds, AGENT).securityContext as Record<string, unknown>;
    sc.readOnlyRootFileSystem = true;
    (ds.spec.template.spec as unknown as Record<string, unknown>).hostPID = 'true';
    const fields = new FieldChecker([ds]);
    assert.match(fields.unknownFields(ds).join('\n'), /securityContext\.readOnlyRootFileSystem: no such field/);
    assert.match(validateWithModel(ds).join('\n'), /hostPID must be boolean/);
  });

  it('puts every namespaced object in vigil-system, whose Pod Security level admits the agent', () => {
    const clusterScoped = new Set(['Namespace', 'PriorityClass', 'ClusterRole', 'ClusterRoleBinding']);
    each((objs) => {
      for (const o of objs) {
        if (clusterScoped.has(o.kind)) assert.equal(o.metadata.namespace, undefined, `${o.kind} ${o.metadata.name} is cluster-scoped`);
        else assert.equal(o.metadata.namespace, 'vigil-system', `${o.kind} ${o.metadata.name}`);
      }
      const ns = find(objs, 'Namespace', 'vigil-system');
      assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
    });
  });

  it('the rules ConfigMap is deploy/rules/default.yaml, byte for byte (refresh with deploy/kubernetes/sync.sh)', () => {
    const original = fs.readFileSync(path.join(repoRoot(), 'deploy', 'rules', 'default.yaml'), 'utf8');
    each((objs) => {
      const cms = objs.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('vigil-rules'));
      assert.equal(cms.length, 1);
      const data = (cms[0] as KubeObject & { data: Record<string, string> }).data;
      assert.deepEqual(Object.keys(data), ['default.yaml']);
      assert.ok(data['default.yaml'] === original, 'deploy/kubernetes/base/rules/default.yaml differs from deploy/rules/default.yaml: run deploy/kubernetes/sync.sh');
      const ds = find<Workload>(objs, 'DaemonSet', 'vigil-agent');
      const vol = ds.spec.template.spec.volumes?.find((v) => v.configMap?.name === cms[0].metadata.name);
      assert.ok(vol, 'the agent mounts the rules ConfigMap (by its hashed name)');
      const mount = container(ds, AGENT).volumeMounts?.find((m) => m.name === vol.name);
      assert.deepEqual(mount, { name: vol.name, mountPath: '/etc/vigil/rules', readOnly: true });
    });
  });

  it('agent: host PID namespace, root without privileged, exactly its capabilities, no seccomp or AppArmor filter', () => {
    each((objs) => {
      const ds = find<Workload>(objs, 'DaemonSet', 'vigil-agent');
      const pod = ds.spec.template.spec;
      assert.equal(pod.hostPID, true);
      assert.notEqual(pod.hostNetwork, true);
      assert.notEqual(pod.hostIPC, true);
      const sc = container(ds, AGENT).securityContext;
      assert.ok(sc);
      assert.equal(sc.privileged, false);
      assert.equal(sc.runAsUser, 0);
      // no_new_privs: the agent execs nothing (docs/deploy.md)
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.deepEqual(sc.capabilities?.drop, ['ALL']);
      assert.deepEqual([...(sc.capabilities?.add ?? [])].sort(), [...AGENT_CAPABILITIES].sort());
      assert.deepEqual(sc.seccompProfile, { type: 'Unconfined' });
      assert.deepEqual(sc.appArmorProfile, { type: 'Unconfined' });
      // nothing else in the pod gets anything
      for (const c of allContainers(pod).filter((c) => c.name !== AGENT)) {
        assert.equal(c.securityContext?.privileged, false, c.name);
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false, c.name);
        assert.deepEqual(c.securityContext?.capabilities, { drop: ['ALL'] }, c.name);
        assert.equal(c.securityContext?.runAsNonRoot, true, c.name);
      }
    });
  });

  it('agent: the host paths it needs, read-only wherever it only reads', () => {
    const expected: Record<string, { host: string; readOnly: boolean; type: string }> = {
      '/sys/fs/bpf': { host: '/sys/fs/bpf', readOnly: true, type: 'Directory' },
      '/sys/fs/cgroup': { host: '/sys/fs/cgroup', readOnly: true, type: 'Directory' },
      '/sys/kernel/btf': { host: '/sys/kernel/btf', readOnly: true, type: 'Directory' },
      '/host/proc': { host: '/proc', readOnly: true, type: 'Directory' },
      '/var/lib/vigil/agent': { host: '/var/lib/vigil/agent', readOnly: false, type: 'DirectoryOrCreate' },
    };
    each((objs) => {
      const ds = find<Workload>(objs, 'DaemonSet', 'vigil-agent');
      const pod = ds.spec.template.spec;
      const hostMounts: Record<string, { host: string; readOnly: boolean; type: string }> = {};
      for (const c of allContainers(pod)) {
        for (const m of c.volumeMounts ?? []) {
          const v = pod.volumes?.find((x) => x.name === m.name);
          if (!v?.hostPath) continue;
          assert.equal(c.name, AGENT, `only the agent container mounts host paths (${c.name} mounts ${v.hostPath.path})`);
          hostMounts[m.mountPath] = { host: v.hostPath.path, readOnly: m.readOnly === true, type: v.hostPath.type ?? '' };
        }
      }
      assert.deepEqual(hostMounts, expected);
    });
  });

  it('agent: runs the documented command, with flags `vigil agent` accepts', () => {
    each((objs, overlay) => {
      const ds = find<Workload>(objs, 'DaemonSet', 'vigil-agent');
      const c = container(ds, AGENT);
      // in the node's cgroup namespace, so that /proc/PID/cgroup shows every pod's real path
      assert.deepEqual(c.command, ['nsenter', '--cgroup=/proc/1/ns/cgroup', '--', '/opt/vigil/bin/vigil']);
      const args = c.args ?? [];
      assert.equal(args[0], 'agent');
      assert.equal(flagValue(args, '--rules'), '/etc/vigil/rules');
      assert.ok(args.includes('--kubernetes'));
      assert.equal(flagValue(args, '--controlplane'), 'vigil-controlplane.vigil-system.svc:7443');
      assert.equal(flagValue(args, '--certs'), '/var/run/vigil/certs');
      assert.equal(flagValue(args, '--state'), '/var/lib/vigil/agent');
      assert.equal(flagValue(args, '--metrics'), '0.0.0.0:9464');
      assert.equal(flagValue(args, '--node'), '$(NODE_NAME)');
      assert.ok(flagValue(args, '--workload-trust-domain'));
      const env = new Map((c.env ?? []).map((e) => [e.name, e]));
      assert.equal(env.get('NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
      // every $(VAR) is defined in the container's env (else Kubernetes passes it verbatim)
      for (const a of args) for (const m of a.matchAll(/\$\((\w+)\)/g)) assert.ok(env.has(m[1]), `${a}: ${m[1]} is set in env`);
      const certsMount = c.volumeMounts?.find((m) => m.mountPath === '/var/run/vigil/certs');
      assert.equal(certsMount?.readOnly, true);
      if (overlay.startsWith('spire')) {
        assert.equal(flagValue(args, '--trust-domain'), '$(VIGIL_TRUST_DOMAIN)');
        assert.equal(flagValue(args, '--workload-trust-domain'), '$(VIGIL_TRUST_DOMAIN)');
        assert.equal(flagValue(args, '--policy-key'), '/var/run/vigil/policy/policy.pub');
      } else {
        // each agent uses its own node's SVID out of the Secret
        assert.equal(flagValue(args, '--cert'), '/var/run/vigil/certs/agent-$(NODE_NAME).pem');
        assert.equal(flagValue(args, '--key'), '/var/run/vigil/certs/agent-$(NODE_NAME).key');
      }
      // the agent's own parser: an unknown flag throws "unknown option"
      const expanded = args.slice(1).map((a) => a.replace(/\$\((\w+)\)/g, (_m, v: string) => (v === 'NODE_NAME' ? 'node-a' : 'example.org')));
      try {
        parseAgentArgs(expanded);
      } catch (err) {
        assert.fail(`vigil agent refuses the DaemonSet's arguments: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  });

  it('control plane: non-root, read-only root filesystem, no capabilities, one replica recreated, data on its volume', () => {
    each((objs, overlay) => {
      const d = find<Workload>(objs, 'Deployment', 'vigil-controlplane');
      assert.equal(d.spec.replicas, 1);
      assert.deepEqual(d.spec.strategy, { type: 'Recreate' });
      const pod = d.spec.template.spec;
      assert.equal(pod.serviceAccountName, 'vigil-controlplane');
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(pod.hostPID, undefined);
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.deepEqual(pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
      for (const c of allContainers(pod)) {
        const sc = c.securityContext;
        assert.ok(sc, c.name);
        assert.equal(sc.runAsNonRoot, true, c.name);
        assert.ok((sc.runAsUser ?? pod.securityContext?.runAsUser ?? 0) > 0, c.name);
        assert.equal(sc.readOnlyRootFilesystem, true, c.name);
        assert.equal(sc.allowPrivilegeEscalation, false, c.name);
        assert.equal(sc.privileged, false, c.name);
        assert.deepEqual(sc.capabilities, { drop: ['ALL'] }, c.name);
      }
      const c = container(d, CONTROLPLANE);
      assert.deepEqual(c.command, ['/opt/vigil/bin/vigil']);
      const args = c.args ?? [];
      assert.equal(args[0], 'controlplane');
      assert.equal(flagValue(args, '--listen'), '0.0.0.0:7443');
      assert.equal(flagValue(args, '--data'), '/var/lib/vigil');
      assert.equal(flagValue(args, '--certs'), '/var/run/vigil/certs');
      assert.equal(flagValue(args, '--metrics'), '0.0.0.0:9465');
      if (overlay.startsWith('spire')) {
        assert.equal(flagValue(args, '--trust-domain'), '$(VIGIL_TRUST_DOMAIN)');
        assert.equal(flagValue(args, '--policy-key'), '/var/run/vigil/policy/policy.key');
      }
      // `vigil controlplane` accepts these arguments (its parser refuses unknown options)
      const expanded = args.map((a) => a.replace(/\$\(VIGIL_TRUST_DOMAIN\)/g, 'example.org'));
      try {
        parseWith(controlplaneCommand(), expanded.slice(1));
      } catch (err) {
        assert.fail(`vigil controlplane refuses the Deployment's arguments: ${err instanceof Error ? err.message : String(err)}`);
      }
      const data = c.volumeMounts?.find((m) => m.mountPath === '/var/lib/vigil');
      const vol = pod.volumes?.find((v) => v.name === data?.name);
      assert.equal(vol?.persistentVolumeClaim?.claimName, 'vigil-controlplane-data');
      find(objs, 'PersistentVolumeClaim', 'vigil-controlplane-data');
      const svc = find<KubeObject & { spec: { ports: Array<{ name: string; port: number }> } }>(objs, 'Service', 'vigil-controlplane');
      assert.deepEqual(svc.spec.ports.map((p) => [p.name, p.port]), [['grpc', 7443], ['metrics', 9465]]);
    });
  });

  it('RBAC: the agent may get, list and watch pods and nodes, nothing else; nobody else gets anything', () => {
    each((objs) => {
      const roles = objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role') as Array<KubeObject & { rules?: PolicyRule[]; aggregationRule?: unknown }>;
      assert.deepEqual(roles.map((r) => `${r.kind}/${r.metadata.name}`), ['ClusterRole/vigil-agent']);
      for (const r of roles) {
        assert.equal(r.aggregationRule, undefined);
        for (const rule of r.rules ?? []) {
          assert.deepEqual(rule.apiGroups, ['']);
          assert.equal(rule.nonResourceURLs, undefined);
          for (const v of rule.verbs) assert.ok(['get', 'list', 'watch'].includes(v), `verb ${v}`);
          for (const res of rule.resources ?? []) assert.ok(['pods', 'nodes'].includes(res), `resource ${res}`);
        }
        const granted = (r.rules ?? []).flatMap((rule) => (rule.resources ?? []).flatMap((res) => rule.verbs.map((v) => `${v} ${res}`)));
        assert.deepEqual(granted.sort(), ['get nodes', 'get pods', 'list nodes', 'list pods', 'watch nodes', 'watch pods']);
      }
      const bindings = objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding') as Array<
        KubeObject & { roleRef: { kind: string; name: string }; subjects: Array<{ kind: string; name: string; namespace?: string }> }
      >;
      assert.equal(bindings.length, 1);
      assert.deepEqual(bindings[0].roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'vigil-agent' });
      assert.deepEqual(bindings[0].subjects, [{ kind: 'ServiceAccount', name: 'vigil-agent', namespace: 'vigil-system' }]);
      const cpSa = find<KubeObject & { automountServiceAccountToken?: boolean }>(objs, 'ServiceAccount', 'vigil-controlplane');
      assert.equal(cpSa.automountServiceAccountToken, false);
    });
  });

  it('every container has CPU and memory requests and limits; Vigil containers have probes on their metrics port', () => {
    each((objs) => {
      for (const w of workloads(objs)) {
        for (const c of allContainers(w.spec.template.spec)) {
          for (const k of ['cpu', 'memory']) {
            assert.ok(c.resources?.requests?.[k], `${w.metadata.name}/${c.name} requests ${k}`);
            assert.ok(c.resources?.limits?.[k], `${w.metadata.name}/${c.name} limits ${k}`);
          }
        }
      }
      for (const [w, name, port] of [
        [find<Workload>(objs, 'DaemonSet', 'vigil-agent'), AGENT, 9464],
        [find<Workload>(objs, 'Deployment', 'vigil-controlplane'), CONTROLPLANE, 9465],
      ] as const) {
        const c = container(w, name);
        const metrics = c.ports?.find((p) => p.name === 'metrics');
        assert.equal(metrics?.containerPort, port);
        for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
          const p = c[probe]?.httpGet;
          assert.ok(p, `${name} has a ${probe}`);
          assert.equal(p.port, 'metrics', `${name} ${probe} port`);
          assert.ok(['/healthz', '/readyz'].includes(p.path), `${name} ${probe} path ${p.path}`);
        }
      }
    });
  });

  it('images: every one tagged, none :latest; both Vigil images at the package version', () => {
    const version = (JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    each((objs) => {
      const images = workloads(objs).flatMap((w) => allContainers(w.spec.template.spec).map((c) => c.image));
      for (const image of images) {
        const tag = /:([^/:@]+)$/.exec(image)?.[1];
        assert.ok(tag || image.includes('@sha256:'), `${image} has a tag or digest`);
        assert.notEqual(tag, 'latest', image);
      }
      const vigil = [...new Set(images.filter((i) => /(^|\/)vigil-(agent|controlplane):/.test(i)))].sort();
      assert.deepEqual(vigil.map((i) => i.replace(/^.*\//, '')), [`vigil-agent:${version}`, `vigil-controlplane:${version}`]);
      assert.equal(new Set(vigil.map((i) => i.split(':').pop())).size, 1, 'one tag for both Vigil images');
    });
  });

  it('agent: scheduled on every x86_64 Linux node, ahead of workloads', () => {
    each((objs) => {
      const ds = find<Workload>(objs, 'DaemonSet', 'vigil-agent');
      const pod = ds.spec.template.spec;
      assert.ok(pod.tolerations?.some((t) => t.operator === 'Exists' && t.key === undefined && t.effect === undefined), 'tolerates every taint');
      assert.equal(pod.priorityClassName, 'vigil-agent');
      const pc = find<KubeObject & { value: number; globalDefault?: boolean }>(objs, 'PriorityClass', 'vigil-agent');
      assert.ok(pc.value >= 1_000_000_000, `priority ${pc.value}`);
      assert.notEqual(pc.globalDefault, true);
      assert.equal(pod.serviceAccountName, 'vigil-agent');
      // x86_64 only (syscall numbers, docs/kernel-support.md): never scheduled where it cannot run
      for (const w of workloads(objs)) {
        assert.deepEqual((w.spec.template.spec as PodSpec & { nodeSelector?: Record<string, string> }).nodeSelector, { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' }, w.metadata.name);
      }
    });
  });

  it('volumes, mounts and references are consistent; Secrets not rendered are the documented ones', () => {
    const deployDoc = fs.readFileSync(path.join(repoRoot(), 'docs', 'deploy.md'), 'utf8');
    each((objs, overlay) => {
      const configMaps = new Set(objs.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name));
      const secrets = new Set(objs.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name));
      const external = new Set<string>();
      for (const w of workloads(objs)) {
        const pod = w.spec.template.spec;
        const names = (pod.volumes ?? []).map((v) => v.name);
        assert.equal(new Set(names).size, names.length, `${w.metadata.name}: volume names are unique`);
        for (const v of pod.volumes ?? []) {
          assert.equal(volumeSources(v).length, 1, `${w.metadata.name} volume ${v.name} has exactly one source: ${volumeSources(v).join(', ')}`);
          if (v.configMap) assert.ok(configMaps.has(v.configMap.name), `${w.metadata.name} volume ${v.name}: ConfigMap ${v.configMap.name} is rendered`);
          if (v.secret && !secrets.has(v.secret.secretName)) external.add(v.secret.secretName);
          if (v.csi) assert.deepEqual(v.csi, { driver: 'csi.spiffe.io', readOnly: true });
        }
        for (const c of allContainers(pod)) {
          for (const m of c.volumeMounts ?? []) assert.ok(names.includes(m.name), `${w.metadata.name}/${c.name} mounts volume ${m.name}`);
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.configMapKeyRef;
            if (ref) {
              const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ref.name) as (KubeObject & { data?: Record<string, string> }) | undefined;
              assert.ok(cm?.data?.[ref.key] !== undefined, `${w.metadata.name}/${c.name} env ${e.name}: ConfigMap ${ref.name} key ${ref.key}`);
            }
          }
        }
      }
      assert.deepEqual([...external].sort(), [...(EXTERNAL_SECRETS[overlay] ?? [])].sort());
      for (const s of external) assert.ok(deployDoc.includes(`create secret generic ${s}`), `docs/deploy.md shows how to create Secret ${s}`);
    });
  });

  it('secrets overlay: SVIDs and keys come from the Secrets, readable by their process only', () => {
    const objs = rendered.get('secrets') ?? [];
    const ds = find<Workload>(objs, 'DaemonSet', 'vigil-agent');
    const agentCerts = ds.spec.template.spec.volumes?.find((v) => v.name === 'certs');
    assert.deepEqual(agentCerts?.secret, { secretName: 'vigil-agent-svids', defaultMode: 0o400 });
    const d = find<Workload>(objs, 'Deployment', 'vigil-controlplane');
    const cpCerts = d.spec.template.spec.volumes?.find((v) => v.name === 'certs');
    assert.deepEqual(cpCerts?.secret, { secretName: 'vigil-controlplane-svid', defaultMode: 0o440 });
    assert.equal(d.spec.template.spec.securityContext?.fsGroup, 10001);
  });

  it('spire overlay: spiffe-helper writes, into the certs volume, the files Vigil reads', () => {
    const objs = rendered.get('spire') ?? [];
    const helperCm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('vigil-spiffe-helper')) as (KubeObject & { data: Record<string, string> }) | undefined;
    assert.ok(helperCm);
    const hcl = (text: string): Record<string, string> =>
      Object.fromEntries([...text.matchAll(/^(\w+)\s*=\s*"([^"]*)"\s*$/gm)].map((m) => [m[1], m[2]]));
    for (const [kind, name, main, conf, files] of [
      ['DaemonSet', 'vigil-agent', AGENT, 'agent.conf', ['agent.pem', 'agent.key', 'bundle.pem']],
      ['Deployment', 'vigil-controlplane', CONTROLPLANE, 'controlplane.conf', ['controlplane.pem', 'controlplane.key', 'bundle.pem']],
    ] as const) {
      const w = find<Workload>(objs, kind, name);
      const pod = w.spec.template.spec;
      const c = hcl(helperCm.data[conf] ?? '');
      assert.deepEqual([c.svid_file_name, c.svid_key_file_name, c.svid_bundle_file_name], files, conf);
      const certsMount = container(w, main).volumeMounts?.find((m) => m.name === 'certs');
      assert.equal(certsMount?.mountPath, '/var/run/vigil/certs');
      assert.equal(c.cert_dir, certsMount.mountPath, `${conf}: cert_dir`);
      assert.deepEqual(pod.volumes?.find((v) => v.name === 'certs')?.emptyDir, { medium: 'Memory', sizeLimit: '1Mi' });
      // one run before Vigil starts, one beside it for renewals
      const init = pod.initContainers?.find((x) => x.name === 'spiffe-helper-init');
      const side = pod.containers.find((x) => x.name === 'spiffe-helper');
      assert.ok(init && side, `${name}: spiffe-helper init container and sidecar`);
      assert.deepEqual(init.args, ['-config', `/etc/spiffe-helper/${conf}`, '-daemon-mode=false']);
      assert.deepEqual(side.args, ['-config', `/etc/spiffe-helper/${conf}`]);
      for (const h of [init, side]) {
        assert.match(h.image, /^ghcr\.io\/spiffe\/spiffe-helper:\d+\.\d+\.\d+$/);
        const mounts = Object.fromEntries((h.volumeMounts ?? []).map((m) => [m.mountPath, m]));
        const api: Volume | undefined = pod.volumes?.find((v) => v.name === mounts['/spiffe-workload-api']?.name);
        assert.equal(api?.csi?.driver, 'csi.spiffe.io');
        assert.ok(c.agent_address.startsWith('/spiffe-workload-api/'), `${conf}: agent_address in the CSI volume`);
        assert.equal(mounts['/var/run/vigil/certs']?.name, 'certs');
        assert.notEqual(mounts['/var/run/vigil/certs']?.readOnly, true);
        assert.equal(mounts['/etc/spiffe-helper']?.readOnly, true);
      }
      const td = container(w, main).env?.find((e) => e.name === 'VIGIL_TRUST_DOMAIN')?.valueFrom?.configMapKeyRef;
      assert.equal(td?.key, 'trust-domain');
    }
  });

  it('monitoring: the ServiceMonitors select Services that exist, on their metrics ports; the PrometheusRule is deploy/prometheus/vigil-alerts.yaml', () => {
    const alerts = parseYaml(fs.readFileSync(path.join(repoRoot(), 'deploy', 'prometheus', 'vigil-alerts.yaml'), 'utf8')) as { groups: unknown[] };
    for (const overlay of ['monitoring', 'spire+monitoring']) {
      const objs = rendered.get(overlay) ?? [];
      const services = objs.filter((o) => o.kind === 'Service') as Array<KubeObject & { spec: { selector: Record<string, string>; ports: Array<{ name: string; port: number }> } }>;
      const monitors = objs.filter((o) => o.kind === 'ServiceMonitor') as Array<KubeObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> } }>;
      const portOf: Record<string, number> = { 'vigil-agent': 9464, 'vigil-controlplane': 9465 };
      for (const sm of monitors) {
        const matched = services.filter((s) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
        assert.equal(matched.length, 1, `${overlay}: ServiceMonitor ${sm.metadata.name} selects one Service (${matched.map((s) => s.metadata.name).join(', ')})`);
        for (const ep of sm.spec.endpoints) {
          assert.equal(matched[0].spec.ports.find((p) => p.name === ep.port)?.port, portOf[sm.metadata.name], `${sm.metadata.name} port ${ep.port}`);
        }
        // the Service's pods are the ones of the matching workload
        const ds = find<Workload>(objs, sm.metadata.name === 'vigil-agent' ? 'DaemonSet' : 'Deployment', sm.metadata.name);
        const podLabels = (ds.spec.template as unknown as { metadata: { labels: Record<string, string> } }).metadata.labels;
        for (const [k, v] of Object.entries(matched[0].spec.selector)) assert.equal(podLabels[k], v, `${matched[0].metadata.name} selects ${sm.metadata.name} pods`);
      }
      const rule = find<KubeObject & { spec: { groups: unknown[] } }>(objs, 'PrometheusRule', 'vigil');
      assert.deepEqual(rule.spec.groups, alerts.groups, 'components/monitoring/prometheusrule.yaml differs from deploy/prometheus/vigil-alerts.yaml: run deploy/kubernetes/sync.sh');
    }
  });
});
