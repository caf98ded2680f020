// controlplane/audit.ts and the store's audit log: the hash chain finds edits, deletions, insertions, reorderings;
// vigil audit verify and export.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../common/repo';
import { entryHash } from '../../controlplane/audit';
import { Store } from '../../controlplane/store';

describe('audit log', function () {
  this.timeout(30000);
  let dir: string;
  const fresh = (): Store => {
    const s = new Store(path.join(fs.mkdtempSync(path.join(dir, 'db-')), 'vigil.db'));
    for (let i = 1; i <= 10; i++) {
      s.insertAlerts([{ node: 'n', bootId: 'b', sequence: i, timeNs: String(1_000 + i), rule: 'r', priority: 'p', action: 'a', outcome: 'o', spiffeId: '', json: `{"i":${i}}` }]);
    }
    return s;
  };
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an untouched chain verifies', () => {
    const s = fresh();
    assert.deepEqual(
      { ...s.verifyAudit(), head: s.verifyAudit().head.length },
      { intact: true, entries: 10, head: 64 },
    );
    s.close();
  });

  it('finds an edited entry', () => {
    const s = fresh();
    s.db.prepare("UPDATE audit SET data = replace(data, '\"sequence\":4', '\"sequence\":40') WHERE seq = 4").run();
    assert.equal(s.verifyAudit().problem, 'entry 4 was edited: its content does not give its hash');
    s.close();
  });

  it('finds a deleted entry', () => {
    const s = fresh();
    s.db.prepare('DELETE FROM audit WHERE seq = 6').run();
    assert.equal(s.verifyAudit().problem, 'entry 6 is missing (deleted): entry 7 follows entry 5');
    s.close();
  });

  it('finds an inserted entry, even one with a correct hash of its own', () => {
    const s = fresh();
    // make room after entry 3 and forge entry 4, well formed but not chained to entry 3
    s.db.prepare('UPDATE audit SET seq = seq + 1000 WHERE seq > 3').run();
    s.db.prepare('UPDATE audit SET seq = seq - 999 WHERE seq > 1000').run();
    const forged = { seq: 4, time_ns: '5', kind: 'alert' as const, data: { forged: true }, prev: 'f'.repeat(64) };
    s.db.prepare('INSERT INTO audit (seq, time_ns, kind, data, prev, hash) VALUES (?, ?, ?, ?, ?, ?)').run(4, 5, 'alert', JSON.stringify(forged.data), forged.prev, entryHash(forged));
    const v = s.verifyAudit();
    assert.equal(v.intact, false);
    assert.match(v.problem ?? '', /^entry 4 (does not follow entry 3|is out of order)/);
    s.close();
  });

  it('finds reordered entries', () => {
    const s = fresh();
    // swap entries 7 and 8
    s.db.prepare('UPDATE audit SET seq = -1 WHERE seq = 7').run();
    s.db.prepare('UPDATE audit SET seq = 7 WHERE seq = 8').run();
    s.db.prepare('UPDATE audit SET seq = 8 WHERE seq = -1').run();
    const v = s.verifyAudit();
    assert.equal(v.intact, false);
    assert.match(v.problem ?? '', /^entry 7 /);
    s.close();
  });

  it('vigil audit verify says so and fails; export writes every entry', () => {
    const data = fs.mkdtempSync(path.join(dir, 'cli-'));
    const s = new Store(path.join(data, 'vigil.db'));
    s.insertAlerts([{ node: 'n', bootId: 'b', sequence: 1, timeNs: '1', rule: 'r', priority: 'p', action: 'a', outcome: 'o', spiffeId: '', json: '{}' }]);
    s.insertAlerts([{ node: 'n', bootId: 'b', sequence: 2, timeNs: '2', rule: 'r', priority: 'p', action: 'a', outcome: 'o', spiffeId: '', json: '{}' }]);
    s.close();
    const vigil = path.join(repoRoot(), 'bin', 'vigil');
    const ok = spawnSync(vigil, ['audit', 'verify', '--data', data], { encoding: 'utf8' });
    assert.equal(ok.status, 0);
    assert.match(ok.stdout, /^audit log intact: 2 entries, head [0-9a-f]{64}$/m);
    const ex = spawnSync(vigil, ['audit', 'export', '--data', data], { encoding: 'utf8' });
    const lines = ex.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; kind: string });
    assert.deepEqual(lines.map((l) => [l.seq, l.kind]), [
      [1, 'alert'],
      [2, 'alert'],
    ]);
    const t = new Store(path.join(data, 'vigil.db'));
    t.db.prepare("UPDATE audit SET kind = 'policy' WHERE seq = 1").run();
    t.close();
    const bad = spawnSync(vigil, ['audit', 'verify', '--data', data], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /audit log TAMPERED: entry 1 was edited/);
  });
});
