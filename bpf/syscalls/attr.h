/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * chown and setxattr families at sys_exit: whose a file becomes (a binary
 * handed to root before a chmod u+s) and the extended attributes set on it
 * (security.capability gives a binary capabilities without setuid), in one
 * attr_event: the path, as file.h resolves it, then the attribute's name.
 * Path rules are checked, and kill, as for chmod. Included by
 * syscalls.bpf.c (the dispatcher), after struct sc_args and user_str().
 */
#ifndef VIGIL_SYSCALLS_ATTR_H
#define VIGIL_SYSCALLS_ATTR_H

#include "../lib/common.h"
#include "../lib/path.h"
#include "../lib/rules.h"
#include "../lib/syscall_nr.h"

#define ATTR_TAIL     offsetof(struct attr_event, tail)

/* setxattrat's last arguments (6.13+) */
struct xattr_args___v {
	__u64 value;
	__u32 size;
	__u32 flags;
};

static __always_inline void attr_event(struct vigil_config *cfg, struct kind_counters *c,
				       struct task_struct *task, __u32 kind, __u64 nr,
				       struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
				       __u8 scope, struct who *who)
{
	struct walk_root root;
	struct attr_event *e;
	struct scratch *s;
	const char *name = NULL;
	__u32 len1 = 0, len2 = 0, size, verdict, lexical = 1;
	__u8 cut1 = 0, cut2 = 0;

	s = scratch_get(SCRATCH_SYSCALL, c);
	if (!s)
		return;
	e = (struct attr_event *)s->rec;
	fill_proc_btf(&e->proc, task, pid_tgid, cgid, who->workload, who->pflags);
	e->ret = ret;
	e->syscall_nr = nr;
	e->uid = -1;
	e->gid = -1;
	e->flags = 0;
	e->value_len = 0;
	e->rule = 0;
	task_root(task, &root);

	switch (nr) {
	case NR_chown:
	case NR_lchown:
		e->uid = a->a[1];
		e->gid = a->a[2];
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, AT_FDCWD, (const char *)a->a[0], &cut1);
		break;
	case NR_fchownat:
		e->uid = a->a[2];
		e->gid = a->a[3];
		e->flags = a->a[4];
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, a->a[0], (const char *)a->a[1], &cut1);
		break;
	case NR_setxattr:
	case NR_lsetxattr:
		name = (const char *)a->a[1];
		e->value_len = a->a[3];
		e->flags = a->a[4];
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, AT_FDCWD, (const char *)a->a[0], &cut1);
		break;
	case NR_setxattrat: {
		struct xattr_args___v xa = {};

		name = (const char *)a->a[3];
		bpf_probe_read_user(&xa, sizeof(xa), (void *)a->a[4]);
		e->value_len = xa.size;
		e->flags = xa.flags;
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, a->a[0], (const char *)a->a[1], &cut1);
		break;
	}
	case NR_fchown:
	case NR_fsetxattr: {
		/* a descriptor: the file's canonical path */
		struct file *f = task_fd_file(task, a->a[0]);

		if (nr == NR_fchown) {
			e->uid = a->a[1];
			e->gid = a->a[2];
		} else {
			name = (const char *)a->a[1];
			e->value_len = a->a[3];
			e->flags = a->a[4];
		}
		lexical = 0;
		if (f)
			len1 = file_path(e->tail, s, f, &root, &cut1);
		break;
	}
	}
	if (name)
		len2 = user_str(&e->tail[len1 & PATHBUF_MASK], VIGIL_STR_MAX, name, &cut2);

	verdict = path_verdict(cfg, c, s, kind, who->workload, 0, ATTR_TAIL, len1, 0,
			       lexical | (cut1 ? JUDGE_CUT : 0), &e->rule);
	if (!verdict) {
		scratch_put(s);
		return;
	}
	e->path_len = len1;
	e->name_len = len2;
	size = sizeof(*e) + (len1 & PATHBUF_MASK) + (len2 & VIGIL_STR_MAX);
	fill_hdr(&e->hdr, kind, size,
		 scope | (verdict & 0xff) | (lexical ? EVF_PATH_LEXICAL : 0) | (cut1 ? EVF_PATH_TRUNCATED : 0) |
		 (cut2 ? EVF_STR2_TRUNCATED : 0));
	emit(cfg, c, e, size);
	scratch_put(s);
}

#endif /* VIGIL_SYSCALLS_ATTR_H */
