// Zero trust between agents, admins and the control plane: real servers on
// 127.0.0.1:0, real certificates, every way an SVID can be wrong.
import * as grpc from '@grpc/grpc-js';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { initTrustDomain, issueSvid, trustDomainFiles } from '../../common/spiffe/local-ca';
import { checkSvid } from '../../common/spiffe/svid';
import type { QueryServiceClient } from '../../common/proto/generated/vigil/v1/QueryService';
import { vigilProto } from '../../common/proto/load';
import { listAgents as listAgentsCli, pushPolicy, type AdminLink } from '../../cli/admin';
import { startControlPlane } from '../../controlplane/controlplane';
import { ControlPlane } from '../../controlplane/server';
import { until } from '../helpers/wait';
import { Store } from '../../controlplane/store';

const TD = 'test.vigil';

function queryClient(port: number, bundle: string, cert?: string, key?: string, serverId = `spiffe://${TD}/vigil/controlplane`): QueryServiceClient {
  const creds = grpc.credentials.createSsl(
    fs.readFileSync(bundle),
    key ? fs.readFileSync(key) : null,
    cert ? fs.readFileSync(cert) : null,
    {
      checkServerIdentity: (_h, c) => {
        const r = checkSvid(c.raw, TD);
        return r.ok && r.id?.toString() === serverId ? undefined : new Error(`server is not ${serverId}: ${r.reason ?? r.id?.toString()}`);
      },
    },
  );
  return new (vigilProto().QueryService)(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': 'vigil-controlplane' }) as unknown as QueryServiceClient;
}

function listAgents(c: QueryServiceClient): Promise<{ ok: boolean; code?: number; details?: string }> {
  return new Promise((resolve) => {
    c.ListAgents({}, { deadline: Date.now() + 5000 }, (err) => {
      c.close();
      resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true });
    });
  });
}

