/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * mount, move_mount, init_module and finit_module at sys_exit: source,
 * target and type of a mount, or a module's file and parameters, in one
 * sys_event. Included by syscalls.bpf.c (the dispatcher), after struct
 * sc_args and user_str().
 */
#ifndef VIGIL_SYSCALLS_SYS_H
#define VIGIL_SYSCALLS_SYS_H

#include "../lib/common.h"
#include "../lib/path.h"
#include "../lib/rules.h"
#include "../lib/syscall_nr.h"

/* offset of the tail in scratch.rec, where records are built */
#define SYS_TAIL      offsetof(struct sys_event, tail)

static __always_inline void sys_event(struct vigil_config *cfg, struct kind_counters *c,
				      struct task_struct *task, __u32 kind, __u64 nr,
				      struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
				      __u8 scope, struct who *who)
{
	struct walk_root root;
	struct sys_event *e;
	struct scratch *s;
	__u32 l1 = 0, l2 = 0, l3 = 0, size, verdict, is_mount;
	__u8 cut1 = 0, cut2 = 0;

	s = scratch_get(SCRATCH_SYSCALL, c);
	if (!s)
		return;
	e = (struct sys_event *)s->rec;
	fill_proc_btf(&e->proc, task, pid_tgid, cgid, who->workload, who->pflags);
	e->ret = ret;
	e->syscall_nr = nr;
	e->flags = 0;
	e->pad = 0;
	e->rule = 0;
	e->pad2 = 0;
	task_root(task, &root);

	switch (nr) {
	case NR_mount:
		/* source, target, fstype; data is filesystem-specific and skipped */
		e->flags = a->a[3];
		l1 = user_str(e->tail, VIGIL_STR_MAX, (const char *)a->a[0], &cut1);
		l2 = at_path(&e->tail[l1 & VIGIL_STR_MAX], VIGIL_PATH_MAX, s, task, &root,
			     AT_FDCWD, (const char *)a->a[1], &cut2);
		l3 = user_str(&e->tail[((l1 & VIGIL_STR_MAX) + (l2 & PATHBUF_MASK)) & TAIL_MASK],
			      VIGIL_STR_MAX, (const char *)a->a[2], &cut2);
		break;
	case NR_move_mount:
		e->flags = a->a[4];
		l1 = user_str(e->tail, VIGIL_STR_MAX, (const char *)a->a[1], &cut1);
		l2 = at_path(&e->tail[l1 & VIGIL_STR_MAX], VIGIL_PATH_MAX, s, task, &root,
			     a->a[2], (const char *)a->a[3], &cut2);
		break;
	case NR_init_module:
		l2 = user_str(e->tail, VIGIL_STR_MAX, (const char *)a->a[2], &cut2);
		break;
	case NR_finit_module: {
		struct file *f = task_fd_file(task, a->a[0]);

		e->flags = a->a[2];
		if (f)
			l1 = file_path(e->tail, s, f, &root, &cut1);
		l2 = user_str(&e->tail[l1 & PATHBUF_MASK], VIGIL_STR_MAX,
			      (const char *)a->a[1], &cut2);
		break;
	}
	}
	/* mount: the mount point (lexical); module: the module file (canonical) */
	is_mount = kind == EV_MOUNT;
	verdict = path_verdict(cfg, c, s, kind, who->workload, 0,
			       is_mount ? SYS_TAIL + (l1 & VIGIL_STR_MAX) : SYS_TAIL,
			       is_mount ? l2 : l1, 0,
			       is_mount | ((is_mount ? cut2 : cut1) ? JUDGE_CUT : 0), &e->rule);
	if (!verdict) {
		scratch_put(s);
		return;
	}
	e->str1_len = l1;
	e->str2_len = l2;
	e->str3_len = l3;
	size = sizeof(*e) + (l1 & PATHBUF_MASK) + (l2 & PATHBUF_MASK) + (l3 & VIGIL_STR_MAX);
	fill_hdr(&e->hdr, kind, size,
		 scope | (verdict & 0xff) | (cut1 ? EVF_PATH_TRUNCATED : 0) | (cut2 ? EVF_STR2_TRUNCATED : 0));
	if (is_mount)
		e->hdr.flags |= EVF_STR2_LEXICAL;
	emit(cfg, c, e, size);
	scratch_put(s);
}

#endif /* VIGIL_SYSCALLS_SYS_H */
