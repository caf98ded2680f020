/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The event ABI between the kernel programs (bpf/) and user space
 * (native/ copies records verbatim, agent/decode.ts reads them).
 *
 * Rules of this file:
 *   - fixed-width fields only, explicit padding, no bool/int/long;
 *   - every record starts with struct event_hdr;
 *   - event kinds are never renumbered, only appended;
 *   - every size is checked with _Static_assert, and test/agent/abi.test.ts
 *     checks that the TypeScript offsets equal offsetof() from native/.
 *
 * Variable-length strings follow the fixed part of a record ("tail"), in
 * the order the record's *_len fields are declared, without NUL terminators
 * (exec args are NUL-separated argv entries).
 */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

#ifdef __VIGIL_BPF__
/* vmlinux.h already defines __u8 ... __u64 */
#else
#include <linux/types.h>
#endif
#if defined(__cplusplus) && !defined(_Static_assert)
#define _Static_assert static_assert
#endif

#define VIGIL_ABI_VERSION 9

#define VIGIL_COMM_LEN   16
/* Longest path copied into a record, in bytes, without a terminator. */
#define VIGIL_PATH_MAX   1023
/* Longest argv blob copied into an exec record. */
#define VIGIL_ARGS_MAX   1023
/* Longest short string (mount source, fstype, module params). */
#define VIGIL_STR_MAX    255

enum event_kind {
	EV_INVALID = 0,
	EV_EXEC    = 1,
	EV_FORK    = 2,
	EV_EXIT    = 3,
	EV_OPEN    = 4,
	EV_UNLINK  = 5,
	EV_RENAME  = 6,
	EV_CHMOD   = 7,
	EV_CONNECT = 8,
	EV_PTRACE  = 9,
	EV_SETUID  = 10,
	EV_MOUNT   = 11,
	EV_MODULE  = 12,
	EV_CGROUP  = 13,      /* internal: a cgroup v2 directory was created */
	EV_MIGRATE = 14,      /* a task left its workload's cgroup subtree */
	EV_LINK    = 15,      /* link, linkat: path = the existing file, new_path = the new name */
	EV_SYMLINK = 16,      /* symlink, symlinkat: path = the link's content, new_path = the new name */
	EV_SOCKET  = 17,      /* a socket was created (or refused) */
	EV_IO_URING = 18,     /* an io_uring submission that opens a door: files, sockets */
	EV_CODE    = 19,      /* a file a workload loaded as code, once per (workload, device, inode) */
	EV_CHOWN   = 20,      /* owner or group of a file changed (chown family) */
	EV_SETXATTR = 21,     /* an extended attribute set (setxattr family) */
	EV_NAMESPACE = 22,    /* new namespaces (unshare, clone, clone3 with CLONE_NEW*) or another's (setns) */
	EV_BIND    = 23,      /* a socket bound to a local address */
	EV_LISTEN  = 24,      /* a socket made a listener */
	EV_DUP     = 25,      /* a socket duplicated onto standard input, output or error */
	EV_MEMFD   = 26,      /* an anonymous memory file created (memfd_create) */
	EV_USERFAULTFD = 27,  /* a userfaultfd created (the system call, or /dev/userfaultfd) */
	EV_BPF     = 28,      /* a BPF program loaded (bpf(BPF_PROG_LOAD)) */
	/* Reserved: 29-34 (issue 11), 35-39 (issue 9: kinds past 31 need wider masks). */
	/* Kinds are bits of u32 masks (vigil_config): at most 31 of them. */
	EV_KIND_MAX,          /* not a kind: one past the last */
};

