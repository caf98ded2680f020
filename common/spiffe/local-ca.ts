// A local trust domain for `vigil up`, tests and small installs: a CA,
// X.509-SVIDs for the control plane, agents and admins, and the Ed25519
// policy-signing key and the audit log's checkpoint key. (With SPIRE, SPIRE
// does the SVIDs.)
// @peculiar/x509 resolves its services through tsyringe, which needs this first
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VigilError } from '../errors';
import { checkSpiffeId, checkTrustDomain } from './spiffe-id';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

export interface TrustDomainFiles {
  dir: string;
  trustDomain: string;
  bundle: string;
  caCert: string;
  caKey: string;
  policyKey: string;
  policyPub: string;
  logKey: string;
  logPub: string;
}

export function trustDomainFiles(dir: string, trustDomain = ''): TrustDomainFiles {
  return {
    dir,
    trustDomain,
    bundle: path.join(dir, 'bundle.pem'),
    caCert: path.join(dir, 'ca.pem'),
    caKey: path.join(dir, 'ca.key'),
    policyKey: path.join(dir, 'policy.key'),
    policyPub: path.join(dir, 'policy.pub'),
    logKey: path.join(dir, 'log.key'),
    logPub: path.join(dir, 'log.pub'),
  };
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f; // positive
  return b.toString('hex');
}

function writePrivate(file: string, text: string): void {
  fs.writeFileSync(file + '.tmp', text, { mode: 0o600 });
  fs.renameSync(file + '.tmp', file);
}

function writePublic(file: string, text: string): void {
  fs.writeFileSync(file + '.tmp', text, { mode: 0o644 });
  fs.renameSync(file + '.tmp', file);
}

/** Make a trust domain in `dir`: CA, bundle, policy key. Refuses to overwrite one. */
export async function initTrustDomain(dir: string, trustDomain: string, validDays = 365): Promise<TrustDomainFiles> {
  const bad = checkTrustDomain(trustDomain);
  if (bad) throw new VigilError('BAD_ARGUMENT', `trust domain "${trustDomain}": ${bad}`);
  const f = trustDomainFiles(dir, trustDomain);
  if (fs.existsSync(f.caKey)) throw new VigilError('BAD_ARGUMENT', `${dir} already holds a trust domain (${f.caKey} exists)`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `O=Vigil, CN=${trustDomain} CA`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validDays * DAY),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${trustDomain}` }]),
    ],
  });
  writePrivate(f.caKey, await exportKey(keys.privateKey));
  writePublic(f.caCert, ca.toString('pem') + '\n');
  writePublic(f.bundle, ca.toString('pem') + '\n');
  const ed = generateKeyPairSync('ed25519');
  writePrivate(f.policyKey, ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  writePublic(f.policyPub, ed.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // the audit log's checkpoint key: a key of its own
  const log = generateKeyPairSync('ed25519');
  writePrivate(f.logKey, log.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  writePublic(f.logPub, log.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  fs.writeFileSync(path.join(dir, 'trust-domain'), trustDomain + '\n');
  return f;
}

export interface IssueOptions {
  notBefore?: Date;
  notAfter?: Date;
  /** tests: a CA certificate used as a leaf */
  ca?: boolean;
  /** tests: more URI SANs */
  extraUris?: string[];
  /** sign with another CA (tests: an unknown CA) */
  signer?: { cert: string; key: string };
}

export interface Svid {
  spiffeId: string;
  cert: string;
  key: string;
}

/** Issue an X.509-SVID for `spiffeId`, written as NAME.pem / NAME.key in dir. */
export async function issueSvid(dir: string, spiffeId: string, name: string, opts: IssueOptions = {}): Promise<Svid> {
  const c = checkSpiffeId(spiffeId);
  if (!c.ok) throw new VigilError('BAD_SPIFFE_ID', `invalid SPIFFE ID "${spiffeId}": ${c.reason}`);
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new VigilError('BAD_ARGUMENT', `certificate name "${name}": letters, digits, ".", "-", "_"`);
  const f = trustDomainFiles(dir);
  const caPem = fs.readFileSync(opts.signer?.cert ?? f.caCert, 'utf8');
  const caKeyPem = fs.readFileSync(opts.signer?.key ?? f.caKey, 'utf8');
  const ca = new x509.X509Certificate(caPem);
  const caKey = await importKey(caKeyPem);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const uris = [spiffeId, ...(opts.extraUris ?? [])];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `O=Vigil, CN=${spiffeId.slice(spiffeId.lastIndexOf('/') + 1) || c.id.trustDomain}`,
    issuer: ca.subject,
    notBefore: opts.notBefore ?? new Date(now - 60_000),
    notAfter: opts.notAfter ?? new Date(now + 30 * DAY),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(opts.ca === true, undefined, true),
      new x509.KeyUsagesExtension(
        opts.ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(uris.map((u) => ({ type: 'url' as const, value: u }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  const out: Svid = { spiffeId, cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  writePrivate(out.key, await exportKey(keys.privateKey));
  writePublic(out.cert, cert.toString('pem') + '\n');
  return out;
}

export function readTrustDomain(dir: string): string {
  const file = path.join(dir, 'trust-domain');
  if (!fs.existsSync(file)) throw new VigilError('BAD_ARGUMENT', `${dir} holds no trust domain (run vigil certs init --dir ${dir})`);
  return fs.readFileSync(file, 'utf8').trim();
}
