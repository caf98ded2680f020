/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Opens, unlinks, renames, chmods, links and symlinks at sys_exit: the
 * path(s) a file syscall acted on, in one file_event; truncate, ftruncate
 * and fallocate as the writes they are. Included by syscalls.bpf.c (the
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
#define AT_EMPTY_PATH 0x1000
#define RENAME_EXCHANGE 2

/* offset of the tail in scratch.rec, where records are built */
#define FILE_TAIL     offsetof(struct file_event, tail)

#include "resolve.h"

/* One path of a file event to judge (path_judge's arguments; `create`: judged as creating it). */
struct judge_args {
	__u32 kind;
	__u32 workload;
	__u32 in_path;
	__u32 off;
	__u32 len;
	__u32 access;
	__u32 lexical;
	__u32 create;
	__u32 ids;              /* 1 + the s->path_ids slot of this path (its protected directories), 0 = none */
	__u32 rule;             /* out */
	__u32 id_hit;           /* out: 1 + the index in that slot of the directory a rule named, 0 = none */
};

/*
 * A global function: verified once on its own, however many paths an event
 * has (inlined, four judgements of a rename exchange made the dispatcher too
 * big for the verifier). Returns a VERDICT_*.
 */
__noinline __u32 file_judge(struct vigil_config *cfg, struct scratch *s, struct judge_args *j)
{
	__u32 v;

	if (!cfg || !s || !j)
		return VERDICT_KEEP;
	s->hash.ids = j->ids;
	s->hash.id_hit = 0;
	if (j->create)
		v = create_judge(cfg, s, j->workload, j->off, j->len, j->lexical, &j->rule);
	else
		v = path_judge(cfg, s, j->kind, j->workload, j->in_path, j->off, j->len, j->access, j->lexical,
			       &j->rule);
	j->id_hit = s->hash.id_hit;
	return v;
}

/* Judge one more path of the event and keep the stronger verdict. */
static __always_inline __u32 judge_more(struct vigil_config *cfg, struct scratch *s, struct judge_args *j,
					__u32 v, __u32 *rule, __u32 kind, __u32 create, __u32 off, __u32 len,
					__u32 lexical, __u32 slot, __u32 *id_hit)
{
	__u32 w;

	j->kind = kind;
	j->create = create;
	j->in_path = 0;
	j->off = off;
	j->len = len;
	j->access = 0;
	j->lexical = lexical;
	j->ids = slot + 1;
	w = file_judge(cfg, s, j);
	if (!*id_hit)
		*id_hit = j->id_hit;
	return verdict_merge(v, rule, w, j->rule);
}

static __always_inline void file_event(struct vigil_config *cfg, struct kind_counters *c,
				       struct task_struct *task, __u32 kind, __u64 nr,
				       struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
				       __u8 scope, struct who *who)
{
	struct touched *t = NULL;
	struct walk_root root;
	struct file_event *e;
	struct scratch *s;
	__u32 len1 = 0, len2 = 0, size, in_place = 0, verdict, rule = 0, id1 = 0, id2 = 0;
	struct judge_args j = {};
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
	e->dir_ino = 0;
	e->new_dir_ino = 0;
	e->dir_dev = 0;
	e->new_dir_dev = 0;
	e->dir_off = 0;
	e->new_dir_off = 0;
	e->id_flags = 0;
	e->pad2 = 0;
	s->path_ids[0].n = 0;
	s->path_ids[0].flags = 0;
	s->path_ids[1].n = 0;
	s->path_ids[1].flags = 0;
	/* the walks below look for protected directories too, when rules name some */
	walk_ids(s, cfg, 1);
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
				/* a plain pointer from the descriptor table: read through a read-only view */
				struct file *fv = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
				__u32 walked;

				walked = path_walk(s, (__u64)fv->f_path.dentry, (__u64)fv->f_path.mnt, &root);
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
		ids_take(s, 0);
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
	case NR_truncate:
		/* truncate(2) needs no open for writing: the write it is */
		e->flags = O_WRONLY | O_TRUNC;
		len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, AT_FDCWD,
			       (const char *)a->a[0], &cut1);
		flags |= EVF_PATH_LEXICAL;
		break;
	case NR_ftruncate:
	case NR_fallocate: {
		/* on a descriptor opened before (elsewhere, or passed in): the file's own path */
		struct file *f = task_fd_file(task, a->a[0]);

		e->flags = nr == NR_ftruncate ? O_WRONLY | O_TRUNC : O_WRONLY;
		if (f)
			len1 = file_path(e->tail, s, f, &root, &cut1);
		break;
	}
	case NR_link:
	case NR_linkat: {
		__s32 olddfd = AT_FDCWD, newdfd = AT_FDCWD;
		const char *oldname, *newname;
		char first = 1;

		if (nr == NR_link) {
			oldname = (const char *)a->a[0];
			newname = (const char *)a->a[1];
		} else {
			olddfd = a->a[0];
			oldname = (const char *)a->a[1];
			newdfd = a->a[2];
			newname = (const char *)a->a[3];
			e->flags = a->a[4];
		}
		if (e->flags & AT_EMPTY_PATH)
			bpf_probe_read_user(&first, 1, oldname);
		if (!first) {
			/* linkat(fd, "", ..., AT_EMPTY_PATH): an O_TMPFILE file, or any open one, gets a name */
			struct file *f = task_fd_file(task, olddfd);

			if (f)
				len1 = file_path(e->tail, s, f, &root, &cut1);
		} else {
			len1 = at_path(e->tail, VIGIL_PATH_MAX, s, task, &root, olddfd, oldname, &cut1);
			flags |= EVF_PATH_LEXICAL;
		}
		ids_take(s, 0);
		len2 = at_path(&e->tail[len1 & PATHBUF_MASK], VIGIL_PATH_MAX, s, task, &root, newdfd,
			       newname, &cut2);
		flags |= EVF_STR2_LEXICAL;
		break;
	}
	case NR_symlink:
	case NR_symlinkat: {
		/* the content is a string the kernel stores as given: resolved only when the link is used */
		const char *newname = (const char *)a->a[1];
		__s32 newdfd = AT_FDCWD;
		long n;

		if (nr == NR_symlinkat) {
			newdfd = a->a[1];
			newname = (const char *)a->a[2];
		}
		n = bpf_probe_read_user_str(e->tail, VIGIL_PATH_MAX + 1, (const char *)a->a[0]);
		if (n > 0) {
			len1 = (n - 1) & PATHBUF_MASK;
			if (n == VIGIL_PATH_MAX + 1)
				cut1 = 1;
		}
		ids_take(s, 0);
		len2 = at_path(&e->tail[len1 & PATHBUF_MASK], VIGIL_PATH_MAX, s, task, &root, newdfd,
			       newname, &cut2);
		flags |= EVF_STR2_LEXICAL;
		break;
	}
	}
	/* the protected directories the last walk met: the new name's, or the only path's */
	ids_take(s, kind == EV_RENAME || kind == EV_LINK || kind == EV_SYMLINK ? 1 : 0);

	/* what the call touched names it better than the names passed (a symlink, /proc/self/fd/N) */
	if (touched_kind(nr) && ret >= 0 && cfg->resolve_active)
		t = bpf_task_storage_get(&touched_inodes, task, 0, 0);
	if (t && t->n && t->nr == nr)
		flags &= ~resolve_touched(s, t, task, &root, nr, e->flags, &len1, &len2, &cut1, &cut2);

	walk_ids(s, cfg, 0);

	j.workload = who->workload;
	j.kind = kind;
	j.in_path = in_place ? 1 : 0;
	j.off = in_place ? in_place : FILE_TAIL;
	j.len = len1;
	j.access = kind == EV_OPEN ? open_access(e->flags) : 0;
	j.lexical = (flags & EVF_PATH_LEXICAL) | (cut1 ? JUDGE_CUT : 0);
	j.ids = 1;
	if ((cfg->kill_kinds | cfg->path_kinds | cfg->path_filter_kinds) & (1U << kind)) {
		verdict = file_judge(cfg, s, &j);
		rule = j.rule;
		id1 = j.id_hit;
	} else {
		/* no rule and no filter for this kind: reported, as path_judge() would say, without the call */
		verdict = VERDICT_KEEP;
	}
	if (kind == EV_LINK || kind == EV_SYMLINK || kind == EV_RENAME) {
		__u32 off2 = FILE_TAIL + (len1 & PATHBUF_MASK);

		/* the new name: putting a file in place is creating it */
		__u32 lex1 = (flags & EVF_PATH_LEXICAL) | (cut1 ? JUDGE_CUT : 0);
		__u32 lex2 = (flags & EVF_STR2_LEXICAL) | (cut2 ? JUDGE_CUT : 0);

		verdict = judge_more(cfg, s, &j, verdict, &rule, EV_OPEN, 1, off2, len2, lex2, 1, &id2);
		if (kind == EV_RENAME && (e->flags & RENAME_EXCHANGE)) {
			/* an exchange moves both: each name is the old one and the new one */
			verdict = judge_more(cfg, s, &j, verdict, &rule, EV_RENAME, 0, off2, len2, lex2, 1, &id2);
			verdict = judge_more(cfg, s, &j, verdict, &rule, EV_OPEN, 1, FILE_TAIL, len1, lex1, 0, &id1);
		}
	}
	/* the protected directory each path is in, by identity, when a rule named it */
	if (id1) {
		__u32 k = (id1 - 1) & (IDS_MAX - 1);

		e->dir_ino = s->path_ids[0].ino[k];
		e->dir_dev = s->path_ids[0].dev[k];
		e->dir_off = s->path_ids[0].pos[k];
	}
	if (id2) {
		__u32 k = (id2 - 1) & (IDS_MAX - 1);

		e->new_dir_ino = s->path_ids[1].ino[k];
		e->new_dir_dev = s->path_ids[1].dev[k];
		e->new_dir_off = s->path_ids[1].pos[k];
	}
	e->id_flags = (s->path_ids[0].flags & ID_UNKNOWN ? 1 : 0) | (s->path_ids[1].flags & ID_UNKNOWN ? 2 : 0);
	verdict = verdict_act(c, verdict);
	e->rule = rule;
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