/* event_hdr.flags */
enum event_flag {
	EVF_PATH_TRUNCATED  = 1 << 0, /* first string of the tail was cut */
	EVF_STR2_TRUNCATED  = 1 << 1, /* second string (args, new_path, ...) was cut */
	EVF_PATH_LEXICAL    = 1 << 2, /* path = resolved directory + name as passed */
	EVF_STR2_LEXICAL    = 1 << 3, /* same, for the second path */
	EVF_ENFORCED        = 1 << 4, /* the kernel acted on this event (kill/deny) */
	EVF_IN_SCOPE        = 1 << 5, /* from a monitored cgroup (or no cgroup scope is set) */
	EVF_ENFORCE_FAILED  = 1 << 6, /* the kernel tried to act and could not (see `rule`) */
	EVF_COMPAT          = 1 << 7, /* an ia32 system call (int 0x80, from any process): syscall_nr is the native equivalent */
};

struct event_hdr {
	__u8  kind;      /* enum event_kind: never renumber, only append */
	__u8  flags;     /* enum event_flag */
	__u8  prio;      /* enum record_prio: what a flood may shed first */
	__u8  pad;
	__u32 size;      /* whole record, header included */
	__u64 ktime_ns;  /* CLOCK_BOOTTIME (bpf_ktime_get_boot_ns) */
};
_Static_assert(sizeof(struct event_hdr) == 16, "event_hdr layout");

/* event_hdr.prio: the kernel and the reader shed report-only records first */
enum record_prio {
	PRIO_REPORT  = 0,      /* report only: shed first under load */
	PRIO_CONTEXT = 1,      /* process life cycle (exec, fork, exit, cgroup, migrate): every judgement reads it */
	PRIO_URGENT  = 2,      /* a user-space kill rule must judge it: never shed for a lower one; a loss is counted (lost) */
};

/* proc_ctx.pflags */
enum proc_flag {
	PF_ORIGIN    = 1 << 0, /* the task has an origin workload (born or exec'd in one) */
	PF_MOVED     = 1 << 1, /* it left that workload's cgroup subtree: `workload` is the origin's */
	PF_INHERITED = 1 << 2, /* its cgroup is not in the map: the scope is its nearest mapped ancestor's */
	PF_TTY       = 1 << 3, /* the process has a controlling terminal (signal->tty) */
};

/* Who did it: the current task when the event happened. */
struct proc_ctx {
	__u32 pid;       /* thread-group id (user-space "pid") */
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u64 cgroup_id; /* cgroup v2 id = inode number of the cgroup directory */
	char  comm[VIGIL_COMM_LEN];
	__u32 workload;  /* the workload rules judge the task as (0 = none): see PF_* */
	__u32 pflags;    /* enum proc_flag */
};
_Static_assert(sizeof(struct proc_ctx) == 48, "proc_ctx layout");

/* EV_EXEC, from sched_process_exec: the new image is in place. */
struct exec_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__u32 ppid;
	__u16 exe_len;         /* tail[0 .. exe_len): canonical path of the file executed */
	__u16 args_len;        /* then argv, NUL-separated, up to VIGIL_ARGS_MAX */
	__u64 start_ns;        /* task start, CLOCK_BOOTTIME (matches /proc/PID/stat field 22) */
	__u64 exe_ino;
	__u64 exe_ctime_ns;    /* inode change time of the executable, CLOCK_REALTIME */
	__u32 exe_dev;
	__u32 argc;
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	__u16 cwd_len;         /* then the working directory (canonical), bit 15: it was cut */
	__u16 exe_flags;       /* enum exe_flag */
	char  tail[];
};
_Static_assert(sizeof(struct exec_event) == 112, "exec_event layout");
#define EXEC_CWD_CUT 0x8000

/* exec_event.exe_flags: what the executed file is */
enum exe_flag {
	EXE_FILELESS = 1 << 0, /* no link in any directory: a memfd, a deleted file, an O_TMPFILE (the path ends in " (deleted)") */
	EXE_MEMFD    = 1 << 1, /* a file with no path at all (memfd_create): the path is "/NAME (deleted)", as /proc/PID/exe says */
	EXE_LOADED   = 1 << 2, /* not an execve: a program without an interpreter (the dynamic loader run as a program,
	                        * a static binary) mapped this file executable, judged as an exec of it */
	EXE_NO_INTERP = 1 << 3, /* the new program runs without an interpreter (AT_BASE 0): its first executable file mapping is judged as an exec */
	EXE_UPPER    = 1 << 4, /* its data is in the writable (upper) layer of an overlayfs mount: created, copied or written
	                        * in the container, not shipped in an image layer (bpf/lib/overlay.h) */
};

