/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Maps, filters, counters and record emission shared by every hook family. */
#ifndef VIGIL_LIB_COMMON_H
#define VIGIL_LIB_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "../events.h"

/*
 * Maps are declared __weak in every object that includes this header, so
 * that `bpftool gen object` merges the identical definitions into one map.
 */
#define VIGIL_MAP __weak SEC(".maps")

/*
 * The one ring buffer, in event order. User space sets the size before load.
 * Its last quarter is kept for the records that matter most (event_hdr.prio):
 * process life cycle records, which every judgement reads, and records a
 * user-space kill rule must judge. A report-only record that finds the ring
 * three quarters full is shed (counted as dropped), so a flood of them never
 * takes the place of a decision; user space sheds in the same order
 * (native/src/reader.cc).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events VIGIL_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EV_KIND_MAX);
	__type(key, __u32);
	__type(value, struct kind_counters);
} counters VIGIL_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vigil_config);
} settings VIGIL_MAP;

/* Monitored cgroups (key: cgroup v2 id). Children inherit on cgroup_mkdir. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct cgroup_info);
} cgroups VIGIL_MAP;

/*
 * What the kernel remembers of each task, for as long as the task lives
 * (task storage: freed with the task, inherited at fork by copying).
 *   - origin: the workload the task was born or exec'd in, kept when it
 *     moves out of that workload's cgroup subtree (PF_MOVED), so that
 *     writing its pid into another cgroup.procs does not shed its identity;
 *   - exe: the (device, inode) of what it executes, for rules on parent
 *     binaries and for a program the dynamic loader maps (TS_LOADER).
 */
/*
 * Workload index -> SPIFFE ID, written by user space only. The kernel never
 * reads it: it is how the next agent (pinned maps, issue 9) learns which
 * workload each index in the cgroups map, the rules and the tasks' origins
 * stands for, so that indices stay the same across agent restarts.
 */
#define WORKLOAD_NAME_MAX 2048   /* the longest SPIFFE ID the spec allows */
struct workload_name {
	char id[WORKLOAD_NAME_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct workload_name);
} workload_names VIGIL_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_state);
} tasks VIGIL_MAP;

/*
 * The last scope decision on this CPU. A hash lookup costs more than the
 * rest of the filter together, and a CPU tends to run the same cgroup many
 * times in a row. cgroup ids are never reused, and user space bumps
 * settings.generation after changing the map, so a hit is always right.
 */
struct scope_slot {
	__u64 cgid;
	__u32 generation;
	__u32 verdict;         /* 1 = in the map, 2 = not, 3 = through its nearest mapped ancestor */
	__u32 workload;        /* cgroup_info.workload of the mapped cgroup */
	__u32 level;           /* the mapped cgroup's level */
	__u64 hit;             /* the mapped cgroup: the task's own, or its nearest mapped ancestor */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scope_slot);
} scope_cache VIGIL_MAP;

/*
 * Per-CPU scratch space for records with variable-length tails: too big for
 * the 512-byte stack. One slot per hook family, because a program attached
 * to a syscall tracepoint may be preempted (migrate_disable only) and the
 * next task on this CPU may run another family's program.
 */
#define SCRATCH_PROCESS 0
#define SCRATCH_SYSCALL 1
#define SCRATCH_LOADER  2
#define SCRATCH_CODE    3
#define SCRATCH_SLOTS   4

/* Reverse-built paths need VIGIL_PATH_MAX + a name of slack for the verifier. */
#define PATHBUF_SIZE    2048
#define PATHBUF_MASK    (PATHBUF_SIZE / 2 - 1)   /* 1023 == VIGIL_PATH_MAX */
#define TAIL_MASK       (PATHBUF_SIZE - 1)       /* two strings of the tail */

/*
 * Protected directories by identity (lib/path.h): the directories a walk met
 * whose inode passed the settings' filter (vigil_config.dir_bloom), for the
 * rules to look up by (device, inode) in `file_rules` (RM_PREFIX).
 */
#define IDS_MAX        4
#define IDS_DEPTH_MAX  1024    /* levels an identity walk goes up (the path string stops at PATH_DEPTH_MAX) */
#define ID_ABOVE       0xffff  /* id_hits.pos: above the path reported (past its root, or past where it was cut) */

enum id_flag {
	ID_UNKNOWN = 1 << 0,   /* the walk did not reach the root: a protected directory further up is not known */
};

struct id_hits {
	__u64 ino[IDS_MAX];
	__u32 dev[IDS_MAX];
	__u16 pos[IDS_MAX];     /* where the part below the directory starts (walk: in s->path; then in the path reported), or ID_ABOVE */
	__u16 n;
	__u16 flags;            /* enum id_flag */
	__u32 pad;
};