describe('mTLS with X.509-SVIDs', function () {
  this.timeout(30000);
  let dir: string;
  let other: string;
  let cp: ControlPlane;
  let store: Store;
  let port: number;
  let bundle: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tls-'));
    other = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tls-other-'));
    const td = await initTrustDomain(dir, TD);
    bundle = td.bundle;
    await initTrustDomain(other, 'other.example');
    const server = await issueSvid(dir, `spiffe://${TD}/vigil/controlplane`, 'controlplane');
    await issueSvid(dir, `spiffe://${TD}/vigil/admin/alice`, 'admin');
    await issueSvid(dir, `spiffe://${TD}/vigil/agent/node-1`, 'agent');
    await issueSvid(dir, `spiffe://${TD}/vigil/admin/bob`, 'ca-leaf', { ca: true });
    await issueSvid(dir, `spiffe://${TD}/vigil/admin/carol`, 'two-sans', { extraUris: [`spiffe://${TD}/vigil/admin/dave`] });
    await issueSvid(dir, `spiffe://${TD}/vigil/admin/erin`, 'expired', {
      notBefore: new Date(Date.now() - 10 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    // signed by another trust domain's CA
    const o = trustDomainFiles(other);
    await issueSvid(dir, `spiffe://${TD}/vigil/admin/mallory`, 'unknown-ca', { signer: { cert: o.caCert, key: o.caKey } });
    await issueSvid(other, 'spiffe://other.example/vigil/admin/alice', 'other-admin');
    store = new Store(path.join(dir, 'cp.db'));
    cp = new ControlPlane({
      store,
      tls: { bundle, cert: server.cert, key: server.key, trustDomain: TD },
      agentIds: [`spiffe://${TD}/vigil/agent/*`],
      adminIds: [`spiffe://${TD}/vigil/admin/*`],
      policyKey: null,
    });
    port = await cp.listen('127.0.0.1:0');
  });

  after(async () => {
    if (cp) await cp.close();
    if (store) store.close();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(other, { recursive: true, force: true });
  });

  const f = (n: string) => ({ cert: path.join(dir, `${n}.pem`), key: path.join(dir, `${n}.key`) });

  it('accepts an admin SVID of the trust domain', async () => {
    assert.deepEqual(await listAgents(queryClient(port, bundle, f('admin').cert, f('admin').key)), { ok: true });
  });

  it('refuses a client with no certificate', async () => {
    const r = await listAgents(queryClient(port, bundle));
    assert.equal(r.ok, false);
    assert.equal(r.code, grpc.status.UNAVAILABLE, `the TLS handshake fails: ${r.details}`);
  });

  it('refuses an agent SVID on the query API (authorized by SPIFFE ID, not just by the CA)', async () => {
    const r = await listAgents(queryClient(port, bundle, f('agent').cert, f('agent').key));
    assert.equal(r.code, grpc.status.PERMISSION_DENIED);
    assert.match(r.details ?? '', /spiffe:\/\/test\.vigil\/vigil\/agent\/node-1 is not allowed here/);
  });

  it('refuses a CA certificate used as a leaf', async () => {
    const r = await listAgents(queryClient(port, bundle, f('ca-leaf').cert, f('ca-leaf').key));
    assert.equal(r.code, grpc.status.UNAUTHENTICATED);
    assert.match(r.details ?? '', /a CA certificate cannot be a leaf SVID/);
  });

  it('refuses an SVID with two URI SANs', async () => {
    const r = await listAgents(queryClient(port, bundle, f('two-sans').cert, f('two-sans').key));
    assert.equal(r.code, grpc.status.UNAUTHENTICATED);
    assert.match(r.details ?? '', /2 URI SANs .*: an X\.509-SVID has exactly one/);
  });

  it('refuses an expired SVID', async () => {
    const r = await listAgents(queryClient(port, bundle, f('expired').cert, f('expired').key));
    assert.equal(r.ok, false);
    assert.equal(r.code, grpc.status.UNAVAILABLE, 'the handshake fails on the validity period');
  });

  it('refuses an SVID from an unknown CA, and one from another trust domain', async () => {
    const unknown = await listAgents(queryClient(port, bundle, f('unknown-ca').cert, f('unknown-ca').key));
    assert.equal(unknown.code, grpc.status.UNAVAILABLE);
    // trusted chain (both bundles), wrong trust domain: refused by the ID check
    const both = path.join(dir, 'both.pem');
    fs.writeFileSync(both, fs.readFileSync(bundle, 'utf8') + fs.readFileSync(trustDomainFiles(other).bundle, 'utf8'));
    const wrongTd = await listAgents(queryClient(port, both, path.join(other, 'other-admin.pem'), path.join(other, 'other-admin.key')));
    assert.equal(wrongTd.ok, false);
  });

  it('the client refuses a server that is not the control plane\'s SPIFFE ID', async () => {
    const r = await listAgents(queryClient(port, bundle, f('admin').cert, f('admin').key, `spiffe://${TD}/vigil/something-else`));
    assert.equal(r.code, grpc.status.UNAVAILABLE);
    assert.match(r.details ?? '', /server is not spiffe:\/\/test\.vigil\/vigil\/something-else/);
  });

  it('checkSvid names what is wrong', () => {
    const der = (n: string) => {
      const pem = fs.readFileSync(path.join(dir, `${n}.pem`), 'utf8');
      return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
    };
    assert.deepEqual(checkSvid(der('admin'), TD).ok, true);
    assert.match(checkSvid(der('admin'), 'elsewhere.org').reason ?? '', /trust domain "test\.vigil" is not "elsewhere\.org"/);
    assert.match(checkSvid(der('ca-leaf'), TD).reason ?? '', /CA certificate/);
  });

  it('re-reads its certificate when it rotates on disk', async function () {
    this.timeout(20000);
    /** the serial number of the certificate the server presents now (an admin's TLS connection, no gRPC) */
    const presented = (): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({
          host: '127.0.0.1',
          port,
          ca: fs.readFileSync(bundle),
          cert: fs.readFileSync(f('admin').cert),
          key: fs.readFileSync(f('admin').key),
          ALPNProtocols: ['h2'],
          servername: 'vigil-controlplane',
          checkServerIdentity: () => undefined,
        });
        s.on('secureConnect', () => {
          const serial = s.getPeerCertificate().serialNumber;
          s.end();
          resolve(serial);
        });
        s.on('error', reject);
      });
    const before = await presented();
    await issueSvid(dir, `spiffe://${TD}/vigil/controlplane`, 'controlplane');
    let after = before;
    for (let i = 0; i < 40 && after === before; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = await presented();
    }
    assert.notEqual(after, before, 'the server presents the new certificate without a restart');
  });
});

