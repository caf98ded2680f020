// Signed checkpoints of the audit log (c2sp.org/tlog-checkpoint): after each
// commit that appended entries (at most one a `minIntervalMs`), the control
// plane signs the tree's new head with its log key, keeps it in the store's
// checkpoints table, and hands it to every connected agent with a
// consistency proof from the last one that agent holds (agent-service.ts).
// At start it checks its own store against the last checkpoint it signed, so
// that a store rolled back or rewritten under it is said, counted and not
// hidden (it goes on: the agents, which hold older checkpoints, are the
// witnesses that must see it).
import type Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { errorMessage } from '../common/errors';
import { nowNs } from '../common/time';
import { openCheckpoint, readCheckpointUnsigned, signCheckpoint, type SignedCheckpoint } from '../common/tlog/checkpoint';
import type { NoteSigner, NoteVerifier } from '../common/tlog/note';
import type { AuditLog } from './audit-log';

export interface CheckpointerOptions {
  db: Database.Database;
  log: AuditLog;
  /** null: no log key, nothing is signed (said at start) */
  signer: NoteSigner | null;
  minIntervalMs?: number;
  say: (line: string) => void;
}

export class Checkpointer {
  /** 'checkpoint' (SignedCheckpoint): a new one was signed and stored */
  readonly events = new EventEmitter();
  private latestCp: SignedCheckpoint | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastAt = 0;
  private closed = false;
  /** null: the store extends the last checkpoint signed; else what is wrong */
  readonly startProblem: string | null;
  private readonly ins: Database.Statement;

  constructor(private readonly o: CheckpointerOptions) {
    this.events.setMaxListeners(0);
    this.ins = o.db.prepare('INSERT INTO checkpoints (size, time_ns, note) VALUES (?, ?, ?)');
    const last = o.db.prepare('SELECT note FROM checkpoints ORDER BY id DESC LIMIT 1').pluck().get() as string | undefined;
    let problem: string | null = o.log.damage ? `the audit log is damaged: ${o.log.damage}` : null;
    if (last) {
      try {
        const cp = o.signer ? openCheckpoint(last, o.signer) : { ...readCheckpointUnsigned(last), note: last };
        this.latestCp = cp;
        if (cp.size > o.log.size) problem ??= `the audit log has ${o.log.size} entries but the last checkpoint signed commits to ${cp.size}: entries were removed (a restored backup, or tampering)`;
        else if (!o.log.rootAt(cp.size).equals(cp.root)) problem ??= `the first ${cp.size} entries of the audit log are not those the last checkpoint signed commits to: the log was rewritten`;
      } catch (err) {
        problem ??= `the last stored checkpoint does not open with this control plane's log key: ${errorMessage(err)}`;
      }
    }
    this.startProblem = problem;
    if (problem) o.say(`AUDIT LOG INCONSISTENT: ${problem}; agents holding older checkpoints will raise vigil:audit-log-inconsistent`);
    if (!o.signer) o.say('no log key: audit checkpoints are not signed and agents cannot witness the audit log (vigil certs init writes log.key; --log-key FILE)');
  }

  get signing(): boolean {
    return this.o.signer !== null;
  }

  /** The log's public key (null: no key). */
  verifier(): NoteVerifier | null {
    return this.o.signer;
  }

  /** The newest signed checkpoint (null: none yet, or no key). */
  latest(): SignedCheckpoint | null {
    return this.latestCp;
  }

  /** The log grew: sign soon (at most one checkpoint per minIntervalMs). */
  grew(): void {
    if (!this.o.signer || this.timer || this.closed) return;
    const wait = Math.max(0, this.lastAt + (this.o.minIntervalMs ?? 1000) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.publish();
      } catch (err) {
        this.o.say(`signing an audit checkpoint failed: ${errorMessage(err)}`);
      }
    }, wait);
    this.timer.unref();
  }

  /** Sign the current head now if it is newer than the latest checkpoint; returns the latest. */
  publish(): SignedCheckpoint | null {
    const signer = this.o.signer;
    if (!signer) return null;
    const size = this.o.log.size;
    if (this.latestCp && this.latestCp.size === size && this.latestCp.root.equals(this.o.log.root())) return this.latestCp;
    const cp = signCheckpoint({ origin: signer.name, size, root: this.o.log.root() }, signer);
    this.ins.run(size, nowNs(), cp.note);
    this.latestCp = cp;
    this.lastAt = Date.now();
    this.events.emit('checkpoint', cp);
    return cp;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