/* EV_FORK, from sched_process_fork, new processes only (not threads). */
struct fork_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;     /* the parent */
	__u32 child_pid;
	__u32 pad;
	__u64 child_start_ns;
};
_Static_assert(sizeof(struct fork_event) == 80, "fork_event layout");

/* EV_EXIT, from sched_process_exit, when the whole thread group is gone. */
struct exit_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__u32 status;          /* wait(2) status: exit code << 8 | terminating signal */
	__u32 pad;
	__u64 start_ns;
};
_Static_assert(sizeof(struct exit_event) == 80, "exit_event layout");

/*
 * EV_CGROUP, from cgroup_mkdir: the agent maps new cgroups to workloads. The
 * path (relative to the cgroup v2 root, as the tracepoint gives it) travels
 * with the event: a container that lives for a millisecond is gone before
 * user space could turn its id into a path, and the path is its identity.
 */
#define VIGIL_CGROUP_PATH_MAX 511
struct cgroup_event {
	struct event_hdr hdr;
	struct proc_ctx  proc; /* the task that created it */
	__u64 id;
	__u64 parent_id;
	__u16 path_len;        /* tail: path, 0 when unreadable or truncated */
	__u16 op;              /* 0 = created (mkdir), 1 = removed while mapped (rmdir) */
	__u16 _pad[2];
};
_Static_assert(sizeof(struct cgroup_event) == 88, "cgroup_event layout");

/*
 * EV_MIGRATE, from cgroup_attach_task: a task that has an origin workload
 * was moved out of that workload's cgroup subtree (cgroup.procs or
 * cgroup.threads written, clone3 into a cgroup). proc is the task moved,
 * judged as its origin workload; writer_pid is who moved it.
 */
struct migrate_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__u64 to_cgid;         /* where it went */
	__u64 from_cgid;       /* its origin workload's cgroup */
	__u32 writer_pid;      /* the thread group that moved it (may be itself) */
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	__u16 path_len;        /* tail: the destination's path, relative to the cgroup v2 root */
	__u16 threadgroup;     /* 1 = the whole process moved, 0 = one thread */
	__u32 pad;
	char  tail[];
};
_Static_assert(sizeof(struct migrate_event) == 96, "migrate_event layout");

/*
 * EV_OPEN, EV_UNLINK, EV_RENAME, EV_CHMOD, EV_LINK, EV_SYMLINK, from sys_exit
 * (the result is known). truncate, ftruncate and fallocate are EV_OPEN
 * records of a write (flags O_WRONLY | O_TRUNC, or O_WRONLY for fallocate):
 * they change a file's content without an open for writing.
 */
struct file_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__s32 ret;             /* fd or 0 on success, -errno on failure */
	__u32 flags;           /* open: O_* flags; unlink: AT_REMOVEDIR; rename: RENAME_*; link: AT_SYMLINK_FOLLOW, AT_EMPTY_PATH */
	__u32 mode;            /* chmod: new mode; open: creation mode (bits 0-15) and the process's umask (bits 16-24) */
	__u16 path_len;        /* tail: path, then new_path (rename, link, symlink) */
	__u16 new_path_len;
	__u32 syscall_nr;
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	/*
	 * The protected directory each path is in, by identity (a directory a
	 * rule names, met walking up the file's dentries: also through a chroot,
	 * a bind mount, an open_tree clone, or above where a long path was cut).
	 */
	__u64 dir_ino;         /* its inode, 0 = none */
	__u64 new_dir_ino;
	__u32 dir_dev;         /* its s_dev */
	__u32 new_dir_dev;
	__u16 dir_off;         /* where the part of path below it starts; 0xffff: all of path is below it */
	__u16 new_dir_off;
	__u16 id_flags;        /* bit 0: path's walk did not reach the root (a protected directory above is unknown); bit 1: new_path's */
	__u16 pad2;
	char  tail[];
};
_Static_assert(sizeof(struct file_event) == 120, "file_event layout");

