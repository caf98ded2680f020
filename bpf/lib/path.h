/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Canonical paths from the kernel's own structures.
 *
 * bpf_d_path() is not allowed from tracepoints, so we walk dentries up to
 * the task's root, crossing mounts, the way d_path() does. Rules match
 * these paths, so they must be what the kernel used: symlinks and `..` are
 * already resolved in a dentry chain, and relative names are anchored at
 * the real cwd or dirfd.
 */
#ifndef VIGIL_LIB_PATH_H
#define VIGIL_LIB_PATH_H

#include "common.h"

#define PATH_DEPTH_MAX  64
#define PATH_END        (PATHBUF_MASK + 1)      /* paths are built right-aligned here */
#define NAME_MASK       255

#ifndef AT_FDCWD
#define AT_FDCWD        -100
#endif

/* container_of() with a CO-RE relocated offset. */
static __always_inline struct mount *mount_of(struct vfsmount *vfsmnt)
{
	return (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

/* The task's root (chroot / container root): where the walk stops. */
struct walk_root {
	__u64 dentry;
	__u64 mnt;
};

static __always_inline void task_root(struct task_struct *task, struct walk_root *root)
{
	/* task comes from bpf_get_current_task_btf() or a tp_btf argument: direct loads */
	root->dentry = (__u64)task->fs->root.dentry;
	root->mnt = (__u64)task->fs->root.mnt;
}

static __always_inline void task_cwd(struct task_struct *task, __u64 *dentry, __u64 *mnt)
{
	*dentry = (__u64)task->fs->pwd.dentry;
	*mnt = (__u64)task->fs->pwd.mnt;
}

/* The struct file behind a descriptor of the current task, or NULL. */
static __always_inline struct file *task_fd_file(struct task_struct *task, __s32 fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *f = NULL;

	if (fd < 0 || (__u32)fd >= fdt->max_fds)
		return NULL;
	/* a variable index into fdt->fd cannot be a direct load */
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	return f;
}

/*
 * The walk's state lives in the scratch map value, not on the stack: the
 * verifier does not track map memory, so every bpf_loop() iteration looks
 * the same to it and verification converges at once.
 */
struct walk_ctx {
	struct scratch *s;
	/*
	 * A typed walk's dentry at this step (walk_step_typed): a BTF pointer
	 * the verifier tracks on this stack, read with plain loads. Set from a
	 * typed start (a tracepoint argument's file, the task's cwd) and moved
	 * to d_parent at each step; a mount crossing ends it (walk_state.typed).
	 */
	struct dentry *d;
};

/* Before 6.14 the inline name was `unsigned char d_iname[DNAME_INLINE_LEN]`. */
struct dentry___iname {
	unsigned char d_iname[32];
} __attribute__((preserve_access_index));

static __always_inline __u32 inline_name_off(void)
{
	if (bpf_core_field_exists(struct dentry, d_shortname))
		return bpf_core_field_offset(struct dentry, d_shortname);
	return bpf_core_field_offset(struct dentry___iname, d_iname);
}

static __always_inline __u32 inline_name_size(void)
{
	if (bpf_core_field_exists(struct dentry, d_shortname))
		return bpf_core_field_size(struct dentry, d_shortname);
	return bpf_core_field_size(struct dentry___iname, d_iname);
}

/*
 * Bytes of struct dentry read per component: d_parent through the inline
 * name, when the layout is the usual one (d_name right after d_parent, the
 * inline name within 96 bytes and at most 40 long); 0 otherwise.
 */
static __always_inline __u32 chunk_size(void)
{
	__u32 from = bpf_core_field_offset(struct dentry, d_parent);
	__u32 to = inline_name_off() + inline_name_size();

	if (bpf_core_field_offset(struct dentry, d_name) != from + 8)
		return 0;
	if (to <= from || to - from > 96 || inline_name_size() > 40)
		return 0;
	return to - from;
}

/* struct dentry from d_parent to the end of d_name */
struct dentry_link {
	struct dentry *parent;
	struct qstr name;
};

/*
 * The file events' program (syscalls.bpf.c defines VIGIL_WALK_IDS) walks
 * with plain loads through bpf_rdonly_cast() and looks for identities on
 * its walks. The kfunc may be declared in one object alone (bpftool's
 * linker, libbpf 1.1, cannot merge one extern kfunc from several objects,
 * and does not resolve a flavoured name): the other objects' walks read
 * each dentry with one probe read.
 */
#ifdef VIGIL_WALK_IDS
/* A read-only view of a kernel object from a pointer kept as an integer: plain (faulting-safe) loads, no helper call. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
#endif

/*
 * Is this directory perhaps a protected one (its inode number in the
 * settings' filter)? Then keep its (device, inode) and where the part of the
 * path below it starts. One load of i_ino per level when directory rules
 * exist; the device only on a filter hit.
 */
static __always_inline void walk_check_id(struct walk_state *st, struct dentry *dentry, __u32 chunk)
{
#ifdef VIGIL_WALK_IDS
	struct inode *ino;
	__u64 i;
	__u32 b, n;

	if (chunk)
		ino = *(struct inode **)&st->raw[(bpf_core_field_offset(struct dentry, d_inode) -
						  bpf_core_field_offset(struct dentry, d_parent)) & 63];
	else
		ino = BPF_CORE_READ(dentry, d_inode);
	if (!ino)
		return;
	i = ((struct inode *)bpf_rdonly_cast(ino, bpf_core_type_id_kernel(struct inode)))->i_ino;
	b = (i ^ (i >> 8)) & 255;
	if (!(st->bloom[(b >> 6) & 3] & (1ULL << (b & 63))))
		return;
	n = st->ids.n;
	if (n >= IDS_MAX)
		return;
	st->ids.ino[n & (IDS_MAX - 1)] = i;
	st->ids.dev[n & (IDS_MAX - 1)] = BPF_CORE_READ(ino, i_sb, s_dev);
	st->ids.pos[n & (IDS_MAX - 1)] = st->ids_only ? ID_ABOVE : st->pos;
	st->ids.n = n + 1;
#endif
}

/*
 * The path string is finished (the root, or it was cut): stop, or with
 * identities wanted go on up for them alone (a chroot's root, a bind mount
 * or a detached clone of a protected directory, a path too deep or too long
 * to keep: the directory is still met). 1 = stop.
 */
static __always_inline long walk_string_done(struct walk_state *st)
{
	if (!st->want_ids || st->ids_only)
		return 1;
	st->ids_only = 1;
	return 0;
}

/*
 * Plain loads of the dentry fields a step reads, when the layout allows it
 * (since 6.14 the inline name is also an array of words, and the fields are
 * whole words from d_parent on): no helper call.
 */
static __always_inline int walk_plain_ok(void)
{
	__u32 base = bpf_core_field_offset(struct dentry, d_parent);

	return chunk_size() && bpf_core_field_exists(struct dentry, d_shortname) &&
	       (inline_name_off() - base) % 8 == 0 &&
	       (bpf_core_field_offset(struct dentry, d_inode) - base) % 8 == 0;
}

/* st->raw as one chunk read would fill it, from a typed dentry. */
static __always_inline void walk_read_plain(struct walk_state *st, struct dentry *d)
{
	__u64 *w = (__u64 *)st->raw;   /* 8-byte aligned in walk_state: whole-word stores */
	__u32 base = bpf_core_field_offset(struct dentry, d_parent);
	__u32 k = ((inline_name_off() - base) / 8) & 7;

	w[0] = (__u64)d->d_parent;
	w[1] = d->d_name.hash_len;
	w[2] = (__u64)d->d_name.name;
	w[((bpf_core_field_offset(struct dentry, d_inode) - base) / 8) & 7] = (__u64)d->d_inode;
	w[k] = d->d_shortname.words[0];
	w[k + 1] = d->d_shortname.words[1];
	w[k + 2] = d->d_shortname.words[2];
	w[k + 3] = d->d_shortname.words[3];
	w[k + 4] = d->d_shortname.words[4];
}

/*
 * An inline name of len bytes, already read as whole words into st->raw
 * (from word kw on), written to s->path to end at pos + len: whole-word
 * stores from right to left, each made of the two raw words it straddles.
 * Nothing to the right of the name is touched and nothing just stored is
 * read back. (The save-and-restore this replaces read 40 bytes of the path
 * built by the step before: loads spanning that step's narrower stores,
 * which the CPU cannot forward and waits for; perf put most of the walk's
 * time there.) Up to 7 bytes left of the name get zeros (the last word's
 * low part); the '/' and the next name overwrite them, and callers keep
 * pos >= 8 so that no store lands before the buffer.
 */
static __always_inline void name_words(struct scratch *s, struct walk_state *st, __u32 kw, __u32 len,
				       __u32 pos)
{
	__u64 *w = (__u64 *)st->raw;
	__u32 q = (len >> 3) & 7, r = len & 7, e = pos + len, sr, sl;

	if (!r) {
		for (int j = 0; j < 5; j++) {
			if (j >= q)
				break;
			*(__u64 *)&s->path[(e - 8 * (j + 1)) & PATHBUF_MASK] = w[(kw + q - 1 - j) & 15];
		}
		return;
	}
	sr = r * 8;
	sl = 64 - sr;
	for (int j = 0; j < 5; j++) {
		__u64 lo = 0;

		if (j > q)
			break;
		if (j < q)
			lo = w[(kw + q - 1 - j) & 15] >> sr;
		*(__u64 *)&s->path[(e - 8 * (j + 1)) & PATHBUF_MASK] = lo | (w[(kw + q - j) & 15] << sl);
	}
}

/*
 * One step up the dentry chain (0 = go on, 1 = stop). typed (a constant):
 * the dentry is also ctx->d, a typed pointer, until a mount crossing.
 */
static __always_inline long walk_one(struct walk_ctx *ctx, __u32 typed)
{
	struct scratch *s = ctx->s;
	struct walk_state *st;
	struct dentry *dentry, *mnt_root, *parent;
	struct mount *mnt;
	struct qstr name;
	__u32 len, pos, chunk;

	if (!s)
		return 1;
	st = &s->walk;
	/* locals, not st->x, inside BPF_CORE_READ: walk_state is not a kernel type */
	dentry = (struct dentry *)st->dentry;
	mnt_root = (struct dentry *)st->mnt_root;
	mnt = (struct mount *)st->mnt;
	pos = st->pos;
	if (!st->ids_only && st->dentry == st->root_dentry && st->vfsmnt == st->root_mnt) {
		if (walk_string_done(st))
			goto done;
	}
	if (!st->ids_only && ++st->levels > PATH_DEPTH_MAX) {
		/* deeper than a path string may be: cut */
		st->cut = 1;
		if (walk_string_done(st))
			goto done;
	}
	chunk = chunk_size();
#ifdef VIGIL_WALK_IDS
	if (walk_plain_ok()) {
		/* a pointer kept as an integer, made a read-only typed view */
		walk_read_plain(st, bpf_rdonly_cast(dentry, bpf_core_type_id_kernel(struct dentry)));
		parent = *(struct dentry **)&st->raw[0];
		name = *(struct qstr *)&st->raw[8];
#else
	if (typed && st->typed) {
		struct dentry *d = ctx->d;

		walk_read_plain(st, d);
		/* the next step's dentry, typed (a mount root's parent is itself: no step takes it) */
		ctx->d = d->d_parent;
		parent = *(struct dentry **)&st->raw[0];
		name = *(struct qstr *)&st->raw[8];
#endif
	} else if (chunk) {
		/* one read: d_parent, d_name, d_inode and the inline name after them */
		bpf_probe_read_kernel(st->raw, chunk, (void *)dentry +
				      bpf_core_field_offset(struct dentry, d_parent));
		parent = *(struct dentry **)&st->raw[0];
		name = *(struct qstr *)&st->raw[8];
	} else {
		parent = BPF_CORE_READ(dentry, d_parent);
		bpf_core_read(&name, sizeof(name), &dentry->d_name);
	}
	if (st->want_ids)
		walk_check_id(st, dentry, chunk);
	if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt_parent;
		struct vfsmount *vfsmnt;

		/* a filesystem root that is not a mount root: detached */
		if (dentry != mnt_root) {
			st->detached = 1;
			goto done;
		}
		mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
		if (mnt_parent == mnt)
			goto done;      /* the global root */
		/* cross into the parent mount at the mountpoint */
		st->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		st->typed = 0;
		vfsmnt = (struct vfsmount *)((void *)mnt_parent +
					     bpf_core_field_offset(struct mount, mnt));
		st->mnt = (__u64)mnt_parent;
		st->vfsmnt = (__u64)vfsmnt;
		st->mnt_root = (__u64)BPF_CORE_READ(vfsmnt, mnt_root);
		return 0;
	}
	if (st->ids_only) {
		st->dentry = (__u64)parent;
		return 0;
	}
	len = name.len;
	if (len > NAME_MASK) {
		len = NAME_MASK;
		st->cut = 1;
	}
	if (len + 1 >= pos) {
		/* longer than a path string may be: cut */
		st->cut = 1;
		if (walk_string_done(st))
			goto done;
		st->dentry = (__u64)parent;
		return 0;
	}
	pos -= len;
	if (chunk && (__u64)name.name == (__u64)dentry + inline_name_off() && len < inline_name_size()) {
		__u32 k = (inline_name_off() - bpf_core_field_offset(struct dentry, d_parent)) & 63;

		if (k % 8 == 0 && pos >= 8) {
			/* the usual layout, and room for a word to the left: whole words, nothing read back */
			name_words(s, st, k / 8, len, pos);
		} else {
			/*
			 * The name is inline in the dentry and already read. Its slot is
			 * [pos, pos + len); copying the whole inline buffer would spill
			 * over the path already built to the right, so save that first
			 * and put it back: plain stores instead of another read.
			 */
			char *dst = &s->path[pos & PATHBUF_MASK];
			__u32 l = len & 63;
			__u64 r0 = *(__u64 *)&dst[l], r1 = *(__u64 *)&dst[l + 8], r2 = *(__u64 *)&dst[l + 16];
			__u64 r3 = *(__u64 *)&dst[l + 24], r4 = *(__u64 *)&dst[l + 32];

			*(__u64 *)&dst[0] = *(__u64 *)&st->raw[k];
			*(__u64 *)&dst[8] = *(__u64 *)&st->raw[k + 8];
			*(__u64 *)&dst[16] = *(__u64 *)&st->raw[k + 16];
			*(__u64 *)&dst[24] = *(__u64 *)&st->raw[k + 24];
			*(__u64 *)&dst[32] = *(__u64 *)&st->raw[k + 32];
			*(__u64 *)&dst[l] = r0;
			*(__u64 *)&dst[l + 8] = r1;
			*(__u64 *)&dst[l + 16] = r2;
			*(__u64 *)&dst[l + 24] = r3;
			*(__u64 *)&dst[l + 32] = r4;
		}
	} else {
		bpf_probe_read_kernel(&s->path[pos & PATHBUF_MASK], len & NAME_MASK, name.name);
	}
	pos -= 1;
	s->path[pos & PATHBUF_MASK] = '/';
	st->pos = pos;
	st->dentry = (__u64)parent;
	/* reached the root: stop now rather than one more iteration */
	if (st->dentry == st->root_dentry && st->vfsmnt == st->root_mnt) {
		if (walk_string_done(st))
			goto done;
	}
	return 0;
done:
	st->done = 1;
	return 1;
}

/* bpf_loop() callbacks: a walk from a plain pointer, and a typed one */
static long walk_step(__u32 i, struct walk_ctx *ctx)
{
	return walk_one(ctx, 0);
}

static long walk_step_typed(__u32 i, struct walk_ctx *ctx)
{
	return walk_one(ctx, 1);
}

/*
 * Write the path of (dentry, vfsmnt) into s->path, right-aligned to end at
 * PATH_END. Returns the start offset in the low 16 bits and 1 << 16 if the
 * path was cut (too long or too deep).
 */
static __always_inline __u32 path_walk_body(struct scratch *s, __u64 dentry, __u64 vfsmnt,
					     struct walk_root *root, struct dentry *td, struct vfsmount *tv,
					     __u32 typed)
{
	struct walk_ctx ctx = { .s = s, .d = td };
	struct walk_state *st = &s->walk;
	struct vfsmount *v = (struct vfsmount *)vfsmnt;
	__u32 pos;

	if (!dentry)
		return PATH_END;
	st->dentry = dentry;
	st->vfsmnt = vfsmnt;
	st->mnt = (__u64)mount_of(v);
#ifdef VIGIL_WALK_IDS
	st->mnt_root = (__u64)((struct vfsmount *)bpf_rdonly_cast(v, bpf_core_type_id_kernel(struct vfsmount)))->mnt_root;
#else
	if (typed)
		st->mnt_root = (__u64)tv->mnt_root;
	else
		st->mnt_root = (__u64)BPF_CORE_READ(v, mnt_root);
#endif
	st->typed = typed ? walk_plain_ok() : 0;
	st->root_dentry = root->dentry;
	st->root_mnt = root->mnt;
	st->pos = PATH_END;
	st->cut = 0;
	st->done = 0;
	st->detached = 0;
	st->ids_only = 0;
	st->levels = 0;
	st->ids.n = 0;
	st->ids.flags = 0;
	if (typed)
		bpf_loop(st->want_ids ? IDS_DEPTH_MAX : PATH_DEPTH_MAX + 1, walk_step_typed, &ctx, 0);
	else
		bpf_loop(st->want_ids ? IDS_DEPTH_MAX : PATH_DEPTH_MAX + 1, walk_step, &ctx, 0);
	if (!st->done) {
		if (!st->ids_only)
			st->cut = 1;
		st->ids.flags |= ID_UNKNOWN;
	}
	pos = st->pos;
	if (pos >= PATH_END) {
		pos = PATH_END - 1;
		s->path[pos & PATHBUF_MASK] = '/';
	}
	return pos | (st->cut ? 1 << 16 : 0);
}

static __always_inline __u32 path_walk_inline(struct scratch *s, __u64 dentry, __u64 vfsmnt,
					      struct walk_root *root)
{
	return path_walk_body(s, dentry, vfsmnt, root, NULL, NULL, 0);
}

#ifdef VIGIL_WALK_IDS
/*
 * In the file events' program, one global function: verified once, not once
 * per call site (a file event walks in many places, and the identity walk
 * made each of them dearer to verify than the program could afford).
 */
__noinline __u32 path_walk_global(struct scratch *s)
{
	struct walk_root root;

	if (!s)
		return PATH_END;
	root.dentry = s->walk.root_dentry;
	root.mnt = s->walk.root_mnt;
	return path_walk_inline(s, s->walk.dentry, s->walk.vfsmnt, &root);
}

/* the arguments go through the scratch (kernel pointers as plain numbers there) */
static __always_inline __u32 path_walk(struct scratch *s, __u64 dentry, __u64 vfsmnt, struct walk_root *root)
{
	s->walk.dentry = dentry;
	s->walk.vfsmnt = vfsmnt;
	s->walk.root_dentry = root->dentry;
	s->walk.root_mnt = root->mnt;
	return path_walk_global(s);
}
#else
static __always_inline __u32 path_walk(struct scratch *s, __u64 dentry, __u64 vfsmnt, struct walk_root *root)
{
	return path_walk_inline(s, dentry, vfsmnt, root);
}
#endif

/*
 * The same from typed pointers (a tracepoint argument's file, the current
 * task's cwd): plain loads at every step where the layout allows. The file
 * events' walk reads plainly from any pointer already (bpf_rdonly_cast).
 */
#ifdef VIGIL_WALK_IDS
static __always_inline __u32 path_walk_typed(struct scratch *s, struct dentry *d, struct vfsmount *m,
					     struct walk_root *root)
{
	return path_walk(s, (__u64)d, (__u64)m, root);
}
#else
static __always_inline __u32 path_walk_typed(struct scratch *s, struct dentry *d, struct vfsmount *m,
					     struct walk_root *root)
{
	return path_walk_body(s, (__u64)d, (__u64)m, root, d, m, 1);
}
#endif

/* Collect identities (protected directories) on the walks that follow, or stop (on = 0). */
static __always_inline void walk_ids(struct scratch *s, struct vigil_config *cfg, __u32 on)
{
	struct walk_state *st = &s->walk;

	st->want_ids = on && cfg->dir_active;
	st->ids.n = 0;
	if (st->want_ids) {
		st->bloom[0] = cfg->dir_bloom[0];
		st->bloom[1] = cfg->dir_bloom[1];
		st->bloom[2] = cfg->dir_bloom[2];
		st->bloom[3] = cfg->dir_bloom[3];
	}
}

/*
 * The identities the last walk met, for the path it began (slot 0: path,
 * 1: new_path): positions made relative to that path's start. A path that
 * was not walked (an absolute name) has none.
 */
static __always_inline void ids_take(struct scratch *s, __u32 slot)
{
	struct walk_state *st = &s->walk;
	struct id_hits *h = &s->path_ids[slot & 1];
	__u32 n = st->ids.n;

	h->n = n > IDS_MAX ? IDS_MAX : n;
	h->flags = st->ids.flags;
	for (__u32 k = 0; k < IDS_MAX; k++) {
		__u32 p;

		if (k >= n)
			break;
		h->ino[k] = st->ids.ino[k];
		h->dev[k] = st->ids.dev[k];
		p = st->ids.pos[k];
		h->pos[k] = p == ID_ABOVE || p < st->pos ? ID_ABOVE : p - st->pos;
	}
	st->ids.n = 0;
}

/*
 * Copy the path built by path_walk() to dst. Returns its length; sets
 * *cut when the walk was truncated.
 */
static __always_inline __u32 path_copy(char *dst, struct scratch *s, __u32 walked, __u8 *cut)
{
	__u32 pos = walked & 0xffff;
	__u32 len;

	if (walked >> 16)
		*cut = 1;
	if (pos >= PATH_END)
		return 0;
	len = PATH_END - pos;
	bpf_probe_read_kernel(dst, len & PATHBUF_MASK, &s->path[pos & PATHBUF_MASK]);
	return len & PATHBUF_MASK;
}

/* Canonical path of an open file. */
static __always_inline __u32 file_path(char *dst, struct scratch *s, struct file *f,
				       struct walk_root *root, __u8 *cut)
{
	struct path p = {};

	bpf_core_read(&p, sizeof(p), &f->f_path);
	return path_copy(dst, s, path_walk(s, (__u64)p.dentry, (__u64)p.mnt, root), cut);
}

/*
 * The path a syscall named with (dirfd, name): the directory resolved by the
 * kernel (cwd or the dirfd's file), then '/', then the name as the caller
 * passed it. User space cleans up `.` and `..` in the name (EVF_*_LEXICAL).
 * `max` is the room left in dst. Returns the length written.
 */
static __always_inline __u32 at_path(char *dst, __u32 max, struct scratch *s,
				     struct task_struct *task, struct walk_root *root,
				     __s32 dirfd, const char *name, __u8 *cut)
{
	__u32 len = 0;
	long n;
	char first = 0;

	bpf_probe_read_user(&first, 1, name);
	if (first != '/') {
		__u64 dentry = 0, mnt = 0;

		if (dirfd == AT_FDCWD) {
			task_cwd(task, &dentry, &mnt);
		} else {
			struct file *f = task_fd_file(task, dirfd);
			struct path p = {};

			if (!f)
				return 0;
			bpf_core_read(&p, sizeof(p), &f->f_path);
			dentry = (__u64)p.dentry;
			mnt = (__u64)p.mnt;
		}
		len = path_copy(dst, s, path_walk(s, dentry, mnt, root), cut);
		/* directory + "/" + name; the root directory already ends in "/" */
		if (len > 1) {
			if (len + 1 >= max) {
				*cut = 1;
				return len;
			}
			dst[len & PATHBUF_MASK] = '/';
			len += 1;
		}
	}
	if (len >= max) {
		*cut = 1;
		return len & PATHBUF_MASK;
	}
	n = bpf_probe_read_user_str(&dst[len & PATHBUF_MASK], (max - len) & PATHBUF_MASK, name);
	if (n <= 0)
		return len & PATHBUF_MASK;
	if ((__u32)n == max - len)
		*cut = 1;
	return (len + n - 1) & PATHBUF_MASK;
}

#endif /* VIGIL_LIB_PATH_H */
