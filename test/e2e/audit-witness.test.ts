// Agents are the audit log's witnesses (issue 10 item 5): a real `vigil
// controlplane` process and a real `vigil agent` process over mTLS. The agent
// accepts the control plane's signed checkpoints; then the control plane is
// stopped, its store's audit log rewritten (an entry removed, every hash
// recomputed, its own checkpoints deleted) or rolled back (emptied), and the
// control plane started again on it. The agent, holding the checkpoint it had,
// gets the new one with a consistency proof from its size, finds that it does
// not extend what it saw, and raises vigil:audit-log-inconsistent with both
// signed checkpoints, which also reaches the control plane's store.
import * as assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../common/repo';
import { readCheckpointUnsigned } from '../../common/tlog/checkpoint';
import { hashLeaf } from '../../common/tlog/merkle';
import { leafText, type AuditKind } from '../../controlplane/audit-log';
import { requireKernelTestPrivileges } from '../helpers/kernel';
import { testTrustDomain } from '../helpers/trust-domain';
import { until } from '../helpers/wait';

const TD = 'witness.vigil';
const NODE = 'wnode';
const vigil = path.join(repoRoot(), 'bin', 'vigil');

interface Proc {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<void>;
}

function run(args: string[]): Proc {
  const p = spawn(process.execPath, [vigil, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((r) => p.on('close', () => r()));
  return { proc: p, out: () => out, err: () => err, exited };
}

async function stop(p: Proc | null): Promise<void> {
  if (!p || p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill('SIGTERM');
  const t = setTimeout(() => p.proc.kill('SIGKILL'), 10000);
  await p.exited;
  clearTimeout(t);
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface AlertLine {
  rule: string;
  priority: string;
  node: string;
  event: { kind: string; problem: string; reason: string; held_checkpoint: string | null; offered_checkpoint: string };
}

describe('agents witness the audit log: a rewritten or rolled back log raises vigil:audit-log-inconsistent', function () {
  this.timeout(90000);
  let dir: string;
  let certs: string;
  let port: number;
  let cp: Proc | null = null;
  let agent: Proc | null = null;
  let rules: string;

  before(async () => {
    requireKernelTestPrivileges();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-witness-e2e-'));
    certs = path.join(dir, 'certs');
    await testTrustDomain(certs, TD, { agent: `vigil/agent/${NODE}` });
    rules = path.join(dir, 'rules.yaml');
    fs.writeFileSync(rules, `rules:\n  - { name: never, workload: spiffe://${TD}/ns/none/**, on: exec, match: { binary: { in: [/nonexistent/never] } } }\n`);
  });

  afterEach(async () => {
    await stop(agent);
    await stop(cp);
    agent = null;
    cp = null;
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const startCp = async (data: string): Promise<void> => {
    cp = run(['controlplane', '--listen', `127.0.0.1:${port}`, '--data', data, '--certs', certs]);
    const p = cp;
    await until(`the control plane listens (stderr: ${p.err()})`, () => p.err().includes('listening on'), 15000);
  };

  const startAgent = (state: string): void => {
    agent = run(['agent', '--rules', rules, '--controlplane', `127.0.0.1:${port}`, '--certs', certs, '--state', state, '--node', NODE, '--no-pin', '--no-kubernetes', '--output', 'json']);
  };

  /** The size of the checkpoint the agent holds (0: none yet). */
  const held = (state: string): number => {
    const f = path.join(state, 'audit-checkpoint');
    return fs.existsSync(f) ? readCheckpointUnsigned(fs.readFileSync(f, 'utf8')).size : 0;
  };

  const witnessAlerts = (): AlertLine[] =>
    (agent?.out() ?? '')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as AlertLine)
      .filter((a) => a.rule === 'vigil:audit-log-inconsistent');

  /** Restart the control plane once, so that its log and the agent's checkpoint grow past `min` entries. */
  const grow = async (data: string, state: string, min: number): Promise<number> => {
    await until('the agent holds a first checkpoint', () => held(state) > 0, 20000);
    while (held(state) < min) {
      const before = held(state);
      await stop(cp);
      await startCp(data);
      await until(`the agent accepts a checkpoint past ${before} entries (agent: ${agent?.err()})`, () => held(state) > before, 20000);
    }
    return held(state);
  };

  /**
   * A control plane on a fresh port (data in cp-NAME) and an agent (state in agent-NAME) that holds a
   * checkpoint of at least 4 entries; then the control plane stops. m: what the agent holds once it is
   * gone (its last checkpoint is signed as it stops).
   */
  const grownThenStopped = async (name: string): Promise<{ data: string; state: string; m: number }> => {
    port = await freePort();
    const data = path.join(dir, `cp-${name}`);
    const state = path.join(dir, `agent-${name}`);
    await startCp(data);
    startAgent(state);
    await grow(data, state, 4);
    await stop(cp);
    await new Promise((r) => setTimeout(r, 300));
    return { data, state, m: held(state) };
  };

  it('a consistent rewrite of the store under a stopped control plane: the agent finds it at reconnection', async () => {
    const { data, state, m } = await grownThenStopped('rewrite');
    const heldNote = fs.readFileSync(path.join(state, 'audit-checkpoint'), 'utf8');
    // the attacker: drop the first entry, renumber, recompute every hash, delete the checkpoints the control plane kept
    const db = new Database(path.join(data, 'vigil.db'));
    db.transaction(() => {
      const rows = db.prepare('SELECT idx, time_ns, kind, leaf FROM audit_log ORDER BY idx').safeIntegers(true).all() as { time_ns: bigint; kind: AuditKind; leaf: string }[];
      db.prepare('DELETE FROM audit_log').run();
      rows.slice(1).forEach((r, i) => {
        const text = leafText(i, String(r.time_ns), r.kind, (JSON.parse(r.leaf) as { data: unknown }).data);
        db.prepare('INSERT INTO audit_log (idx, time_ns, kind, leaf, hash) VALUES (?, ?, ?, ?, ?)').run(i, r.time_ns, r.kind, text, hashLeaf(Buffer.from(text)));
      });
      db.prepare('DELETE FROM checkpoints').run();
    })();
    db.close();
    await startCp(data);
    await until(`the agent raises vigil:audit-log-inconsistent (agent: ${agent?.err()})`, () => witnessAlerts().length > 0, 20000);
    const a = witnessAlerts()[0];
    assert.equal(a.priority, 'critical');
    assert.equal(a.node, NODE);
    assert.equal(a.event.kind, 'audit_log_inconsistent');
    assert.equal(a.event.problem, 'inconsistent');
    assert.match(a.event.reason, new RegExp(`is not an extension of the one of ${m} entries seen before .*: it was rewritten`));
    assert.equal(a.event.held_checkpoint, heldNote);
    assert.ok(readCheckpointUnsigned(a.event.offered_checkpoint).size >= m);
    // the agent keeps what it held, and its alert reached the (rewritten) control plane's store
    assert.equal(held(state), m);
    await until('the alert is stored by the control plane', () => {
      const r = new Database(path.join(data, 'vigil.db'), { readonly: true });
      try {
        return (r.prepare("SELECT COUNT(*) FROM alerts WHERE rule = 'vigil:audit-log-inconsistent'").pluck().get() as number) > 0;
      } finally {
        r.close();
      }
    });
  });

  it('a store rolled back (every entry and checkpoint deleted): the agent names the rollback', async () => {
    const { data, state, m } = await grownThenStopped('rollback');
    const db = new Database(path.join(data, 'vigil.db'));
    db.exec('DELETE FROM audit_log; DELETE FROM checkpoints; DELETE FROM alerts; DELETE FROM agents;');
    db.close();
    await startCp(data);
    await until(`the agent raises vigil:audit-log-inconsistent (agent: ${agent?.err()})`, () => witnessAlerts().length > 0, 20000);
    const a = witnessAlerts()[0];
    assert.equal(a.event.problem, 'rollback');
    assert.match(a.event.reason, new RegExp(`went back from ${m} entries to \\d+: entries were removed \\(rollback\\)`));
    assert.equal(held(state), m);
  });
});