/* EV_CONNECT, from cgroup/connect4 and cgroup/connect6, before the connect. */
struct connect_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__u16 family;          /* AF_INET or AF_INET6 */
	__u16 dport;           /* host byte order */
	__u16 sock_type;       /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u16 protocol;        /* IPPROTO_* */
	__u8  daddr[16];       /* IPv4: first 4 bytes; network byte order */
	__u32 rule;            /* the rule that refused it (EVF_ENFORCED), else 0 */
	__u32 pad;
};
_Static_assert(sizeof(struct connect_event) == 96, "connect_event layout");

/* EV_PTRACE, EV_SETUID, from sys_exit. */
struct priv_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__s32 ret;
	__u32 syscall_nr;
	__u32 arg[4];          /* ptrace: request, target pid; setuid family: ids (-1 = unchanged); namespace, userfaultfd: see below */
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	__u32 pad;
};
_Static_assert(sizeof(struct priv_event) == 96, "priv_event layout");

/* priv_event.arg[0] of EV_PTRACE for the calls that read or write another process's memory without ptrace */
#define PTRACE_VM_READV  0x10000   /* process_vm_readv: arg[1] is the target pid */
#define PTRACE_VM_WRITEV 0x10001   /* process_vm_writev */

/*
 * EV_SOCKET: a socket created (sys_exit of socket/socketpair: all families),
 * or refused before creation (cgroup/sock_create: inet families, rule = 0,
 * EVF_ENFORCED): a workload with network deny rules may not open raw or
 * packet sockets, which would send around them.
 */
struct socket_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__u16 family;          /* AF_* */
	__u16 type;            /* SOCK_* (without SOCK_NONBLOCK / SOCK_CLOEXEC) */
	__u16 protocol;
	__u16 pad;
	__s32 ret;             /* the descriptor, or -errno (-EPERM when refused) */
	__u32 rule;            /* the rule the kernel enforced, 0 for the raw-socket refusal */
};
_Static_assert(sizeof(struct socket_event) == 80, "socket_event layout");

/*
 * EV_IO_URING, from tp_btf/io_uring_submit_req: a request that opens a door
 * the system call probes do not see (io_uring requests bypass sys_exit):
 * opening, creating, renaming, removing, linking or changing files, and
 * creating, connecting, binding, listening or accepting sockets.
 */
#define IO_URING_NAME 128

struct io_uring_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__u8  opcode;          /* IORING_OP_* (UAPI numbers, never renumbered) */
	__u8  op_class;        /* 1 = file, 2 = network */
	__u16 family;          /* IORING_OP_SOCKET: AF_*, else 0 */
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	__u16 sock_type;       /* IORING_OP_SOCKET: SOCK_* (flags masked off), else 0 */
	__u8  names_full;      /* bit 0: path filled its field (the name may be longer); bit 1: new_path */
	__u8  pad;
	__u32 pad2;
	/*
	 * The names as submitted (the kernel's copy, made when the request was
	 * prepared), relative to the request's directory descriptor: not
	 * resolved. path: open/unlink/mkdir/setxattr name, rename/link source,
	 * symlink target; new_path: rename/link/symlink destination. "" if none.
	 */
	char  path[IO_URING_NAME];
	char  new_path[IO_URING_NAME];
};
_Static_assert(sizeof(struct io_uring_event) == 336, "io_uring_event layout");

/*
 * EV_CODE, from sys_exit (bpf/code.bpf.c): a process of a workload loaded a
 * file as code, the first time for this (workload, device, inode): the
 * kernel's `code_seen` LRU remembers which, so an image's file costs one
 * record, not one per open. Runtime reachability (docs/vex.md).
 */
