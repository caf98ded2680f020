// X.509-SVIDs: what the SPIFFE X.509-SVID specification requires of a
// peer's leaf certificate (go-spiffe's x509svid is the model), and the gRPC
// credentials that use them: mTLS both ways, the peer authorized by SPIFFE
// ID, certificates re-read when they rotate on disk.
import * as grpc from '@grpc/grpc-js';
// @peculiar/x509 resolves its services through tsyringe, which needs this first
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { errorMessage, VigilError } from '../errors';
import { checkSpiffeId, type SpiffeId, type SpiffePattern } from './spiffe-id';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface SvidCheck {
  ok: boolean;
  id?: SpiffeId;
  reason?: string;
}

/**
 * Check a leaf certificate (DER) against the X.509-SVID rules the TLS
 * library does not check: exactly one URI SAN holding a valid SPIFFE ID,
 * not a CA, no keyCertSign / cRLSign, digitalSignature present; and the
 * trust domain we expect. Chain and validity period are TLS's job (the
 * bundle of that trust domain is the only root).
 */
export function checkSvid(der: Buffer | ArrayBuffer, trustDomain: string): SvidCheck {
  let cert: x509.X509Certificate;
  try {
    const bytes = der instanceof ArrayBuffer ? new Uint8Array(der) : Uint8Array.from(der);
    cert = new x509.X509Certificate(bytes);
  } catch (err) {
    return { ok: false, reason: `not an X.509 certificate: ${errorMessage(err)}` };
  }
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san ? san.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
  if (uris.length === 0) return { ok: false, reason: 'the certificate has no URI SAN: not an X.509-SVID' };
  if (uris.length > 1) return { ok: false, reason: `the certificate has ${uris.length} URI SANs (${uris.join(', ')}): an X.509-SVID has exactly one` };
  const c = checkSpiffeId(uris[0]);
  if (!c.ok) return { ok: false, reason: `URI SAN "${uris[0]}" is not a SPIFFE ID: ${c.reason}` };
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (bc?.ca) return { ok: false, reason: `${uris[0]}: a CA certificate cannot be a leaf SVID` };
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (ku) {
    if (ku.usages & x509.KeyUsageFlags.keyCertSign) return { ok: false, reason: `${uris[0]}: a leaf SVID must not have keyCertSign` };
    if (ku.usages & x509.KeyUsageFlags.cRLSign) return { ok: false, reason: `${uris[0]}: a leaf SVID must not have cRLSign` };
    if (!(ku.usages & x509.KeyUsageFlags.digitalSignature)) return { ok: false, reason: `${uris[0]}: a leaf SVID needs digitalSignature` };
  }
  if (c.id.trustDomain !== trustDomain) {
    return { ok: false, reason: `${uris[0]}: trust domain "${c.id.trustDomain}" is not "${trustDomain}"` };
  }
  return { ok: true, id: c.id };
}

export interface TlsFiles {
  /** the trust bundle (CA certificates of our trust domain), PEM */
  bundle: string;
  /** our SVID (leaf first), PEM */
  cert: string;
  key: string;
}

const REFRESH_MS = 2000;

/** The bundle and our SVID, re-read every REFRESH_MS: rotated files take effect without a restart. */
function provider(files: TlsFiles): grpc.experimental.CertificateProvider {
  return new grpc.experimental.FileWatcherCertificateProvider({
    caCertificateFile: files.bundle,
    certificateFile: files.cert,
    privateKeyFile: files.key,
    refreshIntervalMs: REFRESH_MS,
  });
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

/** Server credentials: our SVID, the bundle as the only root, client certificates required. */
export async function serverCredentialsReady(files: TlsFiles): Promise<grpc.ServerCredentials> {
  for (const f of [files.bundle, files.cert, files.key]) {
    if (!fs.existsSync(f)) throw new VigilError('BAD_ARGUMENT', `TLS: ${f} is missing (vigil certs init makes a trust domain)`);
  }
  const p = provider(files);
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
  const p = provider(files);
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
  const deny = (code: grpc.status, details: string): grpc.ServiceError =>
    Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
  if (!cert?.raw) return deny(grpc.status.UNAUTHENTICATED, 'no client certificate: mTLS with an X.509-SVID is required');
  const r = checkSvid(cert.raw, trustDomain);
  if (!r.ok || !r.id) return deny(grpc.status.UNAUTHENTICATED, `client SVID refused: ${r.reason}`);
  if (!allowed.some((p) => p.matches(r.id as SpiffeId))) {
    return deny(grpc.status.PERMISSION_DENIED, `${r.id.toString()} is not allowed here (allowed: ${allowed.map((p) => p.source).join(', ')})`);
  }
  return { spiffeId: r.id.toString() };
}
