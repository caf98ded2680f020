// ProbeSpec (what to watch, before load) -> Probe (loaded, attached, streaming).
import * as fs from 'node:fs';
import { EventKind, Flag, KIND_MAX, KIND_NAMES, type KindName } from './abi';
import { cgroupIdOf, cgroupTree, findCgroup2Mount } from './cgroupfs';
import { Decoder, type DecodeStats } from '../decode/decode';
import { VigilError, errorMessage } from '../../common/errors';
import type { KernelEvent } from '../decode/events';
import { bpfObjectPath, native, type KindCounters, type NativeConfig, type NativeProbe, type ReaderStats } from './native';
import { hasBtfTracepoint } from './features';

export interface ProbeSpec {
  /** event kinds the kernel should emit */
  kinds: readonly KindName[];
  /** only these cgroup v2 directories (and their descendants); undefined = every process */
  cgroups?: readonly string[];
  ringBytes?: number;
  /** reader timer: the longest an event waits in the ring buffer when the kernel does not wake us */
  pollIntervalMs?: number;
  /** the kernel wakes the reader once this much is pending */
  wakeupBytes?: number;
  batchBytes?: number;
  /** batches the JS queue holds before the reader counts drops */
  queueDepth?: number;
  /** life-cycle and urgent records waiting for JS, in bytes, before they are shed too (default 64 MiB) */
  holdBytes?: number;
  /** size of the kernel's cgroups map: one entry per cgroup that names a workload of its own (default 16384) */
  maxCgroups?: number;
  /**
   * Pin maps and links under this bpffs directory: kernel kills and denies keep
   * working while no agent runs (stopped, crashed, upgraded), and the next agent
   * takes over what is in force without a gap. Undefined: nothing pinned.
   */
  pinDir?: string;
  /** report the agent's own process too (tests) */
  includeSelf?: boolean;
  /** cgroup v2 mount (default: found in /proc/self/mounts) */
  cgroupRoot?: string;
  /**
   * The agent's mode: load every program (verified once, at start), attach
   * only what `kinds` need, and let the caller fill the cgroups map: with
   * `manualScope`, only cgroups in the map are in scope.
   */
  loadAll?: boolean;
  manualScope?: boolean;
}

export interface ProbeStats {
  kinds: Record<KindName, KindCounters>;
  reader: ReaderStats;
  decode: DecodeStats;
  /** events handed to the consumer */
  delivered: number;
}

const PROCESS_KINDS: readonly KindName[] = ['exec', 'fork', 'exit'];
/** batches taken per turn of the event loop */
const PULL_BATCHES = 4;
const SYSCALL_KINDS: readonly KindName[] = [
  'open', 'unlink', 'rename', 'chmod', 'link', 'symlink', 'ptrace', 'setuid', 'mount', 'module', 'socket',
  'chown', 'setxattr', 'namespace', 'bind', 'listen', 'dup', 'memfd', 'userfaultfd', 'bpf',
];

export const ALL_PROGRAMS = [
  'vigil_exec',
  'vigil_fork',
  'vigil_exit',
  'vigil_sys_exit',
  'vigil_connect4',
  'vigil_connect6',
  'vigil_sendmsg4',
  'vigil_sendmsg6',
  'vigil_cgroup_mkdir',
  'vigil_cgroup_rmdir',
  'vigil_migrate',
  'vigil_sock_create',
  'vigil_io_uring',
  'vigil_loader',
  'vigil_code',
] as const;

/**
 * The timestamp programs (bpf/touched.bpf.c): what a chmod, truncate, rename,
 * link, symlink or unlink touched names it. Those this kernel has (6.13 and
 * later: all three; before, none); without them the names stay as passed.
 */
const RESOLVE_TRACEPOINTS: readonly [string, string][] = [
  ['vigil_ctime_xchg', 'ctime_ns_xchg'],
  ['vigil_ctime_skip', 'ctime_xchg_skip'],
  ['vigil_ctime_set', 'inode_set_ctime_to_ts'],
];
const RESOLVED_KINDS: readonly KindName[] = ['open', 'unlink', 'rename', 'chmod', 'link', 'symlink'];

export function resolvePrograms(): string[] {
  return RESOLVE_TRACEPOINTS.filter(([, tp]) => hasBtfTracepoint(tp)).map(([p]) => p);
}

export function isResolveProgram(p: string): boolean {
  return RESOLVE_TRACEPOINTS.some(([name]) => name === p);
}

/** Every program, for an agent that attaches what its rules need as they change. */
export function allPrograms(): string[] {
  return [...ALL_PROGRAMS, ...resolvePrograms()];
}

