/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * ptrace, the set*id family, namespaces (unshare, setns, clone and clone3
 * with CLONE_NEW*) and userfaultfd at sys_exit: the request and its
 * arguments in one priv_event, and the kernel's own kill when a rule asks
 * for it (the process dies before it returns to user space: before it runs
 * in the new namespace, before it uses the userfaultfd).
 * Included by syscalls.bpf.c (the dispatcher), after struct sc_args.
 */
#ifndef VIGIL_SYSCALLS_PRIV_H
#define VIGIL_SYSCALLS_PRIV_H

#include "../lib/common.h"
#include "../lib/path.h"
#include "../lib/rules.h"
#include "../lib/syscall_nr.h"

/* ptrace requests that take or use control of another process. */
static __always_inline int ptrace_interesting(__u64 req)
{
	switch (req) {
	case 0:       /* PTRACE_TRACEME */
	case 4:       /* PTRACE_POKETEXT */
	case 5:       /* PTRACE_POKEDATA */
	case 6:       /* PTRACE_POKEUSER */
	case 13:      /* PTRACE_SETREGS */
	case 15:      /* PTRACE_SETFPREGS */
	case 16:      /* PTRACE_ATTACH */
	case 0x4205:  /* PTRACE_SETREGSET */
	case 0x4206:  /* PTRACE_SEIZE */
		return 1;
	}
	return 0;
}

/* superblock magics: a namespace file (/proc/PID/ns/X) and a pidfd (pidfs, 6.9+) */
#define NSFS_MAGIC    0x6e736673
#define PIDFS_MAGIC   0x50494446

/* ns_common before 6.18 kept the type in its operations */
struct proc_ns_operations___old {
	int type;
} __attribute__((preserve_access_index));

struct ns_common___old {
	const struct proc_ns_operations___old *ops;
	unsigned int inum;
} __attribute__((preserve_access_index));

/*
 * setns(fd, nstype): what the descriptor names. A namespace file: its type
 * (CLONE_NEW*) and inode number (arg[1], arg[3]); a pidfd: its pid (arg[2]),
 * whose namespaces the caller joins.
 */
static __always_inline void setns_target(struct task_struct *task, __s32 fd, __u32 *arg)
{
	struct file *f = task_fd_file(task, fd);
	struct inode *ino;
	unsigned long magic;

	if (!f)
		return;
	ino = BPF_CORE_READ(f, f_inode);
	magic = BPF_CORE_READ(ino, i_sb, s_magic);
	if (magic == NSFS_MAGIC) {
		struct ns_common *ns = BPF_CORE_READ(ino, i_private);

		if (bpf_core_field_exists(ns->ns_type)) {
			arg[1] = BPF_CORE_READ(ns, ns_type);
			arg[3] = BPF_CORE_READ(ns, inum);
		} else {
			struct ns_common___old *old = (void *)ns;

			arg[1] = BPF_CORE_READ(old, ops, type);
			arg[3] = BPF_CORE_READ(old, inum);
		}
	} else if (magic == PIDFS_MAGIC) {
		/* pidfs keeps the struct pid in the inode (pidfd_pid()); before, the file held it */
		struct pid *p = BPF_CORE_READ(ino, i_private);

		if (!p)
			p = BPF_CORE_READ(f, private_data);
		arg[2] = BPF_CORE_READ(p, numbers[0].nr);
	}
}

static __always_inline void priv_event(struct vigil_config *cfg, struct kind_counters *c,
				       struct task_struct *task, __u32 kind, __u64 nr,
				       struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
				       __u8 scope, struct who *who)
{
	struct priv_event *e;
	__u32 rule = 0, arg[4] = { a->a[0], a->a[1], a->a[2], 0 };

	switch (nr) {
	case NR_setuid: case NR_setgid: case NR_setfsuid: case NR_setfsgid:
		arg[1] = -1;
		/* fall through */
	case NR_setreuid: case NR_setregid:
		arg[2] = -1;
		break;
	case NR_ptrace:
		arg[2] = 0;
		break;
	case NR_process_vm_readv: case NR_process_vm_writev:
		/* another process's memory read or written without ptrace: judged as a ptrace of it */
		arg[0] = nr == NR_process_vm_writev ? PTRACE_VM_WRITEV : PTRACE_VM_READV;
		arg[1] = a->a[0];
		arg[2] = 0;
		break;
	case NR_unshare: case NR_clone:
		arg[0] = a->a[0] & CLONE_NEW_MASK;
		arg[1] = arg[2] = 0;
		break;
	case NR_clone3: {
		/* struct clone_args starts with the 64-bit flags */
		__u64 flags = 0;

		bpf_probe_read_user(&flags, sizeof(flags), (void *)a->a[0]);
		arg[0] = flags & CLONE_NEW_MASK;
		arg[1] = arg[2] = 0;
		if (!arg[0])
			return;
		break;
	}
	case NR_setns:
		arg[0] = a->a[1];
		arg[1] = arg[2] = 0;
		setns_target(task, a->a[0], arg);
		break;
	case NR_userfaultfd:
		arg[1] = USERFAULTFD_VIA_SYSCALL;
		arg[2] = 0;
		break;
	case NR_ioctl:
		/* ioctl(/dev/userfaultfd, USERFAULTFD_IOC_NEW, flags) */
		arg[0] = a->a[2];
		arg[1] = USERFAULTFD_VIA_DEV;
		arg[2] = 0;
		break;
	}
	scope |= kind_verdict(cfg, c, kind, who, &rule);
	/* the child's return from clone: it dies with its parent under a kill rule, and is not reported again */
	if ((nr == NR_clone || nr == NR_clone3) && ret == 0)
		return;
	e = reserve_record(c, kind, sizeof(*e), scope, task, pid_tgid, cgid, who->workload, who->pflags);
	if (!e)
		return;
	e->rule = rule;
	e->pad = 0;
	e->ret = ret;
	e->syscall_nr = nr;
	e->arg[0] = arg[0];
	e->arg[1] = arg[1];
	e->arg[2] = arg[2];
	e->arg[3] = arg[3];
	submit_record(cfg, c, e);
}

#endif /* VIGIL_SYSCALLS_PRIV_H */
