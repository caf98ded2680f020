// Runtime reachability on the node: per image digest, the containers of it
// watched and the files their processes loaded (code events from the
// kernel, executions, /proc/PID/maps), reported to the control plane until
// acknowledged, and kept in the state directory so that a restart of the
// agent or of the control plane loses nothing.
//
//   - a container is watched from the first time the agent sees it (an event
//     of it, or the start-up scan of /proc) until its cgroup is gone;
//   - an agent that took over its predecessor's pinned kernel state (the ring
//     kept filling while no agent ran) continues its run: the watches keep
//     their start, nothing was missed; one that did not starts a new run, and
//     the control plane sees the hole between the runs as a gap;
//   - a code or exec record the kernel or the reader dropped may have been a
//     load: every watch of the run gets a loss (the control plane restarts
//     the observation window there);
//   - the image's own package databases are read once per digest per run
//     (agent/reach/package-db.ts) and sent as its inventory.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { readStateFile, writeFileDurable } from '../../common/durable-file';
import * as path from 'node:path';
import { canonicalJson } from '../../common/canonical-json';
import { errorMessage } from '../../common/errors';
import type { AgentMessage } from '../../common/proto/generated/vigil/v1/AgentMessage';
import type { KernelEvent } from '../decode/events';
import type { WorkloadInfo } from '../workload/resolver';
import { Worker } from 'node:worker_threads';
import type { Inventory } from './package-db';
import { readProcMaps } from './proc-maps';

export interface ReachTrackerOptions {
  node: string;
  /** where reach.json lives (the agent's state directory) */
  stateDir: string;
  /** cgroup id -> workload (with its image) */
  workloadOf: (cgroupId: number) => WorkloadInfo;
  /** wall-clock ns of a kernel (boot-time) timestamp */
  wallNs: (ktimeNs: bigint) => bigint;
  /** the cgroup v2 mount (a watch ends when its cgroup is gone) */
  cgroupRoot: string;
  /** the kernel state was taken over from a previous agent (pinned): this run continues that one */
  continued: boolean;
  procRoot?: string;
  now?: () => bigint;
  log: (line: string) => void;
  /** read the image's package databases (default: agent/reach/package-db.ts through /proc/PID/root, in a worker thread) */
  inventory?: (pid: number) => Promise<Inventory>;
  /** loads per report (the control plane takes up to 20000) */
  maxLoadsPerReport?: number;
}

interface Load {
  first: string;
  how: string;
  pids: number[];
  /** the processes count last acknowledged by the control plane (0: never) */
  acked: number;
}

interface Watch {
  container: string;
  workload: string;
  cgroup: string | null;
  since: string;
  until: string;
  lost: number;
  lostAt: string;
  ended: boolean;
  loads: Record<string, Load>;
}

interface ImageState {
  name: string;
  watches: Record<string, Watch>;
  aliases: { link: string; target: string }[] | null;
  aliasesSent: boolean;
}

interface RunState {
  run: string;
  images: Record<string, ImageState>;
}

interface StateFile {
  version: 1;
  node: string;
  /** the run in progress, then earlier runs with unacknowledged data */
  runs: RunState[];
  /** kernel + reader loss counters last seen (pinned kernel counters continue across agents) */
  lossSeen: number;
}

export interface ReachStats {
  images: number;
  containers: number;
  files: number;
  unacked: number;
  reports: number;
  refused: number;
  lossMarks: number;
  mapsRead: number;
  unconfirmed: number;
  inventories: number;
}

const MAX_PIDS = 64;
/** files and packages per inventory message (paths average well under 100 bytes: about 1.5 MiB) */
const INVENTORY_PART_FILES = 15_000;
const INVENTORY_PART_PACKAGES = 2_000;
/** bytes of paths in one report */
const REPORT_PATH_BYTES = 1 << 20;
const MAX_FILES_PER_CONTAINER = 200_000;

