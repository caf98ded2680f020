/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * What overlayfs (the union file system container runtimes mount as a
 * container's root: image layers below, one writable layer on top) says of
 * an inode: is the file's data in the writable (upper) layer, i.e. was it
 * created, copied or written in the container rather than shipped in an
 * image layer? Falco asks the same (proc.is_exe_upper_layer).
 *
 * An overlay inode is the vfs_inode inside struct ovl_inode; its
 * __upperdentry is set once the file exists in the upper layer (created
 * there, or copied up by a write, a chmod, a rename, a hard link). With
 * metacopy=on a chmod copies up the metadata only and the data stays in the
 * image: OVL_UPPERDATA says whether the data is up there too (set at
 * lookup, at creation and when the data is copied up).
 */
#ifndef VIGIL_LIB_OVERLAY_H
#define VIGIL_LIB_OVERLAY_H

#include "common.h"

#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* fs/overlayfs/ovl_entry.h (private to overlayfs: its BTF is vmlinux's, or the overlay module's) */
struct ovl_inode___vigil {
	unsigned long flags;
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

enum ovl_inode_flag___vigil {
	OVL_UPPERDATA___vigil = 3,
};

/*
 * 1 when the overlayfs inode ino (its super block's magic was checked) has
 * its data in the upper layer. Where the kernel has no BTF for struct
 * ovl_inode (overlay built as a module and not loaded when the agent
 * started), its layout since 4.19 is read as Falco's probe does: flags just
 * before vfs_inode, __upperdentry just after.
 */
static __always_inline __u32 ovl_upper_data_of(struct inode *ino)
{
	struct dentry *upper = NULL;
	unsigned long flags = 0;
	__u32 bit = 3;
	char *oi;

	if (bpf_core_type_exists(struct ovl_inode___vigil)) {
		oi = (char *)ino - bpf_core_field_offset(struct ovl_inode___vigil, vfs_inode);
		upper = BPF_CORE_READ((struct ovl_inode___vigil *)oi, __upperdentry);
		flags = BPF_CORE_READ((struct ovl_inode___vigil *)oi, flags);
	} else {
		bpf_probe_read_kernel(&upper, sizeof(upper), (char *)ino + bpf_core_type_size(struct inode));
		bpf_probe_read_kernel(&flags, sizeof(flags), (char *)ino - sizeof(flags));
	}
	if (!upper)
		return 0;
	if (bpf_core_enum_value_exists(enum ovl_inode_flag___vigil, OVL_UPPERDATA___vigil))
		bit = bpf_core_enum_value(enum ovl_inode_flag___vigil, OVL_UPPERDATA___vigil);
	return (flags >> (bit & 63)) & 1;
}

/* The same for any inode: 0 unless it is an overlayfs one. */
static __always_inline __u32 ovl_upper_data(struct inode *ino)
{
	if (!ino || BPF_CORE_READ(ino, i_sb, s_magic) != OVERLAYFS_SUPER_MAGIC)
		return 0;
	return ovl_upper_data_of(ino);
}

#endif