describe('one bundle per trust domain', function () {
  this.timeout(30000);
  let dir: string;
  let other: string;
  const closers: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('two trust domains\' CAs in one --bundle: a certificate from the other CA naming our admin ID cannot push policy, ours can; a server SVID from it is refused by the client', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bundles-'));
    other = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bundles-other-'));
    await initTrustDomain(dir, TD);
    await initTrustDomain(other, 'other.example');
    const o = trustDomainFiles(other);
    await issueSvid(dir, `spiffe://${TD}/vigil/controlplane`, 'controlplane');
    await issueSvid(dir, `spiffe://${TD}/vigil/admin/alice`, 'admin');
    // the other trust domain's CA mints our admin's name
    await issueSvid(dir, `spiffe://${TD}/vigil/admin/alice`, 'forged-admin', { signer: { cert: o.caCert, key: o.caKey } });
    await issueSvid(dir, `spiffe://${TD}/vigil/controlplane`, 'forged-controlplane', { signer: { cert: o.caCert, key: o.caKey } });
    const both = path.join(dir, 'both.pem');
    fs.writeFileSync(both, fs.readFileSync(path.join(dir, 'bundle.pem'), 'utf8') + fs.readFileSync(o.bundle, 'utf8'));
    const logs: string[] = [];
    const cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'data'), certsDir: dir, bundle: both, insecure: false, log: (l) => logs.push(l) });
    closers.push(() => cp.close());
    assert.ok(logs.some((l) => /both\.pem: 1 CA of another trust domain set aside \(never roots\): .*a CA of other\.example, not of test\.vigil/.test(l)), logs.join('\n'));
    const rules = path.join(dir, 'r.yaml');
    fs.writeFileSync(rules, 'rules:\n  - { name: r, on: exec, match: { binary: { in: [/usr/bin/nc] } } }\n');
    const link = (cert: string): AdminLink => ({ address: `127.0.0.1:${cp.port}`, insecure: false, certsDir: dir, bundle: both, cert: path.join(dir, `${cert}.pem`), key: path.join(dir, `${cert}.key`) });
    await assert.rejects(pushPolicy(link('forged-admin'), [rules]), /cannot be reached/, 'the handshake fails: the other CA is not a root here');
    assert.equal(cp.store.latestPolicy(), undefined, 'nothing was pushed');
    // the refused handshake is seen: logged with where it came from and why, counted
    await until('logged', () => logs.some((l) => /TLS handshake refused from 127\.0\.0\.1:\d+: the client certificate does not verify \(/.test(l)));
    const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> =>
      Number(
        (await cp.metrics.registry.getMetricsAsJSON())
          .find((m) => m.name === name)
          ?.values.find((v) => Object.entries(labels).every(([k, w]) => v.labels[k] === w))?.value ?? 0,
      );
    assert.ok((await metric('vigil_handshakes_refused_total')) >= 1);
    // an agent's SVID on the admin API: refused after TLS, counted and logged with its SPIFFE ID
    await issueSvid(dir, `spiffe://${TD}/vigil/agent/node-7`, 'agent-node-7');
    await assert.rejects(listAgentsCli(link('agent-node-7')), /refused: spiffe:\/\/test\.vigil\/vigil\/agent\/node-7 is not allowed here/);
    assert.equal(await metric('vigil_peers_refused_total', { role: 'admin', reason: 'not_allowed' }), 1);
    assert.equal(await metric('vigil_admin_calls_total', { call: 'ListAgents', result: 'refused' }), 1);
    assert.ok(logs.some((l) => /refused admin call ListAgents from .*: spiffe:\/\/test\.vigil\/vigil\/agent\/node-7 is not allowed here/.test(l)));
    assert.equal((await pushPolicy(link('admin'), [rules])).version, 1, 'our own admin, same bundle file');
    assert.equal(await metric('vigil_admin_calls_total', { call: 'PushPolicy', result: 'ok' }), 1);

    // the client side: a control plane whose SVID the other CA signed
    const store = new Store(path.join(dir, 'forged.db'));
    closers.push(() => store.close());
    const forged = new ControlPlane({
      store,
      tls: { bundle: o.bundle, cert: path.join(dir, 'forged-controlplane.pem'), key: path.join(dir, 'forged-controlplane.key'), trustDomain: 'other.example' },
      agentIds: ['spiffe://other.example/vigil/agent/*'],
      adminIds: [`spiffe://${TD}/vigil/admin/*`],
      policyKey: null,
    });
    const fport = await forged.listen('127.0.0.1:0');
    closers.push(() => forged.close());
    await assert.rejects(listAgentsCli({ ...link('admin'), address: `127.0.0.1:${fport}` }), /cannot be reached/);
  });

  it('a bundle file with no CA of our trust domain is refused at start, naming the file', async () => {
    const only = path.join(dir, 'only-other.pem');
    fs.copyFileSync(trustDomainFiles(other).bundle, only);
    await assert.rejects(
      startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'data2'), certsDir: dir, bundle: only, insecure: false, log: () => undefined }),
      new RegExp(`${only.replace(/[.]/g, '\\.')} holds no CA of trust domain test\\.vigil \\(.*a CA of other\\.example`),
    );
  });
});