export class ReachTracker {
  private state: StateFile;
  private dirty = false;
  private nextId = 1;
  /** report id -> what it carried (acknowledged: mark) */
  private readonly inflight = new Map<string, { run: string; digest: string; loads: [string, string, number][] } | { inventory: string }>();
  /** per digest: inventory sent this run (id) or done */
  private readonly inventories = new Map<string, 'sent' | 'done'>();
  /** (container, program) pairs whose maps were read after an exec */
  private readonly mapsRead = new Set<string>();
  /** inventories not acknowledged yet (id -> message), and those written on the current stream */
  private readonly unackedInventories = new Map<string, AgentMessage>();
  private readonly sentOnStream = new Set<string>();
  readonly stats: ReachStats = { images: 0, containers: 0, files: 0, unacked: 0, reports: 0, refused: 0, lossMarks: 0, mapsRead: 0, unconfirmed: 0, inventories: 0 };
  private readonly file: string;
  private readonly now: () => bigint;

  constructor(private readonly o: ReachTrackerOptions) {
    this.file = path.join(o.stateDir, 'reach.json');
    this.now = o.now ?? ((): bigint => BigInt(Date.now()) * 1_000_000n);
    const saved = this.load();
    if (saved && saved.node === o.node && saved.runs.length) {
      if (o.continued) {
        this.state = saved;
      } else {
        // a new run; what the earlier ones saw is still sent until acknowledged, their watches end where they were last seen
        for (const r of saved.runs) for (const img of Object.values(r.images)) for (const w of Object.values(img.watches)) w.ended = true;
        this.state = { version: 1, node: o.node, runs: [{ run: randomUUID(), images: {} }, ...saved.runs], lossSeen: saved.lossSeen };
      }
    } else {
      this.state = { version: 1, node: o.node, runs: [{ run: randomUUID(), images: {} }], lossSeen: -1 };
    }
    this.dirty = true;
  }

  get run(): string {
    return this.state.runs[0].run;
  }

  private load(): StateFile | null {
    // a damaged file is kept aside (named), not overwritten by the next save
    const r = readStateFile(this.file, (text) => {
      const j = JSON.parse(text) as StateFile;
      if (j.version !== 1 || !Array.isArray(j.runs)) throw new Error('not a reach state file of this version');
      return j;
    });
    if (r.state === 'corrupt') this.o.log(`reach: ${this.file} not used (${r.problem}); set aside as ${r.setAside}; starting a new run`);
    return r.state === 'ok' ? r.value : null;
  }

  private savedAt = 0;

  /** Write the state (atomically) when it changed, and at least once a minute while watches move on. */
  save(): void {
    if (!this.dirty && Date.now() - this.savedAt < 60_000) return;
    this.savedAt = Date.now();
    fs.mkdirSync(this.o.stateDir, { recursive: true });
    writeFileDurable(this.file, JSON.stringify(this.state));
    this.dirty = false;
  }

  private watchFor(cgroupId: number, info: WorkloadInfo, at: string): { img: ImageState; w: Watch } | null {
    const digest = info.image?.digest;
    if (!digest) return null;
    const run = this.state.runs[0];
    let img = run.images[digest];
    if (!img) {
      img = run.images[digest] = { name: info.image?.name ?? '', watches: {}, aliases: null, aliasesSent: false };
      this.dirty = true;
    }
    if (!img.name && info.image?.name) img.name = info.image.name;
    const container = info.containerId ?? `cgroup:${info.cgroup ?? cgroupId}`;
    let w = img.watches[container];
    if (!w || w.ended) {
      if (!w) {
        w = img.watches[container] = {
          container,
          workload: info.spiffeId ?? '',
          cgroup: info.cgroup,
          since: at,
          until: at,
          lost: 0,
          lostAt: '0',
          ended: false,
          loads: {},
        };
      } else {
        // the container came back into view (the cgroup check saw it gone too early): watch again from now
        w.ended = false;
        w.since = BigInt(at) < BigInt(w.since) ? at : w.since;
      }
      this.dirty = true;
    }
    return { img, w };
  }

