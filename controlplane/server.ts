// The control plane: agents stream alerts in over mTLS, each stored once
// and acknowledged after it is on disk; signed policy and the merged
// identity map stream out; queries for `vigil alerts` and dashboards.
import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { KeyObject } from 'node:crypto';
import { rfcToNs } from '../common/time';
import { errorMessage } from '../common/errors';
import { authorizePeer, serverCredentialsReady, type TlsFiles } from '../common/spiffe/svid';
import { compileSpiffePattern, type SpiffePattern } from '../common/spiffe/spiffe-id';
import { signPolicy } from '../agent/rules/policy';
import type { AgentMessage__Output } from '../common/proto/generated/vigil/v1/AgentMessage';
import type { AgentServiceHandlers } from '../common/proto/generated/vigil/v1/AgentService';
import type { AlertRecord__Output } from '../common/proto/generated/vigil/v1/AlertRecord';
import type { AlertRow } from '../common/proto/generated/vigil/v1/AlertRow';
import type { ControlMessage } from '../common/proto/generated/vigil/v1/ControlMessage';
import type { ListAlertsRequest__Output } from '../common/proto/generated/vigil/v1/ListAlertsRequest';
import type { QueryServiceHandlers } from '../common/proto/generated/vigil/v1/QueryService';
import type { CpMetrics } from './metrics';
import { vigilProto } from '../common/proto/load';
import type { Store, StoredAlert } from './store';

export interface ControlPlaneOptions {
  store: Store;
  /** null: plaintext (--insecure) */
  tls: (TlsFiles & { trustDomain: string }) | null;
  /** SPIFFE ID patterns of agents, e.g. spiffe://TD/vigil/agent/* */
  agentIds: string[];
  /** SPIFFE ID patterns allowed to query and push policy */
  adminIds: string[];
  /** Ed25519 key that signs policy bundles (null: policy push refused) */
  policyKey: KeyObject | null;
  metrics?: CpMetrics;
  log?: (line: string) => void;
}

interface Connected {
  node: string;
  spiffeId: string;
  call: grpc.ServerDuplexStream<AgentMessage__Output, ControlMessage>;
}

interface Pending {
  alerts: StoredAlert[];
  done: (err: Error | null) => void;
}

