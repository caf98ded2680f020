// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * File and privilege operations, from one hook: the raw sys_exit tracepoint.
 *
 * Why sys_exit and not sys_enter_<name>: at exit the saved registers still
 * hold the arguments and we also know the result, so an open that succeeded
 * is reported with the canonical path of the file it opened (from the new
 * descriptor's dentry chain: symlinks, `..` and cwd already resolved by the
 * kernel), and a failed one is still reported. One program for every
 * syscall costs one switch on the syscall number for uninteresting calls,
 * instead of one perf tracepoint dispatch per syscall kind.
 */
#include "lib/common.h"
/* file events look for protected directories by identity on their walks (lib/path.h) */
#define VIGIL_WALK_IDS
#include "lib/path.h"
#include "lib/rules.h"
#include "lib/syscall_nr.h"
#include "lib/touched.h"

struct sc_args {
	__u64 a[5];
};

/* the registers a system call's number and arguments are in, native (di si dx r10 r8) or ia32 (bx cx dx si di) */
struct sc_regs {
	__u64 nr, di, si, dx, r10, r8, bx, cx;
};

static __always_inline __u32 syscall_kind(__u64 nr)
{
	switch (nr) {
	case NR_open: case NR_creat: case NR_openat: case NR_openat2:
	/* a change of content without an open for writing is reported as the write it is */
	case NR_truncate: case NR_ftruncate: case NR_fallocate:
		return EV_OPEN;
	case NR_link: case NR_linkat:
		return EV_LINK;
	case NR_symlink: case NR_symlinkat:
		return EV_SYMLINK;
	case NR_unlink: case NR_unlinkat: case NR_rmdir:
		return EV_UNLINK;
	case NR_rename: case NR_renameat: case NR_renameat2:
		return EV_RENAME;
	case NR_chmod: case NR_fchmod: case NR_fchmodat: case NR_fchmodat2:
		return EV_CHMOD;
	case NR_ptrace: case NR_process_vm_readv: case NR_process_vm_writev:
		return EV_PTRACE;
	case NR_socket: case NR_socketpair:
		return EV_SOCKET;
	case NR_setuid: case NR_setgid: case NR_setreuid: case NR_setregid:
	case NR_setresuid: case NR_setresgid: case NR_setfsuid: case NR_setfsgid:
		return EV_SETUID;
	case NR_mount: case NR_move_mount:
		return EV_MOUNT;
	case NR_init_module: case NR_finit_module:
		return EV_MODULE;
	case NR_chown: case NR_fchown: case NR_lchown: case NR_fchownat:
		return EV_CHOWN;
	case NR_setxattr: case NR_lsetxattr: case NR_fsetxattr: case NR_setxattrat:
		return EV_SETXATTR;
	case NR_unshare: case NR_setns: case NR_clone: case NR_clone3:
		return EV_NAMESPACE;
	case NR_bind:
		return EV_BIND;
	case NR_listen:
		return EV_LISTEN;
	case NR_dup: case NR_dup2: case NR_dup3: case NR_fcntl:
		return EV_DUP;
	case NR_memfd_create:
		return EV_MEMFD;
	case NR_userfaultfd: case NR_ioctl:
		return EV_USERFAULTFD;
	case NR_bpf:
		return EV_BPF;
	}
	return 0;
}

#define F_DUPFD            0
#define F_DUPFD_CLOEXEC    1030
#define USERFAULTFD_IOC_NEW 0xaa00
#define BPF_PROG_LOAD      5

/*
 * Calls of a reported number that are still not ours, from the first two
 * arguments and the result: most ioctl, fcntl, dup, clone and clone3 calls
 * (clone3's flags are read from its argument block). For native calls it is
 * asked straight from the registers at sys_exit, before the decode: these
 * frequent calls cost a compare, not two function calls.
 */