  private addLoad(w: Watch, p: string, how: string, at: string, pid: number): void {
    let l = w.loads[p];
    if (!l) {
      if (Object.keys(w.loads).length >= MAX_FILES_PER_CONTAINER) return;
      l = w.loads[p] = { first: at, how, pids: [], acked: 0 };
      this.dirty = true;
    } else if (BigInt(at) < BigInt(l.first)) {
      l.first = at;
      l.how = how;
      this.dirty = true;
    }
    if (!l.pids.includes(pid) && l.pids.length < MAX_PIDS) {
      l.pids.push(pid);
      this.dirty = true;
    }
  }

  /** A batch from the kernel: code loads, executions (and the maps of a new program). */
  onEvents(evs: readonly KernelEvent[]): void {
    for (const ev of evs) {
      if (ev.kind !== 'code' && ev.kind !== 'exec') continue;
      if (!ev.workload) continue;
      const info = this.o.workloadOf(ev.cgroupId);
      if (!info.image?.digest) continue;
      const at = String(this.o.wallNs(ev.ktimeNs));
      const hit = this.watchFor(ev.cgroupId, info, at);
      if (!hit) continue;
      if (ev.kind === 'code') {
        this.addLoad(hit.w, ev.path, ev.how === 'mprotect' ? 'mmap' : ev.how, at, ev.pid);
      } else {
        this.addLoad(hit.w, ev.exe, 'exec', at, ev.pid);
        // the loader and the program are mapped by the kernel at exec: read them once per program per container
        const key = `${hit.w.container}\u0000${ev.exe}`;
        if (!this.mapsRead.has(key)) {
          this.mapsRead.add(key);
          this.readMaps(ev.pid, hit.w, at);
        }
      }
      this.maybeInventory(info.image.digest, ev.pid);
    }
  }

  private readMaps(pid: number, w: Watch, at: string): void {
    const r = readProcMaps(pid, this.o.procRoot);
    if (!r) return;
    this.stats.mapsRead++;
    this.stats.unconfirmed += r.unconfirmed;
    for (const f of r.files) this.addLoad(w, f.path, f.how, at, pid);
  }