/* State of one dentry walk (lib/path.h); kernel pointers kept as integers. */
struct walk_state {
	__u64 dentry;
	__u64 vfsmnt;
	__u64 mnt;
	__u64 mnt_root;
	__u64 root_dentry;
	__u64 root_mnt;
	__u32 pos;
	__u32 cut;
	__u32 done;
	__u32 detached;         /* it reached a file system root that is not its mount's root */
	__u8  raw[96];          /* struct dentry from d_parent on (lib/path.h) */
	/* identity: set want_ids (and bloom) before path_walk() to collect id hits */
	__u32 want_ids;
	__u32 ids_only;         /* the path string is finished (root reached, or cut): only identities from here */
	__u32 levels;
	__u32 typed;            /* a typed walk reads ctx->d with plain loads (lib/path.h); a mount crossing ends it */
	__u64 bloom[4];         /* vigil_config.dir_bloom */
	struct id_hits ids;
};

/* State of one path-hash lookup (lib/rules.h). */
struct hash_state {
	__u64 h;
	__u32 in_path;
	__u32 off;
	__u32 len;
	__u32 depth;
	__u32 depth_mask;
	__u32 workload;
	__u32 kind;
	__u32 gen;
	__u32 access;
	__u32 actions;
	__u32 kill_rule;
	__u32 prev;            /* the byte before this word */
	__u32 dirty;
	__u32 slots;           /* rule_val.slots of the prefixes met so far */
	__u32 ids;             /* 1 + the s->path_ids slot path_judge() also looks up by identity; 0 = none */
	__u32 id_hit;          /* out: 1 + the index of the first of them a rule names; 0 = none */
};

/*
 * What kill rules' conditions look at (lib/rules.h): the binary of the
 * process (for an exec: the new one) and of its parent, by identity and,
 * when known, by path hash. Filled when a condition is first evaluated.
 */
struct bin_facts {
	__u64 self_ino;
	__u64 self_hash;
	__u64 parent_ino;
	__u64 parent_hash;
	__u32 self_dev;
	__u32 parent_dev;
	__u32 self_flags;      /* enum exe_flag */
	__u32 have;            /* FACT_* */
};

#define FACT_SELF        (1 << 0)   /* self_dev/ino/flags are set */
#define FACT_SELF_HASH   (1 << 1)
#define FACT_PARENT      (1 << 2)   /* parent_dev/ino are set (or looked for and absent) */
#define FACT_PARENT_HASH (1 << 3)

/* One conditional kill rule being evaluated (lib/rules.h, cond_step). */
struct cond_state {
	struct rule_cond cond;
	__u32 slots;
	__u32 workload;
	__u32 kind;
	__u32 gen;
	__u32 access;
	__u32 state;           /* CS_* for the slot being evaluated */
	__u32 rule;            /* the first rule that kills, 0 = none */
	__u32 pad;
};

/* Naming what a file call touched (syscalls/resolve.h); kernel pointers kept as integers. */
struct resolve_args {
	__u64 root_dentry;      /* the task's root: where paths start */
	__u64 root_mnt;
	__u64 cwd_mnt;          /* the mount of its cwd: the other mount a file may be on */
	__u64 exclude;          /* RES_DIR: not these directories (dentries) */
	__u64 exclude2;
	__u64 found;            /* out: the dentry named */
	__u64 parent;           /* out: its parent */
	__u32 how;              /* enum resolve_how */
	__u32 off;              /* the name as reported so far: rec[off, off + len) */
	__u32 len;
	__u32 out_len;          /* out: length of the canonical name written at off, 0 = not resolved */
	__u32 cut;              /* out: it did not fit */
	__u32 pad;
};

struct scratch {
	__u32 busy;
	__u32 pad;
	struct walk_state walk;
	struct hash_state hash;
	struct bin_facts facts;
	struct cond_state cond;
	struct resolve_args res;
	struct id_hits path_ids[2];   /* of a record's path and new_path, positions in the path reported */
	__u8  rec[4096];        /* tail writes are bounded by masks, not by size */
	/* room for a record built in front of a right-aligned path */
	char  path[PATHBUF_SIZE + 512];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map VIGIL_MAP;

static __always_inline struct vigil_config *get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&settings, &zero);
}

static __always_inline struct kind_counters *get_counters(__u32 kind)
{
	return bpf_map_lookup_elem(&counters, &kind);
}

/* How deep below the root mapped ancestors are looked for (a workload's own cgroup sits far above this). */
#define ANCESTOR_LEVELS_MAX 64

