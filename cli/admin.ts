// The admin commands that talk to the control plane's QueryService:
// `vigil alerts`, `vigil agents`, `vigil policy push`. mTLS with the admin
// SVID, the server checked by its SPIFFE ID. With no --controlplane, they use
// the control plane `vigil up` runs on this host (cli/local.ts).
import * as grpc from '@grpc/grpc-js';
import { Option, type Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VigilError } from '../common/errors';
import { agoNs } from '../common/time';
import { jsonLine, needsJsonLine, printable } from '../common/escape';
import { channelCredentials } from '../common/spiffe/grpc-credentials';
import { compileSpiffePattern } from '../common/spiffe/spiffe-id';
import { resolveTls, type TlsFlags } from '../common/spiffe/tls-files';
import { vigilProto } from '../common/proto/load';
import type { AlertRow__Output } from '../common/proto/generated/vigil/v1/AlertRow';
import type { ListAgentsResponse__Output } from '../common/proto/generated/vigil/v1/ListAgentsResponse';
import type { ListAlertsRequest } from '../common/proto/generated/vigil/v1/ListAlertsRequest';
import type { ListAlertsResponse__Output } from '../common/proto/generated/vigil/v1/ListAlertsResponse';
import type { PushPolicyResponse__Output } from '../common/proto/generated/vigil/v1/PushPolicyResponse';
import type { QueryServiceClient } from '../common/proto/generated/vigil/v1/QueryService';
import { hostPort, integer, outputFormat, tlsFlags, tlsOptions, vigilCommand, type CliIo, type TlsOptionValues } from './args';
import { DEFAULT_DATA_DIR, readLocal } from './local';
import { untilStopped } from './signals';

export interface AdminLink extends TlsFlags {
  address: string;
  insecure: boolean;
  /** the control plane's SPIFFE ID (default spiffe://TD/vigil/controlplane) */
  serverId?: string;
}

export interface LinkValues extends TlsOptionValues {
  controlplane?: string;
  data: string;
}

/** --controlplane and the TLS flags, or the local control plane of `vigil up`; TLS flags given win over its certificates. */
export function adminLink(v: LinkValues, step: string): AdminLink {
  const given = { insecure: v.insecure === true, ...(v.serverId !== undefined ? { serverId: v.serverId } : {}), ...tlsFlags(v) };
  if (v.controlplane !== undefined) return { address: v.controlplane, ...given };
  const local = readLocal(v.data, step);
  return { address: local.address, ...given, certsDir: v.certs ?? local.certs };
}

/** The options every admin command shares: where the control plane is, and how to talk to it. */
export function linkOptions(cmd: Command): Command {
  return tlsOptions(
    cmd
      .addOption(new Option('--controlplane <host:port>', 'the control plane (default: the one vigil up runs on this host)').argParser(hostPort('--controlplane')))
      .addOption(new Option('--data <dir>', "vigil up's data directory, where the local control plane is found").default(DEFAULT_DATA_DIR)),
    { policyKey: false, serverId: true },
  );
}

export function queryClient(l: AdminLink): QueryServiceClient {
  return adminClient(l, vigilProto().QueryService) as unknown as QueryServiceClient;
}

/** A client of one of the control plane's admin services, over the admin link (mTLS, the server checked by SPIFFE ID). */
export function adminClient(l: AdminLink, service: typeof grpc.Client): grpc.Client {
  if (l.insecure) return new service(l.address, grpc.credentials.createInsecure());
  const r = resolveTls('--controlplane', 'admin', l);
  const creds = channelCredentials(
    { bundle: r.bundle, cert: r.cert, key: r.key },
    r.trustDomain,
    compileSpiffePattern(l.serverId ?? `spiffe://${r.trustDomain}/vigil/controlplane`),
  );
  return new service(l.address, creds, { 'grpc.ssl_target_name_override': 'vigil-controlplane' });
}

