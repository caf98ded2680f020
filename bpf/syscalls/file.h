/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Opens, unlinks, renames and chmods at sys_exit: the path(s) a file
 * syscall acted on, in one file_event. Included by syscalls.bpf.c (the
 * dispatcher), after struct sc_args.
 */
#ifndef VIGIL_SYSCALLS_FILE_H
#define VIGIL_SYSCALLS_FILE_H

#include "../lib/common.h"
#include "../lib/path.h"
#include "../lib/rules.h"
#include "../lib/syscall_nr.h"

#define O_WRONLY      01
#define O_CREAT       0100
#define O_TRUNC       01000
#define __O_TMPFILE   020000000
#define AT_REMOVEDIR  0x200

/* offset of the tail in scratch.rec, where records are built */
#define FILE_TAIL     offsetof(struct file_event, tail)

static __always_inline void file_event(struct vigil_config *cfg, struct kind_counters *c,
				       struct task_struct *task, __u32 kind, __u64 nr,
				       struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
				       __u8 scope, struct who *who)
{
	struct walk_root root;
	struct file_event *e;
	struct scratch *s;
	__u32 len1 = 0, len2 = 0, size, in_place = 0, verdict;
	__u8 cut1 = 0, cut2 = 0, flags = 0;

	s = scratch_get(SCRATCH_SYSCALL, c);
	if (!s)
		return;
	e = (struct file_event *)s->rec;
	fill_proc_btf(&e->proc, task, pid_tgid, cgid, who->workload, who->pflags);
	e->ret = ret;
	e->flags = 0;
	e->mode = 0;
	e->syscall_nr = nr;
	e->rule = 0;
	task_root(task, &root);

	switch (nr) {
	case NR_open:
	case NR_creat:
	case NR_openat:
	case NR_openat2: {
		__s32 dirfd = AT_FDCWD;
		const char *name;

		if (nr == NR_open) {
			name = (const char *)a->a[0];
			e->flags = a->a[1];
			e->mode = a->a[2];
		} else if (nr == NR_creat) {
			name = (const char *)a->a[0];
			e->flags = O_CREAT | O_WRONLY | O_TRUNC;
			e->mode = a->a[1];
		} else if (nr == NR_openat) {
			dirfd = a->a[0];
			name = (const char *)a->a[1];
			e->flags = a->a[2];
			e->mode = a->a[3];
		} else {
			struct open_how how = {};

			dirfd = a->a[0];
			name = (const char *)a->a[1];
			bpf_probe_read_user(&how, sizeof(how), (void *)a->a[2]);
			e->flags = how.flags;
			e->mode = how.mode;
		}
		/* a mode only matters when a file may be made; the umask says what the new file gets */
		if (e->flags & (O_CREAT | __O_TMPFILE))
			e->mode = (e->mode & 0xffff) | ((task->fs->umask & 0777) << 16);
		else
			e->mode = 0;
		if (ret >= 0) {
			/* opened: the descriptor's own dentry chain is the truth */
			struct file *f = task_fd_file(task, ret);

			if (f) {
				struct path fp = {};
				__u32 walked;

				bpf_core_read(&fp, sizeof(fp), &f->f_path);
				walked = path_walk(s, (__u64)fp.dentry, (__u64)fp.mnt, &root);
				in_place = walked & 0xffff;
				if (in_place >= sizeof(*e) && in_place < PATH_END) {
					/* the hot path: the record is built in front of the path */
					len1 = PATH_END - in_place;
					cut1 = walked >> 16;
				} else {
					in_place = 0;
					len1 = path_copy(e->tail, s, walked, &cut1);
				}
			}
		}
		if (len1 == 0) {
			len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, dirfd, name,
				       &cut1);
			flags |= EVF_PATH_LEXICAL;
		}
		break;
	}
	case NR_unlink:
	case NR_rmdir:
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, AT_FDCWD,
			       (const char *)a->a[0], &cut1);
		e->flags = nr == NR_rmdir ? AT_REMOVEDIR : 0;
		flags |= EVF_PATH_LEXICAL;
		break;
	case NR_unlinkat:
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, a->a[0],
			       (const char *)a->a[1], &cut1);
		e->flags = a->a[2];
		flags |= EVF_PATH_LEXICAL;
		break;
	case NR_rename:
	case NR_renameat:
	case NR_renameat2: {
		__s32 olddfd = AT_FDCWD, newdfd = AT_FDCWD;
		const char *oldname, *newname;

		if (nr == NR_rename) {
			oldname = (const char *)a->a[0];
			newname = (const char *)a->a[1];
		} else {
			olddfd = a->a[0];
			oldname = (const char *)a->a[1];
			newdfd = a->a[2];
			newname = (const char *)a->a[3];
			if (nr == NR_renameat2)
				e->flags = a->a[4];
		}
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, olddfd, oldname,
			       &cut1);
		len2 = at_path(&e->tail[len1 & PATHBUF_MASK], VIGIL_PATH_MAX, s, task,
			       &root, newdfd, newname, &cut2);
		flags |= EVF_PATH_LEXICAL | EVF_STR2_LEXICAL;
		break;
	}
	case NR_fchmod: {
		struct file *f = task_fd_file(task, a->a[0]);

		e->mode = a->a[1];
		if (f)
			len1 = file_path(e->tail, s, f, &root, &cut1);
		break;
	}
	case NR_chmod:
		e->mode = a->a[1];
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, AT_FDCWD,
			       (const char *)a->a[0], &cut1);
		flags |= EVF_PATH_LEXICAL;
		break;
	case NR_fchmodat:
	case NR_fchmodat2:
		e->mode = a->a[2];
		if (nr == NR_fchmodat2)
			e->flags = a->a[3];
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, a->a[0],
			       (const char *)a->a[1], &cut1);
		flags |= EVF_PATH_LEXICAL;
		break;
	}

	verdict = path_verdict(cfg, c, s, kind, who->workload, in_place ? 1 : 0, in_place ? in_place : FILE_TAIL,
			       len1, kind == EV_OPEN ? open_access(e->flags) : 0, flags & EVF_PATH_LEXICAL,
			       &e->rule);
	if (!verdict) {
		/* no rule wants this path */
		scratch_put(s);
		return;
	}
	flags |= verdict & 0xff;
	if (cut1)
		flags |= EVF_PATH_TRUNCATED;
	if (cut2)
		flags |= EVF_STR2_TRUNCATED;
	e->path_len = len1;
	e->new_path_len = len2;
	size = sizeof(*e) + (len1 & PATHBUF_MASK) + (len2 & PATHBUF_MASK);
	fill_hdr(&e->hdr, kind, size, flags | scope);
	if (in_place) {
		/* copy the fixed part in front of the walked path: one contiguous record */
		__u32 start = (in_place - sizeof(*e)) & PATHBUF_MASK;
		__u64 *dst = (__u64 *)&s->path[start];
		__u64 *src = (__u64 *)e;

		for (int i = 0; i < sizeof(*e) / 8; i++)
			dst[i] = src[i];
		/* len2 is 0 for opens; the verifier wants the bound spelled out */
		emit(cfg, c, &s->path[start], sizeof(*e) + (len1 & PATHBUF_MASK));
	} else {
		emit(cfg, c, e, size);
	}
	scratch_put(s);
}

#endif /* VIGIL_SYSCALLS_FILE_H */
