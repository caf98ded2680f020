// VdpService: advisories in, matches out (for `vigil gate`), quarantine and
// tickets, for admins (every call authorized by the caller's SPIFFE ID
// against the admin patterns, like QueryService).
import * as grpc from '@grpc/grpc-js';
import { errorMessage } from '../common/errors';
import { deny } from '../common/spiffe/grpc-credentials';
import type { SpiffePattern } from '../common/spiffe/spiffe-id';
import type { VdpServiceHandlers } from '../common/proto/generated/vigil/v1/VdpService';
import { vigilProto } from '../common/proto/load';
import type { Authorize } from './agent-service';
import { SEVERITIES, type Severity } from './vdp/advisory';
import { internalAdvisory } from './vdp/advisory-parse';
import type { Vdp } from './vdp/vdp';

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_FILES = 1000;

export class VdpService {
  constructor(
    private readonly o: {
      vdp: Vdp;
      authorize: Authorize;
      patterns: SpiffePattern[];
      log: (line: string) => void;
    },
  ) {}

  handlers(): VdpServiceHandlers {
    const check = <C extends { getAuthContext(): { sslPeerCertificate?: import('node:tls').PeerCertificate } }>(call: C): { spiffeId: string } | grpc.ServiceError =>
      this.o.authorize(call, this.o.patterns);
    const v = this.o.vdp;
    return {
      ImportAdvisories: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        if (call.request.files.length > MAX_FILES) return cb(deny(grpc.status.INVALID_ARGUMENT, `at most ${MAX_FILES} files in one import`));
        const r = v.importFiles(call.request.files, peer.spiffeId);
        this.o.log(`advisories imported by ${peer.spiffeId}: ${r.added} new, ${r.updated} updated, ${r.errors.length} files refused`);
        return cb(null, { added: r.added, updated: r.updated, unchanged: r.unchanged, matches: r.matches, errors: r.errors });
      },
      AddAdvisory: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        const q = call.request;
        if (!(SEVERITIES as readonly string[]).includes(q.severity)) return cb(deny(grpc.status.INVALID_ARGUMENT, `--severity: expected one of ${SEVERITIES.join(', ')}`));
        try {
          const a = internalAdvisory({ id: q.id, purl: q.purl, affected: q.affected, severity: q.severity as Severity, summary: q.summary, ...(q.fixed ? { fixed: q.fixed } : {}) });
          const r = v.add(a, peer.spiffeId);
          this.o.log(`advisory ${a.id} added by ${peer.spiffeId}`);
          return cb(null, { added: r.added, updated: r.updated, unchanged: r.unchanged, matches: r.matches, errors: [] });
        } catch (err) {
          return cb(deny(grpc.status.INVALID_ARGUMENT, errorMessage(err)));
        }
      },
      ListAdvisories: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        const d = call.request.digest;
        if (d && !DIGEST.test(d)) return cb(deny(grpc.status.INVALID_ARGUMENT, `"${d}": expected sha256: and 64 hex digits`));
        const matches = v.matches(d || undefined);
        const ids = d ? new Set(matches.map((m) => m.advisory)) : null;
        const advisories = v.db.advisories().filter((a) => !ids || ids.has(a.id));
        return cb(null, { advisories: advisories.map((a) => JSON.stringify(a)), matches: matches.map((m) => JSON.stringify(m)) });
      },
      ImageMatches: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        const d = call.request.digest;
        if (!DIGEST.test(d)) return cb(deny(grpc.status.INVALID_ARGUMENT, `"${d}": expected sha256: and 64 hex digits`));
        const img = v.inventory.images().find((i) => i.digest === d);
        return cb(null, {
          known: img !== undefined,
          name: img?.name ?? '',
          components: img ? v.inventory.components(d).length : 0,
          matches: v.matches(d).map((m) => JSON.stringify(m)),
        });
      },
      Quarantine: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        const q = call.request;
        const list = (): string[] => v.quarantines().map((x) => JSON.stringify(x));
        if (q.list) return cb(null, { policy_version: 0, workloads: [], quarantines: list() });
        if (!DIGEST.test(q.digest)) return cb(deny(grpc.status.INVALID_ARGUMENT, `"${q.digest}": expected sha256: and 64 hex digits`));
        if (!q.reason.trim()) return cb(deny(grpc.status.INVALID_ARGUMENT, 'a reason is required (it is audited)'));
        try {
          if (q.lift) {
            const version = v.lift(q.digest, q.reason, peer.spiffeId);
            return cb(null, { policy_version: version, workloads: [], quarantines: list() });
          }
          const r = v.quarantine({ digest: q.digest, workloads: q.workloads, allow: q.allow, reason: q.reason }, peer.spiffeId);
          return cb(null, { policy_version: r.version, workloads: r.workloads, quarantines: list() });
        } catch (err) {
          return cb(deny(grpc.status.FAILED_PRECONDITION, errorMessage(err)));
        }
      },
      ListTickets: (call, cb) => {
        const peer = check(call);
        if ('code' in peer) return cb(peer);
        return cb(null, { tickets: v.db.tickets().map((t) => JSON.stringify(t)), spooled: v.db.spoolDepth() });
      },
    };
  }

  addToServer(server: grpc.Server): void {
    server.addService(vigilProto().VdpService.service, this.handlers());
  }
}