/** A failed call as an error whose code says what happened: unreachable, refused, or failed. */
export function callError(address: string, err: grpc.ServiceError): VigilError {
  const details = err.details || err.message;
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return new VigilError('UNAVAILABLE', `the control plane at ${address} cannot be reached: ${details}`);
    case grpc.status.UNAUTHENTICATED:
    case grpc.status.PERMISSION_DENIED:
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.FAILED_PRECONDITION:
    case grpc.status.RESOURCE_EXHAUSTED:
    case grpc.status.NOT_FOUND:
      return new VigilError('REFUSED', `the control plane at ${address} refused: ${details}`);
    default:
      return new VigilError('CONTROLPLANE', `the control plane at ${address} failed the call: ${grpc.status[err.code] ?? err.code}: ${details}`);
  }
}

export type Cb<Res> = (err: grpc.ServiceError | null, res?: Res) => void;

export function unary<Res>(address: string, call: (opts: grpc.CallOptions, cb: Cb<Res>) => void, timeoutMs = 15000): Promise<Res> {
  return new Promise((resolve, reject) => {
    call({ deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(callError(address, err)) : resolve(res as Res)));
  });
}

/** How `vigil alerts` shows an alert: JSON as stored, or one line a person reads (agent-supplied text escaped). */
export type AlertFormat = (json: string) => string;

export function alertJson(json: string): string {
  if (!needsJsonLine(json)) return json;
  // stored before the control plane put alert JSON on one line: the same value, one line, nothing raw
  try {
    JSON.parse(json);
  } catch {
    return jsonLine(JSON.stringify({ not_json: json }));
  }
  return jsonLine(json);
}

export function alertLine(json: string): string {
  let a: { time?: unknown; priority?: unknown; node?: unknown; output?: unknown };
  try {
    a = JSON.parse(json) as typeof a;
  } catch {
    return printable(`(not JSON) ${json}`);
  }
  const s = (v: unknown): string => printable(typeof v === 'string' ? v : JSON.stringify(v ?? null));
  return `${s(a.time)} ${s(a.priority).toUpperCase().padEnd(13)} ${s(a.node)} ${s(a.output)}`;
}