enum code_how {
	CODE_OPEN     = 1,     /* opened read-only: executable, or named like code (.so .py .jar ...) */
	CODE_MMAP     = 2,     /* mapped with PROT_EXEC */
	CODE_MPROTECT = 3,     /* a mapping of it made executable afterwards (mprotect, pkey_mprotect) */
};

struct code_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__u64 ino;
	__u32 dev;             /* the super block's s_dev (kernel encoding) */
	__u16 path_len;        /* tail: canonical path (as the process sees it: inside its root) */
	__u8  how;             /* enum code_how */
	__u8  pad;
	char  tail[];
};
_Static_assert(sizeof(struct code_event) == 80, "code_event layout");

/* Key of the `code_seen` LRU: one entry per file a workload loaded. */
struct code_key {
	__u32 workload;
	__u32 dev;
	__u64 ino;
};
_Static_assert(sizeof(struct code_key) == 16, "code_key layout");

/*
 * priv_event.arg of EV_NAMESPACE: [0] the CLONE_NEW* flags asked for
 * (unshare, clone, clone3) or setns's nstype argument; [1] setns: the
 * CLONE_NEW* type of the namespace the descriptor names (0 = a pidfd or
 * unknown); [2] setns through a pidfd: its pid (global); [3] setns: the
 * namespace's inode number (as in /proc/PID/ns/X), 0 for a pidfd.
 * EV_USERFAULTFD: [0] flags, [1] USERFAULTFD_VIA_*.
 */
#define CLONE_NEW_MASK 0x7e020080ULL /* NEWNS CGROUP UTS IPC USER PID NET TIME */
#define USERFAULTFD_VIA_SYSCALL 0
#define USERFAULTFD_VIA_DEV     1   /* ioctl(USERFAULTFD_IOC_NEW) on /dev/userfaultfd */

/* EV_CHOWN, EV_SETXATTR, from sys_exit: a file's owner or an extended attribute changed. */
struct attr_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__s32 ret;
	__u32 syscall_nr;
	__u32 uid;             /* chown: the new owner (-1 = unchanged) */
	__u32 gid;             /* chown: the new group (-1 = unchanged) */
	__u32 flags;           /* fchownat: AT_*; setxattr: XATTR_CREATE / XATTR_REPLACE */
	__u16 path_len;        /* tail: path, then (setxattr) the attribute's name */
	__u16 name_len;
	__u32 value_len;       /* setxattr: the size of the value */
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	char  tail[];
};
_Static_assert(sizeof(struct attr_event) == 96, "attr_event layout");

/*
 * EV_BIND, EV_LISTEN, EV_DUP, from sys_exit: a socket's local address
 * (bind, listen: a listener a workload opened) or a socket put on a
 * standard descriptor (dup: a reverse shell's first step).
 */
struct sockfd_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__s32 ret;             /* bind, listen: 0 or -errno; dup: the new descriptor (0, 1 or 2) */
	__u32 syscall_nr;
	__s32 fd;              /* the socket's descriptor (dup: the one duplicated) */
	__u16 family;          /* AF_* */
	__u16 type;            /* SOCK_* */
	__u16 protocol;
	__u16 port;            /* host byte order: bind, listen: the local port; dup: the peer's */
	__u32 backlog;         /* listen */
	__u8  addr[16];        /* bind, listen: the local address; dup: the peer's (zero: none); IPv4 in the first 4 bytes */
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	__u32 pad;
};
_Static_assert(sizeof(struct sockfd_event) == 112, "sockfd_event layout");

/* EV_MEMFD, from sys_exit of memfd_create. */
#define MEMFD_NAME 256
struct memfd_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__s32 ret;             /* the descriptor, or -errno */
	__u32 flags;           /* MFD_* */
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	__u32 pad;
	char  name[MEMFD_NAME]; /* as passed, NUL-terminated (the kernel's limit is 249 bytes) */
};
_Static_assert(sizeof(struct memfd_event) == 336, "memfd_event layout");

