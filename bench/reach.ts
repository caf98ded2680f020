// Runtime reachability: what 10,000 distinct files loaded by one image cost
// in memory, at each place that keeps them: the kernel's code_seen LRU
// (preallocated: its size is fixed, this says what 10,000 entries of it
// are), the agent (the tracker's state in the JS heap, and its state file),
// and the control plane (rows in SQLite). Not a test: a table and JSON.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { KernelEvent } from '../agent/decode/events';
import { Probe } from '../agent/kernel/probe';
import { ReachTracker } from '../agent/reach/tracker';
import type { WorkloadInfo } from '../agent/workload/resolver';
import { Store } from '../controlplane/store';

export interface ReachMemoryReport {
  files: number;
  kernel: { map_max_entries: number; map_memlock_bytes: number; bytes_per_entry: number; bytes_per_10k_files: number };
  agent: { heap_bytes_per_10k_files: number; state_file_bytes_per_10k_files: number };
  controlplane: { sqlite_bytes_per_10k_files: number };
}

const FILES = 10_000;
const DIGEST = `sha256:${'b'.repeat(64)}`;

function gc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** The code_seen map's fdinfo (memlock: what the kernel charges for it). */
function codeSeenMemlock(): { maxEntries: number; memlock: number } | null {
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:bpf-map') continue;
      const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      const get = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
      // BPF_MAP_TYPE_LRU_HASH = 9, key struct code_key (16 bytes), value u32
      if (get('map_type') === 9 && get('key_size') === 16 && get('value_size') === 4) return { maxEntries: get('max_entries'), memlock: get('memlock') };
    } catch {
      // closed meanwhile
    }
  }
  return null;
}

function codeEvent(i: number): KernelEvent {
  return {
    kind: 'code',
    flags: 0,
    ktimeNs: BigInt(i + 1) * 1000n,
    pid: 4242,
    tid: 4242,
    uid: 0,
    gid: 0,
    cgroupId: 77,
    comm: 'bench',
    workload: 1,
    procFlags: 0,
    path: `/usr/lib/python3/dist-packages/pkg${Math.floor(i / 100)}/module_${i}.cpython-311.pyc`,
    dev: 42,
    ino: BigInt(100000 + i),
    how: 'open',
  } as KernelEvent;
}

export async function runReachMemoryBench(): Promise<ReachMemoryReport> {
  // kernel: load the probes with the code kind and read the map's charge
  let kernel = { map_max_entries: 0, map_memlock_bytes: 0, bytes_per_entry: 0, bytes_per_10k_files: 0 };
  if (process.geteuid?.() === 0) {
    const probe = Probe.load({ kinds: ['exec', 'code'] });
    try {
      const m = codeSeenMemlock();
      if (m) kernel = { map_max_entries: m.maxEntries, map_memlock_bytes: m.memlock, bytes_per_entry: Math.round(m.memlock / m.maxEntries), bytes_per_10k_files: Math.round((m.memlock / m.maxEntries) * FILES) };
    } finally {
      await probe.close();
    }
  }

  // agent: the tracker's state for one image, one container
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-reach-'));
  try {
    const info: WorkloadInfo = {
      spiffeId: 'spiffe://bench/ns/a/sa/b',
      cgroupId: 77,
      cgroup: null,
      containerId: 'c'.repeat(64),
      podUid: null,
      kubernetes: null,
      image: { name: 'registry.example/bench', tag: null, digest: DIGEST },
    } as WorkloadInfo;
    const tracker = new ReachTracker({
      node: 'bench',
      stateDir: dir,
      workloadOf: () => info,
      wallNs: (k) => 1_700_000_000_000_000_000n + k,
      cgroupRoot: '/nonexistent',
      continued: false,
      log: () => undefined,
      inventory: async () => ({ packages: [], aliases: [], skipped: {} }),
    });
    const events = Array.from({ length: FILES }, (_, i) => codeEvent(i));
    gc();
    const before = process.memoryUsage().heapUsed;
    tracker.onEvents(events);
    gc();
    const after = process.memoryUsage().heapUsed;
    tracker.save();
    const stateBytes = fs.statSync(path.join(dir, 'reach.json')).size;

    // control plane: those loads as one node's report
    const store = new Store(path.join(dir, 'cp', 'vigil.db'));
    const pageBytes = (): number => {
      const pc = store.db.pragma('page_count', { simple: true }) as number;
      const ps = store.db.pragma('page_size', { simple: true }) as number;
      return pc * ps;
    };
    const cp0 = pageBytes();
    for (const m of tracker.messages()) {
      const r = m.reach;
      if (!r) continue;
      store.reach.recordReport({
        node: 'bench',
        run: String(r.run),
        digest: String(r.digest),
        name: String(r.name ?? ''),
        aliases: null,
        watches: (r.watches ?? []).map((w) => ({
          container: String(w.container),
          workload: String(w.workload ?? ''),
          since_ns: String(w.since_unix_nano),
          until_ns: String(w.until_unix_nano),
          lost: Number(w.lost ?? 0),
          lost_at_ns: String(w.lost_at_unix_nano ?? '0'),
          loads: (w.loads ?? []).map((l) => ({ path: String(l.path), first_ns: String(l.first_unix_nano), how: String(l.how), processes: Number(l.processes) })),
        })),
      });
    }
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const cpBytes = pageBytes() - cp0;
    store.close();
    return {
      files: FILES,
      kernel,
      agent: { heap_bytes_per_10k_files: after - before, state_file_bytes_per_10k_files: stateBytes },
      controlplane: { sqlite_bytes_per_10k_files: cpBytes },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function reachMemoryTable(r: ReachMemoryReport): string {
  const kb = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;
  return [
    `kernel: code_seen LRU, ${r.kernel.map_max_entries} entries preallocated, ${kb(r.kernel.map_memlock_bytes)} charged: ${r.kernel.bytes_per_entry} B/entry = ${kb(r.kernel.bytes_per_10k_files)} per ${r.files} files`,
    `agent: ${kb(r.agent.heap_bytes_per_10k_files)} of JS heap and ${kb(r.agent.state_file_bytes_per_10k_files)} of state file per ${r.files} files of one image`,
    `control plane: ${kb(r.controlplane.sqlite_bytes_per_10k_files)} of SQLite per ${r.files} files of one image (one node, one container)`,
  ].join('\n');
}
