// The control plane's gRPC server: the two services (agent-service.ts,
// query-service.ts) over one ingest (group commit into the store), mTLS with
// SPIFFE authorization, listen and orderly close.
import * as grpc from '@grpc/grpc-js';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { serverCredentialsReady, type TlsFiles } from '../common/spiffe/grpc-credentials';
import { compileSpiffePattern } from '../common/spiffe/spiffe-id';
import { VIGIL_VERSION } from '../common/version';
import { AgentService } from './agent-service';
import { printable } from '../common/escape';
import { Checkpointer } from './checkpoints';
import type { IdentityPolicy } from './identity-map';
import { Ingest, type IngestOptions } from './ingest';
import type { CpMetrics } from './metrics';
import { QueryService } from './query-service';
import { SecurityEvents } from './security-events';
import { ReachIngest } from './reach/ingest';
import { VexIssuer } from './reach/vex';
import type { Store } from './store';
import type { VdpConfig } from './vdp/config';
import { Vdp, type VdpCounters } from './vdp/vdp';
import { VdpService } from './vdp-service';

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
  /** signs the audit log's checkpoints and hands them to agents (default: none signed) */
  checkpoints?: Checkpointer;
  log?: (line: string) => void;
  /** queues, commit size and per-agent rate quota (ingest.ts) */
  ingest?: IngestOptions;
  /** the most alerts one batch may carry */
  maxBatchAlerts?: number;
  /** what identity reports may claim (default: our trust domain, /24 or /120 at most, 4096 entries, no ownership: refused) */
  identityPolicy?: Partial<IdentityPolicy>;
  /** identity map messages of about this many bytes */
  mapChunkBytes?: number;
  /** the largest signed policy payload a push may make (default 16 MiB) */
  maxPolicyBytes?: number;
  /** signed policy goes to agents in chunks of this many bytes (default 1 MiB) */
  policyChunkBytes?: number;
  /** --follow readers at once, and how long one may take nothing before it is dropped */
  follow?: { max?: number; stallMs?: number };
  /** advisories, tickets, outputs, quarantine (docs/vdp.md); null: defaults, no sinks or outputs */
  vdpConfig?: VdpConfig | null;
  vdpCounters?: VdpCounters;
  /** signs VEX documents (ECDSA P-256; controlplane/reach/dsse.ts); default: a key made for this process only */
  vexKey?: { key: KeyObject; pub: KeyObject };
  /** the author VEX documents name (default: the control plane's SPIFFE ID) */
  vexAuthor?: string;
}

export class ControlPlane {
  private readonly ingest: Ingest;
  readonly vex: VexIssuer;
  readonly reach: ReachIngest;
  private readonly agents: AgentService;
  private readonly queries: QueryService;
  readonly vdp: Vdp;
  private readonly vdpService: VdpService;
  private server: grpc.Server | null = null;
  private readonly checkpoints: Checkpointer;
  private readonly security: SecurityEvents;

  constructor(private readonly o: ControlPlaneOptions) {
    // lines carry what agents and admins sent (node names, errors, SPIFFE IDs): never a forged line or an escape sequence
    const log = (line: string): void => this.o.log?.(printable(line));
    this.checkpoints = o.checkpoints ?? new Checkpointer({ db: o.store.db, log: o.store.log, signer: null, say: log });
    this.security = new SecurityEvents(o.metrics, log);
    const agentAuthorize = this.security.authorizer(o.tls?.trustDomain ?? null, 'agent');
    const authorize = this.security.authorizer(o.tls?.trustDomain ?? null, 'admin');
    o.store.started({ version: VIGIL_VERSION });
    this.ingest = new Ingest(o.store, o.metrics, log, o.ingest);
    const author = o.vexAuthor ?? (o.tls ? `spiffe://${o.tls.trustDomain}/vigil/controlplane` : 'Vigil control plane');
    this.vex = new VexIssuer(o.store.db, o.store.reach, (fn) => o.store.audited(fn), author);
    this.reach = new ReachIngest(o.store.reach, this.vex, log);
    o.metrics?.reach(() => this.reach.counts);
    this.agents = new AgentService({
      store: o.store,
      ingest: this.ingest,
      reach: this.reach,
      authorize: agentAuthorize,
      security: this.security,
      patterns: o.agentIds.map(compileSpiffePattern),
      metrics: o.metrics,
      checkpoints: this.checkpoints,
      log,
      maxBatchAlerts: o.maxBatchAlerts,
      identityPolicy: o.identityPolicy,
      mapChunkBytes: o.mapChunkBytes,
      policyChunkBytes: o.policyChunkBytes,
      trustDomain: o.tls?.trustDomain,
    });
    this.queries = new QueryService({
      store: o.store,
      ingest: this.ingest,
      agents: this.agents,
      authorize,
      patterns: o.adminIds.map(compileSpiffePattern),
      policyKey: o.policyKey,
      maxPolicyBytes: o.maxPolicyBytes,
      follow: o.follow,
      metrics: o.metrics,
      checkpoints: this.checkpoints,
      log,
      generatedFiles: () => {
        const q = this.vdp.quarantineFile();
        return q ? [q] : [];
      },
      reach: { reach: o.store.reach, vex: this.vex, vexKey: o.vexKey ?? ephemeralKey() },
    });
    this.vdp = new Vdp({ store: o.store, config: o.vdpConfig ?? null, log, counters: o.vdpCounters, pushPolicy: (files, by) => this.queries.push(files, by).version });
    this.vdpService = new VdpService({ vdp: this.vdp, authorize, patterns: o.adminIds.map(compileSpiffePattern), log });
  }

  addToServer(server: grpc.Server): void {
    this.agents.addToServer(server);
    this.queries.addToServer(server);
    this.vdpService.addToServer(server);
  }

  /** Listen on host:port (port 0: any). Resolves with the port. */
  async listen(address: string): Promise<number> {
    const server = new grpc.Server({
      'grpc.keepalive_time_ms': 20000,
      'grpc.max_receive_message_length': 16 << 20,
      interceptors: [this.security.receiveLimitInterceptor(this.o.tls?.trustDomain ?? null)],
    });
    this.addToServer(server);
    if (this.o.tls) this.security.watch(server);
    const creds = this.o.tls ? await serverCredentialsReady(this.o.tls) : grpc.ServerCredentials.createInsecure();
    const port = await new Promise<number>((resolve, reject) => server.bindAsync(address, creds, (err, p) => (err ? reject(err) : resolve(p))));
    this.server = server;
    this.vdp.start();
    return port;
  }

  async close(): Promise<void> {
    this.ingest.close();
    await this.vdp.close();
    // the last head is signed before agents go
    try {
      this.checkpoints.publish();
    } catch (err) {
      this.o.log?.(`signing the last audit checkpoint failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.agents.close();
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

function ephemeralKey(): { key: KeyObject; pub: KeyObject } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { key: privateKey, pub: createPublicKey(privateKey) };
}
