// `vigil vex --image REF [--vulns FILE] [--min-window D] [--output json|dsse]`:
// the OpenVEX document of an image from its runtime evidence (docs/vex.md);
// `vigil vex --changes`: not_affected statements later revoked by a load;
// `vigil vex verify FILE`: check a DSSE envelope offline with the control
// plane's public key (the one cosign verify-blob-attestation --key takes).
import type { Command } from 'commander';
import { Option } from 'commander';
import { createPublicKey } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, VigilError } from '../common/errors';
import { printable } from '../common/escape';
import { rfc3339Nanos } from '../common/time';
import type { ImportVulnsResponse__Output } from '../common/proto/generated/vigil/v1/ImportVulnsResponse';
import type { VexChangesResponse__Output } from '../common/proto/generated/vigil/v1/VexChangesResponse';
import type { VexResponse__Output } from '../common/proto/generated/vigil/v1/VexResponse';
import { adminLink, linkOptions, queryClient, unary, type AdminLink, type LinkValues } from './admin';
import { durationMs, jsonFileArgument, need, vigilCommand, type CliIo } from './args';
import { DEFAULT_DATA_DIR, readLocal } from './local';

/** 7 days: long enough for weekly jobs and most rare paths to have run once (docs/vex.md) */
export const DEFAULT_MIN_WINDOW_MS = 7 * 86400_000;

export async function importVulns(l: AdminLink, file: string, image: string): Promise<ImportVulnsResponse__Output> {
  const parsed = await jsonFileArgument(file, (await import('../controlplane/reach/parse/vulns')).parseVulns);
  const c = queryClient(l);
  try {
    return await unary<ImportVulnsResponse__Output>(l.address, (o, cb) => c.ImportVulns({ image, format: parsed.format, sha256: parsed.sha256, findings: parsed.findings }, o, cb));
  } finally {
    c.close();
  }
}

export async function vexDocument(l: AdminLink, image: string, minWindowMs: number, dsse: boolean): Promise<VexResponse__Output> {
  const c = queryClient(l);
  try {
    return await unary<VexResponse__Output>(l.address, (o, cb) => c.Vex({ image, min_window_ms: minWindowMs, dsse }, o, cb));
  } finally {
    c.close();
  }
}

export async function vexChanges(l: AdminLink, image: string | undefined): Promise<VexChangesResponse__Output> {
  const c = queryClient(l);
  try {
    return await unary<VexChangesResponse__Output>(l.address, (o, cb) => c.VexChanges({ image: image ?? '' }, o, cb));
  } finally {
    c.close();
  }
}

export interface VerifiedVex {
  subject: string;
  digest: string;
  version: number;
  author: string;
  counts: Record<string, number>;
}

/**
 * Check a DSSE envelope offline: signature with the public key, the in-toto
 * statement (v1 or v0.1) and its predicate type, the subject (the image
 * asked for, when given), and the OpenVEX 0.2.0 field rules of the document.
 */
export async function verifyVex(file: string, publicKeyPem: string, image?: string): Promise<VerifiedVex> {
  const { verifyEnvelope } = await import('../controlplane/reach/dsse');
  const { checkOpenVex, OPENVEX_PREDICATE } = await import('../controlplane/reach/openvex');
  const { parseImageRef } = await import('../common/image-ref');
  const fail = (m: string): never => {
    throw new VigilError('BAD_ARGUMENT', `${file}: ${m}`);
  };
  let env: unknown;
  try {
    const st = fs.statSync(file);
    if (st.size > 64 << 20) fail(`${st.size} bytes: more than a VEX envelope should be (64 MiB)`);
    env = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err instanceof VigilError) throw err;
    return fail(`cannot be read as JSON: ${errorMessage(err)}`);
  }
  let pub;
  try {
    pub = createPublicKey(publicKeyPem);
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `the public key: ${errorMessage(err)}`);
  }
  let payload: Buffer;
  try {
    payload = verifyEnvelope(env, pub);
  } catch (err) {
    return fail(errorMessage(err));
  }
  let st: { _type?: unknown; subject?: unknown; predicateType?: unknown; predicate?: unknown };
  try {
    st = JSON.parse(payload.toString('utf8')) as typeof st;
  } catch {
    return fail('the signed payload is not JSON');
  }
  if (st._type !== 'https://in-toto.io/Statement/v1' && st._type !== 'https://in-toto.io/Statement/v0.1') fail(`_type ${JSON.stringify(st._type)} is not an in-toto statement`);
  if (st.predicateType !== OPENVEX_PREDICATE) fail(`predicateType ${JSON.stringify(st.predicateType)} is not ${OPENVEX_PREDICATE}`);
  const subjects = Array.isArray(st.subject) ? (st.subject as { name?: unknown; digest?: { sha256?: unknown } }[]) : [];
  const s0 = subjects[0];
  if (!s0 || typeof s0.digest?.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s0.digest.sha256)) return fail('the statement names no subject with a sha256 digest');
  const digest = `sha256:${s0.digest.sha256}`;
  if (image) {
    const want = parseImageRef(image);
    if ('error' in want || !want.digest) throw new VigilError('BAD_ARGUMENT', `--image: "${image}" is not name@sha256:... or sha256:...`);
    if (!subjects.some((x) => `sha256:${String(x.digest?.sha256)}` === want.digest)) fail(`signed for ${digest}, not for ${want.digest}`);
  }
  const problems = checkOpenVex(st.predicate);
  if (problems.length) fail(`the OpenVEX document breaks the 0.2.0 field rules: ${problems.slice(0, 5).join('; ')}`);
  const doc = st.predicate as { version: number; author: string; statements: { status: string }[] };
  const counts: Record<string, number> = {};
  for (const x of doc.statements) counts[x.status] = (counts[x.status] ?? 0) + 1;
  return { subject: String(s0.name ?? ''), digest, version: doc.version, author: doc.author, counts };
}

