// AgentService: one bidirectional stream per agent. Hello first (the node an
// agent SVID names is the only node it may speak for), then alert batches
// (stored once, acknowledged after commit), identity reports, policy status
// and heartbeats in; welcome, acks, signed policy, the merged identity map
// and the audit log's signed checkpoints (with consistency proofs from the
// agent's last one: agents are the log's witnesses) out.
import * as grpc from '@grpc/grpc-js';
import { deny, type Peer } from '../common/spiffe/grpc-credentials';
import type { SpiffePattern } from '../common/spiffe/spiffe-id';
import type { AgentMessage__Output } from '../common/proto/generated/vigil/v1/AgentMessage';
import type { AgentServiceHandlers } from '../common/proto/generated/vigil/v1/AgentService';
import type { ControlMessage } from '../common/proto/generated/vigil/v1/ControlMessage';
import type { PolicyBundle } from '../common/proto/generated/vigil/v1/PolicyBundle';
import { vigilProto } from '../common/proto/load';
import { errorMessage } from '../common/errors';
import { checkAlert, checkBootId, checkNodeName, DEFAULT_ALERT_LIMITS, seqRanges, type AlertLimits } from './alert-check';
import { guardedAgentService, isWireRefusal, type AgentWireMessage } from './agent-wire';
import type { SignedCheckpoint } from '../common/tlog/checkpoint';
import type { Checkpointer } from './checkpoints';
import type { SecurityEvents } from './security-events';
import { checkReport, IdentityMapState, type IdentityPolicy } from './identity-map';
import type { Ingest, IngestSource } from './ingest';
import type { ReachIngest } from './reach/ingest';
import type { CpMetrics } from './metrics';
import type { Store, StoredAlert } from './store';

/** Who is calling, or the error that refuses them. */
export type Authorize = (call: { getAuthContext(): { sslPeerCertificate?: import('node:tls').PeerCertificate } }, who: SpiffePattern[]) => Peer | grpc.ServiceError;

export interface AgentServiceOptions {
  store: Store;
  ingest: Ingest;
  /** reachability reports and image inventories (null: refused) */
  reach?: ReachIngest;
  authorize: Authorize;
  /** refusals counted and logged (security-events.ts) */
  security?: SecurityEvents;
  /** SPIFFE ID patterns of agents */
  patterns: SpiffePattern[];
  metrics?: CpMetrics;
  checkpoints: Checkpointer;
  log: (line: string) => void;
  /** the most alerts one batch may carry (larger batches end the stream; agents learn it from Welcome) */
  maxBatchAlerts?: number;
  /** the largest message an agent may send (larger ones end the stream, undecoded) */
  maxMessageBytes?: number;
  /** what identity reports may claim (identity-map.ts); maxEntries also bounds the report on the wire */
  identityPolicy?: Partial<IdentityPolicy>;
  /** the identity map goes out in messages of about this many bytes (far under the agents' 16 MiB limit) */
  mapChunkBytes?: number;
  /** the trust domain workload IDs default to (ours) */
  trustDomain?: string;
  /** signed policy goes out in chunks of this many payload bytes (default 1 MiB) */
  policyChunkBytes?: number;
  alertLimits?: AlertLimits;
}

export const DEFAULT_MAX_BATCH_ALERTS = 10_000;
export const DEFAULT_MAX_AGENT_MESSAGE_BYTES = 4 << 20;
export const DEFAULT_MAX_IDENTITY_ENTRIES = 4096;
export const DEFAULT_MAP_CHUNK_BYTES = 1 << 20;
export const DEFAULT_POLICY_CHUNK_BYTES = 1 << 20;

/** A bundle as messages: whole when it fits one chunk, else its payload in slices (signature and version in each). */
export function policyMessages(p: PolicyBundle, chunkBytes: number): PolicyBundle[] {
  const payload = Buffer.from(p.payload as Uint8Array);
  if (payload.length <= chunkBytes) return [p];
  const chunks = Math.ceil(payload.length / chunkBytes);
  return Array.from({ length: chunks }, (_, i) => ({
    ...p,
    payload: payload.subarray(i * chunkBytes, (i + 1) * chunkBytes),
    chunk: i,
    chunks,
    total_bytes: payload.length,
  }));
}

