/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * The canonical path of the file a chmod, truncate, rename, link, symlink or
 * unlink actually touched, from the inodes it changed (lib/touched.h), in
 * place of the name the caller passed: chmod through a symlink or
 * /proc/self/fd/N names the file changed, a rename through a symlinked
 * directory names where the file went. Included by syscalls/file.h.
 */
#ifndef VIGIL_SYSCALLS_RESOLVE_H
#define VIGIL_SYSCALLS_RESOLVE_H

#include "../lib/common.h"
#include "../lib/path.h"
#include "../lib/touched.h"

/* scratch.rec areas past the record (which ends before 2200) */
#define REC_HOLD  2304   /* the second path, while the first is rewritten */
#define REC_NAME  3328   /* the last component of a name, while its directory's path is written */
#define NAME_MAX_ 255

/* i_mode: the file type bits, and a directory's */
#define MODE_TYPE 0170000
#define MODE_DIR  0040000

enum resolve_how {
	RES_FILE = 1,   /* the inode changed: its own name (chmod, truncate) */
	RES_NAME = 2,   /* the touched inode that now has this last component (link, symlink, rename: the new name) */
	RES_DIR  = 3,   /* the touched directory an entry left, then the last component (unlink; a rename's old name) */
};

/* struct dentry of an i_dentry list node (dentry.d_u.d_alias) */
static __always_inline struct dentry *alias_dentry(struct hlist_node *node)
{
	if (!node)
		return NULL;
	return (struct dentry *)((void *)node - bpf_core_field_offset(struct dentry, d_u.d_alias));
}

/* Is the dentry's name the blen bytes at rec[pos]? Lengths, then the first 16 bytes. */
static __always_inline int name_is(struct scratch *s, struct dentry *d, __u32 pos, __u32 blen)
{
	__u64 x[2] = {}, y[2] = {};
	struct qstr q = {};
	__u32 n;

	bpf_core_read(&q, sizeof(q), &d->d_name);
	if (q.len != blen)
		return 0;
	n = blen & 31;
	if (n > 16)
		n = 16;
	bpf_probe_read_kernel(x, n, q.name);
	bpf_probe_read_kernel(y, n, &s->rec[pos & 4095]);
	return x[0] == y[0] && x[1] == y[1];
}

struct find_ctx {
	struct scratch *s;
	struct touched *t;
	struct resolve_args *r;
	__u64 found;
	__u64 root_sb;          /* the file systems a path can be built on */
	__u64 cwd_sb;
	__u32 n;
	__u32 blen;
	__u32 pos;
	__u32 pad;
};

/* The last component: its length, up to the last '/'. bpf_loop() callback over the bytes from the end. */
static long last_component_step(__u32 i, struct find_ctx *f)
{
	struct scratch *s = f->s;
	struct resolve_args *r = f->r;

	if (i >= r->len || s->rec[(r->off + r->len - 1 - i) & 4095] == '/')
		return 1;
	f->blen = i + 1;
	return 0;
}

