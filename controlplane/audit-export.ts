// `vigil audit export --from --to --out DIR`: the SOC 2 evidence of a period
// in one directory, from a store opened read-only:
//
//   entries.jsonl          every audit entry of the period, as hashed, with its
//                          inclusion proof to the anchoring checkpoint
//   alerts.jsonl           the alerts of those entries (row id, envelope, the alert)
//   policy-changes.jsonl   policy versions pushed: who, when, which key, the rules
//   agents.json            each agent: identity, its connections in the period,
//                          coverage gaps (not connected; alert sequence gaps)
//   checkpoints.jsonl      the signed checkpoints of the period and the anchor, each
//                          with a consistency proof from the one before
//   anchor-checkpoint.txt  the signed checkpoint every proof leads to
//   verification.txt       what vigil audit verify says of the whole store
//   manifest.json          period, anchor, verdict, and the SHA-256 of every file
//   SHA256SUMS             the same hashes, for sha256sum -c
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../common/errors';
import { rfc3339Nanos } from '../common/time';
import { openCheckpoint, readCheckpointUnsigned, type Checkpoint } from '../common/tlog/checkpoint';
import { consistencyProof, inclusionProof, MemoryTree, subtreeHash } from '../common/tlog/merkle';
import type { NoteVerifier } from '../common/tlog/note';
import { verifyAuditDb, verifyText } from './audit-verify';
import { CpError } from './errors';

export interface ExportOptions {
  fromNs: string;
  toNs: string;
  out: string;
  key: NoteVerifier | null;
}

export interface ExportResult {
  intact: boolean;
  files: string[];
  text: string;
}

interface Leaf {
  index: number;
  time: bigint;
  kind: string;
  leaf: string;
  data: Record<string, unknown>;
}

const hex = (b: Buffer): string => b.toString('hex');
const time = (ns: bigint | string): string => rfc3339Nanos(BigInt(ns));

function emptyOrNew(dir: string): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new CpError('CONFIG', `--out ${dir}: not a directory`);
    if (fs.readdirSync(dir).length) throw new CpError('CONFIG', `--out ${dir}: not empty (evidence is written to a new or empty directory)`);
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
}

