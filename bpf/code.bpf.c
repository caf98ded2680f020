// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Runtime reachability: which files each workload loads as code
 * (docs/vex.md). One record per (workload, device, inode), ever: the
 * `code_seen` LRU remembers what was reported, so a library loaded by a
 * thousand processes costs one record, and the hot path of a repeated load
 * is one hash lookup.
 *
 * Why sys_exit: the result is known (the descriptor, the address mapped)
 * and the registers still hold the arguments, so the struct file is the one
 * the call really used (symlinks and relative names resolved by the kernel).
 * Its own program rather than a case in syscalls.bpf.c: it is attached only
 * when reachability is on, and its early exit keeps the dispatcher's cost
 * for everything else unchanged.
 *
 * What counts as loading code:
 *   - mmap with PROT_EXEC of a file (ld.so mapping a library, dlopen, a
 *     Python or Node native module): the file is the mapping's vm_file;
 *   - mprotect / pkey_mprotect adding PROT_EXEC to a file mapping (map it
 *     readable, then make it executable: the same code, another door);
 *   - open read-only of a regular file that is executable (scripts the
 *     interpreter reads) or whose name ends like code an interpreter reads
 *     (.py .pyc .jar .class .js .mjs .cjs .rb .pl .pm .php .lua .so .dll):
 *     decided here, from the dentry's name, so that data files never reach
 *     the LRU or the ring.
 * Exec itself is the exec record's (process.bpf.c): user space takes the
 * executed file from it. The dynamic loader and the main program are mapped
 * by the kernel at exec, not through mmap(2): user space reads them from
 * /proc/PID/maps (agent/reach/).
 */
#include "lib/common.h"
#include "lib/path.h"
#include "lib/syscall_nr.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define NR_mmap           9
#define NR_mprotect       10
#define NR_pkey_mprotect  329
/* ia32 (int 0x80): open 5, mprotect 125, mmap2 192 (fd in edi), openat 295, pkey_mprotect 380, openat2 437 */
#define NR32_open          5
#define NR32_mprotect      125
#define NR32_mmap2         192
#define NR32_openat        295
#define NR32_pkey_mprotect 380
#define NR32_openat2       437

#define PROT_EXEC       0x4
#define MAP_ANONYMOUS   0x20
#define FMODE_READ      0x1
#define FMODE_WRITE     0x2
#define S_IFMT          00170000
#define S_IFREG         0100000

/*
 * Files some workload loaded: (workload, device, inode). An LRU: when full,
 * the least recently loaded file is forgotten and reported again if loaded
 * again (user space deduplicates), never lost.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct code_key);
	__type(value, __u32);
} code_seen VIGIL_MAP;

/* the last k bytes of a name whose last min(len, 8) bytes are in u (little endian) */
#define SFX2(a, b)             ((__u64)(a) | (__u64)(b) << 8)
#define SFX3(a, b, c)          (SFX2(a, b) | (__u64)(c) << 16)
#define SFX4(a, b, c, d)       (SFX3(a, b, c) | (__u64)(d) << 24)
#define SFX5(a, b, c, d, e)    (SFX4(a, b, c, d) | (__u64)(e) << 32)
#define SFX6(a, b, c, d, e, f) (SFX5(a, b, c, d, e) | (__u64)(f) << 40)

static __always_inline __u64 last_bytes(__u64 u, __u32 have, __u32 k)
{
	if (k > have)
		return ~0ULL;
	u >>= 8 * (have - k);
	return k >= 8 ? u : u & ((1ULL << (8 * k)) - 1);
}

/* Does the file's name end like code an interpreter reads? */
static __always_inline int code_name(struct dentry *d)
{
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	__u32 len = BPF_CORE_READ(d, d_name.len);
	__u32 have = len >= 8 ? 8 : len;
	__u64 u = 0;

	if (len < 3)
		return 0;
	/* short names live in the dentry's inline buffer (32+ bytes): reading 8 from their start stays in it */
	if (bpf_probe_read_kernel(&u, 8, len >= 8 ? name + len - 8 : name))
		return 0;
	switch (last_bytes(u, have, 3)) {
	case SFX3('.', 'p', 'y'): case SFX3('.', 'j', 's'): case SFX3('.', 'r', 'b'):
	case SFX3('.', 'p', 'l'): case SFX3('.', 'p', 'm'): case SFX3('.', 's', 'o'):
		return 1;
	}
	switch (last_bytes(u, have, 4)) {
	case SFX4('.', 'p', 'y', 'c'): case SFX4('.', 'j', 'a', 'r'): case SFX4('.', 'w', 'a', 'r'):
	case SFX4('.', 'm', 'j', 's'): case SFX4('.', 'c', 'j', 's'): case SFX4('.', 'p', 'h', 'p'):
	case SFX4('.', 'l', 'u', 'a'): case SFX4('.', 'd', 'l', 'l'):
		return 1;
	}
	return last_bytes(u, have, 6) == SFX6('.', 'c', 'l', 'a', 's', 's');
}

struct vma_ctx {
	struct file *file;
};

