// The agent's durable spool: every alert is written (and fsync'ed) before
// it is sent, and stays until the control plane has acknowledged it; after
// a reconnect or a restart the agent sends what is unacknowledged again.
// Bounded: what does not fit is counted and reported, never silently lost.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SpooledAlert } from '../../common/alert-envelope';

export interface SpoolStats {
  depth: number;
  bytes: number;
  overflow: number;
  written: number;
  acked: number;
}

interface State {
  /** per boot id: the last sequence given out, and the last acknowledged */
  boots: Record<string, { last: number; acked: number }>;
}

/**
 * One append-only log file (JSON lines) plus a small state file. Acked
 * records are dropped from memory at once and from disk when the log is
 * compacted (when everything is acknowledged, or on open).
 */
export class Spool {
  private readonly logFile: string;
  private readonly stateFile: string;
  private fd: number;
  private pending: { r: SpooledAlert; size: number }[] = [];
  /** bytes appended to the log since it was last rewritten */
  private logSize = 0;
  private bytes = 0;
  private state: State = { boots: {} };
  private overflow = 0;
  private written = 0;
  private ackedCount = 0;
  private dirty = false;

  constructor(
    readonly dir: string,
    readonly bootId: string,
    private readonly maxRecords = 100_000,
    private readonly maxBytes = 64 << 20,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.logFile = path.join(dir, 'alerts.log');
    this.stateFile = path.join(dir, 'state.json');
    if (fs.existsSync(this.stateFile)) this.state = JSON.parse(fs.readFileSync(this.stateFile, 'utf8')) as State;
    if (!this.state.boots[bootId]) this.state.boots[bootId] = { last: 0, acked: 0 };
    // reload what was not acknowledged before a restart
    if (fs.existsSync(this.logFile)) {
      for (const line of fs.readFileSync(this.logFile, 'utf8').split('\n')) {
        if (!line) continue;
        let r: SpooledAlert;
        try {
          r = JSON.parse(line) as SpooledAlert;
        } catch {
          continue; // a torn last line from a crash mid-write: it was never acknowledged nor counted as sent
        }
        const b = this.state.boots[r.bootId];
        if (b && r.sequence <= b.acked) continue;
        if (b && r.sequence > b.last) b.last = r.sequence;
        // the log is in the order alerts happened: keep it
        this.pending.push({ r, size: line.length + 1 });
        this.bytes += line.length + 1;
      }
    }
    this.fd = -1;
    this.compact();
  }

  /** Give the alert its sequence number and keep it. Returns null (counted) when the spool is full. */
  add(a: Omit<SpooledAlert, 'bootId' | 'sequence'>): SpooledAlert | null {
    const boot = this.state.boots[this.bootId];
    const rec: SpooledAlert = { bootId: this.bootId, sequence: boot.last + 1, ...a };
    const line = JSON.stringify(rec) + '\n';
    if (this.pending.length >= this.maxRecords || this.bytes + line.length > this.maxBytes) {
      this.overflow++;
      return null;
    }
    boot.last++;
    fs.writeSync(this.fd, line);
    this.pending.push({ r: rec, size: line.length });
    this.bytes += line.length;
    this.logSize += line.length;
    this.written++;
    this.dirty = true;
    return rec;
  }

  /** Make everything added so far durable (call before sending it). */
  sync(): void {
    if (!this.dirty) return;
    fs.fsyncSync(this.fd);
    this.saveState();
    this.dirty = false;
  }

  /** Unacknowledged alerts, oldest first. */
  unacked(): SpooledAlert[] {
    return this.pending.map((p) => p.r);
  }

  /** The control plane stored everything of `bootId` up to `sequence`. */
  ack(bootId: string, sequence: number): void {
    const b = this.state.boots[bootId] ?? (this.state.boots[bootId] = { last: sequence, acked: 0 });
    if (sequence <= b.acked) return;
    b.acked = sequence;
    const before = this.pending.length;
    this.pending = this.pending.filter((p) => {
      if (p.r.bootId === bootId && p.r.sequence <= sequence) {
        this.bytes -= p.size;
        return false;
      }
      return true;
    });
    this.ackedCount += before - this.pending.length;
    this.saveState();
    if (this.pending.length === 0) {
      // nothing left to keep: start the log afresh
      fs.ftruncateSync(this.fd, 0);
      this.bytes = 0;
      this.logSize = 0;
    } else if (this.logSize > 2 * this.maxBytes) {
      this.compact();
    }
  }

  stats(): SpoolStats {
    return { depth: this.pending.length, bytes: this.bytes, overflow: this.overflow, written: this.written, acked: this.ackedCount };
  }

  private saveState(): void {
    fs.writeFileSync(this.stateFile + '.tmp', JSON.stringify(this.state));
    fs.renameSync(this.stateFile + '.tmp', this.stateFile);
  }

  /** Rewrite the log with only what is pending, and append to the new one. */
  private compact(): void {
    const tmp = this.logFile + '.tmp';
    const text = this.pending.map((p) => JSON.stringify(p.r) + '\n').join('');
    fs.writeFileSync(tmp, text);
    const fd = fs.openSync(tmp, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.logFile);
    this.saveState();
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = fs.openSync(this.logFile, 'a');
    this.logSize = text.length;
  }

  close(): void {
    this.sync();
    fs.closeSync(this.fd);
  }
}
