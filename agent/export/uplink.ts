// The agent's link to the control plane: one mTLS stream, reconnected with
// exponential backoff and jitter. Alerts go through the durable spool and
// leave it only when acknowledged; signed policy, the identity map and the
// audit log's checkpoints (audit-witness.ts checks them) come back.
import * as grpc from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import { Backoff } from '../../common/backoff';
import type { AgentMessage } from '../../common/proto/generated/vigil/v1/AgentMessage';
import type { Ack__Output } from '../../common/proto/generated/vigil/v1/Ack';
import type { AgentServiceClient } from '../../common/proto/generated/vigil/v1/AgentService';
import type { ControlMessage__Output } from '../../common/proto/generated/vigil/v1/ControlMessage';
import type { KernelCapabilities } from '../../common/proto/generated/vigil/v1/KernelCapabilities';
import { vigilProto } from '../../common/proto/load';
import type { Alert } from './alert';
import { rfcToNs } from '../../common/time';
import { compileSpiffePattern } from '../../common/spiffe/spiffe-id';
import { channelCredentials, type TlsFiles } from '../../common/spiffe/grpc-credentials';
import { acceptPolicy, type PolicyState, type SignedPolicy, type VerifiedPolicy } from '../rules/policy';
import { errorMessage } from '../../common/errors';
import { IdentityMapAssembler, type MapEntry } from './identity-map';
import { PolicyChunks } from './policy-chunks';
import type { Spool } from './spool';
import type { AuditWitness } from './audit-witness';
import type { SpooledAlert } from '../../common/alert-envelope';

export interface UplinkOptions {
  address: string;
  /** null: plaintext (--insecure) */
  tls: (TlsFiles & { trustDomain: string; serverId: string }) | null;
  node: string;
  bootId: string;
  version: string;
  capabilities: KernelCapabilities;
  spool: Spool;
  /** pinned policy public key; null: policy bundles are refused */
  policyKey: KeyObject | null;
  policyState: PolicyState | null;
  /** apply a verified policy; return an error text to refuse it */
  applyPolicy: (p: VerifiedPolicy) => string | null;
  currentPolicyVersion: () => number;
  onIdentityMap?: (entries: { cidr: string; spiffe_id: string; node: string }[]) => void;
  identityReport?: () => { cidr: string; spiffe_id: string }[];
  /** checks the audit log's checkpoints (null: not witnessing, no log key) */
  witness?: AuditWitness | null;
  /** Vigil's own alert when the audit log is not what it was */
  onAuditAlert?: (a: Alert) => void;
  log?: (line: string) => void;
  onState?: (connected: boolean) => void;
  /** runtime reachability reports and image inventories (agent/reach/tracker.ts): sent on each stream until acknowledged */
  reach?: { messages(): AgentMessage[]; acked(id: string, error: string): void; reconnected(): void };
  /** first retry delay; doubles up to maxBackoffMs, with full jitter */
  backoffMs?: number;
  maxBackoffMs?: number;
  batchSize?: number;
  /** the largest signed policy payload taken (default 64 MiB) */
  maxPolicyBytes?: number;
}

export interface UplinkStats {
  connected: boolean;
  connects: number;
  sent: number;
  acked: number;
  /** alerts the control plane refused for good (not valid alerts) */
  refused: number;
  policyRefused: number;
}

export class Uplink {
  private client: AgentServiceClient | null = null;
  private call: grpc.ClientDuplexStream<AgentMessage, ControlMessage__Output> | null = null;
  private ready = false;
  private stopped = false;
  private readonly backoff: Backoff;
  private retry: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  private waitingDrain = false;
  /** per boot: the highest sequence written on the current stream */
  private sentUpTo = new Map<string, number>();
  readonly stats: UplinkStats = { connected: false, connects: 0, sent: 0, acked: 0, refused: 0, policyRefused: 0 };
  /** the most alerts the control plane takes in one batch (its Welcome says) */
  private serverMaxBatch = 0;
  private readonly identityMap = new IdentityMapAssembler();
  private readonly policyChunks: PolicyChunks;
  /** the largest message the control plane takes (its Welcome says) */
  private serverMaxBytes = 0;

  constructor(private readonly o: UplinkOptions) {
    this.backoff = new Backoff(o.backoffMs ?? 250, o.maxBackoffMs ?? 30_000, 'full');
    this.policyChunks = new PolicyChunks(o.maxPolicyBytes);
  }

  private log(s: string): void {
    this.o.log?.(s);
  }

