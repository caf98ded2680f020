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

#define O_WRONLY      01
#define O_CREAT       0100
#define O_TRUNC       01000
#define AT_REMOVEDIR  0x200

/* offsets of the tails in scratch.rec, where records are built */
#define FILE_TAIL     offsetof(struct file_event, tail)
#define SYS_TAIL      offsetof(struct sys_event, tail)

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

static __always_inline void file_event(struct vigil_config *cfg, struct kind_counters *c,
				       struct task_struct *task, __u32 kind, __u64 nr,
				       struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
				       __u8 scope, __u32 workload)
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
	fill_proc_btf(&e->proc, task, pid_tgid, cgid);
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
		if (!(e->flags & O_CREAT))
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

	verdict = path_verdict(cfg, c, s, kind, workload, in_place ? 1 : 0, in_place ? in_place : FILE_TAIL,
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

static __always_inline void priv_event(struct vigil_config *cfg, struct kind_counters *c,
				       struct task_struct *task, __u32 kind, __u64 nr,
				       struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
				       __u8 scope, __u32 workload)
{
	struct priv_event *e;
	__u32 rule = 0;

	if (cfg->kill_kinds & (1U << kind)) {
		struct rule_hit hit = rules_for_kind(cfg, kind, workload);

		if (hit.actions & RA_KILL) {
			rule = hit.kill_rule;
			scope |= kill_current(c);
		}
	}
	e = reserve_record(c, kind, sizeof(*e), scope, task, pid_tgid, cgid);
	if (!e)
		return;
	e->rule = rule;
	e->pad = 0;
	e->ret = ret;
	e->syscall_nr = nr;
	e->arg[0] = a->a[0];
	e->arg[1] = a->a[1];
	e->arg[2] = a->a[2];
	e->arg[3] = 0;
	switch (nr) {
	case NR_setuid: case NR_setgid: case NR_setfsuid: case NR_setfsgid:
		e->arg[1] = -1;
		/* fall through */
	case NR_setreuid: case NR_setregid:
		e->arg[2] = -1;
		break;
	case NR_ptrace:
		e->arg[2] = 0;
		break;
	}
	submit_record(cfg, c, e);
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

static __always_inline void sys_event(struct vigil_config *cfg, struct kind_counters *c,
				      struct task_struct *task, __u32 kind, __u64 nr,
				      struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
				      __u8 scope, __u32 workload)
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
	fill_proc_btf(&e->proc, task, pid_tgid, cgid);
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
	verdict = path_verdict(cfg, c, s, kind, workload, 0,
			       is_mount ? SYS_TAIL + (l1 & VIGIL_STR_MAX) : SYS_TAIL,
			       is_mount ? l2 : l1, 0, is_mount, &e->rule);
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

SEC("tp_btf/sys_exit")
int BPF_PROG(vigil_sys_exit, struct pt_regs *regs, long ret)
{
	struct vigil_config *cfg;
	struct kind_counters *c;
	struct task_struct *task;
	struct sc_args a;
	__u64 pid_tgid, cgid, nr;
	__u32 kind, scope, workload;

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
	scope = wanted(cfg, kind, pid_tgid >> 32, cgid, &workload);
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
		file_event(cfg, c, task, kind, nr, &a, ret, pid_tgid, cgid, scope & 0xff, workload);
		break;
	case EV_PTRACE: case EV_SETUID:
		priv_event(cfg, c, task, kind, nr, &a, ret, pid_tgid, cgid, scope & 0xff, workload);
		break;
	case EV_MOUNT: case EV_MODULE:
		sys_event(cfg, c, task, kind, nr, &a, ret, pid_tgid, cgid, scope & 0xff, workload);
		break;
	}
	return 0;
}
