// controlplane/reach/vex.ts, dsse.ts, openvex.ts and the vex/sbom commands against a real control plane:
// statuses from the evidence (under_investigation -> not_affected after the window -> affected on load, with
// the revocation recorded), raise-only, versions that move only on a change, every document checked against
// the OpenVEX 0.2.0 JSON schema and field rules, DSSE signatures verified offline and refused when tampered.
import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import Ajv2020 from 'ajv/dist/2020';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../../common/repo';
import { vigilProto } from '../../../common/proto/load';
import type { AgentServiceClient } from '../../../common/proto/generated/vigil/v1/AgentService';
import type { ControlMessage__Output } from '../../../common/proto/generated/vigil/v1/ControlMessage';
import { verifyVex } from '../../../cli/vex';
import { startControlPlane, type RunningControlPlane } from '../../../controlplane/controlplane';
import { INTOTO_PAYLOAD_TYPE, intotoStatement, signEnvelope, verifyEnvelope, type DsseEnvelope } from '../../../controlplane/reach/dsse';
import { checkOpenVex, OPENVEX_PREDICATE, type VexDocument } from '../../../controlplane/reach/openvex';
import type { ComponentIn, WatchIn } from '../../../controlplane/reach/store';
import { VexIssuer } from '../../../controlplane/reach/vex';
import { Store } from '../../../controlplane/store';
import { runVigil, type Ran } from '../../helpers/cli';

const D = `sha256:${'c'.repeat(64)}`;
const IMAGE = `registry.example/app@${D}`;
const S = (n: number): string => String(BigInt(n) * 1_000_000_000n);
const schema = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'reach', 'openvex_json_schema_0.2.0.json'), 'utf8')) as object;
const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(schema);

/** Every emitted document: the JSON schema and the field rules. */
function conforms(doc: unknown): void {
  assert.ok(validate(doc), JSON.stringify(validate.errors));
  assert.deepEqual(checkOpenVex(doc), []);
}

const components = (): ComponentIn[] => [
  { ref: 'ssl', name: 'libssl3', version: '3.0.11', purl: 'pkg:deb/debian/libssl3@3.0.11?arch=amd64', type: 'library', files: [{ path: '/usr/lib/libssl.so.3', source: 'syft-location' }] },
  { ref: 'curl', name: 'curl', version: '7.88.1', purl: 'pkg:deb/debian/curl@7.88.1?arch=amd64', type: 'library', files: [{ path: '/usr/bin/curl', source: 'syft-location' }] },
  { ref: 'zz', name: 'nofiles', version: '1', purl: 'pkg:deb/debian/nofiles@1', type: 'library', files: [] },
];
const findings = [
  { id: 'CVE-2024-0001', aliases: ['GHSA-aaaa-bbbb-cccc'], description: 'ssl bug', severity: 'High', purl: 'pkg:deb/debian/libssl3@3.0.11', name: 'libssl3', version: '3.0.11' },
  { id: 'CVE-2024-0002', aliases: [], description: '', severity: 'Low', purl: 'pkg:deb/debian/curl@7.88.1?arch=amd64&distro=debian-12', name: 'curl', version: '7.88.1' },
  { id: 'CVE-2024-0003', aliases: [], description: '', severity: 'Low', purl: 'pkg:deb/debian/nofiles@1', name: 'nofiles', version: '1' },
  { id: 'CVE-2024-0004', aliases: [], description: '', severity: 'Low', purl: 'pkg:npm/left-pad@1.0.0', name: 'left-pad', version: '1.0.0' },
];
const watch = (since: number, until: number, loads: WatchIn['loads'] = []): WatchIn => ({ container: 'c1', workload: 'spiffe://td/ns/a/sa/app', since_ns: S(since), until_ns: S(until), lost: 0, lost_at_ns: '0', loads });