/* EV_BPF, from sys_exit of bpf(BPF_PROG_LOAD): the program as it was offered. */
#define BPF_PROG_NAME 16
struct bpf_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__s32 ret;             /* the program's descriptor, or -errno */
	__u32 cmd;             /* BPF_PROG_LOAD */
	__u32 prog_type;       /* BPF_PROG_TYPE_* */
	__u32 attach_type;     /* expected_attach_type */
	__u32 insn_cnt;
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	char  prog_name[BPF_PROG_NAME]; /* NUL-terminated unless 16 bytes long */
};
_Static_assert(sizeof(struct bpf_event) == 104, "bpf_event layout");

/* EV_MOUNT, EV_MODULE, from sys_exit. */
struct sys_event {
	struct event_hdr hdr;
	struct proc_ctx  proc;
	__s32 ret;
	__u32 syscall_nr;
	__u64 flags;           /* mount: MS_* flags; finit_module: MODULE_INIT_* flags */
	__u16 str1_len;        /* mount: source; module: file path (finit_module) */
	__u16 str2_len;        /* mount: target; module: parameters */
	__u16 str3_len;        /* mount: fstype */
	__u16 pad;
	__u32 rule;            /* the rule the kernel enforced (EVF_ENFORCED), else 0 */
	__u32 pad2;
	char  tail[];
};
_Static_assert(sizeof(struct sys_event) == 96, "sys_event layout");

/* Per-CPU counters, one slot per event kind. */
struct kind_counters {
	__u64 seen;            /* not written by the kernel: user space reports emitted + dropped + busy */
	__u64 emitted;         /* written to the ring buffer */
	__u64 dropped;         /* ring buffer full */
	__u64 busy;            /* per-CPU scratch in use by a preempted program */
	__u64 enforced;        /* the kernel killed or denied */
	__u64 lost;            /* of dropped: PRIO_URGENT records (a user-space kill rule had to judge them) */
};
_Static_assert(sizeof(struct kind_counters) == 48, "kind_counters layout");

/* Run-time configuration, one entry in the `settings` array map. */
struct vigil_config {
	/* the first 64 bytes: what the process, exec and file programs read on every event (one or two cache lines) */
	__u32 kinds;           /* bit (1 << kind) set = kind enabled */
	__u32 scoped_kinds;    /* kinds reported only from cgroups in the `cgroups` map */
	__u32 self_tgid;       /* the agent itself: never reported */
	__u32 wakeup_bytes;    /* force a reader wakeup once this much data is pending */
	__u32 scope_active;    /* 1 = a cgroup scope is set (EVF_IN_SCOPE needs a map hit) */
	__u32 generation;      /* bumped by user space after every `cgroups` map change */
	__u32 kill_kinds;      /* kinds with a rule the kernel enforces */
	__u32 path_kinds;      /* kinds whose path (exec: binary) is hashed and looked up in `rules` */
	__u32 path_filter_kinds; /* kinds reported only when a `rules` entry wants the path */
	__u32 urgent_kinds;    /* kinds that wake the reader at once (user-space enforcement) */
	__u32 rules_gen;       /* generation of the `rules` / `net_rules` / `net_prefixes` entries in force */
	__u32 origin_active;   /* 1 = workloads exist: tasks keep the workload they leave (PF_MOVED) */
	__u32 exe_state;       /* 1 = every exec records its binary in task storage (parent conditions, the loader) */
	__u32 loader_active;   /* 1 = a program without an interpreter has its first executable mapping judged as an exec */
	__u32 dir_active;      /* 1 = rules protect directories by identity (file_rules RM_PREFIX): walks look for them */
	__u32 id_kinds;        /* kinds whose file is also looked up by (device, inode) in `file_rules` */
	/* read by fewer programs, or only when rules of their kind exist */
	__u32 resolve_active;  /* 1 = the timestamp programs record what file calls touched (bpf/touched.bpf.c) */
	__u32 net_active;      /* 1 = connect rules are enforced */
	__u32 create_active;   /* 1 = some open rule names write, create or trunc: link, symlink and rename names are judged by it */
	__u32 guard_only;      /* kinds enabled for the kernel's own guards only: reported when it acts */
	__u16 prefix_depths[32]; /* per kind: bit d = some rule has a directory prefix of depth d */
	__u64 dir_bloom[4];    /* bit (ino ^ ino >> 8) & 255: some protected directory may have this inode number */
};
_Static_assert(sizeof(struct vigil_config) == 176, "vigil_config layout");