/* What the kernel knows of the current task for rules: see struct proc_ctx. */
struct who {
	__u32 workload;
	__u32 pflags;          /* enum proc_flag */
	__u64 hit;             /* the mapped cgroup that gave the workload, 0 = none */
	__u32 level;
	__u32 pad;
};

/*
 * Is this cgroup in scope, and which workload is it? Its own entry in
 * `cgroups`, else its nearest mapped ancestor's: a workload's descendant
 * cgroups need no entries, so a workload that creates cgroups cannot fill
 * the map to hide in a new one. Ancestors are tried from the top down and
 * the deepest hit kept, so nesting cgroups deeper than ANCESTOR_LEVELS_MAX
 * cannot push the workload's own cgroup out of reach either. Through the
 * per-CPU one-entry cache, written cgid-last and read cgid-twice: a program
 * preempted half-way through an update only causes a miss, never a wrong
 * answer.
 */
static __always_inline int cgroup_lookup(struct vigil_config *cfg, __u64 cgid, struct who *who)
{
	__u32 zero = 0;
	struct scope_slot *sl = bpf_map_lookup_elem(&scope_cache, &zero);
	struct cgroup_info *info;
	__u32 verdict = 2, w = 0, level = 0;
	__u64 hit = 0;

	if (sl) {
		__u64 c1 = *(volatile __u64 *)&sl->cgid;
		__u32 gen = *(volatile __u32 *)&sl->generation;
		__u32 v = *(volatile __u32 *)&sl->verdict;
		__u32 cw = *(volatile __u32 *)&sl->workload;
		__u32 cl = *(volatile __u32 *)&sl->level;
		__u64 ch = *(volatile __u64 *)&sl->hit;
		__u64 c2 = *(volatile __u64 *)&sl->cgid;

		if (c1 == cgid && c2 == cgid && gen == cfg->generation && v) {
			who->workload = cw;
			who->hit = ch;
			who->level = cl;
			who->pflags = v == 3 ? PF_INHERITED : 0;
			return v != 2;
		}
	}
	info = bpf_map_lookup_elem(&cgroups, &cgid);
	if (info) {
		verdict = 1;
		w = info->workload;
		hit = cgid;
	} else {
		for (__u32 lvl = 1; lvl < ANCESTOR_LEVELS_MAX; lvl++) {
			__u64 id = bpf_get_current_ancestor_cgroup_id(lvl);
			struct cgroup_info *a;

			if (!id || id == cgid)
				break;
			a = bpf_map_lookup_elem(&cgroups, &id);
			if (a) {
				verdict = 3;
				w = a->workload;
				hit = id;
				level = lvl;
			}
		}
	}
	who->workload = w;
	who->hit = hit;
	who->level = level;
	who->pflags = verdict == 3 ? PF_INHERITED : 0;
	if (sl) {
		*(volatile __u64 *)&sl->cgid = 0;
		*(volatile __u32 *)&sl->generation = cfg->generation;
		*(volatile __u32 *)&sl->verdict = verdict;
		*(volatile __u32 *)&sl->workload = w;
		*(volatile __u32 *)&sl->level = level;
		*(volatile __u64 *)&sl->hit = hit;
		*(volatile __u64 *)&sl->cgid = cgid;
	}
	return verdict != 2;
}

/* Is the current task's cgroup at or below `ancestor`, a cgroup at `level`? */
static __always_inline int below(__u64 cgid, __u64 ancestor, __u32 level)
{
	if (cgid == ancestor)
		return 1;
	return level < ANCESTOR_LEVELS_MAX && bpf_get_current_ancestor_cgroup_id(level) == ancestor;
}

/*
 * A workload's identity sticks to its tasks: the workload a task was born
 * or exec'd in stays its workload for rules when it moves out of that
 * workload's cgroup subtree (PF_MOVED), so writing its pid into the root's
 * or another workload's cgroup.procs sheds nothing. A move deeper into its
 * own subtree (a nested workload) is no move. The origin is recorded the
 * first time the kernel sees the task in a workload (or at fork, copied
 * from the parent; user space seeds tasks older than the agent).
 */