export function exportEvidence(db: Database.Database, o: ExportOptions): ExportResult {
  const from = BigInt(o.fromNs);
  const to = BigInt(o.toNs);
  if (to <= from) throw new CpError('CONFIG', `--to (${time(to)}) is not after --from (${time(from)})`);
  const verdict = verifyAuditDb(db, { key: o.key });

  // the whole log (proofs need it), the period's entries, and what came before them
  const hashes: Buffer[] = [];
  const period: Leaf[] = [];
  const sessions = new Map<string, { open: bigint | null; spans: [bigint, bigint][]; first: bigint }>();
  const rows = db.prepare('SELECT idx, time_ns, kind, leaf, hash FROM audit_log ORDER BY idx').safeIntegers(true);
  for (const r of rows.iterate() as Iterable<{ idx: bigint; time_ns: bigint; kind: string; leaf: string; hash: Buffer }>) {
    hashes.push(r.hash);
    let data: Record<string, unknown> = {};
    try {
      data = ((JSON.parse(r.leaf) as { data?: Record<string, unknown> }).data ?? {}) as Record<string, unknown>;
    } catch {
      // verification.txt names it
    }
    const e: Leaf = { index: Number(r.idx), time: r.time_ns, kind: r.kind, leaf: r.leaf, data };
    if (r.time_ns >= from && r.time_ns < to) period.push(e);
    // agents' connections, from the whole log (a connection may open before the period)
    const close = (node: string): void => {
      const s = sessions.get(node);
      if (s?.open != null) {
        s.spans.push([s.open, r.time_ns]);
        s.open = null;
      }
    };
    if (r.kind === 'connect') {
      const node = String(data.node);
      close(node);
      const s = sessions.get(node) ?? { open: null, spans: [], first: r.time_ns };
      s.open = r.time_ns;
      sessions.set(node, s);
    } else if (r.kind === 'disconnect') {
      close(String(data.node));
    } else if (r.kind === 'start') {
      for (const node of sessions.keys()) close(node);
    }
  }
  const tree = new MemoryTree(hashes);

  // the anchor: the first checkpoint that covers the period's last entry (signed by the log's key when given)
  const need = period.length ? period[period.length - 1].index + 1 : 0;
  const stored: (Checkpoint & { note: string; time: bigint })[] = [];
  for (const r of db.prepare('SELECT size, time_ns, note FROM checkpoints ORDER BY id').safeIntegers(true).iterate() as Iterable<{ size: bigint; time_ns: bigint; note: string }>) {
    try {
      const cp = o.key ? openCheckpoint(r.note, o.key) : { ...readCheckpointUnsigned(r.note), note: r.note };
      stored.push({ ...cp, time: r.time_ns });
    } catch {
      // verification.txt names it
    }
  }
  const anchor = stored.filter((c) => c.size >= need && c.size <= tree.size).sort((a, b) => a.size - b.size)[0];
  if (!anchor) {
    throw new CpError(
      'STORE',
      `no signed checkpoint covers the period's last entry (${need - 1}) yet: the newest has ${Math.max(0, ...stored.map((c) => c.size))} entries; ` +
        'run the export while the control plane is up (it signs a checkpoint within a second of each change), or end the period earlier',
    );
  }
  if (!subtreeHash(tree, 0, anchor.size).equals(anchor.root)) {
    throw new CpError('STORE', `the store's audit log is not the one the anchoring checkpoint (${anchor.size} entries) commits to: run vigil audit verify`);
  }

  emptyOrNew(o.out);
  const files = new Map<string, string>();
  const put = (name: string, text: string): void => {
    fs.writeFileSync(path.join(o.out, name), text, { mode: 0o640 });
    files.set(name, text);
  };
  const jsonl = (xs: unknown[]): string => xs.map((x) => JSON.stringify(x)).join('\n') + (xs.length ? '\n' : '');

  put(
    'entries.jsonl',
    jsonl(period.map((e) => ({ index: e.index, time: time(e.time), kind: e.kind, leaf: e.leaf, leaf_hash: hex(hashes[e.index]), inclusion_proof: inclusionProof(tree, e.index, anchor.size).map(hex) }))),
  );

  const alertRow = db.prepare('SELECT id, node, boot_id, sequence, time_ns, rule, priority, action, outcome, spiffe_id, json, received_ns FROM alerts WHERE node = ? AND boot_id = ? AND sequence = ?').safeIntegers(true);
  const alerts = period
    .filter((e) => e.kind === 'alert')
    .map((e) => {
      const r = alertRow.get(String(e.data.node), String(e.data.boot_id), Number(e.data.sequence)) as Record<string, bigint | string> | undefined;
      if (!r) return { audit_index: e.index, node: e.data.node, boot_id: e.data.boot_id, sequence: e.data.sequence, row: 'deleted (retention, see entries.jsonl)' };
      let alert: unknown = r.json;
      try {
        alert = JSON.parse(String(r.json));
      } catch {
        // kept as the text it is
      }
      return {
        id: Number(r.id),
        audit_index: e.index,
        node: r.node,
        boot_id: r.boot_id,
        sequence: Number(r.sequence),
        time: time(r.time_ns),
        received: time(r.received_ns),
        rule: r.rule,
        priority: r.priority,
        action: r.action,
        outcome: r.outcome,
        spiffe_id: r.spiffe_id,
        alert,
      };
    });
  put('alerts.jsonl', jsonl(alerts));

  const policyRow = db.prepare('SELECT version, payload, signature, key_id, created_ns, pushed_by FROM policies WHERE version = ?').safeIntegers(true);
  const policies = period
    .filter((e) => e.kind === 'policy')
    .map((e) => {
      const r = policyRow.get(Number(e.data.version)) as { version: bigint; payload: Buffer; signature: Buffer; key_id: string; created_ns: bigint; pushed_by: string } | undefined;
      let files: unknown = null;
      try {
        files = r ? (JSON.parse(r.payload.toString('utf8')) as { files?: unknown }).files : null;
      } catch (err) {
        files = `unreadable payload: ${errorMessage(err)}`;
      }
      return {
        version: Number(e.data.version),
        audit_index: e.index,
        pushed_by: e.data.pushed_by,
        time: time(e.time),
        key_id: e.data.key_id,
        payload_sha256: r ? createHash('sha256').update(r.payload).digest('hex') : null,
        signature: r ? r.signature.toString('base64') : null,
        payload: r ? r.payload.toString('base64') : null,
        files,
      };
    });
  put('policy-changes.jsonl', jsonl(policies));

  // agents and their coverage: connected spans in the period, the gaps between, alert sequence gaps
  const seqGaps = db.prepare(
    `SELECT node, boot_id, prev, sequence FROM (
       SELECT node, boot_id, sequence, LAG(sequence) OVER (PARTITION BY node, boot_id ORDER BY sequence) AS prev
       FROM alerts WHERE time_ns >= ? AND time_ns < ?)
     WHERE prev IS NOT NULL AND sequence > prev + 1`,
  );
  const gapsByNode = new Map<string, { boot_id: string; missing_from: number; missing_to: number }[]>();
  for (const g of seqGaps.iterate(o.fromNs, o.toNs) as Iterable<{ node: string; boot_id: string; prev: number; sequence: number }>) {
    gapsByNode.set(g.node, [...(gapsByNode.get(g.node) ?? []), { boot_id: g.boot_id, missing_from: g.prev + 1, missing_to: g.sequence - 1 }]);
  }
  const agents = (db.prepare('SELECT node, spiffe_id, boot_id, version, first_seen_ns, last_seen_ns, connected, policy_version, policy_error FROM agents ORDER BY node').safeIntegers(true).all() as Record<string, bigint | string>[]).map((a) => {
    const s = sessions.get(String(a.node));
    const spans = [...(s?.spans ?? []), ...(s?.open != null ? [[s.open, to] as [bigint, bigint]] : [])]
      .map(([x, y]): [bigint, bigint] => [x < from ? from : x, y > to ? to : y])
      .filter(([x, y]) => y > x)
      .sort((p, q) => (p[0] < q[0] ? -1 : 1));
    // not connected within the period, from its first connection on
    const gaps: [bigint, bigint][] = [];
    let at = s && s.first > from ? s.first : from;
    for (const [x, y] of spans) {
      if (x > at) gaps.push([at, x]);
      if (y > at) at = y;
    }
    if (s && at < to) gaps.push([at, to]);
    return {
      node: a.node,
      spiffe_id: a.spiffe_id,
      boot_id: a.boot_id,
      version: a.version,
      first_seen: time(a.first_seen_ns),
      last_seen: time(a.last_seen_ns),
      policy_version: Number(a.policy_version),
      policy_error: a.policy_error,
      connected_in_period: spans.map(([x, y]) => ({ from: time(x), to: time(y) })),
      coverage_gaps: {
        not_connected: gaps.map(([x, y]) => ({ from: time(x), to: time(y), seconds: Number(y - x) / 1e9 })),
        alert_sequence_gaps: gapsByNode.get(String(a.node)) ?? [],
      },
    };
  });
  put('agents.json', JSON.stringify({ period: { from: time(from), to: time(to) }, agents }, null, 2) + '\n');

  const inPeriod = stored.filter((c) => (c.time >= from && c.time < to && c.size <= tree.size) || c === anchor).sort((a, b) => a.size - b.size);
  put(
    'checkpoints.jsonl',
    jsonl(
      inPeriod.map((c, i) => ({
        size: c.size,
        root: c.root.toString('base64'),
        time: time(c.time),
        note: c.note,
        ...(i > 0 ? { consistency_from: inPeriod[i - 1].size, consistency_proof: consistencyProof(tree, inPeriod[i - 1].size, c.size).map(hex) } : {}),
      })),
    ),
  );
  put('anchor-checkpoint.txt', anchor.note);
  put('verification.txt', verifyText(verdict));

  const manifest = {
    format: 'vigil-audit-evidence/1',
    period: { from: time(from), to: time(to) },
    generated: new Date().toISOString(),
    log: anchor.origin,
    anchor: { size: anchor.size, root: anchor.root.toString('base64'), signature: o.key ? 'verified with the log key' : 'not checked (no log key given)' },
    verification: { intact: verdict.intact, entries: verdict.entries, problems: verdict.problemCount },
    counts: { entries: period.length, alerts: alerts.length, policy_changes: policies.length, agents: agents.length, checkpoints: inPeriod.length },
    files: [...files.entries()].map(([name, text]) => ({ name, bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') })),
  };
  put('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  const sums = [...files.entries()].map(([name, text]) => `${createHash('sha256').update(text).digest('hex')}  ${name}`).join('\n') + '\n';
  fs.writeFileSync(path.join(o.out, 'SHA256SUMS'), sums, { mode: 0o640 });
  const names = [...files.keys(), 'SHA256SUMS'];
  return {
    intact: verdict.intact,
    files: names,
    text:
      `evidence for ${time(from)} to ${time(to)} in ${o.out}: ${period.length} entries, ${alerts.length} alerts, ${policies.length} policy changes, ${agents.length} agents, ` +
      `anchored in the checkpoint of ${anchor.size} entries${verdict.intact ? '' : `; the store's audit log is TAMPERED (${verdict.problemCount} problems: see verification.txt)`}\n`,
  };
}
