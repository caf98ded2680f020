// The control plane's gRPC server: the two services (agent-service.ts,
// query-service.ts) over one ingest (group commit into the store), mTLS with
// SPIFFE authorization, listen and orderly close.
import * as grpc from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import { authorizePeer, serverCredentialsReady, type TlsFiles } from '../common/spiffe/grpc-credentials';
import { compileSpiffePattern } from '../common/spiffe/spiffe-id';
import { VIGIL_VERSION } from '../common/version';
import { AgentService, type Authorize } from './agent-service';
import { Checkpointer } from './checkpoints';
import { Ingest } from './ingest';
import type { CpMetrics } from './metrics';
import { QueryService } from './query-service';
import type { Store } from './store';

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
}

export class ControlPlane {
  private readonly ingest: Ingest;
  private readonly agents: AgentService;
  private readonly queries: QueryService;
  private server: grpc.Server | null = null;
  private readonly checkpoints: Checkpointer;

  constructor(private readonly o: ControlPlaneOptions) {
    const log = (line: string): void => this.o.log?.(line);
    this.checkpoints = o.checkpoints ?? new Checkpointer({ db: o.store.db, log: o.store.log, signer: null, say: log });
    const authorize: Authorize = (call, who) => (this.o.tls ? authorizePeer(call, this.o.tls.trustDomain, who) : { spiffeId: 'insecure' });
    o.store.started({ version: VIGIL_VERSION });
    this.ingest = new Ingest(o.store, o.metrics, log);
    this.agents = new AgentService({
      store: o.store,
      ingest: this.ingest,
      authorize,
      patterns: o.agentIds.map(compileSpiffePattern),
      metrics: o.metrics,
      checkpoints: this.checkpoints,
      log,
    });
    this.queries = new QueryService({
      store: o.store,
      ingest: this.ingest,
      agents: this.agents,
      authorize,
      patterns: o.adminIds.map(compileSpiffePattern),
      policyKey: o.policyKey,
      metrics: o.metrics,
      checkpoints: this.checkpoints,
      log,
    });
  }

  addToServer(server: grpc.Server): void {
    this.agents.addToServer(server);
    this.queries.addToServer(server);
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
    this.ingest.flush();
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