static __always_inline void task_origin(struct vigil_config *cfg, __u64 cgid, struct who *who)
{
	struct task_struct *task;
	struct task_state *ts;

	if (!cfg->origin_active)
		return;
	task = bpf_get_current_task_btf();
	ts = bpf_task_storage_get(&tasks, task, 0, 0);
	if (ts && (ts->flags & TS_ORIGIN)) {
		who->pflags |= PF_ORIGIN;
		if (ts->origin_workload && !below(cgid, ts->origin_cgid, ts->origin_level)) {
			who->workload = ts->origin_workload;
			who->pflags |= PF_MOVED;
		}
		return;
	}
	if (!who->workload || !who->hit)
		return;
	ts = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts)
		return;
	ts->origin_cgid = who->hit;
	ts->origin_workload = who->workload;
	/* the level of the mapped cgroup: the ancestor walk found it, or it is the task's own */
	ts->origin_level = who->hit == cgid ? task->cgroups->dfl_cgrp->level : who->level;
	ts->flags |= TS_ORIGIN;
	who->pflags |= PF_ORIGIN;
}

/*
 * Should an event of this kind, from the current task, be reported?
 * Returns 0 (no) or the header flags it starts with: EVF_IN_SCOPE when the
 * task's cgroup is monitored (or the task left a monitored workload). Scoped
 * kinds are dropped out of scope; the process life cycle is reported
 * everywhere (the agent's process cache needs it) and user space filters it
 * by the flag. *who is the task's workload and flags whenever the result is
 * non-zero. Cheap checks first: the kind mask, then the agent itself, then
 * the cgroup.
 */
static __always_inline __u32 wanted(struct vigil_config *cfg, __u32 kind, __u32 tgid, __u64 cgid,
				    struct who *who)
{
	__u32 bit = 1U << kind;
	int in_map;

	who->workload = 0;
	who->pflags = 0;
	if (!cfg || !(cfg->kinds & bit))
		return 0;
	if (tgid == cfg->self_tgid)
		return 0;
	in_map = cgroup_lookup(cfg, cgid, who);
	task_origin(cfg, cgid, who);
	if (!cfg->scope_active || in_map || (who->pflags & PF_MOVED))
		return EVF_IN_SCOPE | 0x100;   /* 0x100: non-zero even without flags */
	if (cfg->scoped_kinds & bit)
		return 0;
	return 0x100;
}

/*
 * Past the fill threshold the reader is woken; below it, it polls on a
 * timer. Kinds that user space must act on at once always wake it.
 */
static __always_inline __u64 wakeup_flag_at(struct vigil_config *cfg, __u32 kind, __u64 avail)
{
	if (cfg->urgent_kinds & (1U << kind))
		return BPF_RB_FORCE_WAKEUP;
	if (avail >= cfg->wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline __u64 wakeup_flag(struct vigil_config *cfg, __u32 kind)
{
	return wakeup_flag_at(cfg, kind, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA));
}

/* prio is set where the record is written (reserve_record, emit) */
static __always_inline void fill_hdr(struct event_hdr *hdr, __u32 kind, __u32 size, __u32 flags)
{
	hdr->kind = kind;
	hdr->flags = flags;
	hdr->prio = PRIO_REPORT;
	hdr->pad = 0;
	hdr->size = size;
	hdr->ktime_ns = bpf_ktime_get_boot_ns();
}

/*
 * bpf_get_current_cgroup_id() and bpf_get_current_pid_tgid() as plain loads
 * from a BTF task pointer: the same fields, without two helper calls on the
 * hottest path.
 */
static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	return task->cgroups->dfl_cgrp->kn->id;
}

static __always_inline __u64 task_pid_tgid(struct task_struct *task)
{
	return ((__u64)task->tgid << 32) | (__u32)task->pid;
}

/* The current task's identity, through helpers (programs without task BTF). */
static __always_inline void fill_proc(struct proc_ctx *p, __u64 pid_tgid, __u64 cgid, __u32 workload,
				      __u32 pflags)
{
	__u64 ugid = bpf_get_current_uid_gid();

	p->pid = pid_tgid >> 32;
	p->tid = (__u32)pid_tgid;
	p->uid = (__u32)ugid;
	p->gid = ugid >> 32;
	p->cgroup_id = cgid;
	bpf_get_current_comm(p->comm, sizeof(p->comm));
	p->workload = workload;
	/* cgroup programs may call bpf_get_current_task_btf() too (a base helper for CAP_PERFMON, kernel 6.x) */
	p->pflags = pflags | (bpf_get_current_task_btf()->signal->tty ? PF_TTY : 0);
}

/*
 * The same from a BTF task pointer (tp_btf programs): plain loads instead
 * of two helper calls, which is most of the fixed cost of a record.
 */
