// The event ABI as the decoder reads it: offsets and sizes of bpf/events.h.
// test/agent/abi.test.ts checks every number here against offsetof() and
// sizeof() compiled from the C header by native/.

export const ABI_VERSION = 9;

export const EventKind = {
  exec: 1,
  fork: 2,
  exit: 3,
  open: 4,
  unlink: 5,
  rename: 6,
  chmod: 7,
  connect: 8,
  ptrace: 9,
  setuid: 10,
  mount: 11,
  module: 12,
  /** internal: a cgroup was created (the agent maps it to a workload) */
  cgroup: 13,
  /** a task left its workload's cgroup subtree */
  migrate: 14,
  /** link, linkat: path = the existing file, new_path = the new name */
  link: 15,
  /** symlink, symlinkat: path = the link's content, new_path = the new name */
  symlink: 16,
  /** a socket created (all families), or refused (raw sockets in workloads with connect refusals) */
  socket: 17,
  /** an io_uring submission that opens a file or socket door */
  io_uring: 18,
  /** a file a workload loaded as code, once per (workload, device, inode): runtime reachability */
  code: 19,
  /** a file's owner or group changed (chown, fchown, lchown, fchownat) */
  chown: 20,
  /** an extended attribute set (setxattr, lsetxattr, fsetxattr, setxattrat) */
  setxattr: 21,
  /** new namespaces (unshare, clone, clone3 with CLONE_NEW*) or another process's (setns) */
  namespace: 22,
  /** a socket bound to a local address */
  bind: 23,
  /** a socket made a listener */
  listen: 24,
  /** an inet socket duplicated onto descriptor 0, 1 or 2 (a reverse shell's first step) */
  dup: 25,
  /** an anonymous memory file created (memfd_create) */
  memfd: 26,
  /** a userfaultfd created (the system call, or /dev/userfaultfd) */
  userfaultfd: 27,
  /** a BPF program loaded (bpf(BPF_PROG_LOAD)) */
  bpf: 28,
} as const;

export type KindName = Exclude<keyof typeof EventKind, 'cgroup'>;
export type AnyKindName = keyof typeof EventKind;
export const KIND_MAX = 29;
/** the kinds users see (trace, rules) */
export const KIND_NAMES: readonly KindName[] = (Object.keys(EventKind) as AnyKindName[]).filter(
  (k): k is KindName => k !== 'cgroup',
);
export const KIND_BY_NUMBER: readonly (AnyKindName | undefined)[] = (() => {
  const a: (AnyKindName | undefined)[] = new Array(KIND_MAX).fill(undefined);
  for (const k of Object.keys(EventKind) as AnyKindName[]) a[EventKind[k]] = k;
  return a;
})();

export const Flag = {
  PATH_TRUNCATED: 1 << 0,
  STR2_TRUNCATED: 1 << 1,
  PATH_LEXICAL: 1 << 2,
  STR2_LEXICAL: 1 << 3,
  ENFORCED: 1 << 4,
  IN_SCOPE: 1 << 5,
  ENFORCE_FAILED: 1 << 6,
  /** an ia32 system call (int 0x80); syscall_nr is the native equivalent */
  COMPAT: 1 << 7,
} as const;

export const Limits = {
  COMM_LEN: 16,
  PATH_MAX: 1023,
  ARGS_MAX: 1023,
  STR_MAX: 255,
  RECORD_MAX: 112 + 3072,
} as const;

/** struct event_hdr */
export const Hdr = { kind: 0, flags: 1, prio: 2, pad: 3, size: 4, ktime_ns: 8, SIZE: 16 } as const;

/** event_hdr.prio: what a flood may shed first (bpf/events.h enum record_prio) */
export const Prio = { REPORT: 0, CONTEXT: 1, URGENT: 2 } as const;

/** struct proc_ctx, at offset 16 of every record */
export const PROC = 16;
export const Proc = { pid: 0, tid: 4, uid: 8, gid: 12, cgroup_id: 16, comm: 24, workload: 40, pflags: 44, SIZE: 48 } as const;

