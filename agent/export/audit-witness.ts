// The agent as a witness of the control plane's audit log. The control plane
// hands each agent its signed checkpoints (c2sp.org/tlog-checkpoint) with a
// consistency proof from the last one that agent accepted; the agent checks
// the signature with the pinned log key and that the new tree extends the old
// (RFC 6962), keeps the latest on disk (fsync + rename), and raises
// vigil:audit-log-inconsistent when the log went back (rollback) or was
// rewritten. It then keeps the checkpoint it had: that signed note and the
// one it refused are the evidence, both in the alert.
//
// The first checkpoint is trusted as it comes (there is nothing to compare
// it with); delete the file to accept a log that was reset on purpose.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../../common/errors';
import { checkConsistency, openCheckpoint, type SignedCheckpoint } from '../../common/tlog/checkpoint';
import type { NoteVerifier } from '../../common/tlog/note';
import { agentAlert, type Alert } from './alert';

/** Vigil's own alert: the control plane's audit log is not an extension of what this agent saw. */
export const AUDIT_LOG_INCONSISTENT = 'vigil:audit-log-inconsistent';

export interface CheckpointOffer {
  note: string;
  fromSize: number;
  consistency: readonly Uint8Array[];
}

export interface WitnessResult {
  accepted: boolean;
  alert: Alert | null;
  /** a line for the agent's log, or null */
  log: string | null;
}

export class AuditWitness {
  private readonly file: string;
  private held: SignedCheckpoint | null = null;
  /** alerts already raised (one per refused head, not one per message) */
  private readonly raised = new Set<string>();

  constructor(
    dir: string,
    private readonly key: NoteVerifier,
    private readonly node: string,
    warn: (line: string) => void,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'audit-checkpoint');
    if (!fs.existsSync(this.file)) return;
    const text = fs.readFileSync(this.file, 'utf8');
    try {
      this.held = openCheckpoint(text, key);
    } catch (err) {
      // set aside, named, never silently dropped: the next checkpoint is taken as the first
      const aside = `${this.file}.bad-${Date.now()}`;
      fs.renameSync(this.file, aside);
      warn(`the audit checkpoint ${this.file} does not verify (${errorMessage(err)}): set aside as ${aside}; the next one is trusted as the first`);
    }
  }

  /** The size of the checkpoint held (0: none): what Hello tells the control plane. */
  size(): number {
    return this.held?.size ?? 0;
  }

  /** The checkpoint held (null: none yet). */
  get current(): SignedCheckpoint | null {
    return this.held;
  }

  offer(o: CheckpointOffer): WitnessResult {
    let next: SignedCheckpoint;
    try {
      next = openCheckpoint(o.note, this.key);
    } catch (err) {
      return this.refuse('signature', `a checkpoint that does not verify with the pinned log key ${this.key.name}: ${errorMessage(err)}`, o.note, null);
    }
    const held = this.held;
    if (!held) {
      this.keep(next);
      return { accepted: true, alert: null, log: `audit log witnessed from ${next.size} entries (first checkpoint, trusted as it comes)` };
    }
    // a smaller tree, or the same size with another root, needs no proof to be refused
    if (next.size > held.size && o.fromSize !== held.size) {
      return { accepted: false, alert: null, log: `audit checkpoint of ${next.size} entries proves from ${o.fromSize}, this agent holds ${held.size}: not checked (the next connection proves from ${held.size})` };
    }
    const v = checkConsistency(held, next, next.size > held.size ? o.consistency : []);
    if (!v.ok) return this.refuse(v.kind, v.reason, o.note, held);
    if (next.size > held.size) this.keep(next);
    return { accepted: true, alert: null, log: null };
  }

  private refuse(kind: string, reason: string, offered: string, held: SignedCheckpoint | null): WitnessResult {
    const key = `${kind}\n${offered}`;
    if (this.raised.has(key)) return { accepted: false, alert: null, log: null };
    this.raised.add(key);
    const alert = agentAlert(this.node, {
      rule: AUDIT_LOG_INCONSISTENT,
      priority: 'critical',
      tags: ['vigil', 'audit', 'tampering'],
      output: `the control plane's audit log ${reason}; this agent keeps the checkpoint it held${held ? ` (${held.size} entries)` : ''}`,
      event: {
        kind: 'audit_log_inconsistent',
        problem: kind,
        reason,
        held_checkpoint: held?.note ?? null,
        offered_checkpoint: offered,
      },
    });
    return { accepted: false, alert, log: `audit log ${kind}: ${reason}` };
  }

  /** Persist before believing: write, fsync, rename, fsync the directory. */
  private keep(cp: SignedCheckpoint): void {
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, cp.note);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    const dfd = fs.openSync(path.dirname(this.file), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
    this.held = cp;
  }
}
