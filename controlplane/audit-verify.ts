// `vigil audit verify`: recompute the audit log's Merkle tree from the rows
// of a store (opened read-only: evidence is never changed, and a read-only
// copy or mount works), check it against checkpoints (one an auditor brings,
// and those the control plane signed and kept), and check every stored alert,
// policy, identity and agent row against its entry.
//
// What each check finds:
//   - an entry edited without recomputing: its data no longer gives its stored hash;
//   - entries deleted, the table emptied or dropped, or a consistent rewrite
//     (entries removed or changed and every hash recomputed): the tree is not
//     the one a checkpoint commits to (truncated: fewer entries; rewritten: the
//     first N entries give another root);
//   - an alerts, policies, addresses or agents row edited, inserted or
//     deleted outside the control plane: it no longer matches its entry (named).
// Without a checkpoint from outside the store, a consistent rewrite of both
// the rows and the log (and of the stored checkpoints) cannot be seen: that
// is what the checkpoints agents keep are for.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalJson } from '../common/canonical-json';
import { errorMessage } from '../common/errors';
import { openCheckpoint, readCheckpointUnsigned, type Checkpoint } from '../common/tlog/checkpoint';
import { hashLeaf, TreeFrontier } from '../common/tlog/merkle';
import type { NoteVerifier } from '../common/tlog/note';
import { AUDIT_KINDS, type AuditKind } from './audit-log';
import { CpError } from './errors';

/** A store opened as evidence: read-only, and closed (with any private copy removed) by close(). */
export interface Evidence {
  db: Database.Database;
  /** how it was opened, when not in place (a read-only mount: a private copy) */
  note: string | null;
  close(): void;
}

/**
 * The store file in a data directory, opened read-only; refuses a path that
 * is not there (never creates one). A WAL-mode store on a read-only mount
 * cannot be opened in place without its -shm file (SQLite would create it):
 * then the store and its WAL are copied to a private directory and the copy
 * is read, so the evidence itself is never written.
 */
export function openEvidence(dataDir: string): Evidence {
  let st: fs.Stats;
  try {
    st = fs.statSync(dataDir);
  } catch (err) {
    throw new CpError('CONFIG', `--data ${dataDir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : errorMessage(err)}`);
  }
  if (!st.isDirectory()) throw new CpError('CONFIG', `--data ${dataDir}: not a directory`);
  const file = path.join(dataDir, 'vigil.db');
  if (!fs.existsSync(file)) throw new CpError('CONFIG', `--data ${dataDir}: no store there (${file} does not exist)`);
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    return { db, note: null, close: () => db.close() };
  } catch (inPlace) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-evidence-'));
    try {
      for (const suffix of ['', '-wal']) if (fs.existsSync(file + suffix)) fs.copyFileSync(file + suffix, path.join(tmp, `vigil.db${suffix}`));
      const db = new Database(path.join(tmp, 'vigil.db'), { readonly: true, fileMustExist: true });
      db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
      return {
        db,
        note: `${file} cannot be opened in place (${errorMessage(inPlace)}): read from a private copy`,
        close: () => {
          db.close();
          fs.rmSync(tmp, { recursive: true, force: true });
        },
      };
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new CpError('STORE', `opening ${file} read-only: ${errorMessage(inPlace)}; from a copy: ${errorMessage(err)}`);
    }
  }
}

export interface VerifyOptions {
  /** a checkpoint from outside the store (a signed note) and where it came from */
  checkpoint?: { note: string; from: string };
  /** the log's key: checkpoint signatures are checked with it (without it, only what they say) */
  key?: NoteVerifier | null;
  /** problems listed (the count is always complete) */
  maxProblems?: number;
}

export interface VerifyReport {
  intact: boolean;
  entries: number;
  /** base64 root of the recomputed tree */
  root: string;
  checked: { alerts: number; policies: number; identities: number; agents: number; retained: number };
  /** what the checkpoint given says, and whether the log extends it */
  checkpoint?: { size: number; signature: 'verified' | 'not checked'; consistent: boolean };
  storedCheckpoints: number;
  problems: string[];
  problemCount: number;
}

interface AlertRow {
  id: number;
  node: string;
  boot_id: string;
  sequence: number;
  time_ns: bigint;
  rule: string;
  priority: string;
  action: string;
  outcome: string;
  spiffe_id: string;
  json: string;
}

