// What we know about each live process: binary, arguments, parent, and an
// exec id (node:ktime:pid) that stays unique when PIDs are reused. Filled
// from exec/fork/exit events, seeded from /proc for processes older than us.
import * as fs from 'node:fs';
import type { ExecEvent, ExitEvent, ForkEvent, KernelEvent, PrivEvent } from '../decode/events';
import { SETID_GID_SYSCALLS } from '../kernel/abi';
import { procExeId, type FileId } from '../enforce/file-ids';
import { procCgroupPath, readProcEntry } from './procfs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  execId: string;
  parentExecId: string | null;
  exe: string;
  args: string[];
  /** real uid and gid: at exec or fork, then after each set*id call that changed them */
  uid: number;
  gid: number;
  comm: string;
  cgroupId: number;
  /** task start, CLOCK_BOOTTIME ns (0 if unknown) */
  startNs: bigint;
  exited: boolean;
  /** the binary's (device, inode) as the kernel names it: from its exec; undefined = not known yet (older than us) */
  exeId?: FileId | null;
}

/** How far up ancestor_binary looks (Falco's proc.aname looks as far; deeper trees are cut here). */
export const ANCESTOR_DEPTH = 32;

/** x86_64 numbers of the fs-id calls (agent/export/trace-record.ts SYSCALL_NAMES) */
const SETFSUID = 122;
const SETFSGID = 123;

export interface ProcessCacheStats {
  live: number;
  exited: number;
  evictions: number;
  seeded: number;
  procLookups: number;
}

export class ProcessCache {
  private readonly live = new Map<number, ProcessInfo>();
  private readonly exited = new Map<number, ProcessInfo>();
  private evictions = 0;
  private seeded = 0;
  private procLookups = 0;

  constructor(
    readonly node: string,
    private readonly maxLive = 65536,
    private readonly maxExited = 4096,
  ) {}

  /** Learn every process that exists now (call before starting the probe). */
  seedFromProc(procRoot = '/proc', cgroupIdOfPath?: (rel: string) => number | undefined): number {
    let n = 0;
    for (const name of fs.readdirSync(procRoot)) {
      if (!/^\d+$/.test(name)) continue;
      const info = readProcEntry(Number(name), this.node, procRoot, cgroupIdOfPath);
      if (info) {
        this.put(info);
        n++;
      }
    }
    for (const info of this.live.values()) {
      const parent = this.live.get(info.ppid);
      if (parent) info.parentExecId = parent.execId;
    }
    this.seeded += n;
    return n;
  }

  private put(info: ProcessInfo): void {
    this.live.delete(info.pid);
    this.live.set(info.pid, info);
    if (this.live.size > this.maxLive) {
      const oldest = this.live.keys().next().value;
      if (oldest !== undefined) {
        this.live.delete(oldest);
        this.evictions++;
      }
    }
  }

  /** Update from a kernel event. Exec, fork and exit change the cache; others only read. */
  observe(ev: KernelEvent): void {
    switch (ev.kind) {
      case 'exec':
        this.onExec(ev);
        break;
      case 'fork':
        this.onFork(ev);
        break;
      case 'exit':
        this.onExit(ev);
        break;
      default:
        break;
    }
  }

  private onExec(ev: ExecEvent): void {
    const parent = this.get(ev.ppid);
    this.put({
      pid: ev.pid,
      ppid: ev.ppid,
      execId: `${this.node}:${ev.ktimeNs}:${ev.pid}`,
      parentExecId: parent ? parent.execId : null,
      exe: ev.exe,
      args: ev.args,
      uid: ev.uid,
      gid: ev.gid,
      comm: ev.comm,
      cgroupId: ev.cgroupId,
      startNs: ev.startNs,
      exited: false,
      exeId: { dev: ev.exeDev, ino: ev.exeIno },
    });
  }

  private onFork(ev: ForkEvent): void {
    const parent = this.get(ev.pid);
    this.put({
      pid: ev.childPid,
      ppid: ev.pid,
      execId: `${this.node}:${ev.childStartNs}:${ev.childPid}`,
      parentExecId: parent ? parent.execId : null,
      exe: parent ? parent.exe : '',
      args: parent ? parent.args : [],
      uid: ev.uid,
      gid: ev.gid,
      comm: ev.comm,
      cgroupId: ev.cgroupId,
      startNs: ev.childStartNs,
      exited: false,
      exeId: parent?.exeId,
    });
  }