/* One touched inode: is it what r->how looks for? bpf_loop() callback (1 = found, stop). */
static long find_step(__u32 i, struct find_ctx *f)
{
	struct touched *t = f->t;
	struct resolve_args *r = f->r;
	struct hlist_node *node;
	struct inode *ino;
	struct dentry *d;
	__u64 sb;

	if (i >= f->n || i >= TOUCHED_MAX)
		return 1;
	ino = (struct inode *)t->inode[i & (TOUCHED_MAX - 1)];
	/* freed and reused since: not the inode that was touched */
	if (BPF_CORE_READ(ino, i_ino) != t->ino[i & (TOUCHED_MAX - 1)])
		return 0;
	/* removed (unlink, rmdir, the target a rename replaced): it has no name left */
	if (BPF_CORE_READ(ino, i_nlink) == 0)
		return 0;
	/*
	 * not on a file system a path can be built on: also what a lookup made on
	 * the way (a /proc/self/fd/N entry is a new procfs inode, stamped as it is made)
	 */
	sb = (__u64)BPF_CORE_READ(ino, i_sb);
	if (sb != f->root_sb && sb != f->cwd_sb)
		return 0;
	node = BPF_CORE_READ(ino, i_dentry.first);
	d = alias_dentry(node);
	if (!d)
		return 0;
	if (r->how == RES_FILE) {
		/* the file changed is stamped last (after what the lookup made): go on */
		f->found = (__u64)d;
		return 0;
	}
	if (r->how == RES_DIR) {
		if ((BPF_CORE_READ(ino, i_mode) & MODE_TYPE) != MODE_DIR || (__u64)d == r->exclude || (__u64)d == r->exclude2)
			return 0;
		f->found = (__u64)d;
		return 1;
	}
	/* RES_NAME: a hard-linked file has one alias per name in the dcache */
	for (__u32 j = 0; j < 4; j++) {
		if (name_is(f->s, d, f->pos, f->blen)) {
			f->found = (__u64)d;
			return 1;
		}
		node = BPF_CORE_READ(node, next);
		d = alias_dentry(node);
		if (!d)
			break;
	}
	return 0;
}

/*
 * Rewrite the name at rec[r->off, r->off + r->len) as the canonical path of
 * what the call touched (r->how); r->out_len = its length, 0 when nothing
 * touched fits (the name stays as it was). A global function: verified once,
 * whichever names an event resolves; its loops are bpf_loop() callbacks.
 */
__noinline __u32 resolve_name(struct scratch *s, struct touched *t, struct resolve_args *r)
{
	struct find_ctx f = { .s = s, .t = t, .r = r };
	struct walk_root root;
	struct dentry *found;
	struct vfsmount *mnt;
	struct super_block *sb;
	__u32 blen = 0, walked, len;
	__u8 cut = 0;

	if (!s || !t || !r)
		return 0;
	r->out_len = 0;
	r->cut = 0;
	r->found = 0;
	r->parent = 0;
	f.n = t->n;
	/* locals, not r->x, inside BPF_CORE_READ: resolve_args is not a kernel type */
	mnt = (struct vfsmount *)r->root_mnt;
	f.root_sb = (__u64)BPF_CORE_READ(mnt, mnt_sb);
	mnt = (struct vfsmount *)r->cwd_mnt;
	f.cwd_sb = mnt ? (__u64)BPF_CORE_READ(mnt, mnt_sb) : f.root_sb;
	if (r->how != RES_FILE) {
		/* a trailing '/' (or a name longer than a component may be) is left as it is */
		bpf_loop(NAME_MAX_ + 1, last_component_step, &f, 0);
		blen = f.blen;
		if (blen == 0 || blen > NAME_MAX_ || blen > r->len)
			return 0;
		f.pos = r->off + r->len - blen;
	}
	bpf_loop(TOUCHED_MAX, find_step, &f, 0);
	found = (struct dentry *)f.found;
	/* a rename within one directory: the directory it left is the one it went to */
	if (!found && r->how == RES_DIR && r->exclude)
		found = (struct dentry *)r->exclude;
	if (!found)
		return 0;
	r->found = (__u64)found;
	r->parent = (__u64)BPF_CORE_READ(found, d_parent);
	/* the mount: the root's or the cwd's, whichever is on the file's file system */
	sb = BPF_CORE_READ(found, d_sb);
	mnt = (struct vfsmount *)r->root_mnt;
	if (BPF_CORE_READ(mnt, mnt_sb) != sb) {
		mnt = (struct vfsmount *)r->cwd_mnt;
		if (!mnt || BPF_CORE_READ(mnt, mnt_sb) != sb)
			return 0;
	}
	if (r->how == RES_DIR)
		bpf_probe_read_kernel(&s->rec[REC_NAME], blen & NAME_MAX_, &s->rec[f.pos & 4095]);
	root.dentry = r->root_dentry;
	root.mnt = r->root_mnt;
	walked = path_walk(s, (__u64)found, (__u64)mnt, &root);
	/* not below that mount's root (a bind mount of a subdirectory): no path from here */
	if (s->walk.detached)
		return 0;
	len = path_copy((char *)&s->rec[r->off & 4095], s, walked, &cut);
	if (r->how == RES_DIR) {
		if (len + 1 + blen > VIGIL_PATH_MAX) {
			cut = 1;
		} else {
			if (len > 1) {
				s->rec[(r->off + len) & 4095] = '/';
				len += 1;
			}
			bpf_probe_read_kernel(&s->rec[(r->off + len) & 4095], blen & NAME_MAX_, &s->rec[REC_NAME]);
			len += blen;
		}
	}
	r->cut = cut;
	r->out_len = len & PATHBUF_MASK;
	return r->out_len;
}