describe('VEX from runtime evidence', () => {
  let dir: string;
  let store: Store;
  let vex: VexIssuer;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-vex-'));
    store = new Store(path.join(dir, 'vigil.db'));
    vex = new VexIssuer(store.db, store.reach, (fn) => store.audited(fn), 'spiffe://td/vigil/controlplane');
    store.reach.putSbom({ digest: D, name: 'registry.example/app', origin: 'import', format: 'cyclonedx-1.6', sha256: 'f'.repeat(64), by: 'admin', components: components() });
    vex.importFindings(D, 'grype', 'e'.repeat(64), 'admin', findings);
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const status = (d: VexDocument): string[] => d.statements.map((s) => `${s.vulnerability.name} ${s.status}${s.justification ? `/${s.justification}` : ''}`);

  it('under_investigation before the window, not_affected (vulnerable_code_not_in_execute_path) after, affected once loaded; raise-only', () => {
    store.reach.recordReport({ node: 'n1', run: 'r1', digest: D, name: 'registry.example/app', aliases: null, watches: [watch(100, 105, [{ path: '/usr/lib/libssl.so.3', first_ns: S(101), how: 'mmap', processes: 1 }])] });
    const v1 = vex.issue(D, 60_000, S(106));
    conforms(v1.document);
    assert.deepEqual(status(v1.document), ['CVE-2024-0001 affected', 'CVE-2024-0002 under_investigation', 'CVE-2024-0003 under_investigation', 'CVE-2024-0004 under_investigation']);
    assert.equal(v1.version, 1);
    const [ssl, curl, nofiles, leftpad] = v1.document.statements;
    assert.match(ssl.action_statement ?? '', /1 process .* in 1 container on 1 node loaded 1 of its files, first seen .*: \/usr\/lib\/libssl\.so\.3 \(mmap/);
    assert.equal(ssl.products[0]['@id'], 'pkg:oci/app@sha256:' + 'c'.repeat(64) + '?repository_url=registry.example%2Fapp');
    assert.equal(ssl.products[0].subcomponents?.[0]['@id'], 'pkg:deb/debian/libssl3@3.0.11?arch=amd64');
    assert.deepEqual(ssl.vulnerability, { name: 'CVE-2024-0001', aliases: ['GHSA-aaaa-bbbb-cccc'], description: 'ssl bug' });
    assert.match(curl.status_notes ?? '', /\(5s, watched on 1 node \(n1\) in 1 container\), shorter than the 1m required/);
    assert.match(nofiles.status_notes ?? '', /files of this component are not known/);
    assert.match(leftpad.status_notes ?? '', /not among this image's components/);

    // same verdicts: the same version comes back
    const again = vex.issue(D, 60_000, S(107));
    assert.deepEqual([again.version, again.issued], [1, false]);

    // a minute of gap-free watching later: not_affected, with the evidence
    store.reach.recordReport({ node: 'n1', run: 'r1', digest: D, name: '', aliases: null, watches: [watch(100, 200)] });
    const v2 = vex.issue(D, 60_000, S(201));
    conforms(v2.document);
    assert.deepEqual([v2.version, v2.issued], [2, true]);
    const curl2 = v2.document.statements[1];
    assert.equal(curl2.status, 'not_affected');
    assert.equal(curl2.justification, 'vulnerable_code_not_in_execute_path');
    assert.match(curl2.impact_statement ?? '', /from .* to .* \(1m 40s, at least the 1m required\), watched on 1 node \(n1\) in 1 container, without a gap/);
    assert.ok(Date.parse(v2.document.timestamp) > Date.parse(v1.document.timestamp));

    // curl runs: the report revokes the not_affected at once, in a new version
    store.reach.recordReport({ node: 'n2', run: 'r7', digest: D, name: '', aliases: null, watches: [{ ...watch(150, 260, [{ path: '/usr/bin/curl', first_ns: S(250), how: 'exec', processes: 1 }]), container: 'c9' }] });
    const rv = vex.onLoads(D, S(261));
    assert.ok(rv);
    conforms(rv.document);
    assert.deepEqual([rv.version, status(rv.document)[1]], [3, 'CVE-2024-0002 affected']);
    assert.deepEqual(
      vex.revocations(D).map((r) => [r.vulnerability, r.component, r.not_affected_version, r.revoked_version, r.loaded_path, r.loaded_ns]),
      [['CVE-2024-0002', 'pkg:deb/debian/curl@7.88.1?arch=amd64', 2, 3, '/usr/bin/curl', S(250)]],
    );

    // raise-only: an SBOM that no longer maps the loaded file cannot bring not_affected back
    store.reach.putSbom({
      digest: D,
      name: '',
      origin: 'import',
      format: 'cyclonedx-1.6',
      sha256: 'd'.repeat(64),
      by: 'admin',
      components: components().map((c) => (c.name === 'curl' ? { ...c, files: [{ path: '/usr/bin/curl-other', source: 'syft-location' as const }] } : c)),
    });
    const v4 = vex.issue(D, 60_000, S(300));
    assert.deepEqual([v4.version, v4.issued, status(v4.document)[1]], [3, false, 'CVE-2024-0002 affected']);
    const curl4 = vex.statements(D, 60_000, S(300))[1];
    assert.equal(curl4.status, 'affected');
    assert.match(curl4.action_statement ?? '', /recorded in version 3 of this document/);
    // every version is in the audit log, with the document's hash
    const audited = [...store.auditEntries()].filter((e) => e.kind === 'vex').map((e) => (e.data as { version: number }).version);
    assert.deepEqual(audited, [1, 2, 3]);
    assert.equal(store.verifyAudit().intact, true);
  });

  it('a gap in observation keeps under_investigation until a whole window has passed after it', () => {
    store.reach.recordReport({ node: 'n1', run: 'r1', digest: D, name: '', aliases: null, watches: [watch(100, 200)] });
    // the agent restarted without taking over: c1 was unwatched from 200 to 230
    store.reach.recordReport({ node: 'n1', run: 'r2', digest: D, name: '', aliases: null, watches: [watch(230, 260)] });
    const d = vex.issue(D, 60_000, S(261)).document;
    conforms(d);
    assert.equal(d.statements[1].status, 'under_investigation');
    assert.match(d.statements[1].status_notes ?? '', /\(30s, .*restarted after 1 gap in observation \(latest: agent down on n1\)/);
  });
});

describe('DSSE envelopes', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const doc = { '@context': 'https://openvex.dev/ns/v0.2.0', '@id': 'urn:x', author: 'a', timestamp: '2026-01-01T00:00:00Z', version: 1, statements: [] };
  const envelope = (): DsseEnvelope => signEnvelope(Buffer.from(JSON.stringify(intotoStatement('registry.example/app', D, OPENVEX_PREDICATE, doc))), INTOTO_PAYLOAD_TYPE, privateKey);

  it('verifies with the public key; refuses another key, a changed payload, another payload type, a stripped signature', () => {
    const e = envelope();
    assert.equal(JSON.parse(verifyEnvelope(e, publicKey).toString()).predicateType, 'https://openvex.dev/ns');
    assert.throws(() => verifyEnvelope(e, other.publicKey), /no signature by this key/);
    assert.throws(() => verifyEnvelope({ ...e, signatures: [{ keyid: '', sig: e.signatures[0].sig }] }, other.publicKey), /does not verify with this key/);
    const changed = JSON.parse(Buffer.from(e.payload, 'base64').toString()) as { predicate: { version: number } };
    changed.predicate.version = 99;
    assert.throws(() => verifyEnvelope({ ...e, payload: Buffer.from(JSON.stringify(changed)).toString('base64') }, publicKey), /does not verify/);
    // the signature covers the type too (PAE): relabelling the payload breaks it
    assert.throws(() => verifyEnvelope({ ...e, payloadType: 'application/json' }, publicKey), /payloadType is "application\/json"/);
    assert.throws(() => verifyEnvelope({ ...e, signatures: [] }, publicKey), /no signature by this key/);
    assert.throws(() => verifyEnvelope({ payload: 'x' }, publicKey), /not a DSSE envelope/);
  });

  it('vigil vex verify: the subject, the predicate type and the field rules are checked too', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dsse-'));
    try {
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const f = path.join(d, 'env.json');
      fs.writeFileSync(f, JSON.stringify(envelope()));
      const ok = await verifyVex(f, pem, IMAGE);
      assert.deepEqual([ok.digest, ok.subject, ok.version], [D, 'registry.example/app', 1]);
      await assert.rejects(verifyVex(f, pem, `sha256:${'d'.repeat(64)}`), /signed for sha256:c+, not for sha256:d+/);
      const signed = (statement: unknown): void =>
        fs.writeFileSync(f, JSON.stringify(signEnvelope(Buffer.from(JSON.stringify(statement)), INTOTO_PAYLOAD_TYPE, privateKey)));
      signed(intotoStatement('x', D, 'https://slsa.dev/provenance/v1', doc));
      await assert.rejects(verifyVex(f, pem), /predicateType "https:\/\/slsa\.dev\/provenance\/v1" is not https:\/\/openvex\.dev\/ns/);
      signed(intotoStatement('x', D, OPENVEX_PREDICATE, { ...doc, statements: [{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:oci/x' }], status: 'not_affected' }] }));
      await assert.rejects(verifyVex(f, pem), /breaks the 0\.2\.0 field rules: statements\[0\]: not_affected needs a justification or an impact_statement/);
      fs.writeFileSync(f, '{nope');
      await assert.rejects(verifyVex(f, pem), /cannot be read as JSON/);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('the field-rule check itself finds what the spec forbids', () => {
    assert.deepEqual(checkOpenVex({}).slice(0, 3), ['@context: required, missing', '@id: required, missing', 'author: required, missing']);
    const bad = {
      ...doc,
      version: 0,
      statements: [
        { vulnerability: {}, products: [], status: 'maybe', justification: 'trust_me' },
        { vulnerability: { name: 'CVE-2' }, products: [{ '@id': 'has space' }], status: 'affected' },
      ],
    };
    assert.deepEqual(checkOpenVex(bad), [
      'version: must be an integer from 1',
      'statements[0].vulnerability.name: required, missing',
      'statements[0].products: required here (no encapsulating document gives one)',
      'statements[0].status: "maybe" is not a status of the spec',
      'statements[0].justification: "trust_me" is not a justification label of the spec',
      'statements[0].justification: only a not_affected statement carries a justification',
      'statements[1].products[0].@id: must be an IRI',
      'statements[1]: affected needs an action_statement',
    ]);
  });
});

describe('vigil sbom and vigil vex against a control plane, reports over the agent stream', function () {
  this.timeout(30000);
  let dir: string;
  let cp: RunningControlPlane;
  let agentClient: AgentServiceClient;

  const vigil = (...argv: string[]): Promise<Ran> => runVigil(...argv, '--controlplane', `127.0.0.1:${cp.port}`, '--insecure');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-vexcli-'));
    cp = await startControlPlane({ listen: '127.0.0.1:0', dataDir: path.join(dir, 'cp'), insecure: true, log: () => undefined });
    agentClient = new (vigilProto().AgentService)(`127.0.0.1:${cp.port}`, grpc.credentials.createInsecure()) as unknown as AgentServiceClient;
  });
  after(async () => {
    agentClient?.close();
    await cp?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('imports a syft SBOM, takes a report, answers with a signed document that verifies offline', async () => {
    const fx = (n: string): string => path.join(repoRoot(), 'test', 'fixtures', 'reach', n);
    const img = `registry.example/app@sha256:${'1'.repeat(64)}`;
    const imp = await vigil('sbom', 'import', fx('syft-cyclonedx-1.6.json'), '--image', img);
    assert.equal(imp.code, 0, imp.err);
    assert.match(imp.out, /cyclonedx-1\.6 SBOM stored for sha256:1{64}: 4 components, 4 files .*; 1 entries ignored:\n {2}components\[2\]\.components\[0\]/s);
    const noDigest = await vigil('sbom', 'import', fx('syft-cyclonedx-1.6.json'), '--image', 'registry.example/app:latest');
    assert.equal(noDigest.code, 4);
    assert.match(noDigest.err, /has no digest: name the image by digest/);
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'library', name: 7 }] }));
    const bad = await vigil('sbom', 'import', broken, '--image', img);
    assert.equal(bad.code, 2);
    assert.equal(bad.err, `vigil sbom import: ${broken}: components[0].name: expected a string, got number\n`);

    // a node reports python running: over the agent stream, acknowledged
    const call = agentClient.Connect();
    const acks: ControlMessage__Output[] = [];
    call.on('data', (m: ControlMessage__Output) => m.msg === 'reach_ack' && acks.push(m));
    call.on('error', () => undefined);
    call.write({ hello: { node: 'n1', boot_id: 'b', version: 't' } });
    const now = BigInt(Date.now()) * 1_000_000n;
    call.write({
      reach: {
        id: 1,
        run: 'run-1',
        digest: `sha256:${'1'.repeat(64)}`,
        name: 'registry.example/app',
        watches: [{ container: 'c1', workload: 'w', since_unix_nano: String(now - 5_000_000_000n), until_unix_nano: String(now), loads: [{ path: '/usr/bin/python3.11', first_unix_nano: String(now - 1_000_000_000n), how: 'exec', processes: 1 }] }],
      },
    });
    call.write({ reach: { id: 2, run: 'run-1', digest: 'sha256:nope', watches: [] } });
    const deadline = Date.now() + 5000;
    while (acks.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    call.end();
    assert.deepEqual(
      acks.map((a) => [Number(a.reach_ack?.id), a.reach_ack?.error]),
      [
        [1, ''],
        [2, 'reach report from n1: digest: "sha256:nope" is not sha256: and 64 hex digits'],
      ],
    );

    const vulns = path.join(dir, 'grype.json');
    fs.writeFileSync(
      vulns,
      JSON.stringify({
        matches: [
          { vulnerability: { id: 'CVE-2025-1000' }, artifact: { name: 'python', version: '3.11.2', purl: 'pkg:generic/python@3.11.2' } },
          { vulnerability: { id: 'CVE-2025-2000' }, artifact: { name: 'PyYAML', version: '6.0.1', purl: 'pkg:pypi/pyyaml@6.0.1' } },
        ],
      }),
    );
    const out = await vigil('vex', '--image', img, '--vulns', vulns, '--min-window', '1h', '--output', 'dsse');
    assert.equal(out.code, 0, out.err);
    assert.match(out.err, /2 findings of .* stored for sha256:1{64}\nvigil vex: document version 1 \(new\); signing key [0-9a-f]{64}\n/);
    const env = JSON.parse(out.out) as DsseEnvelope;
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { subject: { name: string }[]; predicate: VexDocument };
    conforms(statement.predicate);
    assert.deepEqual(
      statement.predicate.statements.map((s) => [s.vulnerability.name, s.status]),
      [
        ['CVE-2025-1000', 'affected'],
        ['CVE-2025-2000', 'under_investigation'],
      ],
    );
    const f = path.join(dir, 'vex.dsse.json');
    fs.writeFileSync(f, out.out);
    const pub = path.join(dir, 'cp', 'vex-signing.pub');
    const ver = await runVigil('vex', 'verify', f, '--public-key', pub, '--image', img);
    assert.equal(ver.code, 0);
    // the key is the control plane's, kept in its data directory (0600), the same after a restart
    assert.equal(fs.statSync(path.join(dir, 'cp', 'vex-signing.key')).mode & 0o777, 0o600);
    const show = await vigil('sbom', 'show', '--image', img);
    assert.equal(show.code, 0, show.err);
    const bom = JSON.parse(show.out) as { specVersion: string; components: { name: string; evidence?: { occurrences: { location: string }[] } }[] };
    assert.equal(bom.specVersion, '1.6');
    assert.deepEqual(bom.components.find((c) => c.name === 'python')?.evidence?.occurrences.map((o) => o.location), ['/usr/bin/python3.11', '/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0']);
    const none = await vigil('sbom', 'show', '--image', `sha256:${'9'.repeat(64)}`);
    assert.equal(none.code, 4);
    assert.match(none.err, /no SBOM for sha256:9{64}/);
  });
});
