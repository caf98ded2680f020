// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * The inodes a file system call modified, while it runs (lib/touched.h).
 *
 * Why the timestamp tracepoints: every change to a file or a directory sets
 * its inode change time through inode_set_ctime_current() or
 * inode_set_ctime_to_ts() (every file system, since 6.6 they all go through
 * these accessors), which fire ctime_ns_xchg / ctime_xchg_skip (multigrain
 * file systems: ext4, xfs, btrfs, tmpfs since 6.13) or inode_set_ctime_to_ts
 * (the others), with the inode. There is no VFS tracepoint with a dentry,
 * and fentry, kprobes and BPF LSM are refused on the kernels we run on. The
 * task and its system call (the saved orig_ax) say whether it is one of
 * ours; the cost elsewhere is that test.
 */
#include "lib/common.h"
#include "lib/syscall_nr.h"
#include "lib/touched.h"

#ifndef PF_KTHREAD
#define PF_KTHREAD   0x00200000
#endif
#ifndef PF_IO_WORKER
#define PF_IO_WORKER 0x00000010
#endif

static __always_inline void touch(struct inode *inode)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vigil_config *cfg;
	struct touched *t;
	struct pt_regs *regs;
	__u32 narrow, kind, n;
	__u64 nr, ino;

	/* kernel threads and io_uring workers run no system call of their own */
	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs)
		return;
	nr = BPF_CORE_READ(regs, orig_ax) & ~(__u64)X32_SYSCALL_BIT;
	if (task->thread_info.status & TS_COMPAT)
		nr = compat_native(nr, &narrow);
	kind = touched_kind(nr);
	if (!kind)
		return;
	cfg = get_config();
	if (!cfg || !cfg->resolve_active || !(cfg->kinds & (1U << kind)) || task->tgid == cfg->self_tgid)
		return;
	t = bpf_task_storage_get(&touched_inodes, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		return;
	if (t->nr != nr) {
		t->nr = nr;
		t->n = 0;
	}
	ino = BPF_CORE_READ(inode, i_ino);
	n = t->n;
	/* the same inode twice (truncate stamps it twice): once */
	for (__u32 i = 0; i < TOUCHED_MAX; i++) {
		if (i >= n)
			break;
		if (t->inode[i] == (__u64)inode)
			return;
	}
	if (n >= TOUCHED_MAX)
		return;
	t->inode[n & (TOUCHED_MAX - 1)] = (__u64)inode;
	t->ino[n & (TOUCHED_MAX - 1)] = ino;
	t->n = n + 1;
}

SEC("tp_btf/ctime_ns_xchg")
int BPF_PROG(vigil_ctime_xchg, struct inode *inode, u32 cns, u32 nsec, u32 cur)
{
	touch(inode);
	return 0;
}

SEC("tp_btf/ctime_xchg_skip")
int BPF_PROG(vigil_ctime_skip, struct inode *inode, struct timespec64 *ctime)
{
	touch(inode);
	return 0;
}

SEC("tp_btf/inode_set_ctime_to_ts")
int BPF_PROG(vigil_ctime_set, struct inode *inode, struct timespec64 *ctime)
{
	touch(inode);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
