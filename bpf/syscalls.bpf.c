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

static __always_inline __u32 syscall_kind(__u64 nr)
{
	switch (nr) {
	case NR_open: case NR_creat: case NR_openat: case NR_openat2:
		return EV_OPEN;
	case NR_unlink: case NR_unlinkat: case NR_rmdir:
		return EV_UNLINK;
	case NR_rename: case NR_renameat: case NR_renameat2:
		return EV_RENAME;
	case NR_chmod: case NR_fchmod: case NR_fchmodat: case NR_fchmodat2:
		return EV_CHMOD;
	case NR_ptrace:
		return EV_PTRACE;
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

SEC("tp_btf/sys_exit")
int BPF_PROG(vigil_sys_exit, struct pt_regs *regs, long ret)
{
	struct vigil_config *cfg;
	struct kind_counters *c;
	struct task_struct *task;
	struct sc_args a;
	__u64 pid_tgid, cgid, nr;
	__u32 kind, scope;
	struct who who;

	nr = SC_NR(regs) & ~(__u64)X32_SYSCALL_BIT;
	kind = syscall_kind(nr);
	if (!kind)
		return 0;
	cfg = get_config();
	if (!cfg || !(cfg->kinds & (1U << kind)))
		return 0;
	/* an ia32 syscall's number means something else: not decoded here */
	task = bpf_get_current_task_btf();
	if (task->thread_info.status & TS_COMPAT)
		return 0;
	pid_tgid = task_pid_tgid(task);
	cgid = task_cgroup_id(task);
	scope = wanted(cfg, kind, pid_tgid >> 32, cgid, &who);
	if (!scope)
		return 0;
	a.a[0] = SC_ARG0(regs);
	a.a[1] = SC_ARG1(regs);
	if (kind == EV_PTRACE && !ptrace_interesting(a.a[0]))
		return 0;
	c = get_counters(kind);
	if (!c)
		return 0;
	a.a[2] = SC_ARG2(regs);
	a.a[3] = SC_ARG3(regs);
	a.a[4] = SC_ARG4(regs);

	switch (kind) {
	case EV_OPEN: case EV_UNLINK: case EV_RENAME: case EV_CHMOD:
		file_event(cfg, c, task, kind, nr, &a, ret, pid_tgid, cgid, scope & 0xff, &who);
		break;
	case EV_PTRACE: case EV_SETUID:
		priv_event(cfg, c, task, kind, nr, &a, ret, pid_tgid, cgid, scope & 0xff, &who);
		break;
	case EV_MOUNT: case EV_MODULE:
		sys_event(cfg, c, task, kind, nr, &a, ret, pid_tgid, cgid, scope & 0xff, &who);
		break;
	}
	return 0;
}