static __always_inline int sc_boring(__u64 nr, __u64 a0, __u64 a1, long ret)
{
	switch (nr) {
	case NR_ioctl:
		/* /dev/userfaultfd's ioctl that makes a userfaultfd */
		return (__u32)a1 != USERFAULTFD_IOC_NEW;
	case NR_fcntl:
		if ((__u32)a1 != F_DUPFD && (__u32)a1 != F_DUPFD_CLOEXEC)
			return 1;
		/* fall through */
	case NR_dup: case NR_dup2: case NR_dup3:
		/* only a descriptor that became 0, 1 or 2 (close(0); dup(sock) is the same as dup2) */
		return ret < 0 || ret > 2;
	case NR_clone:
		/* the child returns from clone too (0): the parent reports it, a kill rule kills both */
		return !(a0 & CLONE_NEW_MASK);
	case NR_unshare:
		return !(a0 & CLONE_NEW_MASK);
	case NR_clone3: {
		/* struct clone_args starts with the 64-bit flags: a thread (pthread_create) or a plain fork is not ours */
		__u64 flags = 0;

		bpf_probe_read_user(&flags, sizeof(flags), (void *)a0);
		return !(flags & CLONE_NEW_MASK);
	}
	case NR_bpf:
		return a0 != BPF_PROG_LOAD;
	}
	return 0;
}

/* Copy a user string into dst (at most max bytes, no terminator kept). */
static __always_inline __u32 user_str(char *dst, __u32 max, const char *src, __u8 *cut)
{
	long n;

	if (!src)
		return 0;
	n = bpf_probe_read_user_str(dst, max & VIGIL_STR_MAX, src);
	if (n <= 0)
		return 0;
	if ((__u32)n == max)
		*cut = 1;
	return (n - 1) & VIGIL_STR_MAX;
}

/*
 * The kind of a decoded call, 0 when it is not ours. A native call was
 * already through sc_boring() at sys_exit's entry (from the registers); an
 * ia32 one is asked here, once decoded. Asked once: clone3's flags are read
 * from user memory, which the caller can change between two reads. A global
 * function: to the verifier the dispatcher goes on with one unknown kind,
 * not one state per kind and per range of results.
 */
__noinline __u32 sc_kind(__u64 nr, __u64 a0, __u64 a1, __s64 ret, __u32 compat)
{
	__u32 kind = syscall_kind(nr);

	if (!kind || (compat && sc_boring(nr, a0, a1, ret)))
		return 0;
	return kind;
}

/* the event families, one per header: each builds and emits its own record */
#include "syscalls/file.h"
#include "syscalls/priv.h"
#include "syscalls/sys.h"
#include "syscalls/sock.h"
#include "syscalls/attr.h"
#include "syscalls/mem.h"

/*
 * The call's native number and its arguments, from either table. A global
 * function: verified once on its own, so the dispatcher below sees one
 * unknown number and five unknown arguments whichever table the call came
 * through (inlined, each ia32 case would be a constant the verifier walked
 * through every handler separately). 0: not a call Vigil reports.
 */
