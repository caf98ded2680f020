// The admin side of the control plane's QueryService: `vigil alerts`,
// `vigil agents`, `vigil policy push` as a client (mTLS with the admin SVID,
// the server checked by its SPIFFE ID).
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileSpiffePattern } from '../common/spiffe/spiffe-id';
import { channelCredentials } from '../common/spiffe/grpc-credentials';
import { resolveTls, type TlsFlags } from '../common/spiffe/tls-files';
import { vigilProto } from '../common/proto/load';
import type { AlertRow__Output } from '../common/proto/generated/vigil/v1/AlertRow';
import type { ListAgentsResponse__Output } from '../common/proto/generated/vigil/v1/ListAgentsResponse';
import type { ListAlertsRequest } from '../common/proto/generated/vigil/v1/ListAlertsRequest';
import type { ListAlertsResponse__Output } from '../common/proto/generated/vigil/v1/ListAlertsResponse';
import type { PushPolicyResponse__Output } from '../common/proto/generated/vigil/v1/PushPolicyResponse';
import type { QueryServiceClient } from '../common/proto/generated/vigil/v1/QueryService';
import { CpError } from '../controlplane/errors';
import { expandRulePaths } from '../agent/rules/load';

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
