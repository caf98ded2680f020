// X.509-SVIDs: what the SPIFFE X.509-SVID specification requires of a
// peer's leaf certificate (go-spiffe's x509svid is the model).
// @peculiar/x509 resolves its services through tsyringe, which needs this first
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { errorMessage } from '../errors';
import { checkSpiffeId, type SpiffeId } from './spiffe-id';

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
