// Where a component's mTLS files and policy key come from: a `vigil certs`
// directory (--certs DIR), single files (--bundle, --cert, --key,
// --policy-key: what SPIRE's spiffe-helper or CSI driver and Kubernetes
// Secrets mount), or both, single files winning.
//
//   role          SVID default              policy key default
//   agent         DIR/agent.pem, agent.key  DIR/policy.pub (verify only)
//   controlplane  DIR/controlplane.pem/.key DIR/policy.key (signs)
//   admin         DIR/admin.pem, admin.key  -
//
// The trust domain is --trust-domain, else DIR/trust-domain, else the trust
// domain of our own SVID's SPIFFE ID.
// @peculiar/x509 resolves its services through tsyringe, which needs this first
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, VigilError } from '../errors';
import { checkSpiffeId, checkTrustDomain } from './spiffe-id';

export type TlsRole = 'agent' | 'controlplane' | 'admin';

export interface TlsFlags {
  certsDir?: string;
  trustDomain?: string;
  bundle?: string;
  cert?: string;
  key?: string;
  policyKey?: string;
}

export interface ResolvedTls {
  trustDomain: string;
  bundle: string;
  cert: string;
  key: string;
  /** agent: the pinned public key; controlplane: the signing key; null when there is none */
  policyKey: string | null;
}

/** Resolve the files of one role; every missing piece is named with the flag that supplies it. */
export function resolveTls(step: string, role: TlsRole, f: TlsFlags): ResolvedTls {
  const dir = f.certsDir;
  const pick = (given: string | undefined, flag: string, name: string): string => {
    if (given !== undefined) return given;
    if (dir !== undefined) return path.join(dir, name);
    throw new VigilError('BAD_ARGUMENT', `${step}: ${flag} FILE or --certs DIR is required (or --insecure)`);
  };
  const bundle = pick(f.bundle, '--bundle', 'bundle.pem');
  const cert = pick(f.cert, '--cert', `${role}.pem`);
  const key = pick(f.key, '--key', `${role}.key`);

  let trustDomain = f.trustDomain;
  let from = '--trust-domain';
  if (trustDomain === undefined && dir !== undefined && fs.existsSync(path.join(dir, 'trust-domain'))) {
    trustDomain = fs.readFileSync(path.join(dir, 'trust-domain'), 'utf8').trim();
    from = path.join(dir, 'trust-domain');
  }
  if (trustDomain === undefined) {
    trustDomain = trustDomainOfCert(step, cert);
    from = cert;
  }
  const bad = checkTrustDomain(trustDomain);
  if (bad) throw new VigilError('BAD_ARGUMENT', `${step}: trust domain "${trustDomain}" (from ${from}): ${bad}`);

  let policyKey: string | null = null;
  if (role !== 'admin') {
    const name = role === 'agent' ? 'policy.pub' : 'policy.key';
    if (f.policyKey !== undefined) {
      if (!fs.existsSync(f.policyKey)) throw new VigilError('BAD_ARGUMENT', `${step}: --policy-key ${f.policyKey}: no such file`);
      policyKey = f.policyKey;
    } else if (dir !== undefined && fs.existsSync(path.join(dir, name))) {
      policyKey = path.join(dir, name);
    }
  }
  return { trustDomain, bundle, cert, key, policyKey };
}

/** The trust domain of the SPIFFE ID in a PEM certificate's URI SAN. */
function trustDomainOfCert(step: string, file: string): string {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new VigilError(
      'BAD_ARGUMENT',
      `${step}: no --trust-domain, and the SVID ${file} to read it from cannot be read: ${errorMessage(err)}`,
    );
  }
  let uris: string[];
  try {
    const cert = new x509.X509Certificate(pem);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    uris = san ? san.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `${step}: ${file}: not a PEM certificate: ${errorMessage(err)}`);
  }
  if (uris.length !== 1) throw new VigilError('BAD_ARGUMENT', `${step}: ${file}: an X.509-SVID has exactly one URI SAN, this has ${uris.length} (give --trust-domain)`);
  const c = checkSpiffeId(uris[0]);
  if (!c.ok) throw new VigilError('BAD_ARGUMENT', `${step}: ${file}: URI SAN "${uris[0]}" is not a SPIFFE ID: ${c.reason}`);
  return c.id.trustDomain;
}
