// `vigil audit`: the control plane's audit log, a transparency log.
//   verify      recompute it from a store (read-only; no server needed) and check it
//               against a checkpoint and every row against its entry
//   checkpoint  the current signed checkpoint (from the control plane)
//   prove       an inclusion proof of an alert's entry (from the control plane)
//   check-proof check such a proof offline
//   export      a SOC 2 evidence bundle for a period (from a store, read-only)
import { Option, type Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { VigilError } from '../common/errors';
import { openCheckpoint, readCheckpointUnsigned } from '../common/tlog/checkpoint';
import { auditLogOrigin, loadLogVerifier } from '../common/tlog/keys';
import { hashLeaf, ProofError, verifyInclusion } from '../common/tlog/merkle';
import { parseVerifierKey, type NoteVerifier } from '../common/tlog/note';
import type { GetCheckpointResponse__Output } from '../common/proto/generated/vigil/v1/GetCheckpointResponse';
import type { ProveAlertResponse__Output } from '../common/proto/generated/vigil/v1/ProveAlertResponse';
import { adminLink, linkOptions, queryClient, unary, type LinkValues } from './admin';
import { integer, vigilCommand, type CliIo } from './args';
import { Exit } from './exit-codes';
import { DEFAULT_DATA_DIR, readLocal } from './local';

interface KeyValues {
  logKey?: string;
}

/**
 * --log-key FILE, else the local trust domain's (vigil up on this host), else
 * none. A PEM key carries no name: it is given the log's origin (from the
 * checkpoint at hand, else the local trust domain's).
 */
function logKeyFor(v: KeyValues, origin?: string): NoteVerifier | null {
  if (v.logKey) return loadLogVerifier(v.logKey, origin ?? auditLogOrigin(''));
  try {
    const local = readLocal(DEFAULT_DATA_DIR, 'vigil audit');
    const td = fs.readFileSync(path.join(local.certs, 'trust-domain'), 'utf8').trim();
    for (const name of ['log.pub', 'policy.pub']) {
      const f = path.join(local.certs, name);
      if (fs.existsSync(f)) return loadLogVerifier(f, origin ?? auditLogOrigin(td));
    }
  } catch {
    // no local control plane: the caller says that signatures were not checked
  }
  return null;
}

export interface AuditVerifyArgs extends KeyValues {
  data: string;
  checkpoint?: string;
}

/** `vigil audit verify`: recompute the log from the store, read-only. */
export async function auditVerify(a: AuditVerifyArgs): Promise<{ ok: boolean; text: string }> {
  const { openEvidence, verifyAuditDb, verifyText } = await import('../controlplane/audit-verify');
  let checkpoint: { note: string; from: string } | undefined;
  if (a.checkpoint !== undefined) {
    try {
      checkpoint = { note: fs.readFileSync(a.checkpoint, 'utf8'), from: a.checkpoint };
    } catch (err) {
      throw new VigilError('BAD_ARGUMENT', `--checkpoint ${a.checkpoint}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err)}`);
    }
  }
  const ev = openEvidence(a.data);
  try {
    const key = logKeyFor(a, checkpoint ? readCheckpointUnsigned(checkpoint.note).origin : storedOrigin(ev.db));
    const r = verifyAuditDb(ev.db, { checkpoint, key });
    return { ok: r.intact, text: (ev.note ? `note: ${ev.note}\n` : '') + verifyText(r, a.checkpoint) };
  } finally {
    ev.close();
  }
}

/** The origin the store's latest checkpoint names (what a PEM log key is called), if any. */
function storedOrigin(db: import('better-sqlite3').Database): string | undefined {
  try {
    const note = db.prepare('SELECT note FROM checkpoints ORDER BY id DESC LIMIT 1').pluck().get() as string | undefined;
    return note ? readCheckpointUnsigned(note).origin : undefined;
  } catch {
    return undefined;
  }
}

/** What `vigil audit prove` prints: everything needed to check it offline. */
export interface InclusionProofFile {
  format: 'vigil-inclusion-proof/1';
  alert: { id: number; node: string; boot_id: string; sequence: number; json: string };
  leaf_index: number;
  leaf: string;
  proof: string[];
  checkpoint: string;
  verifier_key: string;
}

export function proofFile(r: ProveAlertResponse__Output): InclusionProofFile {
  const a = r.alert;
  if (!a) throw new VigilError('CONTROLPLANE', 'the control plane sent a proof without its alert');
  return {
    format: 'vigil-inclusion-proof/1',
    alert: { id: Number(a.id), node: a.node, boot_id: a.boot_id, sequence: Number(a.sequence), json: a.json },
    leaf_index: Number(r.leaf_index),
    leaf: r.leaf,
    proof: r.proof.map((p) => Buffer.from(p).toString('hex')),
    checkpoint: r.checkpoint,
    verifier_key: r.verifier_key,
  };
}

/**
 * Check an inclusion proof offline: the checkpoint's signature (with the key
 * given, else the key the file names, which is only as good as where the
 * file came from), the proof from the entry to the checkpoint's root, and
 * that the entry is this alert (its fields and the hash of its JSON).
 */
export function checkProof(text: string, keyFor: (origin: string) => NoteVerifier | null): string {
  let f: InclusionProofFile;
  try {
    f = JSON.parse(text) as InclusionProofFile;
  } catch (err) {
    throw new VigilError('BAD_ARGUMENT', `not an inclusion proof (JSON): ${String(err)}`);
  }
  if (f.format !== 'vigil-inclusion-proof/1' || !Array.isArray(f.proof) || typeof f.leaf !== 'string' || typeof f.checkpoint !== 'string' || !f.alert) {
    throw new VigilError('BAD_ARGUMENT', 'not an inclusion proof (format vigil-inclusion-proof/1)');
  }
  const key = keyFor(readCheckpointUnsigned(f.checkpoint).origin);
  const cp = openCheckpoint(f.checkpoint, key ?? parseVerifierKey(f.verifier_key));
  const proof = f.proof.map((h) => {
    if (!/^[0-9a-f]{64}$/.test(h)) throw new ProofError(`proof hash "${h}" is not 32 bytes of hex`);
    return Buffer.from(h, 'hex');
  });
  verifyInclusion(f.leaf_index, cp.size, hashLeaf(Buffer.from(f.leaf, 'utf8')), proof, cp.root);
  const leaf = JSON.parse(f.leaf) as { index: number; kind: string; data: Record<string, unknown> };
  if (leaf.index !== f.leaf_index || leaf.kind !== 'alert') throw new ProofError(`the entry is ${leaf.kind} ${leaf.index}, not the alert entry ${f.leaf_index}`);
  const d = leaf.data;
  const jsonHash = createHash('sha256').update(f.alert.json).digest('hex');
  if (d.node !== f.alert.node || d.boot_id !== f.alert.boot_id || d.sequence !== f.alert.sequence || (d.json_sha256 ?? d.sha256) !== jsonHash) {
    throw new ProofError('the entry is not this alert (node, boot, sequence or the hash of its JSON differ)');
  }
  return (
    `inclusion proof valid: alert ${f.alert.id} (node ${f.alert.node}, boot ${f.alert.boot_id}, sequence ${f.alert.sequence}) is entry ${f.leaf_index} ` +
    `of the log ${cp.origin} at ${cp.size} entries, root ${cp.root.toString('base64')}` +
    `${key ? '' : ` (checkpoint signature checked with the key the file names, ${f.verifier_key}: give --log-key to check it with yours)`}\n`
  );
}

// ---- the commands ------------------------------------------------------------

interface VerifyValues extends KeyValues {
  data?: string;
  checkpoint?: string;
}

interface ExportValues extends KeyValues {
  data?: string;
  from?: string;
  to?: string;
  out?: string;
}

/** --data, or the control plane `vigil up` runs on this host. */
function dataDir(v: { data?: string }, step: string): string {
  return v.data ?? readLocal(DEFAULT_DATA_DIR, step).data;
}

export function auditCommand(io?: CliIo): Command {
  const dataOption = (): Option => new Option('--data <dir>', "the control plane's data directory, opened read-only (default: vigil up's on this host)");
  const keyOption = (): Option => new Option('--log-key <file>', "the audit log's public key (PEM or NAME+ID+KEY; default: vigil up's log.pub on this host)");
  const verify = vigilCommand('verify', 'recompute the audit log from a store, check it against a checkpoint and every alert, policy and identity row against its entry')
    .addOption(dataOption())
    .addOption(new Option('--checkpoint <file>', 'a signed checkpoint kept outside the store (vigil audit checkpoint, an agent\'s audit-checkpoint): the log must extend it'))
    .addOption(keyOption());
  const checkpoint = linkOptions(vigilCommand('checkpoint', "the audit log's current signed checkpoint (c2sp.org/tlog-checkpoint), from the control plane"));
  const prove = linkOptions(
    vigilCommand('prove', "an inclusion proof of a stored alert's audit entry (JSON, checkable offline with vigil audit check-proof)").addOption(
      new Option('--alert <id>', "the alert's row id (required)").argParser(integer('--alert', 1, Number.MAX_SAFE_INTEGER)),
    ),
  );
  const check = vigilCommand('check-proof', 'check an inclusion proof from vigil audit prove, offline').argument('<file>', 'the proof (JSON)').addOption(keyOption());
  const exp = vigilCommand('export', 'a SOC 2 evidence bundle for a period (with --out), or every entry as JSON lines')
    .addOption(dataOption())
    .addOption(new Option('--from <time>', 'start of the period: RFC 3339, 30d (ago), or nanoseconds (default: the beginning)'))
    .addOption(new Option('--to <time>', 'end of the period, excluded (default: now)'))
    .addOption(new Option('--out <dir>', 'write the bundle here (a new or empty directory)'))
    .addOption(keyOption());
  if (io) {
    verify.action(async (v: VerifyValues) => {
      const r = await auditVerify({ data: dataDir(v, 'vigil audit verify'), checkpoint: v.checkpoint, logKey: v.logKey });
      (r.ok ? io.out : io.err).write(r.text);
      io.exit(r.ok ? Exit.OK : Exit.FAILED);
    });
    checkpoint.action(async (v: LinkValues) => {
      const l = adminLink(v, 'vigil audit checkpoint');
      const c = queryClient(l);
      try {
        const r = await unary<GetCheckpointResponse__Output>(l.address, (o, cb) => c.GetCheckpoint({}, o, cb));
        io.out.write(r.note);
        io.exit(Exit.OK);
      } finally {
        c.close();
      }
    });
    prove.action(async (v: LinkValues & { alert?: number }) => {
      if (v.alert === undefined) throw new VigilError('BAD_ARGUMENT', 'vigil audit prove: --alert ID is required');
      const l = adminLink(v, 'vigil audit prove');
      const c = queryClient(l);
      try {
        const r = await unary<ProveAlertResponse__Output>(l.address, (o, cb) => c.ProveAlert({ alert_id: v.alert }, o, cb));
        io.out.write(JSON.stringify(proofFile(r), null, 2) + '\n');
        io.exit(Exit.OK);
      } finally {
        c.close();
      }
    });
    check.action((file: string, v: KeyValues) => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new VigilError('BAD_ARGUMENT', `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(err)}`);
      }
      try {
        io.out.write(checkProof(text, (origin) => (v.logKey ? logKeyFor(v, origin) : null)));
        io.exit(Exit.OK);
      } catch (err) {
        if (err instanceof VigilError && err.code === 'BAD_ARGUMENT') throw err;
        io.err.write(`inclusion proof INVALID: ${err instanceof Error ? err.message : String(err)}\n`);
        io.exit(Exit.FAILED);
      }
    });
    exp.action(async (v: ExportValues) => {
      const data = dataDir(v, 'vigil audit export');
      const { openEvidence } = await import('../controlplane/audit-verify');
      const ev = openEvidence(data);
      try {
        if (v.out === undefined) {
          for (const r of ev.db.prepare('SELECT leaf FROM audit_log ORDER BY idx').pluck().iterate() as Iterable<string>) io.out.write(r + '\n');
          io.exit(Exit.OK);
          return;
        }
        const { exportEvidence } = await import('../controlplane/audit-export');
        const { parseSince } = await import('../controlplane/query-service');
        const r = exportEvidence(ev.db, {
          fromNs: v.from ? (parseSince(v.from) ?? '0') : '0',
          toNs: v.to ? (parseSince(v.to) ?? '0') : (BigInt(Date.now()) * 1_000_000n).toString(),
          out: v.out,
          key: logKeyFor(v, storedOrigin(ev.db)),
        });
        (r.intact ? io.out : io.err).write(r.text);
        io.exit(r.intact ? Exit.OK : Exit.FAILED);
      } finally {
        ev.close();
      }
    });
  }
  return vigilCommand('audit', "the control plane's audit log: a transparency log (Merkle tree, signed checkpoints)")
    .addCommand(verify)
    .addCommand(checkpoint)
    .addCommand(prove)
    .addCommand(check)
    .addCommand(exp);
}
