// Where a component's mTLS files and policy key come from: a `vigil certs`
// directory (--certs DIR), single files (--bundle, --cert, --key,
// --policy-key: what SPIRE's spiffe-helper or CSI driver and Kubernetes
// Secrets mount), or both, single files winning.
//
//   role          SVID default              policy key default              log key default
//   agent         DIR/agent.pem, agent.key  DIR/policy.pub (verify only)   DIR/log.pub (verifies checkpoints)
//   controlplane  DIR/controlplane.pem/.key DIR/policy.key (signs)         DIR/log.key (signs checkpoints)
//   admin         DIR/admin.pem, admin.key  -                              DIR/log.pub (vigil audit)
//
// The log key signs the audit log's checkpoints. Without a log key of its
// own, a component uses the policy key (the same Ed25519 key, two formats
// that cannot be taken for each other: a checkpoint note's first line is the
// log's name, a policy payload is one line of canonical JSON).
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
  logKey?: string;
}

export interface ResolvedTls {
  trustDomain: string;
  bundle: string;
  cert: string;
  key: string;
  /** agent: the pinned public key; controlplane: the signing key; null when there is none */
  policyKey: string | null;
  /** the audit log's key (controlplane: signs; agent, admin: verifies); the policy key when there is no log key; null when neither */
  logKey: string | null;
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
  let logKey: string | null = null;
  const logName = role === 'controlplane' ? 'log.key' : 'log.pub';
  if (f.logKey !== undefined) {
    if (!fs.existsSync(f.logKey)) throw new VigilError('BAD_ARGUMENT', `${step}: --log-key ${f.logKey}: no such file`);
    logKey = f.logKey;
  } else if (dir !== undefined && fs.existsSync(path.join(dir, logName))) {
    logKey = path.join(dir, logName);
  } else if (role === 'admin' && dir !== undefined && fs.existsSync(path.join(dir, 'policy.pub'))) {
    logKey = path.join(dir, 'policy.pub');
  } else {
    logKey = policyKey;
  }
  return { trustDomain, bundle, cert, key, policyKey, logKey };
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