static long vma_file(struct task_struct *task, struct vm_area_struct *vma, struct vma_ctx *ctx)
{
	ctx->file = vma->vm_file;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vigil_code, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 compat = task->thread_info.status & TS_COMPAT;
	__u64 nr = SC_NR(regs), addr = 0;
	__u32 how = 0, prot = 0, mflags = 0;
	struct vigil_config *cfg;
	struct kind_counters *c;
	struct code_event *e;
	struct walk_root root;
	struct code_key key;
	struct scratch *s;
	struct file *f = NULL;
	struct inode *inode;
	__u16 mode;
	__u64 pid_tgid, cgid;
	__u32 scope, one = 1, len;
	struct who who;
	__u8 cut = 0;

	/* the number first: every other system call leaves here */
	if (!compat) {
		switch (nr & ~(__u64)X32_SYSCALL_BIT) {
		case NR_open: case NR_openat: case NR_openat2:
			how = CODE_OPEN;
			break;
		case NR_mmap:
			how = CODE_MMAP;
			prot = regs->dx;
			mflags = regs->r10;
			break;
		case NR_mprotect: case NR_pkey_mprotect:
			how = CODE_MPROTECT;
			prot = regs->dx;
			addr = regs->di;
			break;
		default:
			return 0;
		}
	} else {
		switch (nr) {
		case NR32_open: case NR32_openat: case NR32_openat2:
			how = CODE_OPEN;
			break;
		case NR32_mmap2:
			how = CODE_MMAP;
			prot = (__u32)regs->dx;
			mflags = (__u32)regs->si;
			break;
		case NR32_mprotect: case NR32_pkey_mprotect:
			how = CODE_MPROTECT;
			prot = (__u32)regs->dx;
			addr = (__u32)regs->bx;
			break;
		default:
			return 0;
		}
	}
	if (ret < 0 && ret > -4096)
		return 0;
	if (how != CODE_OPEN) {
		if (!(prot & PROT_EXEC))
			return 0;
		if (how == CODE_MMAP) {
			if (mflags & MAP_ANONYMOUS)
				return 0;
			addr = ret;
		}
	}
	cfg = get_config();
	if (!cfg || !(cfg->kinds & (1U << EV_CODE)))
		return 0;
	pid_tgid = task_pid_tgid(task);
	cgid = task_cgroup_id(task);
	scope = wanted(cfg, EV_CODE, pid_tgid >> 32, cgid, &who);
	/* only workloads: an image is a workload's */
	if (!scope || !(scope & EVF_IN_SCOPE) || !who.workload)
		return 0;
	c = get_counters(EV_CODE);
	if (!c)
		return 0;

	if (how == CODE_OPEN) {
		f = task_fd_file(task, ret);
		if (!f)
			return 0;
		/* a pointer read from the descriptor table: read through, not loaded */
		if ((BPF_CORE_READ(f, f_mode) & (FMODE_READ | FMODE_WRITE)) != FMODE_READ)
			return 0;
		inode = BPF_CORE_READ(f, f_inode);
		mode = BPF_CORE_READ(inode, i_mode);
		if ((mode & S_IFMT) != S_IFREG)
			return 0;
		if (!(mode & 0111) && !code_name(BPF_CORE_READ(f, f_path.dentry)))
			return 0;
	} else {
		struct vma_ctx vc = {};

		/* the mapping at that address now: its file is what runs */
		if (bpf_find_vma(task, addr, vma_file, &vc, 0)) {
			__sync_fetch_and_add(&c->busy, 1);
			return 0;
		}
		f = vc.file;
		if (!f)
			return 0;
		inode = BPF_CORE_READ(f, f_inode);
		if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
			return 0;
	}
	key.workload = who.workload;
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.ino = BPF_CORE_READ(inode, i_ino);
	/* seen: the common case, one lookup */
	if (bpf_map_lookup_elem(&code_seen, &key))
		return 0;
	/* two CPUs racing on a new file: one inserts, the other stops here */
	if (bpf_map_update_elem(&code_seen, &key, &one, BPF_NOEXIST))
		return 0;

	s = scratch_get(SCRATCH_CODE, c);
	if (!s) {
		/* not reported: forget it, so that the next load reports it */
		bpf_map_delete_elem(&code_seen, &key);
		return 0;
	}
	e = (struct code_event *)s->rec;
	fill_proc_btf(&e->proc, task, pid_tgid, cgid, who.workload, who.pflags);
	e->ino = key.ino;
	e->dev = key.dev;
	e->how = how;
	e->pad = 0;
	task_root(task, &root);
	len = file_path(e->tail, s, f, &root, &cut);
	e->path_len = len;
	fill_hdr(&e->hdr, EV_CODE, sizeof(*e) + (len & PATHBUF_MASK), (scope & 0xff) | (cut ? EVF_PATH_TRUNCATED : 0) | ((compat >> 1) << 7));
	/* report-only: shed first when the ring is three quarters full (lib/common.h) */
	if (!shed(PRIO_REPORT) &&
	    bpf_ringbuf_output(&events, e, sizeof(*e) + (len & PATHBUF_MASK), wakeup_flag(cfg, EV_CODE)) == 0) {
		c->emitted++;
	} else {
		/* not reported: forget it, so that the next load of it is reported (user space counts the loss as a gap) */
		c->dropped++;
		bpf_map_delete_elem(&code_seen, &key);
	}
	scratch_put(s);
	return 0;
}
