// The audit log as a transparency log, against a real store file: every
// tampering of issue 10 done with a second SQLite connection (as someone with
// the file would), then `vigil audit verify` (the real command, in a child
// process) must say TAMPERED and name what: deleting the last entries,
// deleting all of them, dropping the table, a consistent rewrite with every
// hash recomputed (and the stored checkpoints replaced by ones signed with
// the stolen key), edits of the alerts, policies and addresses tables, an
// entry edited in place. It opens the evidence read-only (a read-only
// mount), refuses a path that does not exist (and creates nothing), and a
// retention deletion is not tampering.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../common/repo';
import { signCheckpoint } from '../../common/tlog/checkpoint';
import { auditLogOrigin } from '../../common/tlog/keys';
import { hashLeaf, rootOf } from '../../common/tlog/merkle';
import { noteSigner, type NoteSigner } from '../../common/tlog/note';
import { leafText } from '../../controlplane/audit-log';
import { Checkpointer } from '../../controlplane/checkpoints';
import { Store, type StoredAlert } from '../../controlplane/store';

const ORIGIN = auditLogOrigin('audit.test');
const vigil = path.join(repoRoot(), 'bin', 'vigil');

function alert(i: number): StoredAlert {
  return { node: 'n1', bootId: 'b1', sequence: i, timeNs: String(1_700_000_000_000_000_000n + BigInt(i)), rule: 'r', priority: 'critical', action: 'kill', outcome: 'killed', spiffeId: 'spiffe://t/ns/a/sa/b', json: `{"i":${i}}` };
}

interface Made {
  data: string;
  file: string;
  /** the auditor's copy of a checkpoint, kept outside the store */
  checkpoint: string;
  /** how many entries that checkpoint commits to */
  size: number;
  entries: number;
}

