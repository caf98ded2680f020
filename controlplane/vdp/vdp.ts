// The control plane's vulnerability-disclosure process: advisories in
// (imports, `vigil advisories add`, a watched directory), matched against
// the reachability store on every import and every rescan, tickets for
// what is affected and resolutions for what is not, alerts forwarded to the
// ticket sinks and to the outputs (each from its own mark in the store: a
// receiver that is down loses nothing and holds up nothing), quarantine.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Backoff } from '../../common/backoff';
import { errorMessage } from '../../common/errors';
import { openOutput, priorityAtLeast, type OutputConfig } from '../../common/outputs/config';
import { alertView, type Output } from '../../common/outputs/output';
import { nowNs, rfc3339Nanos } from '../../common/time';
import type { Store } from '../store';
import { TicketEngine, type EngineCounters } from '../tickets/engine';
import { alertFacts, alertFindings, vulnerabilityFindings, vulnerabilityFingerprint, type AlertFacts } from '../tickets/findings';
import type { Advisory } from './advisory';
import { parseAdvisories } from './advisory-parse';
import { VDP_DEFAULTS, type VdpConfig } from './config';
import { reachInventory, type ImageInventory } from './inventory';
import { matchAll, type Match } from './match';
import { checkAllow, QUARANTINE_FILE, quarantineRules } from './quarantine';
import { VdpStore, type ImportResult, type QuarantineRow } from './vdp-store';

export interface VdpCounters extends EngineCounters {
  imported(n: number): void;
  outputDelivered(output: string, n: number): void;
  outputFailed(output: string): void;
}

export interface VdpOptions {
  store: Store;
  config: VdpConfig | null;
  log: (line: string) => void;
  counters?: VdpCounters;
  /** for tests: an inventory other than the reachability store */
  inventory?: ImageInventory;
  /** sign and push a policy of these files (the query service's push); returns its version */
  pushPolicy?: (files: { name: string; text: string }[], by: string) => number;
}

const CP_NODE = 'controlplane';

export class Vdp {
  readonly db: VdpStore;
  readonly inventory: ImageInventory;
  readonly engine: TicketEngine;
  private readonly config: VdpConfig;
  private readonly outputs: { output: Output; c: OutputConfig; backoff: Backoff; waitUntil: number }[];
  private timers: NodeJS.Timeout[] = [];
  private watcher: fs.FSWatcher | null = null;
  private forwarding = false;
  private lastAlertBatch = 0;
  private seenFiles = new Map<string, number>();

  constructor(private readonly o: VdpOptions) {
    this.db = new VdpStore(o.store.db, (fn) => o.store.audited(fn));
    this.inventory = o.inventory ?? reachInventory(o.store.reach);
    this.config = o.config ?? { ...VDP_DEFAULTS, advisoriesDir: null, sinks: [], outputs: [] };
    this.engine = new TicketEngine({ store: this.db, sinks: this.config.sinks, log: o.log, counters: o.counters });
    this.outputs = this.config.outputs.map((c) => ({ output: openOutput(c), c, backoff: new Backoff(500, 60_000, 'full'), waitUntil: 0 }));
    // alerts stored before this control plane had outputs or sinks are not replayed to them
    const last = this.lastAlertId();
    for (const x of this.outputs) if (this.db.mark(`output:${x.c.name}`) < 0) this.db.setMark(`output:${x.c.name}`, last);
    if (this.db.mark('tickets') < 0) this.db.setMark('tickets', last);
  }

