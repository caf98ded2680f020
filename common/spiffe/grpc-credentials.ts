// gRPC credentials from X.509-SVIDs: mTLS both ways, the bundle of our trust
// domain as the only root, the peer authorized by its SPIFFE ID (not a host
// name), certificates re-read when they rotate on disk.
import * as grpc from '@grpc/grpc-js';
import * as fs from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { VigilError } from '../errors';
import type { SpiffeId, SpiffePattern } from './spiffe-id';
import { trustDomainBundle, type TrustDomainBundle } from './bundle';
import { checkSvid } from './svid';

/** A gRPC error with a status code, as handlers return and callers see it. */
export function deny(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

export interface TlsFiles {
  /** the trust bundle (CA certificates of our trust domain), PEM */
  bundle: string;
  /** our SVID (leaf first), PEM */
  cert: string;
  key: string;
}

const REFRESH_MS = 2000;

type CaListener = (u: { caCertificate: Buffer } | null) => void;

/**
 * The bundle and our SVID, re-read every REFRESH_MS: rotated files take
 * effect without a restart. Only the CAs of our trust domain are roots
 * (bundle.ts): a CA of another trust domain in the same file never vouches
 * for an SVID that names ours.
 */
function provider(files: TlsFiles, trustDomain: string): grpc.experimental.CertificateProvider {
  const inner = new grpc.experimental.FileWatcherCertificateProvider({
    caCertificateFile: files.bundle,
    certificateFile: files.cert,
    privateKeyFile: files.key,
    refreshIntervalMs: REFRESH_MS,
  });
  const wrapped = new Map<CaListener, CaListener>();
  return {
    addCaCertificateListener: (l: CaListener) => {
      const w: CaListener = (u) => {
        if (!u) return l(null);
        const b = trustDomainBundle(u.caCertificate, trustDomain);
        l(b.kept > 0 ? { caCertificate: Buffer.from(b.pem) } : null);
      };
      wrapped.set(l, w);
      inner.addCaCertificateListener(w);
    },
    removeCaCertificateListener: (l: CaListener) => {
      const w = wrapped.get(l);
      if (w) inner.removeCaCertificateListener(w);
      wrapped.delete(l);
    },
    addIdentityCertificateListener: (l) => inner.addIdentityCertificateListener(l),
    removeIdentityCertificateListener: (l) => inner.removeIdentityCertificateListener(l),
  };
}

/** Our trust domain's CAs in the bundle file now; throws naming the file when there are none. */
export function checkBundle(files: TlsFiles, trustDomain: string): TrustDomainBundle {
  const b = trustDomainBundle(fs.readFileSync(files.bundle), trustDomain);
  if (b.kept === 0) {
    throw new VigilError(
      'BAD_ARGUMENT',
      `TLS: ${files.bundle} holds no CA of trust domain ${trustDomain}${b.setAside.length ? ` (${b.setAside.map((x) => `${x.subject}: ${x.why}`).join('; ')})` : ''}`,
    );
  }
  return b;
}

/**
 * Resolves once the provider has read the bundle and our SVID: a server
 * bound before that answers its first handshakes with nothing.
 */
function loaded(p: grpc.experimental.CertificateProvider, files: TlsFiles): Promise<void> {
  return new Promise((resolve, reject) => {
    let ca = false;
    let id = false;
    const timer = setTimeout(() => reject(new VigilError('BAD_ARGUMENT', `TLS: could not read ${files.bundle}, ${files.cert} and ${files.key} within 10 s`)), 10_000);
    const done = (): void => {
      if (!ca || !id) return;
      clearTimeout(timer);
      p.removeCaCertificateListener(onCa);
      p.removeIdentityCertificateListener(onId);
      resolve();
    };
    const onCa = (u: unknown): void => {
      ca = u !== null;
      done();
    };
    const onId = (u: unknown): void => {
      id = u !== null;
      done();
    };
    p.addCaCertificateListener(onCa);
    p.addIdentityCertificateListener(onId);
  });
}

/** Server credentials: our SVID, our trust domain's CAs in the bundle as the only roots, client certificates required. */
export async function serverCredentialsReady(files: TlsFiles & { trustDomain: string }): Promise<grpc.ServerCredentials> {
  for (const f of [files.bundle, files.cert, files.key]) {
    if (!fs.existsSync(f)) throw new VigilError('BAD_ARGUMENT', `TLS: ${f} is missing (vigil certs init makes a trust domain)`);
  }
  checkBundle(files, files.trustDomain);
  const p = provider(files, files.trustDomain);
  const ready = loaded(p, files);
  const creds = grpc.experimental.createCertificateProviderServerCredentials(p, p, true);
  await ready;
  return creds;
}

/**
 * Channel credentials: our SVID, the bundle as the only root (never the
 * public roots), and the server authorized by its SPIFFE ID instead of a
 * host name.
 */
export function channelCredentials(files: TlsFiles, trustDomain: string, server: SpiffePattern): grpc.ChannelCredentials {
  for (const f of [files.bundle, files.cert, files.key]) {
    if (!fs.existsSync(f)) throw new VigilError('BAD_ARGUMENT', `TLS: ${f} is missing (vigil certs issue makes an SVID)`);
  }
  checkBundle(files, trustDomain);
  const p = provider(files, trustDomain);
  return grpc.experimental.createCertificateProviderChannelCredentials(p, p, {
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const r = checkSvid(cert.raw, trustDomain);
      if (!r.ok || !r.id) return new Error(`server SVID refused: ${r.reason}`);
      if (!server.matches(r.id)) return new Error(`server ${r.id.toString()} is not ${server.source}`);
      return undefined;
    },
  });
}

export interface Peer {
  spiffeId: string;
}

/** The caller's SPIFFE ID, if its SVID is valid and matches one of the patterns; else a gRPC error. */
export function authorizePeer(
  call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } },
  trustDomain: string,
  allowed: readonly SpiffePattern[],
): Peer | grpc.ServiceError {
  const cert = call.getAuthContext().sslPeerCertificate;
  if (!cert?.raw) return deny(grpc.status.UNAUTHENTICATED, 'no client certificate: mTLS with an X.509-SVID is required');
  const r = checkSvid(cert.raw, trustDomain);
  if (!r.ok || !r.id) return deny(grpc.status.UNAUTHENTICATED, `client SVID refused: ${r.reason}`);
  if (!allowed.some((p) => p.matches(r.id as SpiffeId))) {
    return deny(grpc.status.PERMISSION_DENIED, `${r.id.toString()} is not allowed here (allowed: ${allowed.map((p) => p.source).join(', ')})`);
  }
  return { spiffeId: r.id.toString() };
}
