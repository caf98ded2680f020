// `vigil controlplane`, `vigil alerts`, `vigil policy push`, `vigil audit`:
// the control plane and its admin commands.
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitHostPort } from '../common/host-port';
import { resolveTls, type TlsFlags } from '../common/spiffe/tls-files';
import { compileSpiffePattern } from '../common/spiffe/spiffe-id';
import { channelCredentials } from '../common/spiffe/svid';
import { serveMetrics, type MetricsServer } from '../common/metrics-server';
import { loadPrivateKey } from '../agent/rules/policy';
import { expandRulePaths } from '../agent/rules/load';
import { canonicalJson } from '../common/canonical-json';
import { CpError } from './errors';
import type { AlertRow__Output } from '../common/proto/generated/vigil/v1/AlertRow';
import type { ListAgentsResponse__Output } from '../common/proto/generated/vigil/v1/ListAgentsResponse';
import type { ListAlertsRequest } from '../common/proto/generated/vigil/v1/ListAlertsRequest';
import type { ListAlertsResponse__Output } from '../common/proto/generated/vigil/v1/ListAlertsResponse';
import type { PushPolicyResponse__Output } from '../common/proto/generated/vigil/v1/PushPolicyResponse';
import type { QueryServiceClient } from '../common/proto/generated/vigil/v1/QueryService';
import { CpMetrics } from './metrics';
import { vigilProto } from '../common/proto/load';
import { ControlPlane } from './server';
import { Store } from './store';

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
  log: (line: string) => void;
}

export interface RunningControlPlane {
  cp: ControlPlane;
  store: Store;
  port: number;
  metrics: CpMetrics;
  metricsServer: MetricsServer | null;
  trustDomain: string;
  close(): Promise<void>;
}

