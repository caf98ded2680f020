// QueryService: what admins ask and do (`vigil alerts`, `vigil agents`,
// `vigil policy push`, the audit head): every call authorized by the caller's
// SPIFFE ID against the admin patterns.
import * as grpc from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import { errorMessage } from '../common/errors';
import { deny } from '../common/spiffe/grpc-credentials';
import { compileSpiffePattern, type SpiffePattern } from '../common/spiffe/spiffe-id';
import { agoNs, rfcToNs } from '../common/time';
import type { AlertRow } from '../common/proto/generated/vigil/v1/AlertRow';
import type { ListAlertsRequest__Output } from '../common/proto/generated/vigil/v1/ListAlertsRequest';
import type { QueryServiceHandlers } from '../common/proto/generated/vigil/v1/QueryService';
import { vigilProto } from '../common/proto/load';
import { formatVerifierKey } from '../common/tlog/note';
import { policyPayload, signPolicyPayload, validatePolicyFiles, validatePolicyFilesOffThread, type PolicyFile } from '../agent/rules/policy';
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
  /** the largest signed policy payload (default 16 MiB) */
  maxPolicyBytes?: number;
  /** --follow readers at once (default 64), and how long one may not take what it is sent before it is dropped (default 30 s) */
  follow?: { max?: number; stallMs?: number };
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
  const ago = agoNs(s);
  if (ago) return ago;
  if (Number.isNaN(Date.parse(s))) throw new Error(`since: "${s}" is not a time (RFC 3339, 10m, 2h, or nanoseconds)`);
  return rfcToNs(s);
}

export const DEFAULT_MAX_POLICY_BYTES = 16 << 20;

/** A push too large for the limit or for a connected agent: refused at push time, naming the limit. */
export class PolicyTooLarge extends Error {}

/** Pages of ListAlerts: rows, bytes and rows scanned per call (each call does a bounded amount of work). */
export const PAGE_ROWS = 1000;
export const PAGE_BYTES = 2 << 20;
export const PAGE_SCAN = 20_000;

/** What a --follow reader may have queued and not taken before the server stops sending it more. */
export const FOLLOW_QUEUE_BYTES = 1 << 20;

/**
 * Bytes queued on the HTTP/2 stream of a server call for a client that does
 * not read. call.write() cannot say: grpc-js hands each message to the
 * HTTP/2 stream, whose write completes at once and queues without limit
 * (this is how a stalled reader cost ~100 MB). Node's Http2Stream.bufferSize
 * can; grpc-js (1.14) keeps that stream inside the call (call.call, then
 * .nextCall... to the object holding .stream). Found by shape, so a grpc-js
 * that moves it leaves only the write() signal (0 here), never a crash.
 */
export function http2Queued(call: object): () => number {
  let o = (call as { call?: unknown }).call;
  for (let i = 0; i < 4 && o && typeof o === 'object'; i++) {
    const stream = (o as { stream?: { bufferSize?: unknown } }).stream;
    if (stream && typeof stream.bufferSize === 'number') return () => (stream.bufferSize as number) ?? 0;
    o = (o as { nextCall?: unknown }).nextCall;
  }
  return () => 0;
}

export class QueryService {
  private followers = 0;

  constructor(private readonly o: QueryServiceOptions) {
    o.metrics?.followers(() => this.followers);
  }

  /** Null when a signed payload of `bytes` fits the control plane's limit and every connected agent's; else why not. */
  private tooLarge(bytes: number): string | null {
    const limit = this.o.maxPolicyBytes ?? DEFAULT_MAX_POLICY_BYTES;
    if (bytes > limit) return `the signed policy would be ${bytes} bytes, over the limit of ${limit} bytes (--max-policy-bytes): nothing signed or sent`;
    const agentLimit = this.o.agents.agentPolicyLimit();
    if (bytes > agentLimit.bytes) return `the signed policy would be ${bytes} bytes, over the ${agentLimit.bytes} bytes agent ${agentLimit.node} takes: nothing signed or sent`;
    return null;
  }

  /**
   * An admin's push: the size first (named before any cost), the rules
   * validated on a worker thread (megabytes of rules take seconds, and
   * ingestion goes on meanwhile), then signed and sent.
   */
  async pushFromAdmin(files: readonly PolicyFile[], by: string): Promise<{ version: number; agents: number }> {
    if (!this.o.policyKey) throw new Error('this control plane has no policy signing key');
    const early = this.tooLarge(policyPayload(Math.max(this.o.store.latestPolicy()?.version ?? 0, this.o.agents.highestAgentPolicy()) + 1, files).length);
    if (early) throw new PolicyTooLarge(early);
    await validatePolicyFilesOffThread(files);
    return this.push(files, by, true);
  }