describe('audit log: transparency log against a real store, vigil audit verify', function () {
  this.timeout(30000);
  let dir: string;
  let signer: NoteSigner;
  let pub: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-'));
    const kp = generateKeyPairSync('ed25519');
    signer = noteSigner(ORIGIN, kp.privateKey);
    pub = path.join(dir, 'log.pub');
    fs.writeFileSync(pub, kp.publicKey.export({ type: 'spki', format: 'pem' }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A store written through the control plane's own code: alerts, a policy push, identities, an agent; two checkpoints. */
  function make(): Made {
    const data = fs.mkdtempSync(path.join(dir, 'data-'));
    const file = path.join(data, 'vigil.db');
    const s = new Store(file);
    const cps = new Checkpointer({ db: s.db, log: s.log, signer, say: () => undefined });
    s.started({ version: 'test' });
    s.agentConnected({ node: 'n1', spiffe_id: 'spiffe://t/vigil/agent/n1', boot_id: 'b1', version: 'test', capabilities: '{}', policy_version: 0 });
    for (let i = 1; i <= 6; i++) s.insertAlerts([alert(i)]);
    s.addPolicy({ version: 1, payload: Buffer.from('{"version":1}'), signature: Buffer.from('sig'), key_id: 'k', pushed_by: 'spiffe://t/vigil/admin/alice' });
    s.setAddresses('n1', [{ cidr: '10.0.0.1/32', spiffe_id: 'spiffe://t/ns/a/sa/b' }]);
    const first = cps.publish();
    assert.ok(first);
    const checkpoint = path.join(data, '..', `${path.basename(data)}.checkpoint`);
    fs.writeFileSync(checkpoint, first.note);
    for (let i = 7; i <= 10; i++) s.insertAlerts([alert(i)]);
    cps.publish();
    const entries = s.log.size;
    cps.close();
    s.close();
    return { data, file, checkpoint, size: first.size, entries };
  }

  function tamper(m: Made, sql: string, ...args: unknown[]): void {
    const db = new Database(m.file);
    try {
      db.prepare(sql).run(...args);
    } finally {
      db.close();
    }
  }

  function verify(m: Made, extra: string[] = ['--checkpoint', m.checkpoint, '--log-key', pub]): { code: number | null; out: string; err: string } {
    const r = spawnSync(vigil, ['audit', 'verify', '--data', m.data, ...extra], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  it('an untouched store verifies against the checkpoint an auditor kept, signature checked', () => {
    const m = make();
    const r = verify(m);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^audit log intact: ${m.entries} entries, root [A-Za-z0-9+/]{43}=$`, 'm'));
    assert.match(r.out, /rows checked against their entries: 10 alerts \(0 more deleted by retention\), 1 policies, 1 nodes' addresses, 1 agents/);
    assert.match(r.out, new RegExp(`checkpoint .*: ${m.size} entries, the log extends it \\(signature verified\\)`));
    assert.match(r.out, /stored checkpoints: 2/);
  });

  it('deleting the last entries: truncated, named against the checkpoint and the stored ones; the alerts lose their entries', () => {
    const m = make();
    tamper(m, 'DELETE FROM audit_log WHERE idx >= ?', m.size - 2);
    const r = verify(m);
    assert.equal(r.code, 1);
    assert.match(r.err, /^audit log TAMPERED: /);
    assert.match(r.err, new RegExp(`the log was truncated: it has ${m.size - 2} entries, the checkpoint .* commits to ${m.size} \\(entries ${m.size - 2} to ${m.size - 1} deleted\\)`));
    assert.match(r.err, /alerts row \d+ \(node n1, boot b1, sequence 10\) has no audit entry: inserted outside the control plane/);
    assert.match(r.err, /the log does NOT extend it/);
  });

  it('deleting every entry: the log is empty but the checkpoint commits to its entries', () => {
    const m = make();
    tamper(m, 'DELETE FROM audit_log');
    const r = verify(m);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`the log is empty \\(its entries were deleted or its table dropped\\) but the checkpoint .* commits to ${m.size} entries`));
  });

  it('dropping the table (and the checkpoints with it): named, and the checkpoint kept outside still catches it', () => {
    const m = make();
    tamper(m, 'DROP TABLE audit_log');
    tamper(m, 'DROP TABLE checkpoints');
    const r = verify(m);
    assert.equal(r.code, 1);
    assert.match(r.err, /the audit_log table is missing \(dropped\)/);
    assert.match(r.err, /the checkpoints table is missing \(dropped\)/);
    assert.match(r.err, new RegExp(`the log is empty .* commits to ${m.size} entries`));
  });

  it('a consistent rewrite (an alert and its entry removed, every hash recomputed, checkpoints re-signed with the stolen key) is found only against a checkpoint kept outside', () => {
    const m = make();
    const db = new Database(m.file);
    // the attacker removes alert 3 and its entry, renumbers, recomputes every leaf, and re-signs the head
    db.transaction(() => {
      const rows = db.prepare('SELECT idx, time_ns, kind, leaf FROM audit_log ORDER BY idx').safeIntegers(true).all() as { idx: bigint; time_ns: bigint; kind: string; leaf: string }[];
      const kept = rows.filter((r) => !(r.kind === 'alert' && (JSON.parse(r.leaf) as { data: { sequence: number } }).data.sequence === 3));
      db.prepare('DELETE FROM alerts WHERE sequence = 3').run();
      db.prepare('DELETE FROM audit_log').run();
      const hashes: Buffer[] = [];
      kept.forEach((r, i) => {
        const data = (JSON.parse(r.leaf) as { data: unknown }).data;
        const text = leafText(i, String(r.time_ns), r.kind as 'alert', data);
        const h = hashLeaf(Buffer.from(text));
        hashes.push(h);
        db.prepare('INSERT INTO audit_log (idx, time_ns, kind, leaf, hash) VALUES (?, ?, ?, ?, ?)').run(i, r.time_ns, r.kind, text, h);
      });
      db.prepare('DELETE FROM checkpoints').run();
      const forged = signCheckpoint({ origin: ORIGIN, size: hashes.length, root: rootOf(hashes) }, signer);
      db.prepare('INSERT INTO checkpoints (size, time_ns, note) VALUES (?, ?, ?)').run(hashes.length, 1, forged.note);
    })();
    db.close();
    // on its own, the store is consistent with itself: that is what a rewrite is
    const alone = verify(m, ['--log-key', pub]);
    assert.equal(alone.code, 0, alone.err);
    assert.match(alone.out, /no --checkpoint given: a consistent rewrite of the whole store cannot be told from the original without one/);
    const r = verify(m);
    assert.equal(r.code, 1, r.out);
    assert.match(r.err, new RegExp(`the first ${m.size} entries are not those the checkpoint .* commits to \\(its root [^,]+, recomputed [^)]+\\): the log was rewritten`));
    assert.match(r.err, /the log does NOT extend it/);
  });

  it('edits of the alerts table are found and named: a field, the alert JSON, an inserted row, a deleted row', () => {
    const m = make();
    tamper(m, "UPDATE alerts SET rule = 'benign' WHERE sequence = 4");
    tamper(m, `UPDATE alerts SET json = '{"i":0}' WHERE sequence = 5`);
    tamper(m, 'DELETE FROM alerts WHERE sequence = 6');
    tamper(
      m,
      "INSERT INTO alerts (node, boot_id, sequence, time_ns, rule, priority, action, outcome, spiffe_id, json, received_ns) VALUES ('n1', 'b1', 99, 1, 'r', 'low', 'alert', 'alerted', '', '{}', 1)",
    );
    const r = verify(m);
    assert.equal(r.code, 1);
    assert.match(r.err, /alerts row \d+ \(alert \(node n1, boot b1, sequence 4\)\) was edited: rule differ from audit entry \d+/);
    assert.match(r.err, /alerts row \d+ \(alert \(node n1, boot b1, sequence 5\)\) was edited: json differ from audit entry \d+/);
    assert.match(r.err, /the alert \(node n1, boot b1, sequence 6\) of audit entry \d+ has no row in the alerts table: deleted \(no retention entry covers it\)/);
    assert.match(r.err, /alerts row \d+ \(node n1, boot b1, sequence 99\) has no audit entry: inserted outside the control plane/);
    assert.match(r.err, /^audit log TAMPERED: 4 problems/);
  });

  it('edits of policies and addresses, and an agent row, are found; an entry edited in place is found by its hash', () => {
    const m = make();
    tamper(m, "UPDATE policies SET pushed_by = 'spiffe://t/vigil/admin/mallory'");
    tamper(m, "UPDATE addresses SET spiffe_id = 'spiffe://t/ns/prod/sa/db'");
    tamper(m, "UPDATE agents SET spiffe_id = 'spiffe://t/vigil/agent/other'");
    tamper(m, "UPDATE audit_log SET leaf = replace(leaf, '\"priority\":\"critical\"', '\"priority\":\"low\"') WHERE idx = 3");
    const r = verify(m);
    assert.equal(r.code, 1);
    assert.match(r.err, /policies row v1 was edited: pushed_by differ from audit entry \d+/);
    assert.match(r.err, /the addresses of node n1 are not those its last identity report in the log says: \+10\.0\.0\.1\/32=spiffe:\/\/t\/ns\/prod\/sa\/db, -10\.0\.0\.1\/32=spiffe:\/\/t\/ns\/a\/sa\/b/);
    assert.match(r.err, /agents row n1 was edited: its SPIFFE ID or boot differs from its last connection/);
    assert.match(r.err, /entry 3 was edited: its data does not give its stored hash/);
  });

  it('a retention deletion is in the log and is not tampering', () => {
    const m = make();
    const s = new Store(m.file);
    assert.equal(s.retain(String(1_700_000_000_000_000_000n + 4n), 'test'), 3);
    s.close();
    const r = verify(m);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /7 alerts \(3 more deleted by retention\)/);
  });

  it('refuses --data that does not exist, naming it, and creates nothing; a directory with no store is named too', () => {
    const typo = path.join(dir, 'typo');
    const r = spawnSync(vigil, ['audit', 'verify', '--data', typo], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `vigil audit verify: --data ${typo}: no such directory\n`);
    assert.equal(fs.existsSync(typo), false);
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    const e = spawnSync(vigil, ['audit', 'verify', '--data', empty], { encoding: 'utf8' });
    assert.equal(e.status, 2);
    assert.equal(e.stderr, `vigil audit verify: --data ${empty}: no store there (${path.join(empty, 'vigil.db')} does not exist)\n`);
    assert.deepEqual(fs.readdirSync(empty), []);
    const badCp = spawnSync(vigil, ['audit', 'verify', '--data', make().data, '--checkpoint', path.join(dir, 'nope')], { encoding: 'utf8' });
    assert.equal(badCp.status, 2);
    assert.match(badCp.stderr, /--checkpoint .*nope: no such file/);
  });

  it('reads evidence on a read-only mount (and a forged checkpoint signature is refused)', function () {
    if (process.geteuid?.() !== 0) throw new Error(`a read-only bind mount needs root: running as uid ${process.geteuid?.()}`);
    const m = make();
    const ro = fs.mkdtempSync(path.join(dir, 'ro-'));
    execFileSync('mount', ['--bind', m.data, ro]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', ro]);
      assert.throws(() => fs.writeFileSync(path.join(ro, 'x'), 'x'), /EROFS/);
      const r = spawnSync(vigil, ['audit', 'verify', '--data', ro, '--checkpoint', m.checkpoint, '--log-key', pub], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      // SQLite cannot open a WAL store in place without creating its -shm file: a private copy is read, and said so
      assert.match(r.stdout, /^note: .*vigil\.db cannot be opened in place \(unable to open database file\): read from a private copy$/m);
      assert.match(r.stdout, /^audit log intact: /m);
      const other = path.join(dir, 'other.pub');
      fs.writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
      const forged = spawnSync(vigil, ['audit', 'verify', '--data', ro, '--checkpoint', m.checkpoint, '--log-key', other], { encoding: 'utf8' });
      assert.equal(forged.status, 2);
      assert.match(forged.stderr, /--checkpoint .*: no signature by a known key/);
    } finally {
      execFileSync('umount', [ro]);
    }
    assert.deepEqual(fs.readdirSync(m.data).sort(), ['vigil.db']);
  });

  it('a store from before the transparency log (a hash chain) becomes the first entries', () => {
    const data = fs.mkdtempSync(path.join(dir, 'old-'));
    const db = new Database(path.join(data, 'vigil.db'));
    db.exec('CREATE TABLE audit (seq INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL)');
    db.prepare("INSERT INTO audit VALUES (1, 5, 'enrol', '{\"node\":\"n\"}', '0', 'h1'), (2, 6, 'policy', '{\"version\":1}', 'h1', 'h2')").run();
    db.close();
    const s = new Store(path.join(data, 'vigil.db'));
    assert.deepEqual([...s.auditEntries()].map((e) => [e.index, e.kind, e.data]), [
      [0, 'connect', { node: 'n' }],
      [1, 'policy', { version: 1 }],
    ]);
    assert.equal(s.db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'audit'").pluck().get(), 0);
    s.close();
  });
});