function deny(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** "2026-11-25T10:00:00Z", "10m" (ago) or nanoseconds since the epoch, to ns. */
export function parseSince(s: string): string | undefined {
  if (!s) return undefined;
  if (/^\d+$/.test(s)) return s;
  const rel = /^(\d+)(s|m|h|d)$/.exec(s);
  if (rel) {
    const mult = { s: 1, m: 60, h: 3600, d: 86400 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return ((BigInt(Date.now()) - BigInt(Number(rel[1]) * mult * 1000)) * 1_000_000n).toString();
  }
  if (Number.isNaN(Date.parse(s))) throw new Error(`since: "${s}" is not a time (RFC 3339, 10m, 2h, or nanoseconds)`);
  return rfcToNs(s);
}

export class ControlPlane {
  private readonly store: Store;
  private readonly agentPatterns: SpiffePattern[];
  private readonly adminPatterns: SpiffePattern[];
  private readonly connected = new Map<string, Connected>();
  private readonly events = new EventEmitter();
  private queue: Pending[] = [];
  private flushScheduled = false;
  private server: grpc.Server | null = null;
  private identityVersion = 0;

  constructor(private readonly o: ControlPlaneOptions) {
    this.store = o.store;
    this.agentPatterns = o.agentIds.map(compileSpiffePattern);
    this.adminPatterns = o.adminIds.map(compileSpiffePattern);
    this.events.setMaxListeners(0);
    this.store.markAllDisconnected();
  }

  private log(line: string): void {
    this.o.log?.(line);
  }

  private authorize(call: { getAuthContext(): { sslPeerCertificate?: import('node:tls').PeerCertificate } }, who: SpiffePattern[]): { spiffeId: string } | grpc.ServiceError {
    if (!this.o.tls) return { spiffeId: 'insecure' };
    return authorizePeer(call, this.o.tls.trustDomain, who);
  }

  // ---- agents -------------------------------------------------------------

  /** Group commit: every batch queued while the last transaction ran goes into the next one. */
  private ingest(alerts: StoredAlert[], done: (err: Error | null) => void): void {
    this.queue.push({ alerts, done });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const all = batch.flatMap((p) => p.alerts);
    let err: Error | null = null;
    const t0 = process.hrtime.bigint();
    try {
      const added = this.store.insertAlerts(all);
      this.o.metrics?.alertsIngested.inc(added);
      this.o.metrics?.duplicates.inc(all.length - added);
      this.o.metrics?.commitSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      if (added) this.events.emit('alerts');
    } catch (e) {
      err = e instanceof Error ? e : new Error(String(e));
      this.log(`storing ${all.length} alerts: ${err.message}`);
    }
    for (const p of batch) p.done(err);
  }

  private agentService(): AgentServiceHandlers {
    return {
      Connect: (call) => {
        const peer = this.authorize(call, this.agentPatterns);
        if ('code' in peer) {
          this.log(`agent refused: ${peer.details}`);
          call.emit('error', peer);
          return;
        }
        let me: Connected | null = null;
        let bootId = '';
        const send = (m: ControlMessage): void => {
          if (!call.writableEnded && !call.destroyed) call.write(m);
        };
        call.on('data', (m: AgentMessage__Output) => {
          if (m.msg === 'hello' && m.hello) {
            const h = m.hello;
            // an agent SVID named after a node speaks for that node only
            const named = /\/agent\/([^/]+)$/.exec(peer.spiffeId);
            if (named && named[1] !== h.node) {
              call.emit('error', deny(grpc.status.PERMISSION_DENIED, `${peer.spiffeId} cannot speak for node "${h.node}"`));
              return;
            }
            bootId = h.boot_id;
            me = { node: h.node, spiffeId: peer.spiffeId, call };
            const prev = this.connected.get(h.node);
            if (prev && prev.call !== call) prev.call.end();
            this.connected.set(h.node, me);
            this.store.agentConnected({
              node: h.node,
              spiffe_id: peer.spiffeId,
              boot_id: h.boot_id,
              version: h.version,
              capabilities: JSON.stringify(h.capabilities ?? {}),
              policy_version: Number(h.policy_version),
            });
            this.o.metrics?.agentsConnected(this.connected.size);
            this.o.metrics?.agentPolicyVersion(h.node, Number(h.policy_version));
            const latest = this.store.latestPolicy();
            send({ welcome: { stored_sequence: this.store.storedSequence(h.node, h.boot_id), policy_version: latest?.version ?? 0 } });
            if (latest && latest.version > Number(h.policy_version)) {
              send({ policy: { version: latest.version, payload: latest.payload, signature: latest.signature, key_id: latest.key_id } });
            }
            send({ identity_map: this.identityMap() });
            this.log(`agent ${h.node} connected as ${peer.spiffeId} (boot ${h.boot_id}, policy v${h.policy_version})`);
            return;
          }
          if (!me) {
            call.emit('error', deny(grpc.status.FAILED_PRECONDITION, 'the first message must be Hello'));
            return;
          }
          const node = me.node;
          switch (m.msg) {
            case 'alerts': {
              const recs = m.alerts?.alerts ?? [];
              const stored = recs.map((r: AlertRecord__Output): StoredAlert => ({
                node,
                bootId: r.boot_id || bootId,
                sequence: Number(r.sequence),
                timeNs: r.time_unix_nano,
                rule: r.rule,
                priority: r.priority,
                action: r.action,
                outcome: r.outcome,
                spiffeId: r.spiffe_id,
                json: r.json,
              }));
              this.ingest(stored, (err) => {
                if (err) {
                  call.emit('error', deny(grpc.status.UNAVAILABLE, `storing alerts: ${err.message}`));
                  return;
                }
                // one ack per boot: the highest sequence now on disk
                const max = new Map<string, number>();
                for (const a of stored) max.set(a.bootId, Math.max(max.get(a.bootId) ?? 0, a.sequence));
                for (const [b, s] of max) send({ ack: { boot_id: b, sequence: s } });
              });
              break;
            }
            case 'identities': {
              const entries = (m.identities?.entries ?? []).map((e) => ({ cidr: e.cidr, spiffe_id: e.spiffe_id }));
              if (this.store.setAddresses(node, entries)) this.broadcastIdentityMap();
              break;
            }
            case 'policy_status':
              if (m.policy_status) {
                this.store.agentPolicy(node, Number(m.policy_status.version), m.policy_status.error);
                this.o.metrics?.agentPolicyVersion(node, Number(m.policy_status.version));
                if (m.policy_status.error) this.log(`agent ${node} refused policy: ${m.policy_status.error}`);
              }
              break;
            case 'heartbeat':
              this.store.agentSeen(node);
              send({ heartbeat: { unix_nano: (BigInt(Date.now()) * 1_000_000n).toString() } });
              break;
            default:
              break;
          }
        });
        const gone = (): void => {
          if (me && this.connected.get(me.node)?.call === call) {
            this.connected.delete(me.node);
            this.store.agentDisconnected(me.node);
            this.o.metrics?.agentsConnected(this.connected.size);
            this.log(`agent ${me.node} disconnected`);
          }
        };
        call.on('end', () => {
          gone();
          call.end();
        });
        call.on('error', gone);
        call.on('close', gone);
      },
    };
  }

  private identityMap(): { version: number; entries: { cidr: string; spiffe_id: string; node: string }[] } {
    return { version: this.identityVersion, entries: this.store.addresses() };
  }

  private broadcastIdentityMap(): void {
    this.identityVersion++;
    const map = this.identityMap();
    for (const c of this.connected.values()) c.call.write({ identity_map: map });
  }

  // ---- queries ------------------------------------------------------------

  private queryService(): QueryServiceHandlers {
    const filters = (r: ListAlertsRequest__Output) => {
      const wl = r.workload ? compileSpiffePattern(r.workload) : null;
      return {
        sinceNs: parseSince(r.since),
        rule: r.rule || undefined,
        node: r.node || undefined,
        workloadLike: wl ? (id: string) => wl.matches(id) : undefined,
        limit: r.limit || undefined,
      };
    };
    const check = <C extends { getAuthContext(): { sslPeerCertificate?: import('node:tls').PeerCertificate } }>(call: C): { spiffeId: string } | grpc.ServiceError =>
      this.authorize(call, this.adminPatterns);
    return {
      ListAlerts: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        try {
          return cb(null, { alerts: this.store.queryAlerts(filters(call.request)) });
        } catch (err) {
          return cb(deny(grpc.status.INVALID_ARGUMENT, errorMessage(err)));
        }
      },
      FollowAlerts: (call) => {
        const peer = check(call);
        if ('code' in peer) {
          call.emit('error', peer);
          return;
        }
        let f: ReturnType<typeof filters>;
        try {
          f = filters(call.request);
        } catch (err) {
          call.emit('error', deny(grpc.status.INVALID_ARGUMENT, errorMessage(err)));
          return;
        }
        let last = 0;
        const pump = (): void => {
          for (const row of this.store.queryAlerts({ ...f, afterId: last, limit: undefined })) {
            last = row.id;
            call.write(row as AlertRow);
          }
        };
        pump();
        this.events.on('alerts', pump);
        call.on('cancelled', () => this.events.off('alerts', pump));
        call.on('close', () => this.events.off('alerts', pump));
      },
      ListAgents: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        return cb(null, {
          agents: this.store.agents().map((a) => ({
            node: a.node,
            spiffe_id: a.spiffe_id,
            boot_id: a.boot_id,
            version: a.version,
            connected: this.connected.has(a.node),
            last_seen_unix_nano: String(a.last_seen_ns),
            policy_version: a.policy_version,
            policy_error: a.policy_error,
            capabilities: JSON.parse(a.capabilities || '{}') as object,
          })),
        });
      },
      AuditProof: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        const v = this.store.verifyAudit();
        return cb(null, { entries: v.entries, head: v.head, intact: v.intact, problem: v.problem ?? '' });
      },
      PushPolicy: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        if (!this.o.policyKey) return cb(deny(grpc.status.FAILED_PRECONDITION, 'this control plane has no policy signing key'));
        const version = (this.store.latestPolicy()?.version ?? 0) + 1;
        let signed;
        try {
          signed = signPolicy(version, call.request.files.map((f) => ({ name: f.name, text: f.text })), this.o.policyKey);
        } catch (err) {
          return cb(deny(grpc.status.INVALID_ARGUMENT, errorMessage(err)));
        }
        this.store.addPolicy({ version, payload: signed.payload, signature: signed.signature, key_id: signed.keyId, pushed_by: peer.spiffeId });
        this.o.metrics?.policyVersion.set(version);
        let n = 0;
        for (const c of this.connected.values()) {
          c.call.write({ policy: { version, payload: signed.payload, signature: signed.signature, key_id: signed.keyId } });
          n++;
        }
        this.log(`policy v${version} pushed by ${peer.spiffeId} to ${n} agents`);
        return cb(null, { version, agents_notified: n });
      },
    };
  }

  addToServer(server: grpc.Server): void {
    const proto = vigilProto();
    server.addService(proto.AgentService.service, this.agentService());
    server.addService(proto.QueryService.service, this.queryService());
  }

  /** Listen on host:port (port 0: any). Resolves with the port. */
  async listen(address: string): Promise<number> {
    const server = new grpc.Server({ 'grpc.keepalive_time_ms': 20000, 'grpc.max_receive_message_length': 16 << 20 });
    this.addToServer(server);
    const creds = this.o.tls ? await serverCredentialsReady(this.o.tls) : grpc.ServerCredentials.createInsecure();
    const port = await new Promise<number>((resolve, reject) => server.bindAsync(address, creds, (err, p) => (err ? reject(err) : resolve(p))));
    this.server = server;
    return port;
  }

  async close(): Promise<void> {
    this.flush();
    for (const c of this.connected.values()) c.call.end();
    const s = this.server;
    this.server = null;
    if (s) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.forceShutdown();
          resolve();
        }, 1000);
        s.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