  /** Processes older than the agent: their programs and mappings, from /proc. */
  scanProc(cgroupIdOfPath: (rel: string) => number | undefined): number {
    const procRoot = this.o.procRoot ?? '/proc';
    let n = 0;
    const at = String(this.now());
    for (const name of fs.readdirSync(procRoot)) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      let cg: string;
      try {
        const line = fs.readFileSync(path.join(procRoot, name, 'cgroup'), 'utf8').split('\n').find((l) => l.startsWith('0::'));
        if (!line) continue;
        cg = line.slice(3);
      } catch {
        continue;
      }
      const id = cgroupIdOfPath(cg);
      if (id === undefined) continue;
      const info = this.o.workloadOf(id);
      if (!info.image?.digest) continue;
      const hit = this.watchFor(id, info, at);
      if (!hit) continue;
      this.readMaps(pid, hit.w, at);
      this.maybeInventory(info.image.digest, pid);
      n++;
    }
    return n;
  }

  private maybeInventory(digest: string, pid: number): void {
    if (this.inventories.has(digest)) return;
    this.inventories.set(digest, 'sent');
    let read = this.o.inventory;
    let fd: number | null = null;
    if (!read) {
      // hold the process's root now: it may exit before the worker starts, the descriptor keeps its file system reachable
      try {
        fd = fs.openSync(path.join(this.o.procRoot ?? '/proc', String(pid), 'root'), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      } catch (err) {
        this.inventories.delete(digest);
        this.o.log(`reach: the root of pid ${pid} (${digest}) cannot be opened, another process of the image will be tried: ${errorMessage(err)}`);
        return;
      }
      const held = fd;
      read = () => readInWorker(`/proc/self/fd/${held}`);
    }
    this.reading++;
    read(pid)
      .then((inv) => this.gotInventory(digest, inv))
      .catch((err: unknown) => {
        // another process of the image will be tried
        this.inventories.delete(digest);
        this.o.log(`reach: reading the package databases of ${digest} (pid ${pid}) failed: ${errorMessage(err)}`);
      })
      .finally(() => {
        this.reading--;
        if (fd !== null) fs.closeSync(fd);
      });
  }

  /** package-database reads under way (tests wait for them) */
  reading = 0;

  private gotInventory(digest: string, inv: Inventory): void {
    const img = this.state.runs[0].images[digest];
    if (img) {
      img.aliases = inv.aliases;
      img.aliasesSent = false;
      this.dirty = true;
    }
    const skipped = Object.entries(inv.skipped);
    if (skipped.length) this.o.log(`reach: ${digest}: package databases read with ${skipped.map(([k, v]) => `${v} x ${k}`).join('; ')}`);
    if (inv.packages.length === 0) return;
    const components = inv.packages.map((p) => ({ ref: p.ref, name: p.name, version: p.version, purl: p.purl, type: p.type, files: p.files }));
    // in parts, each well under the control plane's message limit (4 MiB): by files, and by packages
    const parts: (typeof components)[] = [];
    let cur: typeof components = [];
    let files = 0;
    for (const c of components) {
      // a package with more files than a part holds is split: the control plane joins its files again by ref
      let rest = c.files;
      do {
        if (cur.length && (files >= INVENTORY_PART_FILES || cur.length >= INVENTORY_PART_PACKAGES)) {
          parts.push(cur);
          cur = [];
          files = 0;
        }
        const take = rest.slice(0, INVENTORY_PART_FILES - files);
        rest = rest.slice(take.length);
        cur.push({ ...c, files: take });
        files += take.length;
      } while (rest.length);
    }
    if (cur.length) parts.push(cur);
    const set = randomUUID();
    parts.forEach((part, i) => {
      const id = String(this.nextId++);
      this.inflight.set(id, { inventory: digest });
      this.unackedInventories.set(id, { inventory: { id, digest, name: img?.name ?? '', sha256: '', components: part, set, part: i, parts: parts.length } });
    });
    this.stats.inventories++;
  }

  /**
   * Loss counters of the kernel and the reader for code and exec records (cumulative).
   * An increase marks a loss on every live watch.
   */
  noteLosses(total: number): void {
    const seen = this.state.lossSeen;
    this.state.lossSeen = total;
    this.dirty = this.dirty || seen !== total;
    if (seen < 0 || total <= seen) return;
    const at = String(this.now());
    this.stats.lossMarks++;
    for (const img of Object.values(this.state.runs[0].images)) {
      for (const w of Object.values(img.watches)) {
        if (w.ended) continue;
        w.lost += total - seen;
        w.lostAt = at;
      }
    }
  }

  /** Move every live watch's end to now, and end those whose cgroup is gone. */
  tick(): void {
    const at = String(this.now());
    for (const img of Object.values(this.state.runs[0].images)) {
      for (const w of Object.values(img.watches)) {
        if (w.ended) continue;
        w.until = at;
        // the end of a watch alone is written at most once a minute (save): a restart in between re-reads it from the kernel's continuity
        if (w.cgroup !== null && !fs.existsSync(path.join(this.o.cgroupRoot, w.cgroup))) {
          w.ended = true;
          this.dirty = true;
        }
      }
    }
  }

  /** What to send now: inventories, then one report per (run, image) with the loads not acknowledged yet. */
  messages(): AgentMessage[] {
    const out: AgentMessage[] = [];
    for (const [id, m] of this.unackedInventories) {
      if (this.sentOnStream.has(id)) continue;
      this.sentOnStream.add(id);
      out.push(m);
    }
    const max = this.o.maxLoadsPerReport ?? 5000;
    for (const r of this.state.runs) {
      for (const [digest, img] of Object.entries(r.images)) {
        let budget = max;
        // and by size: every message stays well under the control plane's limit (4 MiB)
        let bytes = 0;
        const loads: [string, string, number][] = [];
        const watches = Object.values(img.watches).map((w) => {
          const ls: { path: string; first_unix_nano: string; how: string; processes: number }[] = [];
          for (const [p, l] of Object.entries(w.loads)) {
            if (budget <= 0 || bytes > REPORT_PATH_BYTES) break;
            if (l.acked >= l.pids.length && l.acked > 0) continue;
            bytes += Buffer.byteLength(p) + 64;
            ls.push({ path: p, first_unix_nano: l.first, how: l.how, processes: Math.max(1, l.pids.length) });
            loads.push([w.container, p, Math.max(1, l.pids.length)]);
            budget--;
          }
          return {
            container: w.container,
            workload: w.workload,
            since_unix_nano: w.since,
            until_unix_nano: w.until,
            lost: w.lost,
            lost_at_unix_nano: w.lostAt,
            loads: ls,
          };
        });
        // an earlier run with nothing left to say is not repeated
        if (r !== this.state.runs[0] && loads.length === 0) continue;
        const id = String(this.nextId++);
        this.inflight.set(id, { run: r.run, digest, loads });
        out.push({
          reach: {
            id,
            run: r.run,
            digest,
            name: img.name,
            watches,
            aliases: img.aliases ?? [],
            aliases_known: img.aliases !== null,
          },
        });
        this.stats.reports++;
      }
    }
    this.stats.unacked = this.inflight.size;
    return out;
  }

  /** The control plane stored (or refused) a report or an inventory. */
  acked(id: string, error: string): void {
    const f = this.inflight.get(id);
    if (!f) return;
    this.inflight.delete(id);
    if (error) {
      this.stats.refused++;
      this.o.log(`reach: the control plane refused report ${id}: ${error}`);
    }
    if ('inventory' in f) {
      this.unackedInventories.delete(id);
      if (![...this.inflight.values()].some((x) => 'inventory' in x && x.inventory === f.inventory)) this.inventories.set(f.inventory, 'done');
      return;
    }
    const r = this.state.runs.find((x) => x.run === f.run);
    const img = r?.images[f.digest];
    if (!r || !img) return;
    for (const [c, p, n] of f.loads) {
      const l = img.watches[c]?.loads[p];
      if (l) l.acked = Math.max(l.acked, n);
    }
    this.dirty = true;
    // an earlier run fully acknowledged is dropped
    this.state.runs = this.state.runs.filter(
      (x, i) => i === 0 || Object.values(x.images).some((im) => Object.values(im.watches).some((w) => Object.values(w.loads).some((l) => l.acked === 0))),
    );
    this.stats.unacked = this.inflight.size;
  }

  /** A new stream: nothing in flight on the old one will be acknowledged; what was not is sent again. */
  reconnected(): void {
    for (const [id, f] of this.inflight) if (!('inventory' in f)) this.inflight.delete(id);
    this.sentOnStream.clear();
  }

  summary(): ReachStats {
    const run = this.state.runs[0];
    this.stats.images = Object.keys(run.images).length;
    this.stats.containers = Object.values(run.images).reduce((n, i) => n + Object.keys(i.watches).length, 0);
    this.stats.files = Object.values(run.images).reduce((n, i) => n + Object.values(i.watches).reduce((m, w) => m + Object.keys(w.loads).length, 0), 0);
    return { ...this.stats };
  }

  /** For tests and `vigil agent` logs: what this node saw of an image. */
  loadedPaths(digest: string): string[] {
    const s = new Set<string>();
    for (const r of this.state.runs) for (const w of Object.values(r.images[digest]?.watches ?? {})) for (const p of Object.keys(w.loads)) s.add(p);
    return [...s].sort();
  }

  /** canonical JSON of the state (tests) */
  snapshot(): string {
    return canonicalJson(this.state);
  }
}

/** readInventory in a worker thread (agent/reach/inventory-worker.ts). */
function readInWorker(root: string): Promise<Inventory> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'inventory-worker.js'), { workerData: { root } });
    w.once('message', (m: { ok: true; inventory: Inventory } | { ok: false; error: string }) => (m.ok ? resolve(m.inventory) : reject(new Error(m.error))));
    w.once('error', reject);
    w.once('exit', (code) => (code !== 0 ? reject(new Error(`the package-database reader exited with ${code}`)) : undefined));
  });
}
