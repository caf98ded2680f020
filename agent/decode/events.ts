// Decoded kernel events, as the rest of the agent sees them.
import type { AnyKindName } from '../kernel/abi';

export interface EventCommon {
  kind: AnyKindName;
  /** event_hdr.flags (abi.Flag) */
  flags: number;
  /** CLOCK_BOOTTIME, ns */
  ktimeNs: bigint;
  pid: number;
  tid: number;
  uid: number;
  gid: number;
  cgroupId: number;
  comm: string;
  /** proc_ctx.workload: the kernel's workload index for the task (0 = none; agent/workload/workload-table.ts) */
  workload: number;
  /** proc_ctx.pflags (abi.ProcFlag) */
  procFlags: number;
}

export interface ExecEvent extends EventCommon {
  kind: 'exec';
  ppid: number;
  exe: string;
  args: string[];
  argc: number;
  startNs: bigint;
  /** the executed file's identity as the kernel names it: inode number and super block device (kernel encoding) */
  exeIno: bigint;
  exeDev: number;
  exeCtimeNs: bigint;
  /** the working directory it was started in (canonical); null when it was cut or not recorded */
  cwd?: string | null;
  /** the rule the kernel enforced (flags & Flag.ENFORCED), else 0 */
  rule: number;
  /** abi.ExeFlag: fileless (memfd, deleted), mapped by the loader */
  exeFlags: number;
}

export interface ForkEvent extends EventCommon {
  kind: 'fork';
  childPid: number;
  childStartNs: bigint;
}

export interface ExitEvent extends EventCommon {
  kind: 'exit';
  /** wait(2) status */
  status: number;
  startNs: bigint;
}

/**
 * open (also truncate, ftruncate, fallocate: writes without an open for writing), unlink, rename,
 * chmod, link (path = the existing file, newPath = the new name), symlink (path = its content).
 */
export interface FileEvent extends EventCommon {
  kind: 'open' | 'unlink' | 'rename' | 'chmod' | 'link' | 'symlink';
  ret: number;
  /** open: O_* flags; unlink: AT_REMOVEDIR; rename: RENAME_*; chmod: fchmodat2 flags; link: AT_SYMLINK_FOLLOW, AT_EMPTY_PATH */
  openFlags: number;
  /** chmod: the new mode; open: the creation mode asked for (with O_CREAT / O_TMPFILE) */
  mode: number;
  /** open with O_CREAT / O_TMPFILE: the process's umask (what a new file gets is mode & ~umask); absent otherwise */
  umask?: number;
  path: string;
  newPath: string;
  syscallNr: number;
  rule: number;
  /** the protected directory `path` is in, by identity (a directory a rule names), null = none met */
  dirId?: DirId | null;
  newDirId?: DirId | null;
  /** bit 0: path's identity walk did not reach the root (a protected directory above it is unknown); bit 1: new_path's */
  idFlags?: number;
}

/** A protected directory met walking up a file's dentries: what it is, and where the part of the path below it starts. */
export interface DirId {
  dev: number;
  ino: bigint;
  /** offset in the path as the kernel reported it (before `.`/`..` cleanup); ID_ABOVE: all of the path is below it */
  off: number;
  /** the path as the kernel reported it (a lexical one before cleanup) */
  raw: string;
}

export interface ConnectEvent extends EventCommon {
  kind: 'connect';
  family: number;
  dport: number;
  sockType: number;
  protocol: number;
  daddr: string;
  /** the rule that refused it (flags & Flag.ENFORCED), else 0 */
  rule: number;
}

export interface PrivEvent extends EventCommon {
  kind: 'ptrace' | 'setuid' | 'namespace' | 'userfaultfd';
  ret: number;
  syscallNr: number;
  /**
   * ptrace: [request, target pid, 0, 0]; setuid family: [id, id, id, 0] (0xffffffff = unchanged);
   * namespace: [CLONE_NEW* asked for (setns: nstype), setns: the descriptor's namespace type, setns: a pidfd's pid, setns: the namespace's inode];
   * userfaultfd: [flags, abi.UserfaultfdVia, 0, 0]
   */
  arg: [number, number, number, number];
  rule: number;
}

export interface SysEvent extends EventCommon {
  kind: 'mount' | 'module';
  ret: number;
  syscallNr: number;
  /** mount: MS_* flags (low 32 bits); finit_module: MODULE_INIT_* flags */
  sysFlags: number;
  /** mount: source; module: module file (finit_module) */
  str1: string;
  /** mount: target; module: parameters */
  str2: string;
  /** mount: filesystem type */
  str3: string;
  rule: number;
}