/** The BPF programs a set of kinds needs: nothing else is loaded. */
export function programsFor(kinds: readonly KindName[], filterCgroups: boolean): string[] {
  const progs: string[] = [];
  if (kinds.some((k) => RESOLVED_KINDS.includes(k))) progs.push(...resolvePrograms());
  if (kinds.includes('exec')) progs.push('vigil_exec');
  if (kinds.includes('fork')) progs.push('vigil_fork');
  if (kinds.includes('exit')) progs.push('vigil_exit');
  if (kinds.some((k) => SYSCALL_KINDS.includes(k))) progs.push('vigil_sys_exit');
  if (kinds.includes('connect')) progs.push('vigil_connect4', 'vigil_connect6');
  if (kinds.includes('migrate')) progs.push('vigil_migrate');
  if (kinds.includes('io_uring')) progs.push('vigil_io_uring');
  if (kinds.includes('code')) progs.push('vigil_code');
  if (filterCgroups) progs.push('vigil_cgroup_mkdir', 'vigil_cgroup_rmdir');
  return progs;
}

export function kindMask(kinds: readonly KindName[]): number {
  let m = 0;
  for (const k of kinds) m |= 1 << EventKind[k];
  return m;
}

export { PROCESS_KINDS, SYSCALL_KINDS };

export function requirePrivileges(step: string): void {
  if (typeof process.geteuid === 'function' && process.geteuid() !== 0) {
    throw new VigilError(
      'NOT_PRIVILEGED',
      `${step}: needs root (or CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN): running as uid ${process.geteuid()}`,
    );
  }
}

export class Probe {
  readonly cgroupRoot: string;
  readonly kinds: readonly KindName[];
  private readonly nativeProbe: NativeProbe;
  private readonly decoder = new Decoder();
  private delivered = 0;
  private closing: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  private started = false;

  private constructor(spec: ProbeSpec, cgroupRoot: string, nativeProbe: NativeProbe) {
    this.kinds = spec.kinds;
    this.cgroupRoot = cgroupRoot;
    this.nativeProbe = nativeProbe;
  }

  /** Load the BPF object with the programs the spec needs, fill the maps, attach. */
  static load(spec: ProbeSpec): Probe {
    requirePrivileges('loading the BPF probes');
    if (spec.kinds.length === 0) throw new VigilError('BAD_ARGUMENT', 'ProbeSpec.kinds: at least one event kind');
    const cgroupRoot = spec.cgroupRoot ?? findCgroup2Mount();
    const filter = spec.cgroups !== undefined || spec.manualScope === true;
    const addon = native();
    // Monitored cgroups are resolved before load so that a bad path fails early.
    const cgroupIds: number[] = [];
    for (const dir of spec.cgroups ?? []) {
      if (!fs.existsSync(dir)) throw new VigilError('CGROUP_NOT_FOUND', `ProbeSpec.cgroups: ${dir} does not exist`);
      for (const d of cgroupTree(dir)) cgroupIds.push(cgroupIdOf(d));
    }
    let np: NativeProbe;
    try {
      np = new addon.Probe({
        object: bpfObjectPath('vigil'),
        cgroupRoot,
        programs: spec.loadAll ? allPrograms() : programsFor(spec.kinds, filter),
        attach: spec.loadAll ? programsFor(spec.kinds, true) : undefined,
        resolveActive: programsFor(spec.kinds, filter).some(isResolveProgram) ? 1 : 0,
        ringBytes: spec.ringBytes ?? 16 << 20,
        // with a scope, nothing is reported until the map is filled
        kinds: filter ? 0 : kindMask(spec.kinds),
        // the process life cycle is reported everywhere (flagged in or out of
        // scope) so that the process cache knows every binary; the rest is
        // dropped in the kernel outside the scope
        scopedKinds: filter ? kindMask(spec.kinds.filter((k) => !PROCESS_KINDS.includes(k))) : 0,
        scopeActive: filter ? 1 : 0,
        selfTgid: spec.includeSelf ? 0 : process.pid,
        wakeupBytes: spec.wakeupBytes,
        pollIntervalMs: spec.pollIntervalMs ?? 2,
        batchBytes: spec.batchBytes,
        cgroupsMax: spec.maxCgroups,
        pinDir: spec.pinDir,
        queueDepth: spec.queueDepth,
        holdBytes: spec.holdBytes,
      });
    } catch (err) {
      const msg = errorMessage(err);
      const code = /EPERM|EACCES/.test(msg) ? 'NOT_PRIVILEGED' : 'KERNEL';
      throw new VigilError(code, msg, { cause: err });
    }
    const probe = new Probe(spec, cgroupRoot, np);
    try {
      for (const id of cgroupIds) np.addCgroup(BigInt(id), 0);
      // a previous agent's settings stay in force until our rules replace them (no gap)
      if (filter && !np.pinned().adopted) np.setConfig({ kinds: kindMask(spec.kinds) | (spec.loadAll ? 1 << EventKind.cgroup : 0) });
    } catch (err) {
      np.close();
      throw new VigilError('KERNEL', errorMessage(err), { cause: err });
    }
    return probe;
  }

