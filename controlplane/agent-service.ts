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
import type { AlertRecord__Output } from '../common/proto/generated/vigil/v1/AlertRecord';
import type { ControlMessage } from '../common/proto/generated/vigil/v1/ControlMessage';
import type { PolicyBundle } from '../common/proto/generated/vigil/v1/PolicyBundle';
import { vigilProto } from '../common/proto/load';
import type { SignedCheckpoint } from '../common/tlog/checkpoint';
import type { Checkpointer } from './checkpoints';
import type { Ingest } from './ingest';
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
  /** SPIFFE ID patterns of agents */
  patterns: SpiffePattern[];
  metrics?: CpMetrics;
  checkpoints: Checkpointer;
  log: (line: string) => void;
}

interface Connected {
  node: string;
  spiffeId: string;
  call: grpc.ServerDuplexStream<AgentMessage__Output, ControlMessage>;
  /** the size of the last checkpoint the agent holds (as it said, then as sent) */
  witnessSize: number;
}

export class AgentService {
  /** node -> its stream (one per node: a new connection replaces the old) */
  private readonly connected = new Map<string, Connected>();
  private identityVersion = 0;

  constructor(private readonly o: AgentServiceOptions) {
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

  /** Send a signed policy to every connected agent; returns how many. */
  pushPolicy(policy: PolicyBundle): number {
    let n = 0;
    for (const c of this.connected.values()) {
      c.call.write({ policy });
      n++;
    }
    return n;
  }

  handlers(): AgentServiceHandlers {
    return {
      Connect: (call) => {
        const peer = this.o.authorize(call, this.o.patterns);
        if ('code' in peer) {
          this.o.log(`agent refused: ${peer.details}`);
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
            me = { node: h.node, spiffeId: peer.spiffeId, call, witnessSize: Number(h.checkpoint_size ?? 0) };
            const prev = this.connected.get(h.node);
            if (prev && prev.call !== call) prev.call.end();
            this.connected.set(h.node, me);
            this.o.store.agentConnected({
              node: h.node,
              spiffe_id: peer.spiffeId,
              boot_id: h.boot_id,
              version: h.version,
              capabilities: JSON.stringify(h.capabilities ?? {}),
              policy_version: Number(h.policy_version),
            });
            this.o.metrics?.agentsConnected(this.connected.size);
            this.o.metrics?.agentPolicyVersion(h.node, Number(h.policy_version));
            const latest = this.o.store.latestPolicy();
            send({ welcome: { stored_sequence: this.o.store.storedSequence(h.node, h.boot_id), policy_version: latest?.version ?? 0 } });
            if (latest && latest.version > Number(h.policy_version)) {
              send({ policy: { version: latest.version, payload: latest.payload, signature: latest.signature, key_id: latest.key_id } });
            }
            send({ identity_map: this.identityMap() });
            // always on connect, even at the same size: the agent compares the roots
            const cp = this.o.checkpoints.latest();
            if (cp) this.sendCheckpoint(me, cp, new Map());
            this.o.log(`agent ${h.node} connected as ${peer.spiffeId} (boot ${h.boot_id}, policy v${h.policy_version})`);
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
              this.o.ingest.add(stored, (err) => {
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
              if (this.o.store.setAddresses(node, entries)) this.broadcastIdentityMap();
              break;
            }
            case 'policy_status':
              if (m.policy_status) {
                this.o.store.agentPolicy(node, Number(m.policy_status.version), m.policy_status.error);
                this.o.metrics?.agentPolicyVersion(node, Number(m.policy_status.version));
                if (m.policy_status.error) this.o.log(`agent ${node} refused policy: ${m.policy_status.error}`);
              }
              break;
            case 'reach':
              if (m.reach) send({ reach_ack: this.o.reach ? this.o.reach.report(node, m.reach) : { id: m.reach.id, error: 'this control plane takes no reachability reports' } });
              break;
            case 'inventory':
              if (m.inventory) send({ reach_ack: this.o.reach ? this.o.reach.inventory(node, m.inventory) : { id: m.inventory.id, error: 'this control plane takes no image inventories' } });
              break;
            case 'heartbeat':
              this.o.store.agentSeen(node);
              send({ heartbeat: { unix_nano: (BigInt(Date.now()) * 1_000_000n).toString() } });
              break;
            default:
              break;
          }
        });
        const gone = (): void => {
          if (me && this.connected.get(me.node)?.call === call) {
            this.connected.delete(me.node);
            this.o.store.agentDisconnected(me.node);
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

  private identityMap(): { version: number; entries: { cidr: string; spiffe_id: string; node: string }[] } {
    return { version: this.identityVersion, entries: this.o.store.addresses() };
  }

  private broadcastIdentityMap(): void {
    this.identityVersion++;
    const map = this.identityMap();
    for (const c of this.connected.values()) c.call.write({ identity_map: map });
  }

  addToServer(server: grpc.Server): void {
    server.addService(vigilProto().AgentService.service, this.handlers());
  }

  /** End every agent's stream (they reconnect to the next control plane). */
  close(): void {
    for (const c of this.connected.values()) c.call.end();
  }
}