/** Internal: a cgroup v2 directory was created. */
export interface CgroupEvent extends EventCommon {
  kind: 'cgroup';
  id: number;
  parentId: number;
  /** relative to the cgroup v2 root, as the kernel named it at mkdir; null when it did not fit */
  path: string | null;
  /** a cgroup the agent had mapped was removed (rmdir); false: created (mkdir) */
  removed: boolean;
}

/** A task left its workload's cgroup subtree (pid is the task moved; it is still judged as that workload). */
export interface MigrateEvent extends EventCommon {
  kind: 'migrate';
  /** where it went */
  toCgroupId: number;
  /** relative to the cgroup v2 root; null when it did not fit */
  toPath: string | null;
  /** its origin workload's cgroup */
  fromCgroupId: number;
  /** the process that moved it (itself, or another) */
  writerPid: number;
  /** the whole process moved (false: one thread) */
  threadgroup: boolean;
  rule: number;
}

/** A socket created (sys_exit of socket/socketpair), or refused before creation (cgroup/sock_create). */
export interface SocketEvent extends EventCommon {
  kind: 'socket';
  /** AF_* */
  family: number;
  /** SOCK_* */
  sockType: number;
  protocol: number;
  /** the descriptor, or -errno (-1: refused, EPERM) */
  ret: number;
  rule: number;
}

/** An io_uring request that opens a door (files or sockets), as it is submitted. */
export interface IoUringEvent extends EventCommon {
  kind: 'io_uring';
  /** IORING_OP_* */
  opcode: number;
  /** 1 = files, 2 = sockets */
  opClass: number;
  /** IORING_OP_SOCKET: AF_* and SOCK_*, else 0 */
  family: number;
  sockType: number;
  /** the name as submitted, relative to the request's directory descriptor (not resolved); null if none */
  path: string | null;
  /** rename, link, symlink: the destination name */
  newPath: string | null;
  /** a name filled its 127-byte field: it may be longer */
  pathFull: boolean;
  rule: number;
}

/** A file a workload loaded as code, the first time for (workload, device, inode): runtime reachability. */
export interface CodeEvent extends EventCommon {
  kind: 'code';
  /** canonical path, as the process sees it (inside its root: the container's path) */
  path: string;
  dev: number;
  ino: bigint;
  how: 'open' | 'mmap' | 'mprotect';
}

/** A file's owner (chown family) or an extended attribute (setxattr family) changed. */
export interface AttrEvent extends EventCommon {
  kind: 'chown' | 'setxattr';
  ret: number;
  syscallNr: number;
  /** chown: the new owner and group (0xffffffff = unchanged) */
  ownerUid: number;
  ownerGid: number;
  /** fchownat: AT_*; setxattr: XATTR_CREATE (1) / XATTR_REPLACE (2) */
  attrFlags: number;
  path: string;
  /** setxattr: the attribute's name (security.capability, ...) */
  name: string;
  /** setxattr: the value's size in bytes */
  valueLen: number;
  rule: number;
}

/** bind, listen; or an inet socket put on descriptor 0, 1 or 2 (dup). */
export interface SockFdEvent extends EventCommon {
  kind: 'bind' | 'listen' | 'dup';
  /** bind, listen: 0 or -errno; dup: the new descriptor */
  ret: number;
  syscallNr: number;
  /** the socket's descriptor (dup: the one duplicated) */
  fd: number;
  family: number;
  sockType: number;
  protocol: number;
  /** bind, listen: the local address and port; dup: the peer's ("" and 0 when none) */
  addr: string;
  port: number;
  backlog: number;
  rule: number;
}

export interface MemfdEvent extends EventCommon {
  kind: 'memfd';
  ret: number;
  /** MFD_* */
  memfdFlags: number;
  /** the name as passed (the kernel shows it as memfd:NAME) */
  name: string;
  rule: number;
}

export interface BpfEvent extends EventCommon {
  kind: 'bpf';
  ret: number;
  cmd: number;
  progType: number;
  attachType: number;
  insnCnt: number;
  progName: string;
  rule: number;
}

export type KernelEvent =
  | ExecEvent
  | ForkEvent
  | ExitEvent
  | FileEvent
  | ConnectEvent
  | PrivEvent
  | SysEvent
  | CgroupEvent
  | MigrateEvent
  | SocketEvent
  | IoUringEvent
  | CodeEvent
  | AttrEvent
  | SockFdEvent
  | MemfdEvent
  | BpfEvent;

/** The event type that carries a given kind ('open' -> FileEvent). */
export type EventOfKind<K extends KernelEvent['kind']> = KernelEvent extends infer E
  ? E extends KernelEvent
    ? K extends E['kind']
      ? E
      : never
    : never
  : never;