  start(): void {
    this.engine.start();
    this.rescan();
    const every = (ms: number, f: () => void): void => {
      const t = setInterval(f, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.config.rescanMs, () => this.rescan());
    every(500, () => void this.forward());
    if (this.config.advisoriesDir) {
      const dir = this.config.advisoriesDir;
      fs.mkdirSync(dir, { recursive: true });
      this.scanDir(dir);
      try {
        this.watcher = fs.watch(dir, () => this.scanDir(dir));
      } catch (err) {
        this.o.log(`advisories: cannot watch ${dir} (${errorMessage(err)}): read at each rescan`);
      }
      every(this.config.rescanMs, () => this.scanDir(dir));
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.watcher?.close();
    await this.engine.close();
    await Promise.all(this.outputs.map((x) => x.output.close()));
  }

  private lastAlertId(): number {
    const r = this.o.store.db.prepare('SELECT MAX(id) AS m FROM alerts').get() as { m: number | null };
    return r.m ?? 0;
  }

  // ---- advisories ------------------------------------------------------------------

  /** Import advisory files' texts; each file whole or not at all. */
  importFiles(files: readonly { name: string; text: string }[], by: string): ImportResult & { errors: string[]; matches: number } {
    const total: ImportResult = { added: 0, updated: 0, unchanged: 0 };
    const errors: string[] = [];
    for (const f of files) {
      try {
        const { advisories } = parseAdvisories(f.name, f.text);
        const r = this.db.importAdvisories(advisories, by, f.name);
        total.added += r.added;
        total.updated += r.updated;
        total.unchanged += r.unchanged;
      } catch (err) {
        errors.push(errorMessage(err));
      }
    }
    this.o.counters?.imported(total.added + total.updated);
    const matches = this.rescan();
    return { ...total, errors, matches };
  }

  add(a: Advisory, by: string): ImportResult & { matches: number } {
    const r = this.db.importAdvisories([a], by, a.origin);
    this.o.counters?.imported(r.added + r.updated);
    return { ...r, matches: this.rescan() };
  }

  private scanDir(dir: string): void {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
    } catch {
      return;
    }
    const files: { name: string; text: string }[] = [];
    for (const n of names) {
      const p = path.join(dir, n);
      try {
        const st = fs.statSync(p);
        if (!st.isFile() || this.seenFiles.get(p) === st.mtimeMs) continue;
        this.seenFiles.set(p, st.mtimeMs);
        files.push({ name: p, text: fs.readFileSync(p, 'utf8') });
      } catch {
        continue;
      }
    }
    if (!files.length) return;
    const r = this.importFiles(files, 'watched directory');
    this.o.log(`advisories: ${files.length} files from ${dir}: ${r.added} new, ${r.updated} updated${r.errors.length ? `; refused: ${r.errors.join('; ')}` : ''}`);
  }

  // ---- matching and tickets ----------------------------------------------------------

  /** Match every advisory against the fleet; tickets follow what changed. Returns the number of matches. */
  rescan(): number {
    let matches: Match[];
    try {
      matches = matchAll(this.db.advisories(), this.inventory, { minWindowMs: this.config.minWindowMs });
    } catch (err) {
      this.o.log(`advisories: matching failed: ${errorMessage(err)}`);
      return 0;
    }
    const { changed, gone } = this.db.putMatches(matches);
    if (changed.length === 0 && gone.length === 0) return matches.length;
    const touched = new Set([...changed, ...gone].map((m) => vulnerabilityFingerprint(m.advisory, m.digest)));
    const findings = vulnerabilityFindings(matches).filter((f) => touched.has(f.fingerprint));
    for (const f of findings) {
      if (f.status === 'not_affected') this.engine.resolve(f.fingerprint, f.evidence);
      else this.engine.submit(f);
    }
    // a fingerprint with no match left: the component was upgraded or removed
    const still = new Set(findings.map((f) => f.fingerprint));
    for (const fp of touched) if (!still.has(fp)) this.engine.resolve(fp, 'No component of the image matches the advisory any more (upgraded or removed).');
    return matches.length;
  }

  matches(digest?: string): Match[] {
    return this.db.matches(digest);
  }

  // ---- alerts to sinks and outputs ---------------------------------------------------

  private async forward(): Promise<void> {
    if (this.forwarding) return;
    this.forwarding = true;
    try {
      const now = Date.now();
      for (const x of this.outputs) {
        if (x.waitUntil > now) continue;
        const name = `output:${x.c.name}`;
        const mark = this.db.mark(name);
        const rows = this.o.store.queryAlerts({ afterId: mark, limit: 500 });
        if (!rows.length) continue;
        const send = rows.map((r) => r.json).filter((j) => priorityAtLeast(alertView(j).priority, x.c.minPriority));
        try {
          if (send.length) await x.output.deliver(send);
          this.db.setMark(name, rows[rows.length - 1].id);
          x.backoff.reset();
          this.o.counters?.outputDelivered(x.c.name, send.length);
        } catch (err) {
          const d = x.backoff.next();
          x.waitUntil = Date.now() + d;
          this.o.counters?.outputFailed(x.c.name);
          this.o.log(`output ${x.c.name}: ${errorMessage(err)}; the alerts stay in the store, retrying in ${d} ms`);
        }
      }
      if (this.engine.sinkNames().length && now - this.lastAlertBatch >= this.config.alertBatchMs) {
        this.lastAlertBatch = now;
        const mark = this.db.mark('tickets');
        const rows = this.o.store.queryAlerts({ afterId: mark, limit: 10_000 });
        if (rows.length) {
          const facts = rows.map((r) => alertFacts(r.json)).filter((f): f is AlertFacts => f !== null);
          for (const f of alertFindings(facts, this.config.groupBy)) this.engine.submit(f);
          this.db.setMark('tickets', rows[rows.length - 1].id);
        }
      }
    } finally {
      this.forwarding = false;
    }
  }

  // ---- quarantine ------------------------------------------------------------------------

  quarantines(): QuarantineRow[] {
    return this.db.quarantines();
  }

  /** The rules file of the quarantines in force (added to every policy push), null if none. */
  quarantineFile(): { name: string; text: string } | null {
    const text = quarantineRules(this.db.quarantines());
    return text ? { name: QUARANTINE_FILE, text } : null;
  }

  /** The latest policy's own files (without the generated quarantine file). */
  private policyFiles(): { name: string; text: string }[] {
    const p = this.o.store.latestPolicy();
    if (!p) return [];
    const payload = JSON.parse(p.payload.toString()) as { files: { name: string; text: string }[] };
    return payload.files.filter((f) => f.name !== QUARANTINE_FILE);
  }

  private repush(by: string): number {
    if (!this.o.pushPolicy) throw new Error('this control plane cannot push policy (no policy signing key)');
    const q = this.quarantineFile();
    return this.o.pushPolicy([...this.policyFiles(), ...(q ? [q] : [])], by);
  }

  /** Quarantine the running workloads of an image; audited; an alert and a ticket comment. */
  quarantine(req: { digest: string; workloads: string[]; allow: string[]; reason: string }, by: string): { version: number; workloads: string[] } {
    const bad = checkAllow(req.allow);
    if (bad.length) throw new Error(`--allow: ${bad.join('; ')}`);
    const img = this.inventory.images().find((i) => i.digest === req.digest);
    const workloads = [...new Set([...this.inventory.runners(req.digest).workloads, ...req.workloads])].sort();
    if (workloads.length === 0) throw new Error(`no workload is known to run ${req.digest}: name them with --workload SPIFFE_ID`);
    const image = img?.name ?? '';
    const version = this.db.setQuarantine({ digest: req.digest, image, workloads, allow: req.allow, reason: req.reason, by }, () => this.repush(by));
    const text = `Vigil: quarantined by ${by} (policy v${version}): workloads ${workloads.join(', ')} of image ${image || req.digest} may connect only to ${req.allow.length ? req.allow.join(', ') : 'nothing'}. Reason: ${req.reason}`;
    this.note(req.digest, text);
    this.raise('vigil:quarantine', 'critical', `image ${image || req.digest} quarantined by ${by}: egress of ${workloads.join(', ')} denied except ${req.allow.join(', ') || 'nothing'} (${req.reason})`, { digest: req.digest, workloads, allow: req.allow, by });
    this.o.log(text);
    return { version, workloads };
  }

  lift(digest: string, reason: string, by: string): number {
    const version = this.db.setQuarantine({ lift: digest, by, reason }, () => this.repush(by));
    const text = `Vigil: quarantine of ${digest} lifted by ${by} (policy v${version}). Reason: ${reason}`;
    this.note(digest, text);
    this.raise('vigil:quarantine-lifted', 'notice', `quarantine of ${digest} lifted by ${by} (${reason})`, { digest, by });
    this.o.log(text);
    return version;
  }

  private note(digest: string, text: string): void {
    const advisories = new Set(this.db.matches(digest).map((m) => m.advisory));
    for (const a of advisories) this.engine.note(vulnerabilityFingerprint(a, digest), text);
  }

  /** An alert the control plane raises itself (stored like an agent's: it reaches every output). */
  private raise(rule: string, priority: string, output: string, data: Record<string, unknown>): void {
    const time = rfc3339Nanos(BigInt(nowNs()));
    const seq = this.o.store.storedSequence(CP_NODE, 'controlplane') + 1;
    const alert = {
      time,
      rule,
      priority,
      action: 'alert',
      outcome: 'alerted',
      tags: ['vigil', 'quarantine'],
      node: CP_NODE,
      output: `${rule}: ${output}`,
      workload: { spiffe_id: null, cgroup_id: 0, cgroup: null, container_id: null, pod_uid: null, kubernetes: null, image: null },
      process: { pid: 0, ppid: null, exe: null, args: null, uid: 0, exec_id: null, parent_exe: null },
      event: { kind: 'quarantine', ...data },
    };
    this.o.store.insertAlerts([
      { node: CP_NODE, bootId: 'controlplane', sequence: seq, timeNs: nowNs(), rule, priority, action: 'alert', outcome: 'alerted', spiffeId: '', json: JSON.stringify(alert) },
    ]);
  }
}