/** enum proc_flag (proc_ctx.pflags) */
export const ProcFlag = { ORIGIN: 1 << 0, MOVED: 1 << 1, INHERITED: 1 << 2, TTY: 1 << 3 } as const;

export const Exec = {
  ppid: 64,
  exe_len: 68,
  args_len: 70,
  start_ns: 72,
  exe_ino: 80,
  exe_ctime_ns: 88,
  exe_dev: 96,
  argc: 100,
  rule: 104,
  /** the working directory's length after exe and args; bit 15 (EXEC_CWD_CUT): it was cut */
  cwd_len: 108,
  /** abi.ExeFlag */
  exe_flags: 110,
  tail: 112,
  SIZE: 112,
} as const;
export const EXEC_CWD_CUT = 0x8000;

/** exec_event.exe_flags (bpf/events.h enum exe_flag) */
export const ExeFlag = {
  /** no link in any directory: a memfd, a deleted file, an O_TMPFILE */
  FILELESS: 1 << 0,
  /** never had a path (memfd_create): the name is "/NAME (deleted)" */
  MEMFD: 1 << 1,
  /** not an execve: a program without an interpreter (the dynamic loader run as a program) mapped it executable */
  LOADED: 1 << 2,
  /** the program runs without an interpreter: its first executable mapping of a file is judged as an exec */
  NO_INTERP: 1 << 3,
  /** its data is in the writable (upper) layer of an overlayfs mount: created, copied or written in the container */
  UPPER: 1 << 4,
} as const;

export const Fork = { child_pid: 64, child_start_ns: 72, SIZE: 80 } as const;

export const Exit = { status: 64, start_ns: 72, SIZE: 80 } as const;

export const File = {
  ret: 64,
  flags: 68,
  mode: 72,
  path_len: 76,
  new_path_len: 78,
  syscall_nr: 80,
  rule: 84,
  dir_ino: 88,
  new_dir_ino: 96,
  dir_dev: 104,
  new_dir_dev: 108,
  dir_off: 112,
  new_dir_off: 114,
  id_flags: 116,
  pad2: 118,
  tail: 120,
  SIZE: 120,
} as const;

/** file_event.dir_off: all of the path is below the directory (it was met above the path's root, or above where it was cut) */
export const ID_ABOVE = 0xffff;

export const Connect = { family: 64, dport: 66, sock_type: 68, protocol: 70, daddr: 72, rule: 88, SIZE: 96 } as const;

export const Priv = { ret: 64, syscall_nr: 68, arg: 72, rule: 88, SIZE: 96 } as const;

export const CgroupEv = { id: 64, parent_id: 72, path_len: 80, op: 82, _pad: 84, SIZE: 88 } as const;

export const Sys = {
  ret: 64,
  syscall_nr: 68,
  flags: 72,
  str1_len: 80,
  str2_len: 82,
  str3_len: 84,
  rule: 88,
  tail: 96,
  SIZE: 96,
} as const;

export const Socket = { family: 64, type: 66, protocol: 68, pad: 70, ret: 72, rule: 76, SIZE: 80 } as const;

export const IoUring = {
  opcode: 64,
  op_class: 65,
  family: 66,
  rule: 68,
  sock_type: 72,
  names_full: 74,
  pad: 75,
  pad2: 76,
  path: 80,
  new_path: 208,
  NAME: 128,
  SIZE: 336,
} as const;

/** struct code_event (bpf/events.h): how is enum code_how */
export const Code = { ino: 64, dev: 72, path_len: 76, how: 78, pad: 79, tail: 80, SIZE: 80 } as const;
export const CodeHow = { open: 1, mmap: 2, mprotect: 3 } as const;
/** struct code_key, of the code_seen LRU */
export const CodeKey = { workload: 0, dev: 4, ino: 8, SIZE: 16 } as const;
/** chown, setxattr */
export const Attr = { ret: 64, syscall_nr: 68, uid: 72, gid: 76, flags: 80, path_len: 84, name_len: 86, value_len: 88, rule: 92, tail: 96, SIZE: 96 } as const;

