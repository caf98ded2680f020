// QueryService: what admins ask and do (`vigil alerts`, `vigil agents`,
// `vigil policy push`, the audit head): every call authorized by the caller's
// SPIFFE ID against the admin patterns.
import * as grpc from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import { errorMessage } from '../common/errors';
import { deny } from '../common/spiffe/grpc-credentials';
import { compileSpiffePattern, type SpiffePattern } from '../common/spiffe/spiffe-id';
import { rfcToNs } from '../common/time';
import type { AlertRow } from '../common/proto/generated/vigil/v1/AlertRow';
import type { ListAlertsRequest__Output } from '../common/proto/generated/vigil/v1/ListAlertsRequest';
import type { QueryServiceHandlers } from '../common/proto/generated/vigil/v1/QueryService';
import { vigilProto } from '../common/proto/load';
import { formatVerifierKey } from '../common/tlog/note';
import { signPolicy } from '../agent/rules/policy';
import type { Checkpointer } from './checkpoints';
import type { AgentService, Authorize } from './agent-service';
import type { Ingest } from './ingest';
import type { CpMetrics } from './metrics';
import { reachHandlers, type ReachQueryOptions } from './reach/query';
import type { Store } from './store';
import { QUARANTINE_FILE } from './vdp/quarantine';

export interface QueryServiceOptions {
  store: Store;
  ingest: Ingest;
  agents: AgentService;
  authorize: Authorize;
  /** SPIFFE ID patterns allowed to query and push policy */
  patterns: SpiffePattern[];
  /** Ed25519 key that signs policy bundles (null: policy push refused) */
  policyKey: KeyObject | null;
  metrics?: CpMetrics;
  checkpoints: Checkpointer;
  log: (line: string) => void;
  /** generated files every policy carries (the quarantines in force: controlplane/vdp/quarantine.ts) */
  generatedFiles?: () => { name: string; text: string }[];
  /** SBOMs, findings and VEX (controlplane/reach/query.ts) */
  reach: Omit<ReachQueryOptions, 'check' | 'log'>;
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

export class QueryService {
  constructor(private readonly o: QueryServiceOptions) {}

  /** Sign these files as the next policy version, store it (audited) and send it to every agent. */
  push(files: readonly { name: string; text: string }[], by: string): { version: number; agents: number } {
    if (!this.o.policyKey) throw new Error('this control plane has no policy signing key');
    const version = (this.o.store.latestPolicy()?.version ?? 0) + 1;
    const signed = signPolicy(version, files, this.o.policyKey);
    this.o.store.addPolicy({ version, payload: signed.payload, signature: signed.signature, key_id: signed.keyId, pushed_by: by });
    this.o.metrics?.policyVersion.set(version);
    const n = this.o.agents.pushPolicy({ version, payload: signed.payload, signature: signed.signature, key_id: signed.keyId });
    this.o.log(`policy v${version} pushed by ${by} to ${n} agents`);
    return { version, agents: n };
  }

  handlers(): QueryServiceHandlers {
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
      this.o.authorize(call, this.o.patterns);
    return {
      ...reachHandlers({ ...this.o.reach, check, log: this.o.log }),
      ListAlerts: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        try {
          return cb(null, { alerts: this.o.store.queryAlerts(filters(call.request)) });
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
          for (const row of this.o.store.queryAlerts({ ...f, afterId: last, limit: undefined })) {
            last = row.id;
            call.write(row as AlertRow);
          }
        };
        pump();
        this.o.ingest.events.on('stored', pump);
        call.on('cancelled', () => this.o.ingest.events.off('stored', pump));
        call.on('close', () => this.o.ingest.events.off('stored', pump));
      },
      ListAgents: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        return cb(null, {
          agents: this.o.store.agents().map((a) => ({
            node: a.node,
            spiffe_id: a.spiffe_id,
            boot_id: a.boot_id,
            version: a.version,
            connected: this.o.agents.isConnected(a.node),
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
        const problem = this.o.checkpoints.startProblem;
        return cb(null, { entries: this.o.store.log.size, head: this.o.store.log.root().toString('hex'), intact: problem === null, problem: problem ?? '' });
      },
      GetCheckpoint: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        const cp = this.o.checkpoints.publish();
        const key = this.o.checkpoints.verifier();
        if (!cp || !key) return cb(deny(grpc.status.FAILED_PRECONDITION, 'this control plane has no log key: it signs no checkpoints'));
        return cb(null, { note: cp.note, verifier_key: formatVerifierKey(key) });
      },
      ProveAlert: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        const id = Number(call.request.alert_id);
        const row = this.o.store.alertById(id);
        if (!row) return cb(deny(grpc.status.NOT_FOUND, `no alert with id ${id} (deleted by retention, or never stored)`));
        const cp = this.o.checkpoints.publish();
        const key = this.o.checkpoints.verifier();
        if (!cp || !key) return cb(deny(grpc.status.FAILED_PRECONDITION, 'this control plane has no log key: it signs no checkpoints to prove against'));
        const e = this.o.store.log.findAlert(row.node, row.boot_id, row.sequence, row.received_ns);
        if (!e) return cb(deny(grpc.status.DATA_LOSS, `alert ${id} (node ${row.node}, boot ${row.boot_id}, sequence ${row.sequence}) has no audit entry`));
        if (e.index >= cp.size) return cb(deny(grpc.status.UNAVAILABLE, `alert ${id} is entry ${e.index}, after the latest checkpoint (${cp.size} entries): try again`));
        return cb(null, {
          leaf_index: e.index,
          leaf: e.leaf,
          checkpoint: cp.note,
          proof: this.o.store.log.inclusionProof(e.index, cp.size),
          alert: { id: row.id, node: row.node, boot_id: row.boot_id, sequence: row.sequence, json: row.json },
          verifier_key: formatVerifierKey(key),
        });
      },
      PushPolicy: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        if (!this.o.policyKey) return cb(deny(grpc.status.FAILED_PRECONDITION, 'this control plane has no policy signing key'));
        const generated = this.o.generatedFiles?.() ?? [];
        const clash = call.request.files.find((f) => f.name === QUARANTINE_FILE || generated.some((g) => g.name === f.name));
        if (clash) return cb(deny(grpc.status.INVALID_ARGUMENT, `${clash.name}: this name is the control plane's own generated file (quarantines): rename yours`));
        try {
          // the quarantines in force stay in force across a push of new rules
          const r = this.push([...call.request.files.map((f) => ({ name: f.name, text: f.text })), ...generated], peer.spiffeId);
          return cb(null, { version: r.version, agents_notified: r.agents });
        } catch (err) {
          return cb(deny(grpc.status.INVALID_ARGUMENT, errorMessage(err)));
        }
      },
    };
  }

  addToServer(server: grpc.Server): void {
    server.addService(vigilProto().QueryService.service, this.handlers());
  }
}