  start(): void {
    const proto = vigilProto();
    const creds = this.o.tls
      ? channelCredentials(this.o.tls, this.o.tls.trustDomain, compileSpiffePattern(this.o.tls.serverId))
      : grpc.credentials.createInsecure();
    this.client = new proto.AgentService(this.o.address, creds, {
      // the server is authorized by SPIFFE ID, not by name: any stable name will do
      'grpc.ssl_target_name_override': 'vigil-controlplane',
      'grpc.keepalive_time_ms': 20000,
      'grpc.max_receive_message_length': 16 << 20,
    }) as unknown as AgentServiceClient;
    this.connect();
  }

  /** Spool an alert (durably, with the next flush) and send it when connected. */
  send(a: Alert): boolean {
    const rec = this.o.spool.add({
      timeNs: rfcToNs(a.time),
      rule: a.rule,
      priority: a.priority,
      action: a.action,
      outcome: a.outcome,
      spiffeId: a.workload.spiffe_id ?? '',
      json: JSON.stringify(a),
    });
    this.scheduleFlush();
    return rec !== null;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** fsync the spool, then write what this stream has not carried yet. */
  private flush(): void {
    this.o.spool.sync();
    if (!this.ready || !this.call || this.waitingDrain) return;
    const batch: SpooledAlert[] = [];
    const own = this.o.batchSize ?? 500;
    const size = this.serverMaxBatch > 0 ? Math.min(own, this.serverMaxBatch) : own;
    const write = (): boolean => {
      if (batch.length === 0 || !this.call) return true;
      const ok = this.call.write({
        alerts: {
          alerts: batch.map((r) => ({
            sequence: r.sequence,
            boot_id: r.bootId === this.o.bootId ? '' : r.bootId,
            time_unix_nano: r.timeNs,
            rule: r.rule,
            priority: r.priority,
            action: r.action,
            outcome: r.outcome,
            spiffe_id: r.spiffeId,
            json: r.json,
          })),
        },
      });
      this.stats.sent += batch.length;
      batch.length = 0;
      return ok;
    };
    // under the control plane's message limit, with room for the encoding
    const maxBytes = this.serverMaxBytes > 0 ? Math.floor(this.serverMaxBytes / 2) : 4 << 20;
    let bytes = 0;
    const waitForDrain = (): void => {
      // the stream's buffer is full (or the control plane paused us): continue when it drains
      this.waitingDrain = true;
      const call = this.call;
      call?.once('drain', () => {
        this.waitingDrain = false;
        if (call === this.call) this.scheduleFlush();
      });
    };
    for (const r of this.o.spool.unacked()) {
      if (r.sequence <= (this.sentUpTo.get(r.bootId) ?? 0)) continue;
      const cost = Buffer.byteLength(r.json) + r.rule.length + r.spiffeId.length + r.bootId.length + 64;
      if (batch.length > 0 && bytes + cost > maxBytes) {
        bytes = 0;
        if (!write()) return waitForDrain();
      }
      batch.push(r);
      bytes += cost;
      this.sentUpTo.set(r.bootId, r.sequence);
      if (batch.length >= size) {
        bytes = 0;
        if (!write()) return waitForDrain();
      }
    }
    write();
  }

  private connect(): void {
    if (this.stopped || !this.client) return;
    this.sentUpTo = new Map();
    this.identityMap.reset();
    this.policyChunks.reset();
    this.ready = false;
    this.waitingDrain = false;
    const call = this.client.Connect();
    this.call = call;
    call.on('data', (m: ControlMessage__Output) => this.onMessage(m));
    call.on('error', (err: grpc.ServiceError) => this.lost(call, err.details || err.message));
    call.on('end', () => this.lost(call, 'the control plane closed the stream'));
    call.write({
      hello: {
        node: this.o.node,
        boot_id: this.o.bootId,
        version: this.o.version,
        capabilities: this.o.capabilities,
        policy_version: this.o.currentPolicyVersion(),
        highest_policy_version: Math.max(this.o.policyState?.highest() ?? 0, this.o.currentPolicyVersion()),
        max_policy_bytes: this.policyChunks.maxBytes,
        checkpoint_size: this.o.witness?.size() ?? 0,
      },
    });
  }

  private onMessage(m: ControlMessage__Output): void {
    switch (m.msg) {
      case 'welcome':
        this.ready = true;
        this.backoff.reset();
        this.stats.connected = true;
        this.stats.connects++;
        this.o.onState?.(true);
        this.serverMaxBatch = m.welcome?.max_batch_alerts ?? 0;
        this.serverMaxBytes = m.welcome?.max_message_bytes ?? 0;
        // an old control plane's "stored up to" (ours sends 0: a highest stored sequence says nothing of a gap below it)
        if (m.welcome && Number(m.welcome.stored_sequence) > 0) this.o.spool.ackUpTo(this.o.bootId, Number(m.welcome.stored_sequence));
        this.log(`connected to the control plane at ${this.o.address} (${this.o.spool.stats().depth} alerts to send)`);
        if (this.o.identityReport) this.call?.write({ identities: { entries: this.o.identityReport() } });
        this.heartbeat = setInterval(() => this.call?.write({ heartbeat: { unix_nano: String(BigInt(Date.now()) * 1_000_000n) } }), 10_000);
        this.flush();
        this.o.reach?.reconnected();
        this.sendReach();
        break;
      case 'reach_ack':
        if (m.reach_ack) this.o.reach?.acked(String(m.reach_ack.id), m.reach_ack.error);
        break;
      case 'ack':
        if (m.ack) this.onAck(m.ack);
        break;
      case 'policy':
        if (m.policy) {
          let b: SignedPolicy | null;
          try {
            b = this.policyChunks.take(m.policy);
          } catch (err) {
            this.stats.policyRefused++;
            this.log(`policy refused, the last good policy stays: ${errorMessage(err)}`);
            this.call?.write({ policy_status: { version: this.o.currentPolicyVersion(), applied: false, error: errorMessage(err) } });
            break;
          }
          if (!b) break;
          const r = acceptPolicy(b, this.o);
          if (!r.ok) {
            this.stats.policyRefused++;
            this.log(`policy v${b.version} refused, the last good policy stays: ${r.error}`);
          } else {
            this.log(`policy v${b.version} applied`);
          }
          this.call?.write({ policy_status: { version: r.ok ? r.version : this.o.currentPolicyVersion(), applied: r.ok, error: r.error ?? '' } });
        }
        break;
      case 'identity_map':
        if (m.identity_map) {
          let all: MapEntry[] | null;
          try {
            all = this.identityMap.take(m.identity_map);
          } catch (err) {
            // out of step with the control plane: a new stream starts with the whole map
            if (this.call) this.lost(this.call, errorMessage(err));
            return;
          }
          if (all) this.o.onIdentityMap?.(all);
        }
        break;
      case 'checkpoint':
        if (m.checkpoint && this.o.witness) {
          const r = this.o.witness.offer({ note: m.checkpoint.note, fromSize: Number(m.checkpoint.from_size), consistency: m.checkpoint.consistency });
          if (r.log) this.log(r.log);
          if (r.alert) this.o.onAuditAlert?.(r.alert);
        }
        break;
      default:
        break;
    }
  }

  /** Only what a range names leaves the spool: a batch the control plane could not store stays and is sent again. */
  private onAck(a: Ack__Output): void {
    if (a.stored.length === 0 && a.refused.length === 0) {
      if (Number(a.sequence) > 0) this.stats.acked += this.o.spool.ackUpTo(a.boot_id, Number(a.sequence));
      return;
    }
    for (const r of a.stored) this.stats.acked += this.o.spool.ack(r.boot_id, Number(r.first), Number(r.last));
    for (const r of a.refused) {
      const n = this.o.spool.refuse(r.boot_id, Number(r.first), Number(r.last));
      this.stats.refused += n;
      this.log(`the control plane refused ${n} alerts (boot ${r.boot_id}, sequences ${r.first}-${r.last}) for good, not sent again: ${a.refused_reason}`);
    }
  }

  private lost(call: grpc.ClientDuplexStream<AgentMessage, ControlMessage__Output>, why: string): void {
    if (call !== this.call) return;
    this.call = null;
    this.ready = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    if (this.stats.connected) {
      this.stats.connected = false;
      this.o.onState?.(false);
    }
    call.removeAllListeners('data');
    call.cancel();
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.log(`control plane link lost (${why}); retrying in ${delay} ms`);
    this.retry = setTimeout(() => this.connect(), delay);
  }

  /** Send what reachability has to say now (when connected; otherwise at the next welcome). */
  sendReach(): void {
    if (!this.ready || !this.call || !this.o.reach) return;
    for (const m of this.o.reach.messages()) this.call.write(m);
  }

  /** Send an identity report now (the workloads' addresses changed). */
  reportIdentities(): void {
    if (this.ready && this.o.identityReport) this.call?.write({ identities: { entries: this.o.identityReport() } });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.o.spool.sync();
    const call = this.call;
    this.call = null;
    if (call) {
      call.end();
      call.cancel();
    }
    this.client?.close();
  }
}
