// The control plane's gRPC server: the two services (agent-service.ts,
// query-service.ts) over one ingest (group commit into the store), mTLS with
// SPIFFE authorization, listen and orderly close.
import * as grpc from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import { authorizePeer, serverCredentialsReady, type TlsFiles } from '../common/spiffe/grpc-credentials';
import { compileSpiffePattern } from '../common/spiffe/spiffe-id';
import { AgentService, type Authorize } from './agent-service';
import { printable } from '../common/escape';
import { Ingest, type IngestOptions } from './ingest';
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
  log?: (line: string) => void;
  /** queues, commit size and per-agent rate quota (ingest.ts) */
  ingest?: IngestOptions;
  /** the most alerts one batch may carry */
  maxBatchAlerts?: number;
}

export class ControlPlane {
  private readonly ingest: Ingest;
  private readonly agents: AgentService;
  private readonly queries: QueryService;
  private server: grpc.Server | null = null;

  constructor(private readonly o: ControlPlaneOptions) {
    // lines carry what agents and admins sent (node names, errors, SPIFFE IDs): never a forged line or an escape sequence
    const log = (line: string): void => this.o.log?.(printable(line));
    const authorize: Authorize = (call, who) => (this.o.tls ? authorizePeer(call, this.o.tls.trustDomain, who) : { spiffeId: 'insecure' });
    o.store.markAllDisconnected();
    this.ingest = new Ingest(o.store, o.metrics, log, o.ingest);
    this.agents = new AgentService({
      store: o.store,
      ingest: this.ingest,
      authorize,
      patterns: o.agentIds.map(compileSpiffePattern),
      metrics: o.metrics,
      log,
      maxBatchAlerts: o.maxBatchAlerts,
    });
    this.queries = new QueryService({
      store: o.store,
      ingest: this.ingest,
      agents: this.agents,
      authorize,
      patterns: o.adminIds.map(compileSpiffePattern),
      policyKey: o.policyKey,
      metrics: o.metrics,
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
    this.ingest.close();
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