  /** Sign these files as the next policy version, store it (audited) and send it to every agent. */
  push(files: readonly PolicyFile[], by: string, validated = false): { version: number; agents: number } {
    if (!this.o.policyKey) throw new Error('this control plane has no policy signing key');
    if (!validated) validatePolicyFiles(files);
    // monotonic across store restores: above the latest stored and the highest any agent applied
    const version = Math.max(this.o.store.latestPolicy()?.version ?? 0, this.o.agents.highestAgentPolicy()) + 1;
    const payload = policyPayload(version, files);
    const over = this.tooLarge(payload.length);
    if (over) throw new PolicyTooLarge(over);
    const signed = signPolicyPayload(version, payload, this.o.policyKey);
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
          const r = call.request;
          const size = Math.min(r.page_size || PAGE_ROWS, PAGE_ROWS, r.limit || PAGE_ROWS);
          const page = this.o.store.alertPage({ ...filters(r), afterId: Number(r.after_id), limit: size, maxBytes: PAGE_BYTES, maxScan: PAGE_SCAN });
          return cb(null, { alerts: page.rows, next_after_id: page.lastId, more: page.more });
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
        const max = this.o.follow?.max ?? 64;
        if (this.followers >= max) {
          this.o.metrics?.followersDropped.inc({ reason: 'too_many' });
          this.o.log(`follow refused for ${peer.spiffeId}: ${max} readers already`);
          call.emit('error', deny(grpc.status.RESOURCE_EXHAUSTED, `${max} --follow readers already (the most at once)`));
          return;
        }
        this.followers++;
        const who = peer.spiffeId;
        // a cursor in the store, not a buffer: a reader that falls behind is sent from the store when it takes more
        let last = Number(call.request.after_id);
        let waiting = false;
        let again = false;
        let done = false;
        let stall: NodeJS.Timeout | null = null;
        const stallMs = this.o.follow?.stallMs ?? 30_000;
        const queued = http2Queued(call);
        const wake = (): void => {
          again = true;
          pump();
        };
        const finish = (): void => {
          if (done) return;
          done = true;
          this.followers--;
          if (stall) clearTimeout(stall);
          this.o.ingest.events.off('stored', wake);
        };
        const pump = (): void => {
          if (done || waiting) return;
          again = false;
          let page;
          try {
            page = this.o.store.alertPage({ ...f, afterId: last, limit: 500, maxBytes: 1 << 20, maxScan: PAGE_SCAN });
          } catch (err) {
            call.emit('error', deny(grpc.status.UNAVAILABLE, `reading alerts: ${errorMessage(err)}`));
            finish();
            return;
          }
          let ok = true;
          for (const row of page.rows) ok = call.write(row as AlertRow) && ok;
          last = page.lastId;
          if (!ok || queued() > FOLLOW_QUEUE_BYTES) {
            // the reader has not taken what it was sent: wait for it, a bounded while
            waiting = true;
            const since = Date.now();
            const check = (): void => {
              if (done) return;
              if (call.writableLength === 0 && queued() <= FOLLOW_QUEUE_BYTES / 2) {
                stall = null;
                waiting = false;
                pump();
                return;
              }
              if (Date.now() - since < stallMs) {
                stall = setTimeout(check, 50);
                return;
              }
              this.o.metrics?.followersDropped.inc({ reason: 'slow' });
              this.o.log(`follow reader ${who} dropped: it took nothing for ${stallMs / 1000} s (${call.writableLength} messages and ${queued()} bytes were waiting for it)`);
              call.emit('error', deny(grpc.status.RESOURCE_EXHAUSTED, `this --follow reader took nothing for ${stallMs / 1000} s: dropped`));
              finish();
            };
            stall = setTimeout(check, 50);
            return;
          }
          if (page.more || again) setImmediate(pump);
        };
        pump();
        this.o.ingest.events.on('stored', wake);
        call.on('cancelled', finish);
        call.on('close', finish);
        call.on('error', finish);
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
        // the quarantines in force stay in force across a push of new rules
        this.pushFromAdmin([...call.request.files.map((f) => ({ name: f.name, text: f.text })), ...generated], peer.spiffeId).then(
          (r) => cb(null, { version: r.version, agents_notified: r.agents }),
          (err: unknown) => {
            this.o.log(`policy push by ${peer.spiffeId} refused: ${errorMessage(err)}`);
            cb(deny(err instanceof PolicyTooLarge ? grpc.status.RESOURCE_EXHAUSTED : grpc.status.INVALID_ARGUMENT, errorMessage(err)));
          },
        );
      },
    };
  }

  addToServer(server: grpc.Server): void {
    server.addService(vigilProto().QueryService.service, this.handlers());
  }
}
