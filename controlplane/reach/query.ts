// The QueryService calls of runtime reachability: `vigil sbom import|show`,
// scanner findings in, `vigil vex` (signed with DSSE when asked) and
// `vigil vex --changes`. Authorization is the QueryService's (admins only).
import * as grpc from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../../common/canonical-json';
import { errorMessage } from '../../common/errors';
import { formatImageRef, parseImageRef } from '../../common/image-ref';
import { deny } from '../../common/spiffe/grpc-credentials';
import type { QueryServiceHandlers } from '../../common/proto/generated/vigil/v1/QueryService';
import { cycloneDxOf } from './cyclonedx-out';
import { INTOTO_PAYLOAD_TYPE, intotoStatement, keyId, signEnvelope } from './dsse';
import { componentsFromWire } from './ingest';
import { OPENVEX_PREDICATE } from './openvex';
import type { ReachStore } from './store';
import type { VexIssuer } from './vex';

export interface ReachQueryOptions {
  reach: ReachStore;
  vex: VexIssuer;
  /** the VEX signing key (ECDSA P-256) and its public half */
  vexKey: { key: KeyObject; pub: KeyObject };
  /** who is calling (SPIFFE ID), or the error that refuses them */
  check: (call: { getAuthContext(): { sslPeerCertificate?: import('node:tls').PeerCertificate } }) => { spiffeId: string } | grpc.ServiceError;
  log: (line: string) => void;
}

type ReachHandlers = Pick<QueryServiceHandlers, 'ImportSbom' | 'GetSbom' | 'ImportVulns' | 'Vex' | 'VexChanges'>;

/** name@sha256:... or sha256:... -> the digest and the name; an error naming the problem otherwise. */
function imageArg(image: string): { digest: string; name: string } {
  const r = parseImageRef(image);
  if ('error' in r) throw new Error(`--image: ${r.error}`);
  if (!r.digest) throw new Error(`--image: "${image}" has no digest: name the image by digest (name@sha256:...), the digest is what identifies what ran`);
  return { digest: r.digest, name: r.name ?? '' };
}