const sha256 = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Compare the fields an entry recorded with a row's; names those that differ. */
function differing(leaf: Record<string, unknown>, row: Record<string, unknown>, keys: readonly string[]): string[] {
  return keys.filter((k) => k in leaf && String(leaf[k]) !== String(row[k]));
}

export function verifyAuditDb(db: Database.Database, o: VerifyOptions = {}): VerifyReport {
  const max = o.maxProblems ?? 50;
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (p: string): void => {
    problemCount++;
    if (problems.length < max) problems.push(p);
  };
  const checked = { alerts: 0, policies: 0, identities: 0, agents: 0, retained: 0 };
  for (const t of ['audit_log', 'alerts', 'policies', 'addresses', 'agents', 'checkpoints']) {
    if (!tableExists(db, t)) problem(`the ${t} table is missing (dropped)`);
  }

  // checkpoints to hold the tree against: the one given, and those the control plane kept
  const wanted: { cp: Checkpoint; what: string; given: boolean }[] = [];
  let given: VerifyReport['checkpoint'];
  if (o.checkpoint) {
    try {
      const cp = o.key ? openCheckpoint(o.checkpoint.note, o.key) : readCheckpointUnsigned(o.checkpoint.note);
      given = { size: cp.size, signature: o.key ? 'verified' : 'not checked', consistent: true };
      wanted.push({ cp, what: `the checkpoint ${o.checkpoint.from}`, given: true });
    } catch (err) {
      throw new CpError('CONFIG', `--checkpoint ${o.checkpoint.from}: ${errorMessage(err)}`);
    }
  }
  let storedCheckpoints = 0;
  if (tableExists(db, 'checkpoints')) {
    for (const r of db.prepare('SELECT size, note FROM checkpoints ORDER BY id').iterate() as Iterable<{ size: number; note: string }>) {
      storedCheckpoints++;
      try {
        const cp = o.key ? openCheckpoint(r.note, o.key) : readCheckpointUnsigned(r.note);
        if (cp.size !== r.size) problem(`stored checkpoint of size ${r.size} says ${cp.size}: the checkpoints table was edited`);
        wanted.push({ cp, what: `the stored checkpoint of size ${cp.size}`, given: false });
      } catch (err) {
        problem(`stored checkpoint of size ${r.size} does not open: ${errorMessage(err)}`);
      }
    }
  }
  const bySize = new Map<number, typeof wanted>();
  for (const w of wanted) bySize.set(w.cp.size, [...(bySize.get(w.cp.size) ?? []), w]);
  const holdAgainst = (size: number, root: Buffer): void => {
    for (const w of bySize.get(size) ?? []) {
      if (!w.cp.root.equals(root)) {
        problem(`the first ${size} entries are not those ${w.what} commits to (its root ${w.cp.root.toString('base64')}, recomputed ${root.toString('base64')}): the log was rewritten`);
        if (w.given && given) given.consistent = false;
      }
    }
  };

  const tree = new TreeFrontier();
  holdAgainst(0, tree.root());
  const haveAlerts = tableExists(db, 'alerts');
  const havePolicies = tableExists(db, 'policies');
  const alertByKey = haveAlerts
    ? db.prepare('SELECT id, node, boot_id, sequence, time_ns, rule, priority, action, outcome, spiffe_id, json FROM alerts WHERE node = ? AND boot_id = ? AND sequence = ?').safeIntegers(true)
    : null;
  const policyByVersion = havePolicies ? db.prepare('SELECT version, payload, signature, key_id, created_ns, pushed_by FROM policies WHERE version = ?').safeIntegers(true) : null;
  const seenAlerts = new Set<number>();
  const seenPolicies = new Set<number>();
  /** alert entries whose row is gone, until a retention entry explains them */
  let missing: { index: number; timeNs: bigint; what: string }[] = [];
  const lastIdentity = new Map<string, string[]>();
  const lastConnect = new Map<string, { spiffe_id: string; boot_id: string; index: number }>();

  let expect = 0;
  if (tableExists(db, 'audit_log')) {
    const rows = db.prepare('SELECT idx, time_ns, kind, leaf, hash FROM audit_log ORDER BY idx').safeIntegers(true);
    for (const r of rows.iterate() as Iterable<{ idx: bigint; time_ns: bigint; kind: string; leaf: string; hash: Buffer }>) {
      const idx = Number(r.idx);
      if (idx !== expect) {
        problem(idx > expect ? `entries ${expect} to ${idx - 1} are missing (deleted)` : `entry ${idx} is stored twice or out of order`);
        expect = idx;
      }
      expect++;
      const recomputed = hashLeaf(Buffer.from(r.leaf, 'utf8'));
      if (!Buffer.isBuffer(r.hash) || !recomputed.equals(r.hash)) problem(`entry ${idx} was edited: its data does not give its stored hash`);
      tree.append(recomputed);
      holdAgainst(tree.size, tree.root());
      let leaf: { index?: unknown; time_ns?: unknown; kind?: unknown; data?: unknown };
      try {
        leaf = JSON.parse(r.leaf) as typeof leaf;
        if (canonicalJson(leaf) !== r.leaf) throw new Error('not canonical JSON');
      } catch (err) {
        problem(`entry ${idx}: its data is not the canonical JSON an entry is (${errorMessage(err)})`);
        continue;
      }
      if (leaf.index !== idx || leaf.kind !== r.kind || leaf.time_ns !== String(r.time_ns)) {
        problem(`entry ${idx}: its columns (index, kind, time) do not say what its data says: edited`);
      }
      const kind = leaf.kind as AuditKind;
      if (!AUDIT_KINDS.includes(kind)) {
        problem(`entry ${idx}: unknown kind "${String(leaf.kind)}"`);
        continue;
      }
      const d = (leaf.data ?? {}) as Record<string, unknown>;
      switch (kind) {
        case 'alert': {
          if (!alertByKey) break;
          const what = `alert (node ${String(d.node)}, boot ${String(d.boot_id)}, sequence ${String(d.sequence)})`;
          const row = alertByKey.get(String(d.node), String(d.boot_id), Number(d.sequence)) as AlertRow | undefined;
          if (!row) {
            missing.push({ index: idx, timeNs: BigInt(String(d.time_ns ?? '0')), what });
            break;
          }
          checked.alerts++;
          seenAlerts.add(Number(row.id));
          const diff = differing(d, row as unknown as Record<string, unknown>, ['time_ns', 'rule', 'priority', 'action', 'outcome', 'spiffe_id']);
          const jsonHash = d.json_sha256 ?? d.sha256; // sha256: entries of the hash chain before
          if (jsonHash !== undefined && jsonHash !== sha256(row.json)) diff.push('json');
          if (diff.length) problem(`alerts row ${row.id} (${what}) was edited: ${diff.join(', ')} differ from audit entry ${idx}`);
          break;
        }
        case 'policy': {
          if (!policyByVersion) break;
          const row = policyByVersion.get(Number(d.version)) as { version: bigint; payload: Buffer; signature: Buffer; key_id: string; created_ns: bigint; pushed_by: string } | undefined;
          if (!row) {
            problem(`policy v${String(d.version)} is in the audit log (entry ${idx}) but not in the policies table: deleted`);
            break;
          }
          checked.policies++;
          seenPolicies.add(Number(row.version));
          const diff = differing(d, row as unknown as Record<string, unknown>, ['key_id', 'pushed_by', 'created_ns']);
          const payloadHash = d.payload_sha256 ?? d.sha256;
          if (payloadHash !== undefined && payloadHash !== sha256(row.payload)) diff.push('payload');
          if (d.signature_sha256 !== undefined && d.signature_sha256 !== sha256(row.signature)) diff.push('signature');
          if (diff.length) problem(`policies row v${row.version} was edited: ${diff.join(', ')} differ from audit entry ${idx}`);
          break;
        }
        case 'identity':
          lastIdentity.set(String(d.node), Array.isArray(d.addresses) ? d.addresses.map(String) : []);
          break;
        case 'connect':
          lastConnect.set(String(d.node), { spiffe_id: String(d.spiffe_id), boot_id: String(d.boot_id), index: idx });
          break;
        case 'retention': {
          const before = BigInt(String(d.before_ns ?? '0'));
          const kept = missing.filter((m) => m.timeNs >= before);
          checked.retained += missing.length - kept.length;
          missing = kept;
          break;
        }
        default:
          break;
      }
    }
  }
  const entries = tree.size;
  for (const w of wanted) {
    if (w.cp.size > entries) {
      problem(
        entries === 0
          ? `the log is empty (its entries were deleted or its table dropped) but ${w.what} commits to ${w.cp.size} entries`
          : `the log was truncated: it has ${entries} entries, ${w.what} commits to ${w.cp.size} (entries ${entries} to ${w.cp.size - 1} deleted)`,
      );
      if (w.given && given) given.consistent = false;
    }
  }
  for (const m of missing) problem(`the ${m.what} of audit entry ${m.index} has no row in the alerts table: deleted (no retention entry covers it)`);

  if (haveAlerts) {
    for (const r of db.prepare('SELECT id, node, boot_id, sequence FROM alerts ORDER BY id').iterate() as Iterable<{ id: number; node: string; boot_id: string; sequence: number }>) {
      if (!seenAlerts.has(r.id)) problem(`alerts row ${r.id} (node ${r.node}, boot ${r.boot_id}, sequence ${r.sequence}) has no audit entry: inserted outside the control plane`);
    }
  }
  if (havePolicies) {
    for (const v of db.prepare('SELECT version FROM policies ORDER BY version').pluck().iterate() as Iterable<number>) {
      if (!seenPolicies.has(v)) problem(`policies row v${v} has no audit entry: inserted outside the control plane`);
    }
  }
  if (tableExists(db, 'addresses')) {
    const stored = new Map<string, string[]>();
    for (const r of db.prepare('SELECT node, cidr, spiffe_id FROM addresses').iterate() as Iterable<{ node: string; cidr: string; spiffe_id: string }>) {
      stored.set(r.node, [...(stored.get(r.node) ?? []), `${r.cidr}=${r.spiffe_id}`]);
    }
    for (const node of new Set([...stored.keys(), ...lastIdentity.keys()])) {
      const rows = (stored.get(node) ?? []).sort();
      const logged = [...(lastIdentity.get(node) ?? [])].sort();
      checked.identities++;
      if (rows.join('\n') !== logged.join('\n')) {
        const added = rows.filter((x) => !logged.includes(x));
        const gone = logged.filter((x) => !rows.includes(x));
        problem(`the addresses of node ${node} are not those its last identity report in the log says: ${[...added.map((x) => `+${x}`), ...gone.map((x) => `-${x}`)].join(', ')}`);
      }
    }
  }
  if (tableExists(db, 'agents')) {
    for (const r of db.prepare('SELECT node, spiffe_id, boot_id FROM agents ORDER BY node').iterate() as Iterable<{ node: string; spiffe_id: string; boot_id: string }>) {
      checked.agents++;
      const c = lastConnect.get(r.node);
      if (!c) problem(`agents row ${r.node} has no connection in the audit log: inserted outside the control plane`);
      else if (c.spiffe_id !== r.spiffe_id || c.boot_id !== r.boot_id) problem(`agents row ${r.node} was edited: its SPIFFE ID or boot differs from its last connection (audit entry ${c.index})`);
    }
  }
  return {
    intact: problemCount === 0,
    entries,
    root: tree.root().toString('base64'),
    checked,
    ...(given ? { checkpoint: given } : {}),
    storedCheckpoints,
    problems,
    problemCount,
  };
}