  private onExit(ev: ExitEvent): void {
    const info = this.live.get(ev.pid);
    if (!info) return;
    this.live.delete(ev.pid);
    info.exited = true;
    // keep it a little longer: late lookups (a child's parent_exe) still work
    this.exited.delete(ev.pid);
    this.exited.set(ev.pid, info);
    if (this.exited.size > this.maxExited) {
      const oldest = this.exited.keys().next().value;
      if (oldest !== undefined) this.exited.delete(oldest);
    }
  }

  /**
   * A set*id call (setuid event): true when it succeeded and changed an id,
   * compared with the real ids this cache knows for the process (from its
   * exec or fork, then from earlier set*id calls, which it records); true
   * too when the process is unknown (nothing proves it changed nothing).
   * runc setting up a root container, or root `make` calling setuid(0),
   * change nothing. setfsuid/setfsgid return the previous id instead of an
   * error: changed when it differs from the one asked for.
   */
  setidChanged(ev: PrivEvent): boolean {
    const nr = ev.syscallNr;
    const asked = ev.arg.slice(0, 3).filter((x) => x !== 0xffffffff);
    if (nr === SETFSUID || nr === SETFSGID) return asked.length > 0 && ev.ret !== asked[0];
    if (ev.ret !== 0) return false;
    const p = this.live.get(ev.pid);
    const gidCall = SETID_GID_SYSCALLS.has(nr);
    if (!p) return true;
    const before = gidCall ? p.gid : p.uid;
    const after = gidCall ? ev.gid : ev.uid;
    p.uid = ev.uid;
    p.gid = ev.gid;
    return after !== before || asked.some((id) => id !== before);
  }

  /**
   * The earliest start (CLOCK_BOOTTIME ns) of the processes in a cgroup now,
   * from /proc (processes move between cgroups without telling anyone), or null.
   */
  earliestStartIn(cgroupPath: string, procRoot = '/proc'): bigint | null {
    let min: bigint | null = null;
    for (const name of fs.readdirSync(procRoot)) {
      if (!/^\d+$/.test(name)) continue;
      if (procCgroupPath(Number(name), procRoot) !== cgroupPath) continue;
      const info = this.get(Number(name)) ?? readProcEntry(Number(name), this.node, procRoot);
      if (info && info.startNs > 0n && (min === null || info.startNs < min)) min = info.startNs;
    }
    return min;
  }

  /**
   * The binary's identity of a known process: from its exec, or (older
   * than us, seeded from /proc) from /proc/PID/exe once asked, while it lives.
   */
  exeIdOf(info: ProcessInfo): FileId | null {
    if (info.exeId !== undefined) return info.exeId;
    info.exeId = info.exited ? null : procExeId(info.pid);
    return info.exeId;
  }

  /**
   * The ancestors of a process, nearest first (parent, grandparent, ...), at
   * most `max`: each one the process this cache saw as the parent at fork or
   * exec. A link is followed only when it is provably the same process (its
   * exec id is the one the child recorded, or, when the child recorded none,
   * it started no later than the child): a parent that exited and whose pid
   * was reused ends the chain instead of lending it a stranger's binary. An
   * ancestor that exited is still found while the cache keeps it (the last
   * 4096 exited processes).
   */
  ancestors(pid: number, max = ANCESTOR_DEPTH): ProcessInfo[] {
    const out: ProcessInfo[] = [];
    let child = this.get(pid);
    while (child && out.length < max && child.ppid > 0 && child.ppid !== child.pid) {
      const parent = this.get(child.ppid);
      if (!parent) break;
      const same = child.parentExecId !== null ? parent.execId === child.parentExecId : parent.startNs > 0n && parent.startNs <= child.startNs;
      if (!same) break;
      out.push(parent);
      child = parent;
    }
    return out;
  }

  get(pid: number): ProcessInfo | undefined {
    return this.live.get(pid) ?? this.exited.get(pid);
  }

  /** get(), falling back to /proc for a process we never saw (events lost, or filtered). */
  lookup(pid: number): ProcessInfo | undefined {
    const hit = this.get(pid);
    if (hit) return hit;
    this.procLookups++;
    const info = readProcEntry(pid, this.node);
    if (info) this.put(info);
    return info;
  }

  stats(): ProcessCacheStats {
    return {
      live: this.live.size,
      exited: this.exited.size,
      evictions: this.evictions,
      seeded: this.seeded,
      procLookups: this.procLookups,
    };
  }
}
