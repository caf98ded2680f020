/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The exec record and its verdict, for the two ways a program comes to
 * run: execve (sched_process_exec, process.bpf.c) and a program without an
 * interpreter mapping another one executable (the dynamic loader run as a
 * program: `ld-linux-x86-64.so.2 /usr/bin/dash`; syscalls.bpf.c, at the
 * mmap's sys_exit). Both are judged by the same exec rules: by path, by the
 * file's (device, inode), and by the conditions of kill rules.
 */
#ifndef VIGIL_LIB_EXEC_H
#define VIGIL_LIB_EXEC_H

#include "common.h"
#include "path.h"
#include "rules.h"

#define PROT_EXEC 0x4
#define AT_NULL   0
#define AT_BASE   7
#define AUXV_PAIRS 32

/* Flavours of struct inode for CO-RE: ctime moved twice (6.6 and 6.11). */
struct inode___v66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

struct inode___old {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

static __always_inline __u64 inode_ctime_ns(struct inode *ino)
{
	__u64 sec = 0, nsec = 0;

	if (bpf_core_field_exists(ino->i_ctime_sec)) {
		sec = BPF_CORE_READ(ino, i_ctime_sec);
		/*
		 * From 6.13 (multigrain timestamps) bit 31 of i_ctime_nsec is
		 * I_CTIME_QUERIED, set when someone stat()s the file: masked, as
		 * inode_get_ctime_nsec() does, or a look at a file makes it
		 * ~2.1 s newer (and drift fires on a binary only looked at).
		 * Older kernels with this field never set the bit (nsec < 1e9).
		 */
		nsec = BPF_CORE_READ(ino, i_ctime_nsec) & ~(1U << 31);
	} else if (bpf_core_field_exists(((struct inode___v66 *)ino)->__i_ctime)) {
		sec = BPF_CORE_READ((struct inode___v66 *)ino, __i_ctime.tv_sec);
		nsec = BPF_CORE_READ((struct inode___v66 *)ino, __i_ctime.tv_nsec);
	} else {
		sec = BPF_CORE_READ((struct inode___old *)ino, i_ctime.tv_sec);
		nsec = BPF_CORE_READ((struct inode___old *)ino, i_ctime.tv_nsec);
	}
	return sec * 1000000000ULL + nsec;
}

/* The same from a typed pointer: plain loads (the branches not taken are removed at load). */
static __always_inline __u64 inode_ctime_ns_btf(struct inode *ino)
{
	if (bpf_core_field_exists(ino->i_ctime_sec))
		return ino->i_ctime_sec * 1000000000ULL + (ino->i_ctime_nsec & ~(1U << 31));
	if (bpf_core_field_exists(((struct inode___v66 *)ino)->__i_ctime))
		return ((struct inode___v66 *)ino)->__i_ctime.tv_sec * 1000000000ULL +
		       ((struct inode___v66 *)ino)->__i_ctime.tv_nsec;
	return ((struct inode___old *)ino)->i_ctime.tv_sec * 1000000000ULL +
	       ((struct inode___old *)ino)->i_ctime.tv_nsec;
}

/*
 * What the exec record says of the file run, read once: its place (dentry
 * and mount, for the path), identity, change time, and what makes it
 * fileless, deleted or a container's own.
 */
struct exe_file {
	struct dentry *dentry;
	struct vfsmount *mnt;
	__u64 ino;
	__u64 ctime_ns;
	__u32 dev;
	__u32 flags;            /* EXE_FILELESS, EXE_MEMFD, EXE_UPPER */
	__u32 deleted;          /* unlinked, or never had a path: the name ends in " (deleted)" */
};

/*
 * Memfd: a pseudo dentry that is its own parent and not its mount's root
 * (its name is simple_dname()'s); deleted: unhashed (d_path()).
 */
#define EXE_NAME_FLAGS(x, self_parent, mnt_root, unhashed)		\
	do {								\
		if ((self_parent) && !(mnt_root)) {			\
			(x)->flags |= EXE_MEMFD;			\
			(x)->deleted = 1;				\
		} else {						\
			(x)->deleted = (unhashed);			\
		}							\
	} while (0)

/*
 * From a typed pointer (a tp_btf argument: sched_process_exec's bprm->file):
 * plain loads, no helper call each (a dozen probe reads cost the exec path a
 * fifth of its time).
 */
static __always_inline void exe_file_btf(struct file *f, struct exe_file *x)
{
	struct inode *ino = f->f_inode;
	struct dentry *d = f->f_path.dentry;
	struct vfsmount *mnt = f->f_path.mnt;
	struct super_block *sb = ino->i_sb;

	x->dentry = d;
	x->mnt = mnt;
	x->ino = ino->i_ino;
	x->dev = sb->s_dev;
	x->ctime_ns = inode_ctime_ns_btf(ino);
	x->flags = ino->__i_nlink == 0 ? EXE_FILELESS : 0;
	/* dropped into the container (writable layer), not from its image */
	if (sb->s_magic == OVERLAYFS_SUPER_MAGIC && ovl_upper_data_of(ino))
		x->flags |= EXE_UPPER;
	EXE_NAME_FLAGS(x, d == d->d_parent, d == mnt->mnt_root, d->d_hash.pprev == NULL);
}

/* The same from a plain kernel pointer (a descriptor table's file): CO-RE reads. */
static __always_inline void exe_file_core(struct file *f, struct exe_file *x)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	struct vfsmount *mnt = BPF_CORE_READ(f, f_path.mnt);

	x->dentry = d;
	x->mnt = mnt;
	x->ino = BPF_CORE_READ(ino, i_ino);
	x->dev = BPF_CORE_READ(ino, i_sb, s_dev);
	x->ctime_ns = inode_ctime_ns(ino);
	x->flags = inode_nlink(ino) == 0 ? EXE_FILELESS : 0;
	if (ovl_upper_data(ino))
		x->flags |= EXE_UPPER;
	EXE_NAME_FLAGS(x, d == BPF_CORE_READ(d, d_parent), d == BPF_CORE_READ(mnt, mnt_root),
		       BPF_CORE_READ(d, d_hash.pprev) == NULL);
}

/*
 * The name the kernel gives an executed file, as /proc/PID/exe says it:
 * its canonical path; "/NAME (deleted)" for a file that never had a path
 * (memfd_create, named by simple_dname()); the path plus " (deleted)" once
 * it was unlinked (d_path()).
 */
static __always_inline __u32 exe_path(char *dst, struct scratch *s, struct exe_file *x,
				      struct walk_root *root, __u8 *cut, __u32 typed)
{
	__u32 len;

	if (x->flags & EXE_MEMFD) {
		/* a local: BPF_CORE_READ would relocate x->dentry too, and exe_file is ours */
		struct dentry *d = x->dentry;
		long n;

		dst[0] = '/';
		n = bpf_probe_read_kernel_str(&dst[1], NAME_MASK + 1, BPF_CORE_READ(d, d_name.name));
		len = n > 1 ? n : 1;      /* "/" + name (n counts the NUL) */
	} else {
		len = path_copy(dst, s, typed ? path_walk_typed(s, x->dentry, x->mnt, root) :
					       path_walk(s, (__u64)x->dentry, (__u64)x->mnt, root), cut);
	}
	if (x->deleted && len + 10 <= VIGIL_PATH_MAX) {
		__builtin_memcpy(&dst[len & PATHBUF_MASK], " (deleted)", 10);
		len += 10;
	}
	return len & (PATHBUF_SIZE - 1);
}

/*
 * Does the program p now runs have no interpreter (AT_BASE is 0 in its
 * auxiliary vector)? Then it is the dynamic loader run as a program, or a
 * static binary: what it maps executable first is a program of its own.
 */
static __always_inline int no_interpreter(struct task_struct *p, struct scratch *s)
{
	__u64 *aux = (__u64 *)s->path;

	if (bpf_probe_read_kernel(aux, AUXV_PAIRS * 16, p->mm->saved_auxv))
		return 0;
	for (__u32 i = 0; i < AUXV_PAIRS; i++) {
		__u64 type = aux[2 * i];

		if (type == AT_NULL)
			break;
		if (type == AT_BASE)
			return aux[2 * i + 1] == 0;
	}
	return 0;
}

/*
 * Remember what p runs (task storage): its children's parent_binary
 * conditions read it, and mm->exe_file can be changed later (prctl
 * PR_SET_MM_EXE_FILE), this cannot. A program without an interpreter is
 * marked TS_LOADER: its first executable file mapping is judged as an exec.
 */
static __always_inline void record_exe(struct vigil_config *cfg, struct scratch *s, struct task_struct *p,
				       struct exec_event *e, __u32 xflags)
{
	struct task_state *ts = bpf_task_storage_get(&tasks, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!ts)
		return;
	ts->exe_ino = e->exe_ino;
	ts->exe_dev = e->exe_dev;
	ts->exe_flags = xflags & (EXE_FILELESS | EXE_MEMFD | EXE_LOADED | EXE_UPPER);
	ts->flags |= TS_EXE;
	if (s->facts.have & FACT_SELF_HASH) {
		ts->exe_hash = s->facts.self_hash;
		ts->flags |= TS_EXE_HASH;
	} else {
		ts->flags &= ~TS_EXE_HASH;
	}
	if (xflags & EXE_NO_INTERP)
		ts->flags |= TS_LOADER;
	else
		ts->flags &= ~TS_LOADER;
}

/*
 * Build, judge and emit the exec record of the file x in task p (current, a
 * typed pointer), from scratch slot s. xflags: EXE_LOADED when the loader
 * mapped it. typed (a constant): x's dentry and mount are typed pointers
 * (exe_file_btf), walked with plain loads.
 */
static __always_inline void exec_record(struct vigil_config *cfg, struct kind_counters *c, struct scratch *s,
					struct task_struct *p, struct exe_file *x, __u64 pid_tgid, __u64 cgid,
					__u32 scope, struct who *who, __u32 xflags, __u32 argc, __u32 typed)
{
	struct exec_event *e = (struct exec_event *)s->rec;
	struct walk_root root;
	__u64 arg_start, arg_end, n;
	__u32 exe_len, size, flags, rule = 0, verdict;
	__u8 cut = 0;

	fill_proc_btf(&e->proc, p, pid_tgid, cgid, who->workload, who->pflags);
	/* p is a typed tracepoint argument or the current task: direct loads */
	e->ppid = p->real_parent->tgid;
	e->start_ns = p->start_boottime;
	e->argc = argc;
	e->exe_ino = x->ino;
	e->exe_dev = x->dev;
	e->exe_ctime_ns = x->ctime_ns;
	xflags |= x->flags;

	task_root(p, &root);
	exe_len = exe_path(e->tail, s, x, &root, &cut, typed);
	e->exe_len = exe_len;
	/* the binary's identity is the first fact kill rules' conditions look at */
	s->facts.have = FACT_SELF;
	s->facts.self_dev = e->exe_dev;
	s->facts.self_ino = e->exe_ino;
	s->facts.self_flags = xflags;
	/*
	 * Kill here and the new image never runs a user-space instruction:
	 * SIGKILL is acted on before the return to user space. The exec is
	 * reported whatever the verdict (the process cache needs it).
	 */
	verdict = path_verdict(cfg, c, s, EV_EXEC, who->workload, 0, offsetof(struct exec_event, tail), exe_len,
			       0, 0, &rule);
	e->rule = rule;
	if (cfg->loader_active && !(xflags & EXE_LOADED) && no_interpreter(p, s))
		xflags |= EXE_NO_INTERP;
	e->exe_flags = xflags;
	if (cfg->exe_state)
		record_exe(cfg, s, p, e, xflags);

	/* argv as the new image sees it: NUL-separated, from the new mm */
	arg_start = p->mm->arg_start;
	arg_end = p->mm->arg_end;
	n = arg_end > arg_start ? arg_end - arg_start : 0;
	flags = (scope & 0xff) | (verdict & 0xff) | (cut ? EVF_PATH_TRUNCATED : 0);
	if (n > VIGIL_ARGS_MAX) {
		n = VIGIL_ARGS_MAX;
		flags |= EVF_STR2_TRUNCATED;
	}
	if (bpf_probe_read_user(&e->tail[exe_len & PATHBUF_MASK], n & PATHBUF_MASK,
				(void *)arg_start))
		n = 0;
	/* drop the NUL after the last argument */
	if (n > 0 && e->tail[(exe_len + n - 1) & TAIL_MASK] == 0)
		n -= 1;
	e->args_len = n;

	/* the working directory it was started in, canonical (bit 15 of cwd_len: cut); p is typed */
	{
		__u32 cwd_len;

		cut = 0;
		cwd_len = path_copy(&e->tail[(exe_len + n) & TAIL_MASK], s,
				    path_walk_typed(s, p->fs->pwd.dentry, p->fs->pwd.mnt, &root), &cut);
		e->cwd_len = (cwd_len & PATHBUF_MASK) | (cut ? EXEC_CWD_CUT : 0);
		n += cwd_len & PATHBUF_MASK;
	}

	size = sizeof(*e) + exe_len + n;
	fill_hdr(&e->hdr, EV_EXEC, size, flags);
	emit(cfg, c, e, size);
}

#endif /* VIGIL_LIB_EXEC_H */