/** What `vigil audit verify` prints. */
export function verifyText(r: VerifyReport, checkpointFrom?: string): string {
  const lines: string[] = [];
  lines.push(r.intact ? `audit log intact: ${r.entries} entries, root ${r.root}` : `audit log TAMPERED: ${r.problemCount} problem${r.problemCount === 1 ? '' : 's'} (${r.entries} entries, root ${r.root})`);
  for (const p of r.problems) lines.push(`  - ${p}`);
  if (r.problemCount > r.problems.length) lines.push(`  - ... and ${r.problemCount - r.problems.length} more`);
  const c = r.checked;
  lines.push(`  rows checked against their entries: ${c.alerts} alerts (${c.retained} more deleted by retention), ${c.policies} policies, ${c.identities} nodes' addresses, ${c.agents} agents`);
  if (r.checkpoint) {
    lines.push(
      `  checkpoint ${checkpointFrom ?? ''}: ${r.checkpoint.size} entries, ${r.checkpoint.consistent ? 'the log extends it' : 'the log does NOT extend it'} (signature ${r.checkpoint.signature}${r.checkpoint.signature === 'not checked' ? ': give --log-key' : ''})`,
    );
  } else {
    lines.push('  no --checkpoint given: a consistent rewrite of the whole store cannot be told from the original without one');
  }
  lines.push(`  stored checkpoints: ${r.storedCheckpoints}`);
  return lines.join('\n') + '\n';
}