/** `vigil alerts`: print stored alerts, and with follow, new ones as they arrive (until stopped or stdout closes). */
export async function listAlerts(l: AdminLink, req: ListAlertsRequest, follow: boolean, out: NodeJS.WritableStream, stopSignal: Promise<void>, format: AlertFormat = alertJson): Promise<number> {
  const c = queryClient(l);
  let closed: () => void = () => undefined;
  const outClosed = new Promise<void>((r) => (closed = r));
  const onOutError = (): void => closed(); // EPIPE: the reader went away (`| head`): stop quietly
  out.on('error', onOutError);
  try {
    // "10m" means ten minutes before now, not before each page
    const fixed: ListAlertsRequest = { ...req, since: agoNs(req.since ?? '') ?? req.since };
    let stop = false;
    void outClosed.then(() => (stop = true));
    if (!follow) {
      // page by page, each printed as it comes: any number of matches, never one response holding them all
      const limit = req.limit || Infinity;
      let n = 0;
      let after = '0';
      for (;;) {
        const size = Math.min(1000, limit - n);
        const res = await unary<ListAlertsResponse__Output>(l.address, (o, cb) => c.ListAlerts({ ...fixed, after_id: after, page_size: size }, o, cb));
        for (const a of res.alerts) {
          if (stop) return n;
          n++;
          // a slow reader (a pager, a pipe) holds the next page back, not this process's memory
          if (!out.write(format(a.json) + '\n')) await Promise.race([new Promise((r) => out.once('drain', r)), outClosed]);
        }
        if (!res.more || n >= limit || stop) return n;
        after = res.next_after_id;
      }
    }
    let n = 0;
    const call = c.FollowAlerts(fixed);
    await new Promise<void>((resolve, reject) => {
      call.on('data', (row: AlertRow__Output) => {
        n++;
        if (!out.write(format(row.json) + '\n')) {
          // the server keeps its place in the store: pausing here is what keeps both sides bounded
          call.pause();
          out.once('drain', () => call.resume());
        }
      });
      call.on('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? resolve() : reject(callError(l.address, err))));
      call.on('end', () => resolve());
      void Promise.race([stopSignal, outClosed]).then(() => call.cancel());
    });
    return n;
  } finally {
    out.off('error', onOutError);
    c.close();
  }
}

export async function pushPolicy(l: AdminLink, paths: string[]): Promise<{ version: number; agents: number }> {
  const { expandRulePaths } = await import('../agent/rules/load');
  const files = expandRulePaths(paths).map((f) => ({ name: path.basename(f), text: fs.readFileSync(f, 'utf8') }));
  const c = queryClient(l);
  try {
    // megabytes of rules take the control plane seconds to validate
    const r = await unary<PushPolicyResponse__Output>(l.address, (o, cb) => c.PushPolicy({ files }, o, cb), 120_000);
    return { version: Number(r.version), agents: r.agents_notified };
  } finally {
    c.close();
  }
}

export async function listAgents(l: AdminLink): Promise<string> {
  const c = queryClient(l);
  try {
    const r = await unary<ListAgentsResponse__Output>(l.address, (o, cb) => c.ListAgents({}, o, cb));
    return r.agents.map((a) => JSON.stringify(a)).join('\n') + (r.agents.length ? '\n' : '');
  } finally {
    c.close();
  }
}

// ---- the commands ------------------------------------------------------------

interface AlertsValues extends LinkValues {
  since?: string;
  rule?: string;
  workload?: string;
  node?: string;
  limit?: number;
  follow?: boolean;
  output?: 'json' | 'text';
}

export function alertsCommand(io?: CliIo): Command {
  const cmd = linkOptions(
    vigilCommand('alerts', 'stored alerts: one line each on a terminal, JSON lines with --output json or when piped')
      .addOption(new Option('--since <time>', 'RFC 3339, 10m, 2h, 1d, or nanoseconds since the epoch'))
      .addOption(new Option('--rule <name>', 'only this rule'))
      .addOption(new Option('--workload <pattern>', 'only workloads matching this SPIFFE ID pattern'))
      .addOption(new Option('--node <name>', 'only this node'))
      .addOption(new Option('--limit <n>', 'at most this many').argParser(integer('--limit', 1, 1_000_000)))
      .addOption(new Option('--follow', 'keep printing new alerts as they are stored'))
      .addOption(new Option('-o, --output <format>', 'json or text (default: text on a terminal, json otherwise)').argParser(outputFormat())),
  );
  if (io) {
    cmd.action(async (v: AlertsValues) => {
      const text = (v.output ?? (io.out.isTTY ? 'text' : 'json')) === 'text';
      const req: ListAlertsRequest = { since: v.since ?? '', rule: v.rule ?? '', workload: v.workload ?? '', node: v.node ?? '', limit: v.limit ?? 0 };
      await listAlerts(adminLink(v, 'vigil alerts'), req, v.follow === true, io.out, untilStopped(), text ? alertLine : alertJson);
      io.exit(0);
    });
  }
  return cmd;
}

export function agentsCommand(io?: CliIo): Command {
  const cmd = linkOptions(vigilCommand('agents', 'the agents the control plane knows: node, version, connection, policy version'));
  if (io) {
    cmd.action(async (v: LinkValues) => {
      io.out.write(await listAgents(adminLink(v, 'vigil agents')));
      io.exit(0);
    });
  }
  return cmd;
}

export function policyCommand(io?: CliIo): Command {
  const push = linkOptions(vigilCommand('push', 'validate rules centrally, sign them as the next policy version, send them to agents').argument('<path...>', 'rules files or directories'));
  if (io) {
    push.action(async (paths: string[], v: LinkValues) => {
      const r = await pushPolicy(adminLink(v, 'vigil policy push'), paths);
      io.out.write(`policy v${r.version} signed and sent to ${r.agents} connected agents\n`);
      io.exit(0);
    });
  }
  return vigilCommand('policy', 'signed policy').addCommand(push);
}
