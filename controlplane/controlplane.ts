// The control plane's composition root (as agent/agent.ts is the agent's):
// the store, TLS, the policy and log keys, the audit checkpoints, the gRPC
// server, metrics, retention.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitHostPort } from '../common/host-port';
import { checkBundle, type TlsFiles } from '../common/spiffe/grpc-credentials';
import { resolveTls, type TlsFlags } from '../common/spiffe/tls-files';
import { serveMetrics, type MetricsServer } from '../common/metrics-server';
import { auditLogOrigin, loadLogSigner } from '../common/tlog/keys';
import type { NoteSigner } from '../common/tlog/note';
import { loadPrivateKey } from '../agent/rules/policy';
import { errorMessage } from '../common/errors';
import type { IngestOptions } from './ingest';
import { Checkpointer } from './checkpoints';
import { checkTrustDomain } from '../common/spiffe/spiffe-id';
import { CpError } from './errors';
import { CpMetrics } from './metrics';
import { loadNodeRanges } from './node-ranges';
import { loadOrCreateVexKey } from './reach/dsse';
import { ControlPlane } from './server';
import { Store } from './store';
import { loadVdpConfig } from './vdp/config';

/** certsDir: a `vigil certs` directory; bundle/cert/key/policyKey/trustDomain: single files (SPIRE, Secrets) that win over it */
export interface ControlPlaneConfig extends TlsFlags {
  listen: string;
  dataDir: string;
  insecure: boolean;
  agentIds?: string[];
  adminIds?: string[];
  metricsAddress?: string;
  /** days of alerts to keep (0: forever) */
  retentionDays?: number;
  /** alerts per second one agent may send (0: no quota) */
  agentRate?: number;
  /** the most alerts one batch may carry */
  maxBatchAlerts?: number;
  /** tests: ingest queues and retry delays */
  ingest?: IngestOptions;
  /** the address ranges each node may claim (node-ranges.ts) */
  nodeRanges?: string;
  /** trust domains of workload SPIFFE IDs in identity reports (default: ours) */
  workloadTrustDomains?: string[];
  /** the most host bits one identity entry may cover (default 8: /24, /120) */
  identityMaxWidth?: number;
  /** the most entries one node may report (default 4096) */
  identityMaxEntries?: number;
  /** tests: identity map messages of about this many bytes (default 1 MiB) */
  mapChunkBytes?: number;
  /** the largest signed policy payload a push may make (default 16 MiB) */
  maxPolicyBytes?: number;
  /** tests: policy chunks of this many bytes (default 1 MiB) */
  policyChunkBytes?: number;
  /** --follow readers at once (default 64), and how long one may take nothing before it is dropped (default 30 s) */
  follow?: { max?: number; stallMs?: number };
  /** at most one audit checkpoint per this many ms (default 1000) */
  checkpointMs?: number;
  /** advisories, ticket sinks, outputs (docs/vdp.md) */
  vdpConfig?: string;
  /** ECDSA P-256 key that signs VEX documents (default DATA/vex-signing.key, made at first start) */
  vexKey?: string;
  log: (line: string) => void;
}

export interface RunningControlPlane {
  cp: ControlPlane;
  store: Store;
  port: number;
  metrics: CpMetrics;
  metricsServer: MetricsServer | null;
  checkpoints: Checkpointer;
  trustDomain: string;
  close(): Promise<void>;
}