export async function startControlPlane(c: ControlPlaneConfig): Promise<RunningControlPlane> {
  const metricsAt = c.metricsAddress ? splitHostPort(c.metricsAddress) : null;
  const store = new Store(path.join(c.dataDir, 'vigil.db'));
  const metrics = new CpMetrics(store);
  let trustDomain = '';
  let tls = null;
  let policyKey = null;
  if (!c.insecure) {
    const r = resolveTls('vigil controlplane', 'controlplane', c);
    trustDomain = r.trustDomain;
    tls = { bundle: r.bundle, cert: r.cert, key: r.key, trustDomain };
    if (r.policyKey) policyKey = loadPrivateKey(r.policyKey);
  } else {
    c.log('WARNING: --insecure: plaintext, no authentication of agents or admins');
    const pk = c.policyKey ?? (c.certsDir && fs.existsSync(path.join(c.certsDir, 'policy.key')) ? path.join(c.certsDir, 'policy.key') : null);
    if (pk) policyKey = loadPrivateKey(pk);
  }
  const cp = new ControlPlane({
    store,
    tls,
    agentIds: c.agentIds ?? [`spiffe://${trustDomain || '*'}/vigil/agent/*`],
    adminIds: c.adminIds ?? [`spiffe://${trustDomain || '*'}/vigil/admin/*`],
    policyKey,
    metrics,
    log: c.log,
  });
  const port = await cp.listen(c.listen);
  let metricsServer: MetricsServer | null = null;
  if (metricsAt) metricsServer = await serveMetrics(metrics.registry, metricsAt[0], metricsAt[1]);
  let retention: NodeJS.Timeout | null = null;
  if (c.retentionDays && c.retentionDays > 0) {
    const days = c.retentionDays;
    const prune = (): void => {
      const before = ((BigInt(Date.now()) - BigInt(days * 86400_000)) * 1_000_000n).toString();
      const n = store.retain(before);
      if (n) c.log(`retention: deleted ${n} alerts older than ${days} days`);
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
    trustDomain,
    close: async () => {
      if (retention) clearInterval(retention);
      await cp.close();
      if (metricsServer) await metricsServer.close();
      store.close();
    },
  };
}

export interface AdminLink extends TlsFlags {
  address: string;
  insecure: boolean;
  /** the control plane's SPIFFE ID (default spiffe://TD/vigil/controlplane) */
  serverId?: string;
}

export function queryClient(l: AdminLink): QueryServiceClient {
  const proto = vigilProto();
  if (l.insecure) return new proto.QueryService(l.address, grpc.credentials.createInsecure()) as unknown as QueryServiceClient;
  const r = resolveTls('--controlplane', 'admin', l);
  const creds = channelCredentials(
    { bundle: r.bundle, cert: r.cert, key: r.key },
    r.trustDomain,
    compileSpiffePattern(l.serverId ?? `spiffe://${r.trustDomain}/vigil/controlplane`),
  );
  return new proto.QueryService(l.address, creds, { 'grpc.ssl_target_name_override': 'vigil-controlplane' }) as unknown as QueryServiceClient;
}

type Cb<Res> = (err: grpc.ServiceError | null, res?: Res) => void;

function unary<Res>(call: (opts: grpc.CallOptions, cb: Cb<Res>) => void): Promise<Res> {
  return new Promise((resolve, reject) => {
    call({ deadline: Date.now() + 15000 }, (err, res) => (err ? reject(new CpError('CONFIG', err.details || err.message)) : resolve(res as Res)));
  });
}

/** `vigil alerts`: print stored alerts (JSON lines), and with follow, new ones as they arrive. */
export async function listAlerts(
  l: AdminLink,
  req: ListAlertsRequest,
  follow: boolean,
  out: NodeJS.WritableStream,
  stopSignal: Promise<void>,
): Promise<number> {
  const c = queryClient(l);
  try {
    if (!follow) {
      const res = await unary<ListAlertsResponse__Output>((o, cb) => c.ListAlerts(req, o, cb));
      for (const a of res.alerts) out.write(a.json + '\n');
      return res.alerts.length;
    }
    let n = 0;
    const call = c.FollowAlerts(req);
    await new Promise<void>((resolve, reject) => {
      call.on('data', (row: AlertRow__Output) => {
        n++;
        out.write(row.json + '\n');
      });
      call.on('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? resolve() : reject(new CpError('CONFIG', err.details || err.message))));
      call.on('end', () => resolve());
      void stopSignal.then(() => call.cancel());
    });
    return n;
  } finally {
    c.close();
  }
}

export async function pushPolicy(l: AdminLink, paths: string[]): Promise<{ version: number; agents: number }> {
  const files = expandRulePaths(paths).map((f) => ({ name: path.basename(f), text: fs.readFileSync(f, 'utf8') }));
  const c = queryClient(l);
  try {
    const r = await unary<PushPolicyResponse__Output>((o, cb) => c.PushPolicy({ files }, o, cb));
    return { version: Number(r.version), agents: r.agents_notified };
  } finally {
    c.close();
  }
}

export async function listAgents(l: AdminLink): Promise<string> {
  const c = queryClient(l);
  try {
    const r = await unary<ListAgentsResponse__Output>((o, cb) => c.ListAgents({}, o, cb));
    return r.agents.map((a) => JSON.stringify(a)).join('\n') + (r.agents.length ? '\n' : '');
  } finally {
    c.close();
  }
}

/** `vigil audit verify`: walk the chain in the store file. */
export function auditVerify(dataDir: string): { ok: boolean; text: string } {
  const store = new Store(path.join(dataDir, 'vigil.db'));
  try {
    const v = store.verifyAudit();
    return v.intact
      ? { ok: true, text: `audit log intact: ${v.entries} entries, head ${v.head}\n` }
      : { ok: false, text: `audit log TAMPERED: ${v.problem} (checked ${v.entries} entries)\n` };
  } finally {
    store.close();
  }
}

/** `vigil audit export`: every entry, one canonical JSON object per line, for auditors. */
export function auditExport(dataDir: string, out: NodeJS.WritableStream): number {
  const store = new Store(path.join(dataDir, 'vigil.db'));
  try {
    let n = 0;
    for (const e of store.auditEntries()) {
      out.write(canonicalJson(e) + '\n');
      n++;
    }
    return n;
  } finally {
    store.close();
  }
}
