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
#include "lib/path.h"
#include "lib/rules.h"
#include "lib/syscall_nr.h"

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

/* the event families, one per header: each builds and emits its own record */
#include "syscalls/file.h"
#include "syscalls/priv.h"
#include "syscalls/sys.h"
#include "syscalls/sock.h"

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
		/* socketcall(SYS_SOCKET = 1, [family, type, protocol]); its other calls are not ours */
		__u32 args[3] = {};

		if (a->a[0] != 1)
			return 0;
		bpf_probe_read_user(args, sizeof(args), (void *)a->a[1]);
		a->a[0] = args[0];
		a->a[1] = args[1];
		a->a[2] = args[2];
	}
	return nr;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vigil_sys_exit, struct pt_regs *regs, long ret)
{
	struct vigil_config *cfg;
	struct kind_counters *c;
	struct task_struct *task;
	struct sc_regs r;
	struct sc_args a;
	__u64 pid_tgid, cgid, nr;
	__u32 kind, scope, compat;
	struct who who;

	task = bpf_get_current_task_btf();
	compat = task->thread_info.status & TS_COMPAT;
	r.nr = SC_NR(regs);
	/* the number alone first: most system calls are not ours (the arguments are read below) */
	if (!compat && !syscall_kind(r.nr & ~(__u64)X32_SYSCALL_BIT))
		return 0;
	r.di = regs->di;
	r.si = regs->si;
	r.dx = regs->dx;
	r.r10 = regs->r10;
	r.r8 = regs->r8;
	r.bx = regs->bx;
	r.cx = regs->cx;
	nr = sc_decode(&r, &a, compat);
	kind = syscall_kind(nr);
	if (!kind)
		return 0;
	cfg = get_config();
	if (!cfg || !(cfg->kinds & (1U << kind)))
		return 0;
	pid_tgid = task_pid_tgid(task);
	cgid = task_cgroup_id(task);
	scope = wanted(cfg, kind, pid_tgid >> 32, cgid, &who);
	if (!scope)
		return 0;
	/* an ia32 call is flagged (TS_COMPAT is bit 1): without a branch, one state for the verifier */
	scope |= (compat >> 1) << 7;
	if (kind == EV_PTRACE && nr == NR_ptrace && !ptrace_interesting(a.a[0]))
		return 0;
	c = get_counters(kind);
	if (!c)
		return 0;

	switch (kind) {
	case EV_OPEN: case EV_UNLINK: case EV_RENAME: case EV_CHMOD: case EV_LINK: case EV_SYMLINK:
		file_event(cfg, c, task, kind, nr, &a, ret, pid_tgid, cgid, scope & 0xff, &who);
		break;
	case EV_PTRACE: case EV_SETUID:
		priv_event(cfg, c, task, kind, nr, &a, ret, pid_tgid, cgid, scope & 0xff, &who);
		break;
	case EV_MOUNT: case EV_MODULE:
		sys_event(cfg, c, task, kind, nr, &a, ret, pid_tgid, cgid, scope & 0xff, &who);
		break;
	case EV_SOCKET:
		socket_event(cfg, c, task, &a, ret, pid_tgid, cgid, scope & 0xff, &who);
		break;
	}
	return 0;
}