__noinline __u64 sc_decode(struct sc_regs *r, struct sc_args *a, __u32 compat)
{
	__u32 narrow = 0;
	__u64 nr;

	if (!r || !a)
		return 0;
	nr = r->nr & ~(__u64)X32_SYSCALL_BIT;
	if (!compat) {
		a->a[0] = r->di;
		a->a[1] = r->si;
		a->a[2] = r->dx;
		a->a[3] = r->r10;
		a->a[4] = r->r8;
		return nr;
	}
	/*
	 * int 0x80 from any process, 64-bit ones included: the ia32 table (its
	 * own numbers and registers, ebx ecx edx esi edi). Translated to the
	 * native call, so that rules see one open, not two kinds of it.
	 */
	nr = compat_native(nr, &narrow);
	a->a[0] = (__u32)r->bx;
	a->a[1] = (__u32)r->cx;
	a->a[2] = (__u32)r->dx;
	a->a[3] = (__u32)r->si;
	a->a[4] = (__u32)r->di;
	if (narrow == 1) {
		/* the 16-bit-id set*id calls: -1 (unchanged) is 0xffff */
		if (a->a[0] == 0xffff)
			a->a[0] = 0xffffffff;
		if (a->a[1] == 0xffff)
			a->a[1] = 0xffffffff;
		if (a->a[2] == 0xffff)
			a->a[2] = 0xffffffff;
	} else if (narrow == 2) {
		/* socketcall(call, [arguments]): SYS_SOCKET = 1, SYS_BIND = 2, SYS_LISTEN = 4; its other calls are not ours */
		__u32 args[3] = {};

		if (a->a[0] == 1)
			nr = NR_socket;
		else if (a->a[0] == 2)
			nr = NR_bind;
		else if (a->a[0] == 4)
			nr = NR_listen;
		else
			return 0;
		bpf_probe_read_user(args, sizeof(args), (void *)a->a[1]);
		a->a[0] = args[0];
		a->a[1] = args[1];
		a->a[2] = args[2];
	} else if (narrow == 3) {
		/* the 16-bit-id chown calls: -1 (unchanged) is 0xffff */
		if (a->a[1] == 0xffff)
			a->a[1] = 0xffffffff;
		if (a->a[2] == 0xffff)
			a->a[2] = 0xffffffff;
	}
	return nr;
}

/*
 * One system call, decoded: what the dispatcher hands an event family. The
 * families are global functions, each verified once on its own (a call of
 * unknown kind, number and arguments): inlined into the dispatcher, every
 * family was walked again for every state the dispatcher reached them in,
 * and the program outgrew the verifier's million instructions.
 */
struct sc_call {
	struct sc_args a;
	__u64 nr;
	__s64 ret;
	__u64 pid_tgid;
	__u64 cgid;
	__u32 kind;
	__u32 scope;           /* header flags from wanted() (and EVF_COMPAT) */
	/* of struct who, what the families read (the rest stays dead: the verifier prunes on it) */
	__u32 workload;
	__u32 pflags;
};

/* What every family needs again: the settings, the kind's counters, the task, and its own copies of the call. */
#define SC_FAMILY(fn, body)								\
__noinline int fn(struct sc_call *k)							\
{											\
	struct vigil_config *cfg = get_config();					\
	struct task_struct *task = bpf_get_current_task_btf();			\
	struct kind_counters *c;							\
	struct sc_args a;								\
	struct who who;									\
	__u32 kind;									\
											\
	if (!k || !cfg)									\
		return 0;								\
	kind = k->kind & 31;								\
	c = get_counters(kind);								\
	if (!c)										\
		return 0;								\
	a = k->a;									\
	who.workload = k->workload;							\
	who.pflags = k->pflags;								\
	who.hit = 0;									\
	who.level = 0;									\
	who.pad = 0;									\
	body;										\
	return 0;									\
}

SC_FAMILY(sc_file, file_event(cfg, c, task, kind, k->nr, &a, k->ret, k->pid_tgid, k->cgid, k->scope & 0xff, &who))
SC_FAMILY(sc_priv, priv_event(cfg, c, task, kind, k->nr, &a, k->ret, k->pid_tgid, k->cgid, k->scope & 0xff, &who))
SC_FAMILY(sc_sys, sys_event(cfg, c, task, kind, k->nr, &a, k->ret, k->pid_tgid, k->cgid, k->scope & 0xff, &who))
SC_FAMILY(sc_socket, socket_event(cfg, c, task, &a, k->ret, k->pid_tgid, k->cgid, k->scope & 0xff, &who))
SC_FAMILY(sc_attr, attr_event(cfg, c, task, kind, k->nr, &a, k->ret, k->pid_tgid, k->cgid, k->scope & 0xff, &who))
SC_FAMILY(sc_sockfd, sockfd_event(cfg, c, task, kind, k->nr, &a, k->ret, k->pid_tgid, k->cgid, k->scope & 0xff, &who))
SC_FAMILY(sc_mem, if (kind == EV_MEMFD)
			  memfd_event(cfg, c, task, &a, k->ret, k->pid_tgid, k->cgid, k->scope & 0xff, &who);
		  else
			  bpf_event(cfg, c, task, &a, k->ret, k->pid_tgid, k->cgid, k->scope & 0xff, &who))

