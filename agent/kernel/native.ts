// Typed access to the N-API addon (native/) and the BPF objects (bpf/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VigilError } from '../../common/errors';
import { repoRoot } from '../../common/repo';

export interface KindCounters {
  seen: number;
  emitted: number;
  dropped: number;
  busy: number;
  enforced: number;
  /** of dropped: records a user-space kill rule had to judge (PRIO_URGENT) */
  lost: number;
}

export interface ReaderStats {
  recordsRead: number;
  bytesRead: number;
  batchesQueued: number;
  /** report-only records shed in the reader: JS was more than queueDepth batches behind */
  queueDropRecords: number;
  recordsDelivered: number;
  wakeups: number;
  /** life-cycle records (exec, fork, exit, cgroup, migrate) shed: JS was more than holdBytes behind */
  contextDropRecords: number;
  /** of recordsRead: records a user-space kill rule must judge (event_hdr.prio) */
  urgentRecordsRead: number;
  /** of those, shed: JS was more than holdBytes behind (each a decision not made) */
  urgentDropRecords: number;
  /** bytes read and waiting for JS now */
  pendingBytes: number;
}

export interface NativeStats {
  kinds: KindCounters[];
  reader: ReaderStats;
}

/** vigil_config as the addon takes it: every field optional. */
export interface NativeConfig {
  kinds?: number;
  scopedKinds?: number;
  scopeActive?: number;
  selfTgid?: number;
  wakeupBytes?: number;
  killKinds?: number;
  pathKinds?: number;
  pathFilterKinds?: number;
  urgentKinds?: number;
  rulesGen?: number;
  netActive?: number;
  originActive?: number;
  guardOnly?: number;
  /** 1 = open rules that name write, create or trunc judge link, symlink and rename names */
  createActive?: number;
  /** 1 = the timestamp programs record what file calls touched, and sys_exit names it (bpf/touched.bpf.c) */
  resolveActive?: number;
  /** kinds whose file is also looked up by identity (file_rules) */
  idKinds?: number;
  /** 1 = every exec records its binary in task storage */
  exeState?: number;
  /** 1 = a program without an interpreter has its first executable mapping judged as an exec */
  loaderActive?: number;
  /** 1 = rules protect directories by identity (file_rules RM_PREFIX) */
  dirActive?: number;
  /** vigil_config.dir_bloom: 256 bits as eight 32-bit words, low first */
  dirBloom?: number[];
  prefixDepths?: number[];
}

export interface NativeProbeOptions extends NativeConfig {
  object: string;
  cgroupRoot: string;
  /** programs to load */
  programs: string[];
  /** programs to attach now (default: all loaded) */
  attach?: string[];
  ringBytes?: number;
  kinds?: number;
  pollIntervalMs?: number;
  batchBytes?: number;
  queueDepth?: number;
  /** life-cycle and urgent records waiting for JS, in bytes, before they are shed too (default 64 MiB) */
  holdBytes?: number;
  /** max_entries of the cgroups map */
  cgroupsMax?: number;
  /** pin maps and links here (bpffs) so that enforcement outlives this process */
  pinDir?: string;
}

export interface NativeProbe {
  /** onPoke: batches wait (take them); onClosed: after close, once no poke is left */
  start(onPoke: () => void, onClosed: () => void): void;
  /** up to max waiting batches, oldest first; more: some are left and no poke will say so */
  take(max: number): { batches: [number, ArrayBuffer][]; more: boolean };
  pause(): void;
  resume(): void;
  setConfig(cfg: NativeConfig): void;
  updateElems(map: string, keys: Uint8Array, values: Uint8Array): void;
  deleteElems(map: string, keys: Uint8Array): void;
  readMap(map: string): { keys: Uint8Array; values: Uint8Array; count: number };
  /** where the enforcement state is pinned (null: not pinned), and whether a previous agent's was taken over */
  pinned(): { dir: string | null; adopted: boolean };
  updateTask(map: string, pid: number, value: Uint8Array): void;
  attach(name: string): void;
  detach(name: string): void;
  addCgroup(id: bigint, workload: number): void;
  removeCgroup(id: bigint): void;
  stats(): NativeStats;
  attached(): string[];
  /** keepPinned (default true): pinned programs stay attached after us */
  close(keepPinned?: boolean): void;
}

export interface StructLayout {
  size: number;
  fields: Record<string, number>;
}

export interface NativeLayout {
  abiVersion: number;
  constants: Record<string, number>;
  structs: Record<string, StructLayout>;
}

export interface FeatureOutcome {
  program: string;
  section: string;
  loaded: boolean;
  attached: boolean;
  error: string | null;
}

export interface NativeAddon {
  Probe: new (opts: NativeProbeOptions) => NativeProbe;
  layout(): NativeLayout;
  probeFeatures(objectPath: string, cgroupRoot?: string): FeatureOutcome[];
  cgroupPath(cgroupRoot: string, id: bigint): string | null;
  clocks(): { realtimeNs: bigint; boottimeNs: bigint };
  pidfdKill(pid: number, startTicks: number): { ok: true } | { ok: false; reason: string };
  /** remove a pin directory: links (their programs detach), then maps; returns what was removed */
  unpinAll(dir: string): string[];
}

export function bpfObjectPath(name: 'vigil' | 'features' = 'vigil'): string {
  const p = path.join(repoRoot(), 'bpf', 'build', `${name}.bpf.o`);
  if (!fs.existsSync(p)) {
    throw new VigilError('NOT_BUILT', `loading BPF object: ${p} is missing (run \`make -C bpf\` or \`npm install\`)`);
  }
  return p;
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (addon) return addon;
  const p = path.join(repoRoot(), 'build', 'Release', 'vigil_native.node');
  if (!fs.existsSync(p)) {
    throw new VigilError('NOT_BUILT', `loading the native addon: ${p} is missing (run \`npm install\` or \`npm run build\`)`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  addon = require(p) as NativeAddon;
  return addon;
}

/** Records the reader read and shed (every stage of it): read = delivered + shed + waiting. */
export function readerShed(r: ReaderStats): number {
  return r.queueDropRecords + r.contextDropRecords + r.urgentDropRecords;
}