static __always_inline void fill_proc_btf(struct proc_ctx *p, struct task_struct *task,
					  __u64 pid_tgid, __u64 cgid, __u32 workload, __u32 pflags)
{
	const struct cred *cred = task->cred;

	p->pid = pid_tgid >> 32;
	p->tid = (__u32)pid_tgid;
	p->uid = cred->uid.val;
	p->gid = cred->gid.val;
	p->cgroup_id = cgid;
	*(__u64 *)&p->comm[0] = *(__u64 *)&task->comm[0];
	*(__u64 *)&p->comm[8] = *(__u64 *)&task->comm[8];
	p->workload = workload;
	p->pflags = pflags | (task->signal->tty ? PF_TTY : 0);
}

/*
 * Reserve a fixed-size record in the ring buffer and fill its header and
 * task part (from the BTF task, or through helpers when task is NULL).
 * NULL, counted as dropped, when the ring is full.
 */
/*
 * How much a record matters (event_hdr.prio): a user-space kill rule must
 * judge it (in scope, a kind such a rule is on); the process life cycle,
 * which every judgement reads; or report only, which a flood may shed.
 */
static __always_inline __u32 record_prio(struct vigil_config *cfg, __u32 kind, __u32 flags)
{
	if (cfg && (cfg->urgent_kinds & (1U << kind)) && (flags & EVF_IN_SCOPE))
		return PRIO_URGENT;
	if (kind == EV_EXEC || kind == EV_FORK || kind == EV_EXIT || kind == EV_CGROUP || kind == EV_MIGRATE)
		return PRIO_CONTEXT;
	return PRIO_REPORT;
}

/* A report-only record, with the ring three quarters full: shed, to keep room for the rest. */
static __always_inline int shed_at(__u32 prio, __u64 avail)
{
	return prio == PRIO_REPORT && avail > bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4 * 3;
}

static __always_inline int shed(__u32 prio)
{
	return prio == PRIO_REPORT && shed_at(prio, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA));
}

static __always_inline void *reserve_record(struct kind_counters *c, __u32 kind, __u32 size,
					    __u32 flags, struct task_struct *task, __u64 pid_tgid,
					    __u64 cgid, __u32 workload, __u32 pflags)
{
	__u32 prio = record_prio(get_config(), kind, flags);
	struct event_hdr *hdr = shed(prio) ? NULL : bpf_ringbuf_reserve(&events, size, 0);

	if (!hdr) {
		__sync_fetch_and_add(&c->dropped, 1);
		if (prio == PRIO_URGENT)
			__sync_fetch_and_add(&c->lost, 1);
		return NULL;
	}
	fill_hdr(hdr, kind, size, flags);
	hdr->prio = prio;
	if (task)
		fill_proc_btf((struct proc_ctx *)(hdr + 1), task, pid_tgid, cgid, workload, pflags);
	else
		fill_proc((struct proc_ctx *)(hdr + 1), pid_tgid, cgid, workload, pflags);
	return hdr;
}

static __always_inline void submit_record(struct vigil_config *cfg, struct kind_counters *c, void *rec)
{
	bpf_ringbuf_submit(rec, wakeup_flag(cfg, ((struct event_hdr *)rec)->kind));
	__sync_fetch_and_add(&c->emitted, 1);
}

/*
 * Copy a finished record from scratch into the ring buffer and count it.
 * Callers hold a scratch slot (scratch_get) for this kind on this CPU, so no
 * other program writes these per-CPU counters meanwhile: plain increments.
 */
static __always_inline void emit(struct vigil_config *cfg, struct kind_counters *c,
				 void *rec, __u32 size)
{
	struct event_hdr *hdr = rec;
	__u32 prio = record_prio(cfg, hdr->kind, hdr->flags);
	/* one look at the ring for both questions: shed this record, and wake the reader */
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	if (size > VIGIL_RECORD_MAX)
		size = VIGIL_RECORD_MAX;
	hdr->prio = prio;
	if (!shed_at(prio, avail) &&
	    bpf_ringbuf_output(&events, rec, size, wakeup_flag_at(cfg, hdr->kind, avail)) == 0) {
		c->emitted++;
		return;
	}
	c->dropped++;
	if (prio == PRIO_URGENT)
		c->lost++;
}

/* Claim a scratch slot; on contention, count the event as lost and skip it. */
static __always_inline struct scratch *scratch_get(__u32 slot, struct kind_counters *c)
{
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &slot);

	if (!s)
		return NULL;
	if (__sync_lock_test_and_set(&s->busy, 1)) {
		__sync_fetch_and_add(&c->busy, 1);
		return NULL;
	}
	return s;
}

static __always_inline void scratch_put(struct scratch *s)
{
	/* plain store: clang 14 cannot emit a BPF store-release */
	asm volatile("" ::: "memory");
	*(volatile __u32 *)&s->busy = 0;
}

#endif /* VIGIL_LIB_COMMON_H */