/* Judge and report one call of ours (the rest of vigil_sys_exit). */
static __always_inline int sys_exit_call(struct vigil_config *cfg, struct task_struct *task, struct sc_call *k,
					 __u64 nr, __u32 kind, __u32 compat, long ret)
{
	__u32 scope;
	struct who who;

	k->pid_tgid = task_pid_tgid(task);
	k->cgid = task_cgroup_id(task);
	scope = wanted(cfg, kind, k->pid_tgid >> 32, k->cgid, &who);
	if (!scope)
		return 0;
	k->workload = who.workload;
	k->pflags = who.pflags;
	if (kind == EV_PTRACE && nr == NR_ptrace && !ptrace_interesting(k->a.a[0]))
		return 0;
	/* an ia32 call is flagged (TS_COMPAT is bit 1): without a branch, one state for the verifier */
	k->scope = (scope & 0xff) | ((compat >> 1) << 7);
	k->nr = nr;
	k->ret = ret;
	k->kind = kind;

	switch (kind) {
	case EV_OPEN: case EV_UNLINK: case EV_RENAME: case EV_CHMOD: case EV_LINK: case EV_SYMLINK:
		return sc_file(k);
	case EV_PTRACE: case EV_SETUID: case EV_NAMESPACE: case EV_USERFAULTFD:
		return sc_priv(k);
	case EV_MOUNT: case EV_MODULE:
		return sc_sys(k);
	case EV_SOCKET:
		return sc_socket(k);
	case EV_CHOWN: case EV_SETXATTR:
		return sc_attr(k);
	case EV_BIND: case EV_LISTEN: case EV_DUP:
		return sc_sockfd(k);
	case EV_MEMFD: case EV_BPF:
		return sc_mem(k);
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vigil_sys_exit, struct pt_regs *regs, long ret)
{
	struct vigil_config *cfg;
	struct task_struct *task;
	struct touched *t;
	struct sc_regs r;
	struct sc_call k;
	__u64 nr;
	__u32 kind, compat;

	task = bpf_get_current_task_btf();
	compat = task->thread_info.status & TS_COMPAT;
	r.nr = SC_NR(regs);
	if (!compat) {
		nr = r.nr & ~(__u64)X32_SYSCALL_BIT;
		/* the number alone first: most system calls are not ours (the arguments are read below) */
		if (!syscall_kind(nr))
			return 0;
		/* then ours that are not (most clone, ioctl, fcntl, dup calls): two registers, no decode, no call */
		if (sc_boring(nr, regs->di, regs->si, ret))
			return 0;
	}
	r.di = regs->di;
	r.si = regs->si;
	r.dx = regs->dx;
	r.r10 = regs->r10;
	r.r8 = regs->r8;
	r.bx = regs->bx;
	r.cx = regs->cx;
	nr = sc_decode(&r, &k.a, compat);
	kind = sc_kind(nr, k.a.a[0], k.a.a[1], ret, compat);
	if (!kind)
		return 0;
	cfg = get_config();
	if (!cfg || !(cfg->kinds & (1U << kind)))
		return 0;
	sys_exit_call(cfg, task, &k, nr, kind, compat, ret);
	/*
	 * What the timestamp programs recorded during this call was used (file.h);
	 * reset it whatever happened (looked up here, not passed down: one more
	 * pointer-or-NULL through the scope filter doubled its verifier states).
	 */
	if (touched_kind(nr) && cfg->resolve_active) {
		t = bpf_task_storage_get(&touched_inodes, task, 0, 0);
		if (t)
			t->n = 0;
	}
	return 0;
}