interface VexValues extends LinkValues {
  image?: string;
  vulns?: string;
  minWindow?: number;
  output?: 'json' | 'dsse';
  changes?: boolean;
}

interface VerifyValues {
  publicKey?: string;
  image?: string;
  data: string;
}

export function vexCommand(io?: CliIo): Command {
  const verify = vigilCommand('verify', "check a signed VEX document (DSSE envelope) offline with the control plane's public key")
    .argument('<file>', 'the envelope (vigil vex --output dsse)')
    .addOption(new Option('--public-key <file>', "the control plane's VEX public key, PEM (default: DATA/vex-signing.pub of the control plane vigil up runs here)"))
    .addOption(new Option('--image <ref>', 'also check that it was signed for this image (name@sha256:... or sha256:...)'))
    .addOption(new Option('--data <dir>', "vigil up's data directory").default(DEFAULT_DATA_DIR));
  const vex = linkOptions(
    vigilCommand('vex', "an image's OpenVEX 0.2.0 document from what its processes loaded (docs/vex.md)")
      .addOption(new Option('--image <ref>', 'the image, by digest: name@sha256:... or sha256:...'))
      .addOption(new Option('--vulns <file>', 'scanner findings: grype JSON, trivy JSON, or CycloneDX with vulnerabilities (replaces those given before)'))
      .addOption(new Option('--min-window <d>', 'the gap-free observation that supports not_affected (7d, 12h, 30m, 10s)').argParser(durationMs('--min-window')))
      .addOption(new Option('--output <format>', 'json: the document; dsse: an in-toto statement in a DSSE envelope signed by the control plane').choices(['json', 'dsse']).default('json'))
      .addOption(new Option('--changes', 'list not_affected statements that a later load revoked (all images, or --image)')),
  ).addCommand(verify);
  if (io) {
    vex.action(async (v: VexValues) => {
      const l = adminLink(v, 'vigil vex');
      if (v.changes) {
        const r = await vexChanges(l, v.image);
        if (v.output === 'dsse') throw new VigilError('BAD_ARGUMENT', 'vigil vex: --changes lists revocations: --output dsse does not apply');
        for (const x of r.revocations) {
          io.out.write(
            printable(
              `${rfc3339Nanos(BigInt(x.revoked_unix_nano))} ${x.digest} ${x.vulnerability} ${x.component}: not_affected in version ${x.not_affected_version}, ` +
                `affected from version ${x.revoked_version}: ${x.loaded_path || '(a file of it)'} loaded ${x.loaded_unix_nano !== '0' ? rfc3339Nanos(BigInt(x.loaded_unix_nano)) : ''}`,
            ) + '\n',
          );
        }
        if (r.revocations.length === 0) io.err.write('vigil vex: no revocations\n');
        io.exit(0);
        return;
      }
      const image = need(v.image, '--image', vex);
      if (v.vulns) {
        const r = await importVulns(l, v.vulns, image);
        io.err.write(`vigil vex: ${r.findings} findings of ${v.vulns} stored for ${r.digest}\n`);
      }
      const r = await vexDocument(l, image, v.minWindow ?? DEFAULT_MIN_WINDOW_MS, v.output === 'dsse');
      io.out.write((v.output === 'dsse' ? r.envelope : r.document) + '\n');
      io.err.write(`vigil vex: document version ${r.version}${r.issued ? ' (new)' : ' (unchanged since issued)'}; signing key ${r.key_id}\n`);
      io.exit(0);
    });
    verify.action(async (file: string, v: VerifyValues) => {
      const keyFile = v.publicKey ?? path.join(readLocal(v.data, 'vigil vex verify').data, 'vex-signing.pub');
      let pem: string;
      try {
        pem = fs.readFileSync(keyFile, 'utf8');
      } catch (err) {
        throw new VigilError('BAD_ARGUMENT', `vigil vex verify: the public key ${keyFile}: ${errorMessage(err)}`);
      }
      try {
        const r = await verifyVex(file, pem, v.image);
        const counts = Object.entries(r.counts)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ');
        io.out.write(printable(`verified: OpenVEX version ${r.version} for ${r.subject} (${r.digest}) by ${r.author}: ${counts || 'no statements'}`) + '\n');
        io.exit(0);
      } catch (err) {
        io.err.write(`vigil vex verify: NOT VERIFIED: ${errorMessage(err)}\n`);
        io.exit(1);
      }
    });
  }
  return vex;
}
