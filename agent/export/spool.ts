// The agent's durable spool: every alert is written (and fsync'ed) before
// it is sent, and stays until the control plane has acknowledged it; after
// a reconnect or a restart the agent sends what is unacknowledged again.
// Acknowledgements name sequence ranges: an alert leaves the spool only when
// a range the control plane stored (or refused for good) covers it, so a
// failed batch is never covered by a later one's ack.
// Bounded: what does not fit is counted and reported, never silently lost.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SpooledAlert } from '../../common/alert-envelope';
import { readStateFile, syncDir, writeFileDurable } from '../../common/durable-file';

export interface SpoolStats {
  depth: number;
  bytes: number;
  overflow: number;
  written: number;
  acked: number;
  /** alerts the control plane refused for good (not valid alerts): dropped, counted */
  refused: number;
  /** lines of the log that could not be read back at start (the log was kept aside) */
  unreadable: number;
}

interface BootState {
  /** the last sequence given out */
  last: number;
  /** every sequence up to here is acknowledged */
  acked: number;
}

interface State {
  boots: Record<string, BootState>;
}

function parseState(text: string): State {
  const j = JSON.parse(text) as unknown;
  const boots = (j as { boots?: unknown } | null)?.boots;
  if (typeof boots !== 'object' || boots === null || Array.isArray(boots)) throw new Error('no "boots" object');
  for (const [id, b] of Object.entries(boots as Record<string, unknown>)) {
    const ok = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
    const s = b as Partial<BootState> | null;
    if (!s || !ok(s.last) || !ok(s.acked)) throw new Error(`boot "${id}": "last" and "acked" must be whole numbers`);
  }
  return j as State;
}

function isSpooled(r: unknown): r is SpooledAlert {
  const a = r as Partial<SpooledAlert> | null;
  return !!a && typeof a.bootId === 'string' && Number.isSafeInteger(a.sequence) && (a.sequence as number) > 0 && typeof a.json === 'string';
}

/**
 * One append-only log file (JSON lines) plus a small state file. Acked
 * records are dropped from memory at once and from disk when the log is
 * compacted (when everything is acknowledged, or on open).
 */