/* Value of the `tasks` task-storage map (bpf/lib/common.h); user space seeds tasks older than the agent. */
enum task_state_flag {
	TS_ORIGIN = 1 << 0,    /* origin_* are set */
	TS_LOADER = 1 << 1,    /* it exec'd a program without an interpreter (the dynamic loader, a static binary):
	                        * the first file it maps executable is judged as an exec of that file */
	TS_EXE    = 1 << 2,    /* exe_* are set (at its last exec) */
	TS_EXE_HASH = 1 << 3,  /* exe_hash is the hash of its binary's path */
};

struct task_state {
	__u64 origin_cgid;     /* the origin workload's cgroup (the task's at birth or exec) */
	__u32 origin_workload;
	__u16 origin_level;    /* that cgroup's depth in the hierarchy (ancestor checks) */
	__u16 flags;           /* enum task_state_flag */
	__u64 exe_ino;
	__u32 exe_dev;
	__u32 exe_flags;       /* enum exe_flag of its last exec */
	__u64 exe_hash;        /* path hash of its binary (TS_EXE_HASH) */
};
_Static_assert(sizeof(struct task_state) == 40, "task_state layout");

/* Value of the `cgroups` map (key: cgroup id). Seam for workload rules. */
struct cgroup_info {
	__u32 workload;        /* workload index (0 = monitored, no workload) */
	__u32 flags;
};
_Static_assert(sizeof(struct cgroup_info) == 8, "cgroup_info layout");

/*
 * Rules the kernel checks itself, looked up by path hash (bpf/lib/rules.h,
 * agent/rules/path-hash.ts): exact paths, directory prefixes, or a whole
 * kind, per workload.
 */
enum rule_match {
	RM_EXACT  = 1,
	RM_PREFIX = 2,
	RM_ANY    = 3,
};

enum rule_action {
	RA_REPORT = 1 << 0,    /* the event is wanted by some rule: emit it */
	RA_KILL   = 1 << 1,    /* SIGKILL the process */
};

/* open access bits, as rules say them */
enum rule_access {
	ACC_READ   = 1 << 0,
	ACC_WRITE  = 1 << 1,
	ACC_CREATE = 1 << 2,
	ACC_TRUNC  = 1 << 3,
};

struct rule_key {
	__u32 workload;        /* workload index (0 = no workload) */
	__u8  kind;
	__u8  match;           /* enum rule_match */
	__u8  gen;             /* vigil_config.rules_gen the entry belongs to */
	__u8  pad;
	__u64 hash;            /* path hash (0 for RM_ANY) */
};
_Static_assert(sizeof(struct rule_key) == 16, "rule_key layout");

struct rule_val {
	__u32 kill_rule;       /* rule id for RA_KILL */
	__u8  actions;         /* enum rule_action */
	__u8  access;          /* RA_KILL on open only for these accesses (0 = any) */
	__u16 slots;           /* bit i: conditional kill rule i of this workload and kind (`rule_conds`) wants this key */
};
_Static_assert(sizeof(struct rule_val) == 8, "rule_val layout");

/*
 * Rules by file identity (agent/enforce/file-ids.ts): the (device, inode)
 * the kernel gives a file (inode->i_sb->s_dev, i_ino), so that every name
 * for the file (hard link, chroot, bind mount, detached mount) is the same
 * file. RM_EXACT: the file itself (exec: the binary).
 */
struct file_key {
	__u32 workload;
	__u8  kind;
	__u8  match;           /* enum rule_match */
	__u8  gen;
	__u8  pad;
	__u32 dev;             /* s_dev, kernel encoding (major << 20 | minor) */
	__u32 pad2;
	__u64 ino;
};
_Static_assert(sizeof(struct file_key) == 24, "file_key layout");
/* RM_PREFIX in a file_key: a protected directory; the rule applies to everything below it, whatever the path says. */