interface Connected {
  node: string;
  spiffeId: string;
  call: grpc.ServerDuplexStream<AgentMessage__Output, ControlMessage>;
  /** the size of the last checkpoint the agent holds (as it said, then as sent) */
  witnessSize: number;
  /** the identity map version this agent holds (deltas apply on top of it) */
  mapVersion: number;
  /** the largest policy payload the agent takes (0: it did not say) */
  maxPolicyBytes: number;
}

export class AgentService {
  /** node -> its stream (one per node: a new connection replaces the old) */
  private readonly connected = new Map<string, Connected>();
  private readonly identity = new IdentityMapState();
  private highestReported = 0;
  private readonly identityPolicy: IdentityPolicy;

  constructor(private readonly o: AgentServiceOptions) {
    this.identityPolicy = {
      trustDomains: o.identityPolicy?.trustDomains ?? (o.trustDomain ? [o.trustDomain] : []),
      maxPrefixWidth: o.identityPolicy?.maxPrefixWidth ?? 8,
      maxEntries: o.identityPolicy?.maxEntries ?? DEFAULT_MAX_IDENTITY_ENTRIES,
      ownership: o.identityPolicy?.ownership ?? null,
    };
    this.loadIdentities();
    o.metrics?.identityMap(
      () => this.identity.entryCount(),
      () => this.identity.conflictTotal(),
    );
    o.checkpoints.events.on('checkpoint', (cp: SignedCheckpoint) => this.broadcastCheckpoint(cp));
  }