/** bind, listen, dup */
export const SockFd = { ret: 64, syscall_nr: 68, fd: 72, family: 76, type: 78, protocol: 80, port: 82, backlog: 84, addr: 88, rule: 104, pad: 108, SIZE: 112 } as const;

export const Memfd = { ret: 64, flags: 68, rule: 72, pad: 76, name: 80, NAME: 256, SIZE: 336 } as const;

export const Bpf = { ret: 64, cmd: 68, prog_type: 72, attach_type: 76, insn_cnt: 80, rule: 84, prog_name: 88, NAME: 16, SIZE: 104 } as const;

/** the CLONE_NEW* bits a namespace event carries (bpf/events.h CLONE_NEW_MASK) */
export const CLONE_NEW_MASK = 0x7e020080;
/** priv_event.arg[1] of a userfaultfd event */
export const UserfaultfdVia = { SYSCALL: 0, DEV: 1 } as const;

/** priv_event.arg[0] of a ptrace event for process_vm_readv / process_vm_writev */
export const PtraceVm = { READV: 0x10000, WRITEV: 0x10001 } as const;

export const Migrate = { to_cgid: 64, from_cgid: 72, writer_pid: 80, rule: 84, path_len: 88, threadgroup: 90, pad: 92, tail: 96, SIZE: 96 } as const;

export const Counters = { seen: 0, emitted: 8, dropped: 16, busy: 24, enforced: 32, lost: 40, SIZE: 48 } as const;

export const Config = {
  kinds: 0,
  scoped_kinds: 4,
  self_tgid: 8,
  wakeup_bytes: 12,
  scope_active: 16,
  generation: 20,
  kill_kinds: 24,
  path_kinds: 28,
  path_filter_kinds: 32,
  urgent_kinds: 36,
  rules_gen: 40,
  origin_active: 44,
  exe_state: 48,
  loader_active: 52,
  dir_active: 56,
  id_kinds: 60,
  resolve_active: 64,
  net_active: 68,
  create_active: 72,
  guard_only: 76,
  prefix_depths: 80,
  dir_bloom: 144,
  SIZE: 176,
} as const;

export const RuleMatch = { exact: 1, prefix: 2, any: 3 } as const;
export const RuleAction = { report: 1, kill: 2 } as const;
/** vigil_config.prefix_depths: one entry per event kind */
export const PREFIX_DEPTH_KINDS = 32;
/** enum rule_access: the open accesses a rule names (`flags: {any: [...]}`) */
export const KernelAccess = { read: 1, write: 2, create: 4, trunc: 8 } as const;
export const NET_SLOTS = 8;
export const NET_PORTS = 16;

export const RuleKey = { workload: 0, kind: 4, match: 5, gen: 6, hash: 8, SIZE: 16 } as const;
export const RuleVal = { kill_rule: 0, actions: 4, access: 5, slots: 6, SIZE: 8 } as const;
/** struct file_key: rules by file identity (the file_rules map; RM_EXACT: a binary, RM_PREFIX: a protected directory) */
export const FileKey = { workload: 0, kind: 4, match: 5, gen: 6, dev: 8, ino: 16, SIZE: 24 } as const;
/** struct bin_key: a member of a set of binaries (the bin_sets map), by path hash or identity */
export const BinKey = { set: 0, gen: 4, type: 5, dev: 8, val: 16, SIZE: 24 } as const;
export const BinMember = { hash: 1, id: 2 } as const;
/** struct bin_test, in struct rule_cond */
export const BinTest = { set: 0, who: 4, negate: 5, SIZE: 8 } as const;
export const BinWho = { none: 0, self: 1, parent: 2, fileless: 3, upper: 4 } as const;
/** struct cond_key / struct rule_cond: kill rules with conditions the kernel checks (the rule_conds map) */
export const CondKey = { workload: 0, kind: 4, slot: 5, gen: 6, SIZE: 8 } as const;
export const RuleCond = { rule: 0, access: 4, match: 8, except: 24, SIZE: 88 } as const;
export const COND_SLOTS = 16;
export const COND_TESTS = 2;
export const COND_EXCEPTIONS = 4;
export const NetRuleKey = { workload: 0, slot: 4, gen: 5, SIZE: 8 } as const;
export const NetRule = { rule: 0, has_pos: 4, has_neg: 5, nports: 6, ports: 8, SIZE: 40 } as const;
export const NetPrefixKey = { prefixlen: 0, workload: 4, slot: 8, gen: 9, polarity: 10, family: 11, addr: 12, SIZE: 28 } as const;