/*
 * Name what the call touched: rewrite path (tail[0, *len1)) and/or new_path
 * (tail[*len1, *len1 + *len2)) in the record being built. Returns the header
 * flags to clear (the names that are no longer lexical).
 */
static __always_inline __u32 resolve_touched(struct scratch *s, struct touched *t, struct task_struct *task,
					     struct walk_root *root, __u64 nr, __u32 rename_flags,
					     __u32 *len1, __u32 *len2, __u8 *cut1, __u8 *cut2)
{
	struct resolve_args *r = &s->res;
	__u32 clear = 0, how1 = 0, how2 = 0, l1 = *len1, l2 = *len2, off1 = FILE_TAIL;
	__u64 cwd_dentry, cwd_mnt;

	switch (nr) {
	case NR_chmod: case NR_fchmodat: case NR_fchmodat2: case NR_truncate:
		how1 = RES_FILE;
		break;
	case NR_unlink: case NR_unlinkat: case NR_rmdir:
		how1 = RES_DIR;
		break;
	case NR_link: case NR_linkat: case NR_symlink: case NR_symlinkat:
		how2 = RES_NAME;
		break;
	case NR_rename: case NR_renameat: case NR_renameat2:
		how2 = RES_NAME;
		how1 = (rename_flags & RENAME_EXCHANGE) ? RES_NAME : RES_DIR;
		break;
	}
	task_cwd(task, &cwd_dentry, &cwd_mnt);
	r->root_dentry = root->dentry;
	r->root_mnt = root->mnt;
	r->cwd_mnt = cwd_mnt;
	r->exclude = 0;
	r->exclude2 = 0;
	if (how2) {
		r->how = how2;
		r->off = off1 + (l1 & PATHBUF_MASK);
		r->len = l2;
		if (resolve_name(s, t, r)) {
			l2 = r->out_len;
			*cut2 = r->cut;
			clear |= EVF_STR2_LEXICAL;
			ids_take(s, 1);
			/* the old name of a rename: the other directory it touched */
			r->exclude = r->parent;
			r->exclude2 = r->found;
		} else if (how1 == RES_DIR) {
			/* which directory it left cannot be told without where it went */
			how1 = 0;
		}
	}
	if (how1) {
		/* path1 may grow over path2: hold path2 aside, then put it back after */
		if (l2)
			bpf_probe_read_kernel(&s->rec[REC_HOLD], l2 & PATHBUF_MASK, &s->rec[(off1 + l1) & 4095]);
		r->how = how1;
		r->off = off1;
		r->len = l1;
		if (resolve_name(s, t, r)) {
			l1 = r->out_len;
			*cut1 = r->cut;
			clear |= EVF_PATH_LEXICAL;
			ids_take(s, 0);
		}
		if (l2)
			bpf_probe_read_kernel(&s->rec[(off1 + l1) & 4095], l2 & PATHBUF_MASK, &s->rec[REC_HOLD]);
	}
	*len1 = l1;
	*len2 = l2;
	s->walk.ids.n = 0;
	return clear;
}

#endif /* VIGIL_SYSCALLS_RESOLVE_H */