  /** Send a checkpoint with a consistency proof from what the agent holds (proofs shared by agents at the same size). */
  private sendCheckpoint(c: Connected, cp: SignedCheckpoint, proofs: Map<number, Buffer[]>): void {
    const from = c.witnessSize;
    let proof: Buffer[] = [];
    if (from > 0 && from < cp.size) {
      try {
        proof = proofs.get(from) ?? this.o.store.log.consistencyProof(from, cp.size);
        proofs.set(from, proof);
      } catch (err) {
        this.o.log(`audit checkpoint for ${c.node}: no consistency proof from ${from} to ${cp.size}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (!c.call.writableEnded && !c.call.destroyed) c.call.write({ checkpoint: { note: cp.note, from_size: from, consistency: proof } });
    // an agent ahead of this log keeps its checkpoint (and raises the rollback)
    if (from <= cp.size) c.witnessSize = cp.size;
  }

  private broadcastCheckpoint(cp: SignedCheckpoint): void {
    const proofs = new Map<number, Buffer[]>();
    for (const c of this.connected.values()) if (c.witnessSize !== cp.size) this.sendCheckpoint(c, cp, proofs);
  }

  isConnected(node: string): boolean {
    return this.connected.has(node);
  }

  /** Send a signed policy to every connected agent (in chunks when large); returns how many. */
  pushPolicy(policy: PolicyBundle): number {
    let n = 0;
    const msgs = policyMessages(policy, this.o.policyChunkBytes ?? DEFAULT_POLICY_CHUNK_BYTES);
    for (const c of this.connected.values()) {
      for (const m of msgs) this.write(c, { policy: m });
      n++;
    }
    return n;
  }

  /**
   * The highest policy version any agent has reported applying (since this
   * control plane started, and as the store remembers): after a store
   * restored from an older backup, the next push is numbered above it.
   */
  highestAgentPolicy(): number {
    return Math.max(this.highestReported, this.o.store.maxAgentPolicyVersion());
  }

  /** The smallest policy payload limit among connected agents (Infinity: none said). */
  agentPolicyLimit(): { bytes: number; node: string } {
    let best = { bytes: Infinity, node: '' };
    for (const c of this.connected.values()) if (c.maxPolicyBytes > 0 && c.maxPolicyBytes < best.bytes) best = { bytes: c.maxPolicyBytes, node: c.node };
    return best;
  }

  /** An agent reports a policy version: remember the highest, and say so when it is ahead of this control plane. */
  private policyReported(node: string, version: number): void {
    if (version <= this.highestReported) return;
    this.highestReported = version;
    const latest = this.o.store.latestPolicy()?.version ?? 0;
    if (version > latest) {
      this.o.metrics?.policyAhead.inc();
      this.o.log(`agent ${node} has applied policy v${version}, newer than the latest this control plane holds (v${latest}): was the store restored from an older backup? The next push is v${version + 1}`);
    }
  }

  handlers(): AgentServiceHandlers {
    return {
      Connect: (call) => {
        const peer = this.o.authorize(call, this.o.patterns);
        if ('code' in peer) {
          call.emit('error', peer); // counted and logged by the authorizer
          return;
        }
        let me: Connected | null = null;
        let source: IngestSource | null = null;
        let bootId = '';
        const maxBatch = this.o.maxBatchAlerts ?? DEFAULT_MAX_BATCH_ALERTS;
        const send = (m: ControlMessage): void => {
          if (!call.writableEnded && !call.destroyed) call.write(m);
        };
        const end = (err: grpc.ServiceError): void => {
          if (!call.destroyed) call.emit('error', err);
        };
        const hello = (h: NonNullable<AgentMessage__Output['hello']>): void => {
          const bad = checkNodeName(h.node) ?? checkBootId(h.boot_id);
          if (bad) {
            this.o.log(`agent ${peer.spiffeId} refused: ${bad}`);
            return end(deny(grpc.status.INVALID_ARGUMENT, bad));
          }
          // an agent SVID named after a node speaks for that node only
          const named = /\/agent\/([^/]+)$/.exec(peer.spiffeId);
          if (named && named[1] !== h.node) {
            if (this.o.security) this.o.security.wrongNode(peer.spiffeId, h.node);
            else this.o.log(`agent ${peer.spiffeId} refused: it cannot speak for node ${h.node}`);
            return end(deny(grpc.status.PERMISSION_DENIED, `${peer.spiffeId} cannot speak for node "${h.node}"`));
          }
          this.o.store.agentConnected({
            node: h.node,
            spiffe_id: peer.spiffeId,
            boot_id: h.boot_id,
            version: h.version.slice(0, 256),
            capabilities: JSON.stringify(h.capabilities ?? {}),
            policy_version: Number(h.policy_version),
          });
          bootId = h.boot_id;
          me = { node: h.node, spiffeId: peer.spiffeId, call, witnessSize: Number(h.checkpoint_size ?? 0), mapVersion: 0, maxPolicyBytes: Number(h.max_policy_bytes) };
          const prev = this.connected.get(h.node);
          if (prev && prev.call !== call) prev.call.end();
          this.connected.set(h.node, me);
          source = this.o.ingest.source(h.node, { pause: () => call.pause(), resume: () => call.resume() });
          this.o.metrics?.agentsConnected(this.connected.size);
          this.o.metrics?.agentPolicyVersion(h.node, Number(h.policy_version));
          const latest = this.o.store.latestPolicy();
          // nothing is claimed stored here: acks name ranges (a highest stored sequence says nothing of a gap below it)
          send({
            welcome: {
              stored_sequence: 0,
              policy_version: latest?.version ?? 0,
              max_batch_alerts: maxBatch,
              max_message_bytes: this.o.maxMessageBytes ?? DEFAULT_MAX_AGENT_MESSAGE_BYTES,
            },
          });
          this.policyReported(h.node, Math.max(Number(h.policy_version), Number(h.highest_policy_version)));
          if (latest && latest.version > Number(h.policy_version)) {
            for (const p of policyMessages({ version: latest.version, payload: latest.payload, signature: latest.signature, key_id: latest.key_id }, this.o.policyChunkBytes ?? DEFAULT_POLICY_CHUNK_BYTES)) {
              send({ policy: p });
            }
          }
          this.sendFullMap(me);
          // always on connect, even at the same size: the agent compares the roots
          const cp = this.o.checkpoints.latest();
          if (cp) this.sendCheckpoint(me, cp, new Map());
          this.o.log(`agent ${h.node} connected as ${peer.spiffeId} (boot ${h.boot_id}, policy v${h.policy_version})`);
        };
        const alerts = (node: string, src: IngestSource, recs: AgentMessage__Output['alerts']): void => {
          const list = recs?.alerts ?? [];
          if (list.length > maxBatch) {
            this.o.metrics?.messagesRefused.inc({ reason: 'batch_too_large' });
            this.o.log(`agent ${node} (${peer.spiffeId}): a batch of ${list.length} alerts is over the limit of ${maxBatch}: stream ended`);
            return end(deny(grpc.status.RESOURCE_EXHAUSTED, `a batch of ${list.length} alerts is over the limit of ${maxBatch} per batch (--max-batch-alerts)`));
          }
          const good: StoredAlert[] = [];
          const refused: { bootId: string; sequence: number }[] = [];
          let reason = '';
          for (const r of list) {
            const c = checkAlert(r, node, bootId, this.o.alertLimits ?? DEFAULT_ALERT_LIMITS);
            if (c.ok) {
              good.push(c.alert);
              continue;
            }
            if (c.sequence === 0) {
              // no sequence to refuse by: the whole batch goes, the agent hears why
              this.o.metrics?.messagesRefused.inc({ reason: 'invalid_batch' });
              this.o.log(`agent ${node} (${peer.spiffeId}): batch refused: ${c.reason}`);
              return end(deny(grpc.status.INVALID_ARGUMENT, `batch refused: ${c.reason}`));
            }
            refused.push(c);
            reason ||= c.reason;
          }
          if (refused.length > 0) {
            this.o.metrics?.alertsRefused.inc({ reason: 'invalid' }, refused.length);
            this.o.log(`agent ${node} (${peer.spiffeId}): ${refused.length} alerts refused, not stored: ${reason}`);
            send({ ack: { boot_id: '', sequence: 0, refused: seqRanges(refused), refused_reason: reason } });
          }
          if (good.length === 0) return;
          src.add(good, (err) => {
            if (err) return end(deny(grpc.status.UNAVAILABLE, `storing alerts: ${err.message}`));
            send({ ack: { boot_id: '', sequence: 0, stored: seqRanges(good) } });
          });
        };
        call.on('data', (w: AgentWireMessage) => {
          if (isWireRefusal(w)) {
            // never decoded (agent-wire.ts): the stream ends, the agent hears the limit
            this.o.metrics?.messagesRefused.inc({ reason: w.refused.reason });
            this.o.log(`agent ${me?.node ?? '?'} (${peer.spiffeId}): ${w.refused.detail}: stream ended`);
            return end(deny(grpc.status.RESOURCE_EXHAUSTED, w.refused.detail));
          }
          const m = w;
          try {
            if (m.msg === 'hello' && m.hello) {
              if (me) return end(deny(grpc.status.FAILED_PRECONDITION, 'Hello was already sent on this stream'));
              return hello(m.hello);
            }
            if (!me || !source) return end(deny(grpc.status.FAILED_PRECONDITION, 'the first message must be Hello'));
            const node = me.node;
            switch (m.msg) {
              case 'alerts':
                alerts(node, source, m.alerts);
                break;
              case 'identities':
                this.identityReport(node, peer.spiffeId, (m.identities?.entries ?? []).map((e) => ({ cidr: e.cidr, spiffe_id: e.spiffe_id })));
                break;
              case 'policy_status':
                if (m.policy_status) {
                  this.o.store.agentPolicy(node, Number(m.policy_status.version), m.policy_status.error);
                  this.o.metrics?.agentPolicyVersion(node, Number(m.policy_status.version));
                  this.policyReported(node, Number(m.policy_status.version));
                  if (m.policy_status.error) {
                    this.o.metrics?.agentPolicyRefusals.inc();
                    this.o.log(`agent ${node} (${peer.spiffeId}) refused policy v${m.policy_status.version}: ${m.policy_status.error}`);
                  }
                }
                break;
              case 'reach':
                if (m.reach) send({ reach_ack: this.o.reach ? this.o.reach.report(node, m.reach) : { id: m.reach.id, error: 'this control plane takes no reachability reports' } });
                break;
              case 'inventory':
                if (m.inventory) {
                  const acks = this.o.reach ? this.o.reach.inventory(node, m.inventory) : [{ id: m.inventory.id, error: 'this control plane takes no image inventories' }];
                  for (const a of acks) send({ reach_ack: a });
                }
                break;
              case 'heartbeat':
                this.o.store.agentSeen(node);
                send({ heartbeat: { unix_nano: (BigInt(Date.now()) * 1_000_000n).toString() } });
                break;
              default:
                break;
            }
          } catch (err) {
            // the store could not record it now (locked, full): the agent reconnects and says it again
            this.o.log(`agent ${me?.node ?? peer.spiffeId}: ${m.msg ?? 'message'} not recorded: ${errorMessage(err)}`);
            end(deny(grpc.status.UNAVAILABLE, `the control plane cannot record this now: ${errorMessage(err)}`));
          }
        });
        const gone = (): void => {
          source?.close();
          source = null;
          if (me && this.connected.get(me.node)?.call === call) {
            this.connected.delete(me.node);
            try {
              this.o.store.agentDisconnected(me.node);
            } catch (err) {
              this.o.log(`agent ${me.node} disconnected, not recorded: ${errorMessage(err)}`);
            }
            this.o.metrics?.agentsConnected(this.connected.size);
            this.o.log(`agent ${me.node} disconnected`);
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

  /** Claims in the store, checked again (the ownership or the limits may have changed since). */
  private loadIdentities(): void {
    const byNode = new Map<string, { cidr: string; spiffe_id: string }[]>();
    for (const a of this.o.store.addresses()) {
      const l = byNode.get(a.node) ?? [];
      l.push({ cidr: a.cidr, spiffe_id: a.spiffe_id });
      byNode.set(a.node, l);
    }
    for (const [node, list] of byNode) {
      const r = checkReport(node, list, this.identityPolicy);
      if (r.refused.length) this.o.log(`identity map: ${r.refused.length} stored addresses of node ${node} are no longer accepted: ${r.refused[0].why}`);
      this.identity.set(node, r.accepted);
    }
    const conflicts = this.identity.conflicts();
    if (conflicts.length) this.o.log(`identity map: ${conflicts.length} addresses claimed by more than one node, left out of the map (e.g. ${conflicts[0].cidr}: ${conflicts[0].nodes.join(', ')})`);
  }

  /** A node's report: checked, stored, and the change sent to every agent. */
  private identityReport(node: string, spiffeId: string, entries: { cidr: string; spiffe_id: string }[]): void {
    const r = checkReport(node, entries, this.identityPolicy);
    if (r.refused.length) {
      const reasons = new Map<string, number>();
      for (const x of r.refused) reasons.set(x.reason, (reasons.get(x.reason) ?? 0) + 1);
      for (const [reason, n] of reasons) this.o.metrics?.identityRefused.inc({ reason }, n);
      this.o.log(
        `identity report of node ${node} (${spiffeId}): ${r.refused.length} of ${entries.length} entries refused ` +
          `(${[...reasons].map(([k, n]) => `${k} ${n}`).join(', ')}), e.g. ${r.refused[0].cidr}=${r.refused[0].spiffe_id}: ${r.refused[0].why}`,
      );
    }
    this.o.store.setAddresses(node, r.accepted);
    const base = this.identity.version;
    const { changed, newConflicts } = this.identity.set(node, r.accepted);
    for (const c of newConflicts) {
      this.o.log(`identity conflict: ${c.cidr} is claimed by nodes ${c.nodes.join(', ')} (reported by ${spiffeId}); left out of the map until one claim goes`);
    }
    if (changed.length === 0) return;
    const chunk = this.o.mapChunkBytes ?? DEFAULT_MAP_CHUNK_BYTES;
    const delta = this.identity.delta(changed, base, chunk);
    for (const c of this.connected.values()) {
      if (c.mapVersion !== base) {
        this.sendFullMap(c);
        continue;
      }
      for (const m of delta) this.write(c, { identity_map: m });
      c.mapVersion = this.identity.version;
    }
  }

  private sendFullMap(c: Connected): void {
    for (const m of this.identity.full(this.o.mapChunkBytes ?? DEFAULT_MAP_CHUNK_BYTES)) this.write(c, { identity_map: m });
    c.mapVersion = this.identity.version;
  }

  private write(c: Connected, m: ControlMessage): void {
    if (!c.call.writableEnded && !c.call.destroyed) c.call.write(m);
  }

  addToServer(server: grpc.Server): void {
    const service = guardedAgentService(vigilProto().AgentService.service, {
      maxMessageBytes: this.o.maxMessageBytes ?? DEFAULT_MAX_AGENT_MESSAGE_BYTES,
      maxBatchAlerts: this.o.maxBatchAlerts ?? DEFAULT_MAX_BATCH_ALERTS,
      maxIdentityEntries: this.identityPolicy.maxEntries,
    });
    server.addService(service, this.handlers() as unknown as grpc.UntypedServiceImplementation);
  }

  /** End every agent's stream (they reconnect to the next control plane). */
  close(): void {
    for (const c of this.connected.values()) c.call.end();
  }
}