  /** From a monitored cgroup (always true without a cgroup scope). Out-of-scope events are process life cycle only. */
  static inScope(ev: KernelEvent): boolean {
    return (ev.flags & Flag.IN_SCOPE) !== 0;
  }

  attached(): string[] {
    return this.nativeProbe.attached();
  }

  /** Write settings fields (the rest keep their values). */
  configure(cfg: NativeConfig): void {
    this.nativeProbe.setConfig(cfg);
  }

  /** Attach exactly these programs (all must have been loaded). */
  setAttached(programs: readonly string[]): void {
    for (const p of this.nativeProbe.attached()) if (!programs.includes(p)) this.nativeProbe.detach(p);
    for (const p of programs) this.nativeProbe.attach(p);
  }

  updateElems(map: string, keys: Uint8Array, values: Uint8Array): void {
    if (keys.byteLength) this.nativeProbe.updateElems(map, keys, values);
  }

  deleteElems(map: string, keys: Uint8Array): void {
    if (keys.byteLength) this.nativeProbe.deleteElems(map, keys);
  }

  /** Put one cgroup in the map (in scope, with its workload index). */
  setCgroup(id: number, workload: number): void {
    this.nativeProbe.addCgroup(BigInt(id), workload);
  }

  /** Every entry of a map (adoption, checks): keys and values concatenated. */
  readMap(map: string): { keys: Uint8Array; values: Uint8Array; count: number } {
    return this.nativeProbe.readMap(map);
  }

  /** Where the enforcement state is pinned, and whether a previous agent's was taken over. */
  pinned(): { dir: string | null; adopted: boolean } {
    return this.nativeProbe.pinned();
  }

  /** Write a task-storage entry for a live process (by pid, through a pidfd). */
  updateTask(map: string, pid: number, value: Uint8Array): void {
    this.nativeProbe.updateTask(map, pid, value);
  }

  /** Stream decoded events, one array per ring-buffer batch, in ring order. */
  start(onEvents: (events: KernelEvent[]) => void): void {
    this.startRaw((buf) => {
      const events = this.decoder.decodeBatch(buf);
      this.delivered += events.length;
      onEvents(events);
    });
  }

  /**
   * Stream raw batches (benchmarks, tests of the reader): no decoding. The
   * reader pokes when batches wait; a few are taken per turn of the event
   * loop, so that timers and sockets (metrics, the control plane) get their
   * turn while a flood is read (the reader sheds report-only records
   * meanwhile, never the life cycle or what a kill rule must judge).
   */
  startRaw(onBatch: (buf: ArrayBuffer, records: number) => void): void {
    if (this.started) throw new VigilError('BAD_ARGUMENT', 'Probe.start: already started');
    this.started = true;
    this.closing = new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    let scheduled = false;
    const pull = (): void => {
      scheduled = false;
      const { batches, more } = this.nativeProbe.take(PULL_BATCHES);
      // come back for the rest first: a batch whose handling throws must not stall the stream
      if (more) {
        scheduled = true;
        setImmediate(pull);
      }
      for (const [records, buf] of batches) onBatch(buf, records);
    };
    this.nativeProbe.start(
      () => {
        if (!scheduled) pull();
      },
      () => {
        // what the last drain read
        for (;;) {
          const { batches, more } = this.nativeProbe.take(PULL_BATCHES);
          for (const [records, buf] of batches) onBatch(buf, records);
          if (!more) break;
        }
        this.resolveClosed?.();
      },
    );
  }

  /** Stop draining the ring buffer (the kernel then counts what does not fit). */
  pause(): void {
    this.nativeProbe.pause();
  }

  resume(): void {
    this.nativeProbe.resume();
  }

  stats(): ProbeStats {
    const s = this.nativeProbe.stats();
    const kinds = {} as Record<KindName, KindCounters>;
    for (const k of KIND_NAMES) {
      const i = EventKind[k];
      kinds[k] = i < KIND_MAX && s.kinds[i] ? s.kinds[i] : { seen: 0, emitted: 0, dropped: 0, busy: 0, enforced: 0, lost: 0 };
    }
    return { kinds, reader: s.reader, decode: { ...this.decoder.stats }, delivered: this.delivered };
  }

  /**
   * Detach every program (pinned ones stay attached unless unpin), drain the
   * ring buffer, join the reader thread; the promise resolves once every
   * queued batch has reached the consumer.
   */
  close(o: { unpin?: boolean } = {}): Promise<void> {
    if (!this.started) {
      this.nativeProbe.close(!o.unpin);
      this.started = true;
      this.closing = Promise.resolve();
      return this.closing;
    }
    this.nativeProbe.close(!o.unpin);
    return this.closing ?? Promise.resolve();
  }
}