export function reachHandlers(o: ReachQueryOptions): ReachHandlers {
  const invalid = (err: unknown): grpc.ServiceError => deny(grpc.status.INVALID_ARGUMENT, errorMessage(err));
  return {
    ImportSbom: (call, cb) => {
      const peer = o.check(call);
      if ('code' in peer) return cb(peer);
      try {
        const { digest, name } = imageArg(call.request.image);
        if (!/^[0-9a-f]{64}$/.test(call.request.sha256)) throw new Error('sha256: the document hash (64 hex digits) is required');
        if (!/^(cyclonedx-1\.[56]|spdx-2\.3)$/.test(call.request.format)) throw new Error(`format: "${call.request.format.slice(0, 40)}" is not cyclonedx-1.5, cyclonedx-1.6 or spdx-2.3`);
        const components = componentsFromWire(call.request.components, 'sbom', ['cyclonedx-occurrences', 'syft-location', 'trivy-filepath', 'spdx-contains']);
        o.reach.putSbom({ digest, name, origin: 'import', format: call.request.format, sha256: call.request.sha256, by: peer.spiffeId, components });
        // a newly mapped file may already have been loaded: a not_affected statement may no longer hold
        o.vex.onLoads(digest);
        const files = components.reduce((n, c) => n + c.files.length, 0);
        o.log(`sbom ${call.request.format} for ${formatImageRef({ name: name || null, tag: null, digest })} imported by ${peer.spiffeId}: ${components.length} components, ${files} files`);
        return cb(null, { digest, components: components.length, files });
      } catch (err) {
        return cb(invalid(err));
      }
    },
    GetSbom: (call, cb) => {
      const peer = o.check(call);
      if ('code' in peer) return cb(peer);
      try {
        const { digest } = imageArg(call.request.image);
        const out = cycloneDxOf(o.reach, digest);
        if (!out) return cb(deny(grpc.status.NOT_FOUND, `no SBOM for ${digest}: import one (vigil sbom import), or run the image where an agent watches so that it reads the image's package databases`));
        return cb(null, { cyclonedx_json: out.json, origin: out.origin });
      } catch (err) {
        return cb(invalid(err));
      }
    },
    ImportVulns: (call, cb) => {
      const peer = o.check(call);
      if ('code' in peer) return cb(peer);
      try {
        const { digest } = imageArg(call.request.image);
        if (!/^[0-9a-f]{64}$/.test(call.request.sha256)) throw new Error('sha256: the report hash (64 hex digits) is required');
        if (!['grype', 'trivy', 'cyclonedx'].includes(call.request.format)) throw new Error(`format: "${call.request.format.slice(0, 40)}" is not grype, trivy or cyclonedx`);
        if (call.request.findings.length > 1_000_000) throw new Error('more than 1000000 findings');
        const findings = call.request.findings.map((f, i) => {
          if (!/^[A-Za-z][A-Za-z0-9._:-]{1,127}$/.test(f.id)) throw new Error(`findings[${i}].id: not a vulnerability id`);
          if (!f.name || f.name.length > 4096 || f.version.length > 4096 || f.purl.length > 4096 || f.description.length > 4096) throw new Error(`findings[${i}]: name missing or a field too long`);
          return { id: f.id, aliases: f.aliases.slice(0, 64), description: f.description, severity: f.severity.slice(0, 32), purl: f.purl, name: f.name, version: f.version };
        });
        const n = o.vex.importFindings(digest, call.request.format, call.request.sha256, peer.spiffeId, findings);
        return cb(null, { digest, findings: n });
      } catch (err) {
        return cb(invalid(err));
      }
    },
    Vex: (call, cb) => {
      const peer = o.check(call);
      if ('code' in peer) return cb(peer);
      try {
        const { digest, name } = imageArg(call.request.image);
        if (o.vex.findings(digest).length === 0) {
          return cb(deny(grpc.status.FAILED_PRECONDITION, `no scanner findings for ${digest}: give them with --vulns FILE (grype JSON, trivy JSON or CycloneDX with vulnerabilities)`));
        }
        const r = o.vex.issue(digest, Number(call.request.min_window_ms));
        let envelope = '';
        if (call.request.dsse) {
          const subject = name || o.reach.image(digest)?.name || digest;
          const statement = intotoStatement(subject, digest, OPENVEX_PREDICATE, r.document);
          envelope = JSON.stringify(signEnvelope(Buffer.from(canonicalJson(statement)), INTOTO_PAYLOAD_TYPE, o.vexKey.key));
        }
        if (r.issued) o.log(`vex: ${digest} version ${r.version} issued for ${peer.spiffeId}`);
        return cb(null, {
          document: JSON.stringify(r.document, null, 2),
          envelope,
          version: r.version,
          issued: r.issued,
          public_key: o.vexKey.pub.export({ type: 'spki', format: 'pem' }).toString(),
          key_id: keyId(o.vexKey.pub),
        });
      } catch (err) {
        return cb(invalid(err));
      }
    },
    VexChanges: (call, cb) => {
      const peer = o.check(call);
      if ('code' in peer) return cb(peer);
      try {
        const digest = call.request.image ? imageArg(call.request.image).digest : undefined;
        return cb(null, {
          revocations: o.vex.revocations(digest).map((r) => ({
            digest: r.digest,
            vulnerability: r.vulnerability,
            component: r.component,
            not_affected_version: r.not_affected_version,
            revoked_version: r.revoked_version,
            loaded_path: r.loaded_path,
            loaded_unix_nano: r.loaded_ns,
            revoked_unix_nano: r.revoked_ns,
          })),
        });
      } catch (err) {
        return cb(invalid(err));
      }
    },
  };
}