/*
 * Sets of binaries that kill rules' conditions name (binary, parent_binary,
 * their exceptions): members by path hash (BIN_HASH, dev 0) or by identity
 * (BIN_ID). Value: 1.
 */
enum bin_member {
	BIN_HASH = 1,
	BIN_ID   = 2,
};

struct bin_key {
	__u32 set;
	__u8  gen;
	__u8  type;            /* enum bin_member */
	__u16 pad;
	__u32 dev;
	__u32 pad2;
	__u64 val;             /* path hash, or inode number */
};
_Static_assert(sizeof(struct bin_key) == 24, "bin_key layout");

/*
 * A kill rule with conditions the kernel checks once its key (path, binary,
 * or the whole kind) matched: per workload and kind, up to COND_SLOTS of
 * them, named by rule_val.slots. It kills when every `match` test holds and
 * no exception does (an exception holds when each of its tests does).
 */
#define COND_SLOTS      16
#define COND_TESTS      2
#define COND_EXCEPTIONS 4

enum bin_who {
	WHO_NONE     = 0,      /* no test */
	WHO_SELF     = 1,      /* the process's binary (exec: the new one) is in the set */
	WHO_PARENT   = 2,      /* its parent's binary is in the set */
	WHO_FILELESS = 3,      /* its binary has no link (exe_flag EXE_FILELESS); set unused */
	WHO_UPPER    = 4,      /* its binary is in a container's writable layer (exe_flag EXE_UPPER); set unused */
};

struct bin_test {
	__u32 set;
	__u8  who;             /* enum bin_who */
	__u8  negate;          /* not_in / fileless: false / writable_layer: false */
	__u16 pad;
};
_Static_assert(sizeof(struct bin_test) == 8, "bin_test layout");

struct cond_key {
	__u32 workload;
	__u8  kind;
	__u8  slot;
	__u8  gen;
	__u8  pad;
};
_Static_assert(sizeof(struct cond_key) == 8, "cond_key layout");

struct rule_cond {
	__u32 rule;            /* rule id */
	__u8  access;          /* open: kill only for these accesses (0 = any) */
	__u8  pad[3];
	struct bin_test match[COND_TESTS];
	struct bin_test except[COND_EXCEPTIONS][COND_TESTS];
};
_Static_assert(sizeof(struct rule_cond) == 88, "rule_cond layout");

/* Connect rules the kernel refuses: per workload, up to NET_SLOTS rules. */
#define NET_SLOTS  8
#define NET_PORTS  16

struct net_rule_key {
	__u32 workload;
	__u8  slot;
	__u8  gen;
	__u16 pad;
};
_Static_assert(sizeof(struct net_rule_key) == 8, "net_rule_key layout");

struct net_rule {
	__u32 rule;            /* rule id */
	__u8  has_pos;         /* destination must be in the rule's positive prefixes */
	__u8  has_neg;         /* and not in its negative ones */
	__u8  nports;          /* and its port among these (0 = any port) */
	__u8  pad;
	__u16 ports[NET_PORTS];
};
_Static_assert(sizeof(struct net_rule) == 40, "net_rule layout");

/* LPM trie key: prefixlen counts the 64 fixed bits plus the address bits. */
struct net_prefix_key {
	__u32 prefixlen;
	__u32 workload;
	__u8  slot;
	__u8  gen;
	__u8  polarity;        /* 1 positive, 2 negative */
	__u8  family;          /* 4 or 6 */
	__u8  addr[16];
};
_Static_assert(sizeof(struct net_prefix_key) == 28, "net_prefix_key layout");

/* Largest record: the fixed part plus three strings (exec: exe, args, cwd). */
#define VIGIL_TAIL_MAX   3072
#define VIGIL_RECORD_MAX (112 + VIGIL_TAIL_MAX)

#endif /* VIGIL_EVENTS_H */
