// The `vigil trace` view of an event: exactly the documented keys.
import { AF_NAMES, CLONE_NEW_NAMES, ExeFlag, Flag, ProcFlag, PTRACE_REQUEST_NAMES, SOCK_TYPE_NAMES, uapiName, uapiNumber, UserfaultfdVia } from '../kernel/abi';
import type { WallClock } from '../kernel/clock';
import { printable } from '../../common/escape';
import type { KernelEvent } from '../decode/events';
import { eventIdentity, type DirName } from '../enforce/protected-dirs';
import type { ProcessCache } from '../process/process-cache';

const O_ACCMODE = 0o3;
const OPEN_FLAGS: readonly [number, string][] = [
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o4010000, 'O_SYNC'],
  [0o10000, 'O_DSYNC'],
  [0o20000, 'O_ASYNC'],
  [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'],
  [0o20200000, 'O_TMPFILE'],
  [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'],
];

/** ["O_WRONLY","O_CREAT",...] for an open(2) flags word (x86_64 values). */
export function openFlagNames(flags: number): string[] {
  const out: string[] = [];
  const acc = flags & O_ACCMODE;
  if (!(flags & 0o10000000)) out.push(acc === 0 ? 'O_RDONLY' : acc === 1 ? 'O_WRONLY' : acc === 2 ? 'O_RDWR' : 'O_ACCMODE');
  let rest = flags & ~O_ACCMODE;
  for (const [bit, name] of OPEN_FLAGS) {
    if ((rest & bit) === bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

/** The open(2) flags word for the names openFlagNames gives (what `vigil rules test` reads back); unknown names are skipped. */
export function openFlagBits(names: readonly string[]): number {
  let bits = 0;
  for (const n of names) {
    if (n === 'O_WRONLY') bits |= 1;
    else if (n === 'O_RDWR') bits |= 2;
    else if (/^0x[0-9a-f]+$/.test(n)) bits |= parseInt(n, 16);
    else bits |= OPEN_FLAGS.find(([, name]) => name === n)?.[0] ?? 0;
  }
  return bits;
}

const MOUNT_FLAGS: readonly [number, string][] = [
  [1, 'MS_RDONLY'],
  [2, 'MS_NOSUID'],
  [4, 'MS_NODEV'],
  [8, 'MS_NOEXEC'],
  [16, 'MS_SYNCHRONOUS'],
  [32, 'MS_REMOUNT'],
  [64, 'MS_MANDLOCK'],
  [128, 'MS_DIRSYNC'],
  [256, 'MS_NOSYMFOLLOW'],
  [1024, 'MS_NOATIME'],
  [2048, 'MS_NODIRATIME'],
  [4096, 'MS_BIND'],
  [8192, 'MS_MOVE'],
  [16384, 'MS_REC'],
  [32768, 'MS_SILENT'],
  [1 << 16, 'MS_POSIXACL'],
  [1 << 17, 'MS_UNBINDABLE'],
  [1 << 18, 'MS_PRIVATE'],
  [1 << 19, 'MS_SLAVE'],
  [1 << 20, 'MS_SHARED'],
  [1 << 21, 'MS_RELATIME'],
  [1 << 22, 'MS_KERNMOUNT'],
  [1 << 23, 'MS_I_VERSION'],
  [1 << 24, 'MS_STRICTATIME'],
  [1 << 25, 'MS_LAZYTIME'],
];

/** The flags word for the names bitNames gives (`vigil rules test` reads records back); unknown names are skipped. */
export function bitValue(names: readonly string[], table: readonly (readonly [number, string])[]): number {
  let bits = 0;
  for (const n of names) {
    if (/^0x[0-9a-f]+$/.test(n)) bits |= parseInt(n, 16);
    else bits |= table.find(([, name]) => name === n)?.[0] ?? 0;
  }
  return bits >>> 0;
}

export function bitNames(flags: number, table: readonly (readonly [number, string])[]): string[] {
  const out: string[] = [];
  let rest = flags >>> 0;
  for (const [bit, name] of table) {
    if ((rest & bit) === bit) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

export const RENAME_FLAGS: readonly [number, string][] = [
  [1, 'RENAME_NOREPLACE'],
  [2, 'RENAME_EXCHANGE'],
  [4, 'RENAME_WHITEOUT'],
];
const UNLINK_FLAGS: readonly [number, string][] = [[0x200, 'AT_REMOVEDIR']];
export const LINK_FLAGS: readonly [number, string][] = [
  [0x400, 'AT_SYMLINK_FOLLOW'],
  [0x1000, 'AT_EMPTY_PATH'],
];
const CHMOD_FLAGS: readonly [number, string][] = [
  [0x100, 'AT_SYMLINK_NOFOLLOW'],
  [0x1000, 'AT_EMPTY_PATH'],
];
const MODULE_FLAGS: readonly [number, string][] = [
  [1, 'MODULE_INIT_IGNORE_MODVERSIONS'],
  [2, 'MODULE_INIT_IGNORE_VERMAGIC'],
  [4, 'MODULE_INIT_COMPRESSED_FILE'],
];

const SIGNALS = [
  '', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1',
  'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP',
  'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

export function signalName(sig: number): string {
  return SIGNALS[sig] || `SIG${sig}`;
}

export function ptraceRequestName(req: number): string {
  return uapiName(PTRACE_REQUEST_NAMES, 'PTRACE_', req);
}

export function familyName(f: number): string {
  return uapiName(AF_NAMES, 'AF_', f);
}

export function sockTypeName(t: number): string {
  return uapiName(SOCK_TYPE_NAMES, 'SOCK_', t);
}

/** The number behind a name familyName gives (AF_INET -> 2, AF_42 -> 42), or -1. */
export function familyNumber(name: string): number {
  return uapiNumber(AF_NAMES, 'AF_', name);
}

/** The number behind a name sockTypeName gives (SOCK_RAW -> 3), or -1. */
export function sockTypeNumber(name: string): number {
  return uapiNumber(SOCK_TYPE_NAMES, 'SOCK_', name);
}

/** The ptrace request behind a name ptraceRequestName gives, or -1. */
export function ptraceRequestNumber(name: string): number {
  return uapiNumber(PTRACE_REQUEST_NAMES, 'PTRACE_', name);
}


/** ["CLONE_NEWNS","CLONE_NEWPID"] for a flags word (unknown bits as hex). */
export function namespaceNames(flags: number): string[] {
  return bitNames(flags, CLONE_NEW_NAMES);
}

/** The flags word for namespace names (`vigil rules test` reads them back); unknown names are skipped. */
export function namespaceBits(names: readonly string[]): number {
  let bits = 0;
  for (const n of names) bits |= CLONE_NEW_NAMES.find(([, name]) => name === n)?.[0] ?? 0;
  return bits >>> 0;
}

const CHOWN_FLAGS: readonly [number, string][] = [
  [0x100, 'AT_SYMLINK_NOFOLLOW'],
  [0x1000, 'AT_EMPTY_PATH'],
];
const XATTR_FLAGS: readonly [number, string][] = [
  [1, 'XATTR_CREATE'],
  [2, 'XATTR_REPLACE'],
];
const MEMFD_FLAGS: readonly [number, string][] = [
  [1, 'MFD_CLOEXEC'],
  [2, 'MFD_ALLOW_SEALING'],
  [4, 'MFD_HUGETLB'],
  [8, 'MFD_NOEXEC_SEAL'],
  [0x10, 'MFD_EXEC'],
];
const UFFD_FLAGS: readonly [number, string][] = [
  [1, 'UFFD_USER_MODE_ONLY'],
  [0o4000, 'O_NONBLOCK'],
  [0o2000000, 'O_CLOEXEC'],
];

/** BPF_PROG_TYPE_* (include/uapi/linux/bpf.h enum bpf_prog_type, never renumbered) */
const BPF_PROG_TYPES = [
  'UNSPEC', 'SOCKET_FILTER', 'KPROBE', 'SCHED_CLS', 'SCHED_ACT', 'TRACEPOINT', 'XDP', 'PERF_EVENT', 'CGROUP_SKB',
  'CGROUP_SOCK', 'LWT_IN', 'LWT_OUT', 'LWT_XMIT', 'SOCK_OPS', 'SK_SKB', 'CGROUP_DEVICE', 'SK_MSG', 'RAW_TRACEPOINT',
  'CGROUP_SOCK_ADDR', 'LWT_SEG6LOCAL', 'LIRC_MODE2', 'SK_REUSEPORT', 'FLOW_DISSECTOR', 'CGROUP_SYSCTL',
  'RAW_TRACEPOINT_WRITABLE', 'CGROUP_SOCKOPT', 'TRACING', 'STRUCT_OPS', 'EXT', 'LSM', 'SK_LOOKUP', 'SYSCALL', 'NETFILTER',
];

export function bpfProgTypeName(t: number): string {
  return t < BPF_PROG_TYPES.length ? `BPF_PROG_TYPE_${BPF_PROG_TYPES[t]}` : `BPF_PROG_TYPE_${t}`;
}

/** The number of a name bpfProgTypeName gives (BPF_PROG_TYPE_KPROBE -> 2), or -1. */
export function bpfProgTypeNumber(name: string): number {
  const m = /^BPF_PROG_TYPE_(\w+)$/.exec(name);
  if (!m) return -1;
  const i = BPF_PROG_TYPES.indexOf(m[1]);
  return i >= 0 ? i : /^\d+$/.test(m[1]) ? Number(m[1]) : -1;
}

/** IORING_OP_* names of the requests Vigil reports (bpf/io_uring.bpf.c) */
const IORING_OPS: Record<number, string> = {
  13: 'ACCEPT', 16: 'CONNECT', 17: 'FALLOCATE', 18: 'OPENAT', 28: 'OPENAT2', 35: 'RENAMEAT', 36: 'UNLINKAT',
  37: 'MKDIRAT', 38: 'SYMLINKAT', 39: 'LINKAT', 41: 'FSETXATTR', 42: 'SETXATTR', 45: 'SOCKET', 55: 'FTRUNCATE', 56: 'BIND', 57: 'LISTEN',
};

export function ioUringOpName(op: number): string {
  return `IORING_OP_${IORING_OPS[op] ?? op}`;
}

/** x86_64 syscall numbers that the probes report, by name. */
export const SYSCALL_NAMES: Record<number, string> = {
  2: 'open', 82: 'rename', 84: 'rmdir', 85: 'creat', 87: 'unlink', 90: 'chmod', 91: 'fchmod', 101: 'ptrace',
  105: 'setuid', 106: 'setgid', 113: 'setreuid', 114: 'setregid', 117: 'setresuid', 119: 'setresgid',
  122: 'setfsuid', 123: 'setfsgid', 165: 'mount', 175: 'init_module', 257: 'openat', 263: 'unlinkat',
  264: 'renameat', 268: 'fchmodat', 313: 'finit_module', 316: 'renameat2', 429: 'move_mount', 437: 'openat2',
  452: 'fchmodat2', 76: 'truncate', 77: 'ftruncate', 285: 'fallocate', 86: 'link', 265: 'linkat', 88: 'symlink',
  266: 'symlinkat', 92: 'chown', 93: 'fchown', 94: 'lchown', 260: 'fchownat', 188: 'setxattr', 189: 'lsetxattr',
  190: 'fsetxattr', 463: 'setxattrat', 272: 'unshare', 308: 'setns', 56: 'clone', 435: 'clone3', 49: 'bind', 50: 'listen',
  32: 'dup', 33: 'dup2', 292: 'dup3', 72: 'fcntl', 319: 'memfd_create', 323: 'userfaultfd', 16: 'ioctl', 321: 'bpf',
  41: 'socket', 53: 'socketpair', 310: 'process_vm_readv', 311: 'process_vm_writev',
};

/** The syscall number of a name SYSCALL_NAMES gives, or 0. */
export function syscallNumber(name: string): number {
  for (const [nr, n] of Object.entries(SYSCALL_NAMES)) if (n === name) return Number(nr);
  return 0;
}

export function modeString(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

export type TraceValue = string | number | boolean | null | string[] | Record<string, unknown>;
export type TraceRecord = Record<string, TraceValue>;

export interface FormatOptions {
  clock: WallClock;
  processes: ProcessCache;
  cgroupPath: (id: number) => string | null;
  /** add a `details` object: result, syscall, ids, truncation */
  details?: boolean;
  /** a protected directory's rule name by its identity: file events in one are also named by it */
  dirName?: DirName;
}

const O_CREAT = 0o100;
const SETNS = 308;
const O_TMPFILE = 0o20200000;

/** One event as `vigil trace` prints it: the key set, where each applies. */
export function traceRecord(ev: KernelEvent, o: FormatOptions): TraceRecord {
  const proc = o.processes.lookup(ev.pid);
  const r: TraceRecord = {
    kind: ev.kind,
    time: o.clock.rfc3339(ev.ktimeNs),
    pid: ev.pid,
    ppid: ev.kind === 'exec' ? ev.ppid : proc ? proc.ppid : null,
    uid: ev.uid,
    comm: ev.comm,
    exe: ev.kind === 'exec' ? ev.exe : proc ? proc.exe : null,
    args: ev.kind === 'exec' ? ev.args : proc ? proc.args : null,
    cgroup_id: ev.cgroupId,
    cgroup: o.cgroupPath(ev.cgroupId),
    // the process has a controlling terminal (the kernel's record: signal->tty)
    tty: (ev.procFlags & ProcFlag.TTY) !== 0,
  };
  const details: Record<string, unknown> = {};
  switch (ev.kind) {
    case 'exec':
      r.cwd = ev.cwd ?? null;
      if (ev.flags & Flag.STR2_TRUNCATED) details.args_truncated = true;
      details.argc = ev.argc;
      // fileless: no link anywhere (memfd, deleted); via_loader: the program the dynamic loader (run as a program) mapped
      if (ev.exeFlags & ExeFlag.FILELESS) r.fileless = true;
      if (ev.exeFlags & ExeFlag.MEMFD) r.memfd = true;
      if (ev.exeFlags & ExeFlag.LOADED) r.via_loader = true;
      // writable_layer: the file is in the container's writable (overlayfs upper) layer, not from its image
      if (ev.exeFlags & ExeFlag.UPPER) r.writable_layer = true;
      break;
    case 'fork':
      r.target_pid = ev.childPid;
      break;
    case 'exit': {
      const sig = ev.status & 0x7f;
      r.exit_code = sig === 0 ? (ev.status >> 8) & 0xff : null;
      r.signal = sig === 0 ? null : signalName(sig);
      if (ev.status & 0x80) details.core_dumped = true;
      break;
    }
    case 'open':
      r.path = ev.path;
      r.flags = openFlagNames(ev.openFlags);
      if ((ev.openFlags & O_CREAT) || (ev.openFlags & O_TMPFILE) === O_TMPFILE) {
        r.mode = modeString(ev.mode);
        r.umask = modeString(ev.umask ?? 0);
      }
      break;
    case 'unlink':
      r.path = ev.path;
      r.flags = bitNames(ev.openFlags, UNLINK_FLAGS);
      break;
    case 'rename':
      r.path = ev.path;
      r.new_path = ev.newPath;
      r.flags = bitNames(ev.openFlags, RENAME_FLAGS);
      break;
    case 'chmod':
      r.path = ev.path;
      r.mode = modeString(ev.mode);
      if (ev.openFlags) r.flags = bitNames(ev.openFlags, CHMOD_FLAGS);
      break;
    case 'link':
      r.path = ev.path;
      r.new_path = ev.newPath;
      r.flags = bitNames(ev.openFlags, LINK_FLAGS);
      break;
    case 'symlink':
      r.path = ev.path;
      r.new_path = ev.newPath;
      break;
    case 'connect':
      r.family = ev.family === 10 ? 'AF_INET6' : 'AF_INET';
      r.daddr = ev.daddr;
      r.dport = ev.dport;
      details.sock_type = ev.sockType === 1 ? 'SOCK_STREAM' : ev.sockType === 2 ? 'SOCK_DGRAM' : ev.sockType;
      details.protocol = ev.protocol;
      break;
    case 'ptrace':
      r.target_pid = ev.arg[1];
      r.request = ptraceRequestName(ev.arg[0]);
      break;
    case 'setuid': {
      const ids = ev.arg.slice(0, 3).filter((x) => x !== 0xffffffff);
      details.ids = ids;
      break;
    }
    case 'mount':
      r.path = ev.str2;
      r.flags = bitNames(ev.sysFlags, MOUNT_FLAGS);
      // what was mounted is the evidence (a host path given to a container): always in the record
      r.source = ev.str1;
      r.fstype = ev.str3;
      break;
    case 'module':
      r.path = ev.str1;
      r.flags = bitNames(ev.sysFlags, MODULE_FLAGS);
      details.params = ev.str2;
      break;
    case 'socket':
      r.family = familyName(ev.family);
      r.type = sockTypeName(ev.sockType);
      r.protocol = ev.protocol;
      if (ev.ret < 0) r.refused = true;
      break;
    case 'io_uring':
      r.op = ioUringOpName(ev.opcode);
      r.op_class = ev.opClass === 1 ? 'file' : 'network';
      if (ev.path !== null) r.path = ev.path;
      if (ev.newPath !== null) r.new_path = ev.newPath;
      if (ev.family !== 0) {
        r.family = familyName(ev.family);
        r.type = sockTypeName(ev.sockType);
      }
      if (ev.pathFull) details.path_truncated = true;
      break;
    case 'code':
      r.path = ev.path;
      r.how = ev.how;
      details.dev = ev.dev;
      details.ino = ev.ino.toString();
      break;
    case 'chown':
      r.path = ev.path;
      r.owner_uid = ev.ownerUid === 0xffffffff ? null : ev.ownerUid;
      r.owner_gid = ev.ownerGid === 0xffffffff ? null : ev.ownerGid;
      if (ev.attrFlags) r.flags = bitNames(ev.attrFlags, CHOWN_FLAGS);
      break;
    case 'setxattr':
      r.path = ev.path;
      r.name = ev.name;
      r.size = ev.valueLen;
      if (ev.attrFlags) r.flags = bitNames(ev.attrFlags, XATTR_FLAGS);
      if (ev.flags & Flag.STR2_TRUNCATED) details.name_truncated = true;
      break;
    case 'namespace':
      r.call = SYSCALL_NAMES[ev.syscallNr] ?? String(ev.syscallNr);
      r.namespaces = namespaceNames(ev.arg[0]);
      if (ev.syscallNr === SETNS) {
        if (ev.arg[1]) r.ns_type = namespaceNames(ev.arg[1])[0];
        if (ev.arg[3]) r.ns_inode = ev.arg[3];
        if (ev.arg[2]) r.target_pid = ev.arg[2];
      }
      break;
    case 'bind':
    case 'listen':
      r.family = familyName(ev.family);
      r.type = sockTypeName(ev.sockType);
      r.protocol = ev.protocol;
      r.laddr = ev.addr || null;
      r.lport = ev.port;
      if (ev.kind === 'listen') r.backlog = ev.backlog;
      break;
    case 'dup':
      r.fd = ev.fd;
      r.new_fd = ev.ret;
      r.family = familyName(ev.family);
      r.type = sockTypeName(ev.sockType);
      r.daddr = ev.addr || null;
      r.dport = ev.port;
      break;
    case 'memfd':
      r.name = ev.name;
      r.flags = bitNames(ev.memfdFlags, MEMFD_FLAGS);
      break;
    case 'userfaultfd':
      r.flags = bitNames(ev.arg[0], UFFD_FLAGS);
      r.via = ev.arg[1] === UserfaultfdVia.DEV ? '/dev/userfaultfd' : 'syscall';
      break;
    case 'bpf':
      r.prog_type = bpfProgTypeName(ev.progType);
      r.prog_name = ev.progName;
      details.attach_type = ev.attachType;
      details.insn_cnt = ev.insnCnt;
      break;
    case 'migrate':
      r.to_cgroup = ev.toPath;
      r.to_cgroup_id = ev.toCgroupId;
      r.from_cgroup_id = ev.fromCgroupId;
      r.writer_pid = ev.writerPid;
      details.threadgroup = ev.threadgroup;
      break;
  }
  // a file in a protected directory, named by that directory when the path says otherwise
  const id = eventIdentity(ev, o.dirName);
  if (id?.path) r.identity_path = id.path;
  if (id?.newPath) r.identity_new_path = id.newPath;
  if ('idFlags' in ev && ev.idFlags) details.identity_unknown = ev.idFlags & 1 && ev.idFlags & 2 ? 'path, new_path' : ev.idFlags & 1 ? 'path' : 'new_path';
  // a file path the kernel could not hold whole (deeper than 64 levels or longer than 1023 bytes): its top is
  // missing, so the record says so whatever the output options (it is never dropped by the kernel's path filter)
  if ('dirId' in ev) {
    if (ev.flags & Flag.PATH_TRUNCATED) r.path_truncated = true;
    if (ev.flags & Flag.STR2_TRUNCATED && ev.newPath) r.new_path_truncated = true;
  }
  // int 0x80 from any process: the call is shown as its native one, and said to be ia32
  if (ev.flags & Flag.COMPAT) r.ia32 = true;
  if (o.details) {
    if ('syscallNr' in ev) details.syscall = SYSCALL_NAMES[ev.syscallNr] ?? ev.syscallNr;
    if ('ret' in ev) details.ret = ev.ret;
    if (ev.flags & Flag.PATH_TRUNCATED) details.path_truncated = true;
    if (ev.flags & (Flag.PATH_LEXICAL | Flag.STR2_LEXICAL)) details.path_lexical = true;
    details.tid = ev.tid;
    details.gid = ev.gid;
    if (proc) details.exec_id = proc.execId;
    r.details = details;
  }
  return r;
}

/** A one-line human rendering of a trace record. */
export function traceText(r: TraceRecord): string {
  const parts: string[] = [String(r.time).slice(11), String(r.kind).padEnd(7), `pid=${r.pid}`, `comm=${r.comm}`];
  if (r.uid !== undefined) parts.push(`uid=${r.uid}`);
  if (r.cgroup) parts.push(`cgroup=${r.cgroup}`);
  for (const k of ['exe', 'path', 'new_path', 'name', 'flags', 'mode', 'namespaces', 'family', 'laddr', 'lport', 'daddr', 'dport', 'prog_type', 'exit_code', 'signal', 'target_pid']) {
    const v = r[k];
    if (v === undefined || v === null) continue;
    parts.push(`${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  }
  if (r.kind === 'exec' && Array.isArray(r.args)) parts.push(`args=${JSON.stringify(r.args.join(' '))}`);
  // names come from workloads (paths, memfd and attribute names): no escape sequence reaches the terminal
  return printable(parts.join(' '));
}
