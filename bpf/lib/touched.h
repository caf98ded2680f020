/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The files a system call actually touched, for the calls that name files
 * instead of opening them (chmod, truncate, rename, link, symlink, unlink).
 *
 * At sys_exit only the names the caller passed are left, and a name is not
 * the file: a symlink, a symlinked directory or /proc/self/fd/N lead
 * elsewhere, and bpf_d_path() is not allowed here. But every one of these
 * calls changes the inode change time (ctime) of the inodes it modifies: the
 * file changed, the directories an entry was added to or removed from.
 * bpf/touched.bpf.c records those inodes for the task while the call runs
 * (the timestamp tracepoints), and sys_exit names the file by its dentry:
 * the canonical path of the file actually touched.
 */
#ifndef VIGIL_LIB_TOUCHED_H
#define VIGIL_LIB_TOUCHED_H

#include "common.h"
#include "syscall_nr.h"

#define TOUCHED_MAX 4

/* Value of the `touched_inodes` task storage: reset by each call of ours at sys_exit. */
struct touched {
	__u64 nr;                    /* the native system call they were touched in */
	__u64 inode[TOUCHED_MAX];    /* struct inode *, in the order touched */
	__u64 ino[TOUCHED_MAX];      /* its i_ino then: checked again before the pointer is used */
	__u32 n;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct touched);
} touched_inodes VIGIL_MAP;

/* The calls whose touched inodes name what they acted on, and their event kind (0: not one). */
static __always_inline __u32 touched_kind(__u64 nr)
{
	switch (nr) {
	case NR_chmod: case NR_fchmodat: case NR_fchmodat2:
		return EV_CHMOD;
	case NR_truncate:
		return EV_OPEN;
	case NR_rename: case NR_renameat: case NR_renameat2:
		return EV_RENAME;
	case NR_link: case NR_linkat:
		return EV_LINK;
	case NR_symlink: case NR_symlinkat:
		return EV_SYMLINK;
	case NR_unlink: case NR_unlinkat: case NR_rmdir:
		return EV_UNLINK;
	}
	return 0;
}

#endif /* VIGIL_LIB_TOUCHED_H */