export class Spool {
  private readonly logFile: string;
  private readonly stateFile: string;
  /** the boot id new alerts are numbered under: the boot's, or a fresh one after a lost state file */
  readonly seqBootId: string;
  private fd: number;
  private pending: { r: SpooledAlert; size: number }[] = [];
  /** bytes appended to the log since it was last rewritten */
  private logSize = 0;
  private bytes = 0;
  private state: State = { boots: {} };
  private overflow = 0;
  private written = 0;
  private ackedCount = 0;
  private refusedCount = 0;
  private unreadable = 0;
  /** the log holds records not yet fsync'ed */
  private dirty = false;
  /** the state changed since it was last written */
  private stateDirty = false;
  private stateTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly dir: string,
    readonly bootId: string,
    private readonly maxRecords = 100_000,
    private readonly maxBytes = 64 << 20,
    log: (line: string) => void = () => undefined,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.logFile = path.join(dir, 'alerts.log');
    this.stateFile = path.join(dir, 'state.json');
    const read = readStateFile(this.stateFile, parseState);
    let seqBootId = bootId;
    if (read.state === 'ok') this.state = read.value;
    if (read.state === 'corrupt') {
      // The sequences this boot already gave out are unknown: numbering again
      // from 1 would make new alerts look like resends of stored ones. New
      // alerts get a boot id of their own; the log's alerts are all resent.
      seqBootId = `${bootId}~r${Date.now().toString(36)}`;
      log(`spool: ${this.stateFile} is corrupt (${read.problem}); set aside as ${read.setAside}; every alert in the log is sent again, new alerts are numbered under boot id ${seqBootId}`);
    }
    this.seqBootId = seqBootId;
    // reload what was not acknowledged before a restart
    if (fs.existsSync(this.logFile)) {
      for (const line of fs.readFileSync(this.logFile, 'utf8').split('\n')) {
        if (!line) continue;
        let r: unknown;
        try {
          r = JSON.parse(line);
        } catch {
          r = null;
        }
        if (!isSpooled(r)) {
          // a torn last line from a crash mid-write was never sent; anything else is damage
          this.unreadable++;
          continue;
        }
        const b = this.state.boots[r.bootId] ?? (this.state.boots[r.bootId] = { last: 0, acked: 0 });
        if (r.sequence <= b.acked) continue;
        if (r.sequence > b.last) b.last = r.sequence;
        // the log is in the order alerts happened: keep it
        this.pending.push({ r, size: line.length + 1 });
        this.bytes += line.length + 1;
      }
      if (this.unreadable > 0) {
        const aside = `${this.logFile}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        fs.copyFileSync(this.logFile, aside);
        log(`spool: ${this.unreadable} lines of ${this.logFile} could not be read (a crash mid-write, or damage); the log as found is kept as ${aside}`);
      }
    }
    if (!this.state.boots[seqBootId]) this.state.boots[seqBootId] = { last: 0, acked: 0 };
    this.fd = -1;
    this.compact();
  }

  /** Give the alert its sequence number and keep it. Returns null (counted) when the spool is full. */
  add(a: Omit<SpooledAlert, 'bootId' | 'sequence'>): SpooledAlert | null {
    const boot = this.state.boots[this.seqBootId];
    const rec: SpooledAlert = { bootId: this.seqBootId, sequence: boot.last + 1, ...a };
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
    // the state need not follow: a restart reads the sequences given out back from the log,
    // and the log is emptied only after the state is written
    if (this.dirty) {
      fs.fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  /** Unacknowledged alerts, oldest first. */
  unacked(): SpooledAlert[] {
    return this.pending.map((p) => p.r);
  }

  /** The control plane stored sequences first..last of `bootId`. Returns how many left the spool. */
  ack(bootId: string, first: number, last: number): number {
    const n = this.remove(bootId, first, last);
    this.ackedCount += n;
    return n;
  }

  /** The control plane refused sequences first..last of `bootId` for good (not valid alerts). Returns how many left the spool. */
  refuse(bootId: string, first: number, last: number): number {
    const n = this.remove(bootId, first, last);
    this.refusedCount += n;
    return n;
  }

  /** A control plane of the old protocol: everything of `bootId` up to `sequence` is stored. */
  ackUpTo(bootId: string, sequence: number): number {
    return this.ack(bootId, 1, sequence);
  }

  private remove(bootId: string, first: number, last: number): number {
    if (!(first >= 1 && last >= first)) return 0;
    const hit = (r: SpooledAlert): boolean => r.bootId === bootId && r.sequence >= first && r.sequence <= last;
    // the usual case: the oldest pending alerts, in order
    let k = 0;
    while (k < this.pending.length && hit(this.pending[k].r)) k++;
    let removed = k;
    for (let i = 0; i < k; i++) this.bytes -= this.pending[i].size;
    this.pending.splice(0, k);
    if (this.pending.some((p) => hit(p.r))) {
      const before = this.pending.length;
      this.pending = this.pending.filter((p) => {
        if (!hit(p.r)) return true;
        this.bytes -= p.size;
        return false;
      });
      removed += before - this.pending.length;
    }
    if (removed === 0) return 0;
    // everything of this boot below its oldest pending alert is acknowledged
    const b = this.state.boots[bootId];
    if (b) {
      const oldest = this.pending.find((p) => p.r.bootId === bootId);
      const mark = oldest ? oldest.r.sequence - 1 : b.last;
      if (mark > b.acked) b.acked = mark;
    }
    this.stateDirty = true;
    if (this.pending.length === 0) {
      // nothing left to keep: start the log afresh (the state says what was given out)
      this.saveState();
      fs.ftruncateSync(this.fd, 0);
      this.bytes = 0;
      this.logSize = 0;
    } else if (this.logSize > 2 * this.maxBytes) {
      this.compact();
    } else {
      this.saveStateSoon();
    }
    return removed;
  }

  stats(): SpoolStats {
    return {
      depth: this.pending.length,
      bytes: this.bytes,
      overflow: this.overflow,
      written: this.written,
      acked: this.ackedCount,
      refused: this.refusedCount,
      unreadable: this.unreadable,
    };
  }

  /**
   * Acknowledgements may be written a moment late: a crash before then
   * resends alerts the control plane already has, and it stores each once.
   */
  private saveStateSoon(): void {
    if (this.stateTimer) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      if (this.stateDirty && this.fd >= 0) this.saveState();
    }, 200);
    this.stateTimer.unref();
  }

  private saveState(): void {
    writeFileDurable(this.stateFile, JSON.stringify(this.state));
    this.stateDirty = false;
  }

  /** Rewrite the log with only what is pending, and append to the new one. */
  private compact(): void {
    const tmp = this.logFile + '.tmp';
    const text = this.pending.map((p) => JSON.stringify(p.r) + '\n').join('');
    const fd = fs.openSync(tmp, 'w', 0o600);
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.logFile);
    syncDir(this.dir);
    this.saveState();
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = fs.openSync(this.logFile, 'a');
    this.logSize = text.length;
  }

  close(): void {
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    this.sync();
    if (this.stateDirty) this.saveState();
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}
