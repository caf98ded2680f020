// One bundle per trust domain. A peer's chain must end at a CA of its own
// trust domain's bundle (go-spiffe checks a chain only against the bundle of
// the SVID's trust domain), so a PEM file that holds several trust domains'
// CAs is not one set of roots: the CAs that name another trust domain (a
// SPIFFE CA names its trust domain in a URI SAN, as SPIRE's and `vigil certs
// init`'s do) are set aside, and only ours are given to TLS. A CA that names
// no trust domain belongs to the file's, ours. Federation with another trust
// domain is not configured here: its CAs are never roots.
// @peculiar/x509 resolves its services through tsyringe, which needs this first
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { errorMessage } from '../errors';
import { checkSpiffeId } from './spiffe-id';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface TrustDomainBundle {
  /** PEM of the CAs of the trust domain */
  pem: string;
  kept: number;
  /** CAs of other trust domains, or not readable: never roots */
  setAside: { subject: string; why: string }[];
}

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The trust domains a CA certificate names in its SPIFFE URI SANs ([]: none). */
function trustDomainsOf(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const out: string[] = [];
  for (const n of san?.names.items ?? []) {
    if (n.type !== 'url' || !n.value.startsWith('spiffe://')) continue;
    const c = checkSpiffeId(n.value);
    out.push(c.ok ? c.id.trustDomain : n.value);
  }
  return out;
}

/** The CAs of `trustDomain` in a PEM bundle. */
export function trustDomainBundle(pem: string | Uint8Array, trustDomain: string): TrustDomainBundle {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
  const out: TrustDomainBundle = { pem: '', kept: 0, setAside: [] };
  for (const block of text.match(BLOCK) ?? []) {
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(block);
    } catch (err) {
      out.setAside.push({ subject: '(unreadable)', why: `not a certificate: ${errorMessage(err)}` });
      continue;
    }
    const tds = trustDomainsOf(cert);
    if (tds.length > 0 && !(tds.length === 1 && tds[0] === trustDomain)) {
      out.setAside.push({ subject: cert.subject, why: `a CA of ${tds.join(', ')}, not of ${trustDomain}` });
      continue;
    }
    out.pem += block + '\n';
    out.kept++;
  }
  return out;
}