export const CgroupInfo = { workload: 0, flags: 4, SIZE: 8 } as const;

/** struct task_state, the value of the `tasks` task-storage map */
export const TaskState = { origin_cgid: 0, origin_workload: 8, origin_level: 12, flags: 14, exe_ino: 16, exe_dev: 24, exe_flags: 28, exe_hash: 32, SIZE: 40 } as const;
/** enum task_state_flag */
export const TaskFlag = { ORIGIN: 1 << 0, LOADER: 1 << 1, EXE: 1 << 2, EXE_HASH: 1 << 3 } as const;
/** x86_64 numbers of the set*id calls that set group ids (setgid, setregid, setresgid, setfsgid); the others set uids. */
export const SETID_GID_SYSCALLS: ReadonlySet<number> = new Set([106, 114, 119, 123]);

/*
 * Linux UAPI numbers the records carry, by the names trace records print and
 * rules use (never renumbered by the kernel). A number without a name is
 * written PREFIX<number> (AF_42).
 */
export const AF_NAMES: Readonly<Record<number, string>> = { 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET', 40: 'AF_VSOCK' };
export const SOCK_TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 4: 'SOCK_RDM', 5: 'SOCK_SEQPACKET', 10: 'SOCK_PACKET' };
/** the ptrace requests the kernel reports (bpf/syscalls/priv.h), and the two memory calls judged as ptrace */
export const PTRACE_REQUEST_NAMES: Readonly<Record<number, string>> = {
  0: 'PTRACE_TRACEME',
  4: 'PTRACE_POKETEXT',
  5: 'PTRACE_POKEDATA',
  6: 'PTRACE_POKEUSER',
  13: 'PTRACE_SETREGS',
  15: 'PTRACE_SETFPREGS',
  16: 'PTRACE_ATTACH',
  0x4205: 'PTRACE_SETREGSET',
  0x4206: 'PTRACE_SEIZE',
  [PtraceVm.READV]: 'process_vm_readv',
  [PtraceVm.WRITEV]: 'process_vm_writev',
};
/** CLONE_NEW* flags, in the order of their bits */
export const CLONE_NEW_NAMES: readonly (readonly [number, string])[] = [
  [0x80, 'CLONE_NEWTIME'],
  [0x20000, 'CLONE_NEWNS'],
  [0x2000000, 'CLONE_NEWCGROUP'],
  [0x4000000, 'CLONE_NEWUTS'],
  [0x8000000, 'CLONE_NEWIPC'],
  [0x10000000, 'CLONE_NEWUSER'],
  [0x20000000, 'CLONE_NEWPID'],
  [0x40000000, 'CLONE_NEWNET'],
];

/** The name of a number in one of the tables above (PREFIX<number> when it has none). */
export function uapiName(table: Readonly<Record<number, string>>, prefix: string, n: number): string {
  return table[n] ?? `${prefix}${n}`;
}

/** The number behind a name uapiName gives, or -1. */
export function uapiNumber(table: Readonly<Record<number, string>>, prefix: string, name: string): number {
  for (const [n, v] of Object.entries(table)) if (v === name) return Number(n);
  const rest = name.startsWith(prefix) ? name.slice(prefix.length) : '';
  return /^\d{1,9}$/.test(rest) ? Number(rest) : -1;
}