export async function startControlPlane(c: ControlPlaneConfig): Promise<RunningControlPlane> {
  const metricsAt = c.metricsAddress ? splitHostPort(c.metricsAddress) : null;
  // the configuration first: a bad file refuses to start before anything is opened
  const vdpConfig = c.vdpConfig ? loadVdpConfig(c.vdpConfig) : null;
  const nodeRanges = c.nodeRanges ? loadNodeRanges(c.nodeRanges) : null;
  for (const td of c.workloadTrustDomains ?? []) {
    const bad = checkTrustDomain(td);
    if (bad) throw new CpError('CONFIG', `--workload-trust-domain "${td}": ${bad}`);
  }
  // a short busy timeout: a statement waiting for another connection's lock blocks the event loop; ingest retries without blocking
  let trustDomain = '';
  let tls: (TlsFiles & { trustDomain: string }) | null = null;
  let policyKey = null;
  let logKey: string | null = null;
  if (!c.insecure) {
    const r = resolveTls('vigil controlplane', 'controlplane', c);
    trustDomain = r.trustDomain;
    tls = { bundle: r.bundle, cert: r.cert, key: r.key, trustDomain };
    // before anything is opened: a bundle without our CA refuses to start
    const b = checkBundle(tls, trustDomain);
    if (b.setAside.length) {
      c.log(`${r.bundle}: ${b.setAside.length} CA${b.setAside.length > 1 ? 's' : ''} of another trust domain set aside (never roots): ${b.setAside.map((x) => `${x.subject}: ${x.why}`).join('; ')}`);
    }
    if (r.policyKey) policyKey = loadPrivateKey(r.policyKey);
    logKey = r.logKey;
  } else {
    c.log('WARNING: --insecure: plaintext, no authentication of agents or admins');
    const inDir = (name: string): string | null => (c.certsDir && fs.existsSync(path.join(c.certsDir, name)) ? path.join(c.certsDir, name) : null);
    const pk = c.policyKey ?? inDir('policy.key');
    if (pk) policyKey = loadPrivateKey(pk);
    logKey = c.logKey ?? inDir('log.key') ?? pk;
  }
  const store = new Store(path.join(c.dataDir, 'vigil.db'), { busyTimeoutMs: 20 });
  const metrics = new CpMetrics(store);
  let signer: NoteSigner | null = null;
  try {
    if (logKey) signer = loadLogSigner(logKey, auditLogOrigin(trustDomain));
  } catch (err) {
    store.close();
    throw err;
  }
  const checkpoints = new Checkpointer({ db: store.db, log: store.log, signer, minIntervalMs: c.checkpointMs, say: c.log });
  store.onAudit = () => checkpoints.grew();
  metrics.attachCheckpoints(checkpoints);
  const vexKey = loadOrCreateVexKey(c.dataDir, c.vexKey);
  const cp = new ControlPlane({
    store,
    vexKey,
    vexAuthor: trustDomain ? `spiffe://${trustDomain}/vigil/controlplane` : 'Vigil control plane (insecure mode: no identity)',
    tls,
    agentIds: c.agentIds ?? [`spiffe://${trustDomain || '*'}/vigil/agent/*`],
    adminIds: c.adminIds ?? [`spiffe://${trustDomain || '*'}/vigil/admin/*`],
    policyKey,
    metrics,
    checkpoints,
    log: c.log,
    ingest: { ...c.ingest, agentRate: c.agentRate ?? c.ingest?.agentRate },
    identityPolicy: {
      ...(c.workloadTrustDomains?.length ? { trustDomains: c.workloadTrustDomains } : {}),
      ...(c.identityMaxWidth !== undefined ? { maxPrefixWidth: c.identityMaxWidth } : {}),
      ...(c.identityMaxEntries !== undefined ? { maxEntries: c.identityMaxEntries } : {}),
      ownership: nodeRanges,
    },
    mapChunkBytes: c.mapChunkBytes,
    maxPolicyBytes: c.maxPolicyBytes,
    policyChunkBytes: c.policyChunkBytes,
    follow: c.follow,
    maxBatchAlerts: c.maxBatchAlerts,
    vdpConfig,
    vdpCounters: metrics.vdpCounters(),
  });
  const port = await cp.listen(c.listen);
  let metricsServer: MetricsServer | null = null;
  if (metricsAt) metricsServer = await serveMetrics(metrics.registry, metricsAt[0], metricsAt[1]);
  let retention: NodeJS.Timeout | null = null;
  if (c.retentionDays && c.retentionDays > 0) {
    const days = c.retentionDays;
    const prune = (): void => {
      const before = ((BigInt(Date.now()) - BigInt(days * 86400_000)) * 1_000_000n).toString();
      try {
        const n = store.retain(before, `older than ${days} days (--retention-days)`);
        if (n) c.log(`retention: deleted ${n} alerts older than ${days} days`);
      } catch (err) {
        c.log(`retention: not run this time: ${errorMessage(err)}`);
      }
    };
    prune();
    retention = setInterval(prune, 3600_000);
    retention.unref();
  }
  return {
    cp,
    store,
    port,
    metrics,
    metricsServer,
    checkpoints,
    trustDomain,
    close: async () => {
      if (retention) clearInterval(retention);
      await cp.close();
      checkpoints.close();
      if (metricsServer) await metricsServer.close();
      store.close();
    },
  };
}
