/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Rules the kernel checks itself: which events are wanted at all, which
 * processes die (SIGKILL), which connects are refused. User space compiles
 * the rules into these maps (agent/rules/kernel-plan.ts); every entry
 * carries the generation it belongs to, and user space flips
 * settings.rules_gen once a new generation is complete, so a reload is
 * atomic for the kernel.
 */
#ifndef VIGIL_LIB_RULES_H
#define VIGIL_LIB_RULES_H

#include "common.h"
#include "overlay.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rule_key);
	__type(value, struct rule_val);
} rules VIGIL_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct net_rule_key);
	__type(value, struct net_rule);
} net_rules VIGIL_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct net_prefix_key);
	__type(value, __u8);
} net_prefixes VIGIL_MAP;

/* Rules by file identity: (workload, kind, device, inode) -> the same value as a path entry. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct file_key);
	__type(value, struct rule_val);
} file_rules VIGIL_MAP;

/* The binaries kill rules' conditions name, by path hash and by identity. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bin_key);
	__type(value, __u8);
} bin_sets VIGIL_MAP;

/* Kill rules with conditions, per workload, kind and slot (rule_val.slots). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct cond_key);
	__type(value, struct rule_cond);
} rule_conds VIGIL_MAP;

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

/* What a path lookup found. */
struct rule_hit {
	__u32 actions;         /* enum rule_action, OR of every entry that applies */
	__u32 kill_rule;
	__u32 dirty;           /* the path has "//", "/." or a trailing "/": lookups may miss */
	__u32 slots;           /* conditional kill rules whose key matched (rule_val.slots) */
};

/* 1 << (8 * n) - 1 for n bytes, n in 1..8 */
static __always_inline __u64 low_bytes(__u32 n)
{
	return n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
}

/*
 * Not an open's access bit: the operation is judged as a write only by the
 * rules that name write, create or trunc (a rule for any access, without
 * `flags`, is about reading too, and does not kill what is not an open).
 */
#define ACC_NAMED (1 << 7)

static __always_inline void rule_apply(struct rule_hit *hit, struct rule_val *v, __u32 access)
{
	if (!v)
		return;
	hit->slots |= v->slots;
	if (v->actions & RA_REPORT)
		hit->actions |= RA_REPORT;
	if ((v->actions & RA_KILL) && (v->access ? (v->access & access) : !(access & ACC_NAMED)) &&
	    !(hit->actions & RA_KILL)) {
		hit->actions |= RA_KILL;
		hit->kill_rule = v->kill_rule;
	}
}

struct hash_ctx {
	struct scratch *s;
};

/*
 * One 8-byte word of the path: the running hash, and at every "/" in it a
 * lookup of the directory prefix that ends there (when some rule has a
 * prefix of that depth). bpf_loop() callback.
 */
static long hash_step(__u32 i, struct hash_ctx *ctx)
{
	struct scratch *s = ctx->s;
	struct hash_state *st;
	__u64 w, h;
	__u32 left, b;

	if (!s)
		return 1;
	st = &s->hash;
	if (i * 8 >= st->len)
		return 1;
	left = st->len - i * 8;
	/* the path lies in s->path (records built in front of it) or in s->rec (a second path ends past 2048) */
	if (st->in_path)
		w = *(__u64 *)&s->path[(st->off + i * 8) & (PATHBUF_SIZE - 1)];
	else
		w = *(__u64 *)&s->rec[(st->off + i * 8) & 4095];
	if (left < 8)
		w &= low_bytes(left);
	h = st->h;
	for (b = 0; b < 8; b++) {
		__u32 ch;

		if (b >= left)
			break;
		ch = (w >> (8 * b)) & 0xff;
		/* "//" and "/." make a lexical path differ from the file's real name */
		if ((ch == '/' || ch == '.') && st->prev == '/')
			st->dirty = 1;
		st->prev = ch;
		if (ch != '/')
			continue;
		if (st->depth < 16 && (st->depth_mask & (1U << st->depth))) {
			struct rule_key key = {
				.workload = st->workload,
				.kind = st->kind,
				.match = RM_PREFIX,
				.gen = st->gen,
				.hash = (h ^ (w & low_bytes(b + 1))) * FNV_PRIME,
			};
			struct rule_val *v = bpf_map_lookup_elem(&rules, &key);

			if (v) {
				struct rule_hit hit = { .actions = st->actions, .kill_rule = st->kill_rule, .slots = st->slots };

				rule_apply(&hit, v, st->access);
				st->actions = hit.actions;
				st->kill_rule = hit.kill_rule;
				st->slots = hit.slots;
			}
		}
		st->depth++;
	}
	st->h = (h ^ w) * FNV_PRIME;
	return 0;
}

/*
 * Look a path up in `rules`: exact and every directory prefix. The path is
 * len bytes at s->path[off] (in_path) or s->rec[off].
 */
static __always_inline struct rule_hit rules_for_path(struct vigil_config *cfg, struct scratch *s,
						      __u32 kind, __u32 workload, __u32 in_path,
						      __u32 off, __u32 len, __u32 access)
{
	struct hash_ctx ctx = { .s = s };
	struct hash_state *st = &s->hash;
	struct rule_hit hit = {};
	struct rule_key key = {
		.workload = workload,
		.kind = kind,
		.match = RM_EXACT,
		.gen = cfg->rules_gen,
	};

	if (len == 0)
		return hit;
	st->h = FNV_OFFSET;
	st->in_path = in_path;
	st->off = off;
	st->len = len;
	st->depth = 0;
	st->depth_mask = kind < 32 ? cfg->prefix_depths[kind & 31] : 0;
	st->workload = workload;
	st->kind = kind;
	st->gen = cfg->rules_gen;
	st->access = access;
	st->actions = hit.actions;
	st->kill_rule = hit.kill_rule;
	st->slots = 0;
	st->prev = 0;
	st->dirty = 0;
	bpf_loop(VIGIL_PATH_MAX / 8 + 1, hash_step, &ctx, 0);
	hit.actions = st->actions;
	hit.kill_rule = st->kill_rule;
	hit.slots = st->slots;
	key.hash = st->h;
	rule_apply(&hit, bpf_map_lookup_elem(&rules, &key), access);
	if (st->prev == '/' && len > 1)
		st->dirty = 1;
	hit.dirty = st->dirty;
	return hit;
}

/* Kind-wide entry only (kinds without a path, rules without one), for an access (open). */
static __always_inline struct rule_hit rules_for_kind_access(struct vigil_config *cfg, __u32 kind,
							     __u32 workload, __u32 access)
{
	struct rule_hit hit = {};
	struct rule_key key = {
		.workload = workload,
		.kind = kind,
		.match = RM_ANY,
		.gen = cfg->rules_gen,
	};

	rule_apply(&hit, bpf_map_lookup_elem(&rules, &key), access);
	return hit;
}

static __always_inline struct rule_hit rules_for_kind(struct vigil_config *cfg, __u32 kind, __u32 workload)
{
	return rules_for_kind_access(cfg, kind, workload, 0);
}

/* A file-identity lookup (file_rules), merged into hit like a path entry. */
static __always_inline void rules_for_file(struct vigil_config *cfg, __u32 kind, __u32 workload,
					   __u32 dev, __u64 ino, __u32 access, struct rule_hit *hit)
{
	struct file_key key = {
		.workload = workload,
		.kind = kind,
		.match = RM_EXACT,
		.gen = cfg->rules_gen,
		.dev = dev,
		.ino = ino,
	};

	if (!ino)
		return;
	rule_apply(hit, bpf_map_lookup_elem(&file_rules, &key), access);
}

/* struct inode's link count (i_nlink is a const alias of __i_nlink) */
static __always_inline __u32 inode_nlink(struct inode *ino)
{
	return BPF_CORE_READ(ino, __i_nlink);
}

/*
 * The binary of the current task, by identity (mm->exe_file: what it runs
 * whatever name it was started by) and, when its exec was seen, by the hash
 * of the path it was exec'd by (task storage).
 */
static __always_inline void facts_self(struct bin_facts *f)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_state *ts;
	struct file *exe;

	if (f->have & FACT_SELF)
		return;
	f->have |= FACT_SELF;
	f->self_dev = 0;
	f->self_ino = 0;
	f->self_flags = 0;
	exe = task->mm ? task->mm->exe_file : NULL;
	if (exe) {
		struct inode *ino = exe->f_inode;

		f->self_dev = ino->i_sb->s_dev;
		f->self_ino = ino->i_ino;
		if (inode_nlink(ino) == 0)
			f->self_flags |= EXE_FILELESS;
		if (ovl_upper_data(ino))
			f->self_flags |= EXE_UPPER;
	}
	ts = bpf_task_storage_get(&tasks, task, 0, 0);
	if (ts && (ts->flags & TS_EXE_HASH)) {
		f->self_hash = ts->exe_hash;
		f->have |= FACT_SELF_HASH;
	}
}

/* The same for the current task's parent (real_parent: the process that forked it). */
static __always_inline void facts_parent(struct bin_facts *f)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct *parent;
	struct task_state *ts;
	struct file *exe;

	if (f->have & FACT_PARENT)
		return;
	f->have |= FACT_PARENT;
	f->parent_dev = 0;
	f->parent_ino = 0;
	parent = task->real_parent;
	if (!parent)
		return;
	exe = parent->mm ? parent->mm->exe_file : NULL;
	if (exe) {
		struct inode *ino = exe->f_inode;

		f->parent_dev = ino->i_sb->s_dev;
		f->parent_ino = ino->i_ino;
	}
	ts = bpf_task_storage_get(&tasks, parent, 0, 0);
	if (ts && (ts->flags & TS_EXE_HASH)) {
		f->parent_hash = ts->exe_hash;
		f->have |= FACT_PARENT_HASH;
	}
}

/* Does one condition of a kill rule hold? (in the set ^ negate; no test holds) */
static __always_inline __u32 bin_test_holds(struct scratch *s, struct bin_test *t)
{
	struct bin_facts *f = &s->facts;
	struct bin_key k = { .set = t->set, .gen = s->cond.gen };
	__u32 who = t->who, in = 0, parent = who == WHO_PARENT;
	__u32 hash_ok = f->have & (parent ? FACT_PARENT_HASH : FACT_SELF_HASH);
	__u64 ino = parent ? f->parent_ino : f->self_ino;

	if (who == WHO_NONE)
		return 1;
	if (who == WHO_FILELESS)
		return ((f->self_flags & EXE_FILELESS) != 0) ^ (t->negate ? 1 : 0);
	if (who == WHO_UPPER)
		return ((f->self_flags & EXE_UPPER) != 0) ^ (t->negate ? 1 : 0);
	if (hash_ok) {
		k.type = BIN_HASH;
		k.val = parent ? f->parent_hash : f->self_hash;
		in = bpf_map_lookup_elem(&bin_sets, &k) != NULL;
	}
	if (!in && ino) {
		k.type = BIN_ID;
		k.dev = parent ? f->parent_dev : f->self_dev;
		k.val = ino;
		in = bpf_map_lookup_elem(&bin_sets, &k) != NULL;
	}
	return in ^ (t->negate ? 1 : 0);
}

#define COND_STEPS   (COND_TESTS + COND_EXCEPTIONS * COND_TESTS)
#define CS_ACTIVE    (1 << 0)
#define CS_FAILED    (1 << 1)   /* a match test does not hold */
#define CS_EXEMPT    (1 << 2)   /* an exception holds */
#define CS_PAIR_OK   (1 << 3)   /* the first test of the current exception holds */
#define CS_PAIR_NONE (1 << 4)   /* the current exception is absent */

/*
 * One test of one conditional kill rule: step i is test i % COND_STEPS
 * (two match tests, then the exceptions' pairs) of slot i / COND_STEPS.
 * bpf_loop() callback; the state is in s->cond, the facts in s->facts.
 */
static long cond_step(__u32 i, struct hash_ctx *ctx)
{
	struct scratch *s = ctx->s;
	struct cond_state *cs;
	struct bin_test *t;
	__u32 slot, j, holds, st;

	if (!s)
		return 1;
	cs = &s->cond;
	slot = i / COND_STEPS;
	j = i % COND_STEPS;
	if (slot >= COND_SLOTS)
		return 1;
	if (j == 0) {
		struct cond_key k = { .workload = cs->workload, .kind = cs->kind, .slot = slot, .gen = cs->gen };
		struct rule_cond *rc;

		cs->state = 0;
		if (!(cs->slots & (1U << slot)))
			return 0;
		rc = bpf_map_lookup_elem(&rule_conds, &k);
		if (!rc || (rc->access && !(rc->access & cs->access)))
			return 0;
		__builtin_memcpy(&cs->cond, rc, sizeof(*rc));
		cs->state = CS_ACTIVE;
	}
	st = cs->state;
	if ((st & (CS_ACTIVE | CS_FAILED | CS_EXEMPT)) != CS_ACTIVE)
		return 0;
	/* the verifier cannot bound i % COND_STEPS: mask it where the compiler cannot see it is a no-op */
	barrier_var(j);
	if (j >= COND_STEPS)
		return 1;
	t = &cs->cond.match[0] + (j & 15);
	/* one evaluation per step, then bookkeeping: match tests, then each exception's pair */
	holds = bin_test_holds(s, t);
	if (j < COND_TESTS) {
		if (!holds)
			st |= CS_FAILED;
	} else if (((j - COND_TESTS) & 1) == 0) {
		/* the first test of an exception: absent (no test) means no exception */
		st &= ~(CS_PAIR_OK | CS_PAIR_NONE);
		if (t->who == WHO_NONE)
			st |= CS_PAIR_NONE;
		else if (holds)
			st |= CS_PAIR_OK;
	} else if ((st & (CS_PAIR_NONE | CS_PAIR_OK)) == CS_PAIR_OK && holds) {
		st |= CS_EXEMPT;
	}
	cs->state = st;
	if (j == COND_STEPS - 1 && !(st & (CS_FAILED | CS_EXEMPT))) {
		cs->rule = cs->cond.rule;
		return 1;
	}
	return 0;
}

/*
 * The conditional kill rules whose key matched (s->cond.slots, with kind,
 * workload and access set by the caller): the first whose tests hold and
 * none of whose exceptions do. Returns its id, 0 = none. The binaries'
 * facts are read here, once (self is already there for an exec). A global
 * function (weak: every object that includes this file has the same one):
 * verified once per program, not once per place a path is judged.
 */
__weak __noinline __u32 cond_run(struct vigil_config *cfg, struct scratch *s)
{
	struct hash_ctx ctx = { .s = s };
	struct cond_state *cs;

	if (!cfg || !s)
		return 0;
	cs = &s->cond;
	facts_self(&s->facts);
	facts_parent(&s->facts);
	cs->gen = cfg->rules_gen;
	cs->state = 0;
	cs->rule = 0;
	bpf_loop(COND_SLOTS * COND_STEPS, cond_step, &ctx, 0);
	return cs->rule;
}

static __always_inline __u32 cond_kill(struct vigil_config *cfg, struct scratch *s, __u32 kind,
				       __u32 workload, __u32 slots, __u32 access)
{
	s->cond.slots = slots;
	s->cond.workload = workload;
	s->cond.kind = kind;
	s->cond.access = access;
	return cond_run(cfg, s);
}

/*
 * SIGKILL the current process. bpf_send_signal() marks it; the process
 * dies on its way back to user space, before running one more instruction.
 * Returns the header flags that say what happened.
 */
static __always_inline __u32 kill_current(struct kind_counters *c)
{
	if (bpf_send_signal(9) == 0) {
		__sync_fetch_and_add(&c->enforced, 1);
		return EVF_ENFORCED;
	}
	return EVF_ENFORCE_FAILED;
}

/* The kernel's verdict on a kind without a path: SIGKILL under a kill rule. */
static __always_inline __u32 kind_verdict(struct vigil_config *cfg, struct kind_counters *c, __u32 kind,
					  struct who *who, __u32 *rule)
{
	*rule = 0;
	if (cfg->kill_kinds & (1U << kind)) {
		struct rule_hit hit = rules_for_kind(cfg, kind, who->workload);

		if (hit.actions & RA_KILL) {
			*rule = hit.kill_rule;
			return kill_current(c);
		}
	}
	return 0;
}

/* open(2) flags to the access bits rules speak of */
static __always_inline __u32 open_access(__u32 flags)
{
	__u32 acc = flags & 3, out = 0;

	if (acc == 0 || acc == 2)
		out |= ACC_READ;
	if (acc == 1 || acc == 2)
		out |= ACC_WRITE;
	if (flags & 0100)
		out |= ACC_CREATE;
	if (flags & 01000)
		out |= ACC_TRUNC;
	return out;
}

static __always_inline int net_prefix_hit(__u32 workload, __u8 slot, __u8 gen, __u8 polarity,
					  __u8 family, const __u8 *addr)
{
	struct net_prefix_key k = {
		.prefixlen = 64 + (family == 4 ? 32 : 128),
		.workload = workload,
		.slot = slot,
		.gen = gen,
		.polarity = polarity,
		.family = family,
	};

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&net_prefixes, &k) != NULL;
}

/*
 * Is this destination refused for this workload? Every rule of the
 * workload is tried (up to NET_SLOTS): the destination must be in its
 * positive prefixes (if it has any), in none of its negative ones, and
 * its port among the rule's ports (if it lists any). Returns the rule id.
 */
static __always_inline __u32 net_denied(struct vigil_config *cfg, __u32 workload, __u8 family,
					const __u8 *addr, __u16 dport)
{
	__u8 gen = cfg->rules_gen;

	for (__u32 slot = 0; slot < NET_SLOTS; slot++) {
		struct net_rule_key k = { .workload = workload, .slot = slot, .gen = gen };
		struct net_rule *r = bpf_map_lookup_elem(&net_rules, &k);
		int port_ok;

		if (!r)
			break;
		if (r->has_pos && !net_prefix_hit(workload, slot, gen, 1, family, addr))
			continue;
		if (r->has_neg && net_prefix_hit(workload, slot, gen, 2, family, addr))
			continue;
		port_ok = r->nports == 0;
		for (__u32 i = 0; i < NET_PORTS; i++) {
			if (i >= r->nports)
				break;
			if (r->ports[i] == dport)
				port_ok = 1;
		}
		if (port_ok)
			return r->rule;
	}
	return 0;
}

/*
 * Does this workload have connect refusals? Then raw inet and packet sockets,
 * which send below every cgroup/connect and sendmsg hook, are refused too.
 */
static __always_inline int net_guarded(struct vigil_config *cfg, __u32 workload)
{
	struct net_rule_key k = { .workload = workload, .slot = 0, .gen = cfg->rules_gen };

	return cfg->net_active && bpf_map_lookup_elem(&net_rules, &k) != NULL;
}

/* What path_judge() and create_judge() say; the caller acts on the strongest. */
#define VERDICT_DROP 0
#define VERDICT_KEEP 0x100     /* report it: some rule wants it, or user space must decide */
#define VERDICT_KILL 0x200     /* report it and SIGKILL the process (*rule says why) */

/*
 * The protected directories a walk met (s->path_ids[slot], lib/path.h), by
 * identity: any of them a rule of this kind and workload names applies as
 * its path prefix would, whatever the path says (a chroot, a bind mount, a
 * detached clone, a path cut before the directory).
 */
static __always_inline void rules_for_ids(struct vigil_config *cfg, struct scratch *s, __u32 kind,
					  __u32 workload, __u32 access, struct rule_hit *hit)
{
	struct id_hits *h = &s->path_ids[(s->hash.ids - 1) & 1];
	__u32 n = h->n;

	s->hash.id_hit = 0;
	for (__u32 k = 0; k < IDS_MAX; k++) {
		struct file_key key = {
			.workload = workload,
			.kind = kind,
			.match = RM_PREFIX,
			.gen = cfg->rules_gen,
			.dev = h->dev[k],
			.ino = h->ino[k],
		};
		struct rule_val *v;

		if (k >= n)
			break;
		v = bpf_map_lookup_elem(&file_rules, &key);
		if (!v)
			continue;
		rule_apply(hit, v, access);
		if (!s->hash.id_hit)
			s->hash.id_hit = k + 1;
	}
}

/* path_judge()'s `lexical` argument may carry this: the path was cut (too long, too deep) */
#define JUDGE_CUT (1U << 16)

/*
 * The kernel's opinion on one path of an event; nothing is done yet. A
 * lexical path with "//", "/." or a trailing "/" is never dropped nor
 * killed by path here: it may name a file a rule watches, so user space
 * cleans it up and decides. Nor is a path that was cut (JUDGE_CUT): what
 * was cut off is the top, the directories rules name, so no lookup can say
 * it is not wanted.
 */
static __always_inline __u32 path_judge(struct vigil_config *cfg, struct scratch *s, __u32 kind,
					__u32 workload, __u32 in_path, __u32 off, __u32 len, __u32 access,
					__u32 lexical, __u32 *rule)
{
	__u32 bit = 1U << kind;
	struct rule_hit hit = {}, any = {};

	*rule = 0;
	/* an exec's own binary is already in the facts (the file executed); any other kind looks at current */
	if (kind != EV_EXEC)
		s->facts.have = 0;
	/* whole-kind entries exist only for kill rules without paths (their slots: conditional ones) */
	if (cfg->kill_kinds & bit) {
		any = rules_for_kind_access(cfg, kind, workload, access);
		if (any.actions & RA_KILL) {
			*rule = any.kill_rule;
			return VERDICT_KILL;
		}
	}
	if (cfg->path_kinds & bit) {
		hit = rules_for_path(cfg, s, kind, workload, in_path, off, len, access);
		if (kind == EV_EXEC && len) {
			s->facts.self_hash = s->hash.h;
			s->facts.have |= FACT_SELF_HASH;
		}
		if ((lexical & ~JUDGE_CUT) && hit.dirty)
			return VERDICT_KEEP;
		/* after the "//" and "/." test: a ".." in a name can lead out of the directory its walk met */
		if (cfg->dir_active && s->hash.ids)
			rules_for_ids(cfg, s, kind, workload, access, &hit);
	}
	/* the binary by identity: any name for the same file (hard link, chroot, bind mount, detached mount) */
	if (kind == EV_EXEC && (cfg->id_kinds & bit))
		rules_for_file(cfg, kind, workload, s->facts.self_dev, s->facts.self_ino, access, &hit);
	if (hit.actions & RA_KILL) {
		*rule = hit.kill_rule;
		return VERDICT_KILL;
	}
	hit.slots |= any.slots;
	if (hit.slots) {
		__u32 r = cond_kill(cfg, s, kind, workload, hit.slots, access);

		if (r) {
			*rule = r;
			return VERDICT_KILL;
		}
	}
	if ((cfg->path_filter_kinds & bit) && !(hit.actions & RA_REPORT) && !(lexical & JUDGE_CUT))
		return VERDICT_DROP;
	return VERDICT_KEEP;
}

/*
 * Putting a file in place under a name (link, symlink, rename, both names
 * of an exchange) is creating that name: the open rules that name write,
 * create or trunc access judge it, by the same map entries as an open.
 */
static __always_inline __u32 create_judge(struct vigil_config *cfg, struct scratch *s, __u32 workload,
					  __u32 off, __u32 len, __u32 lexical, __u32 *rule)
{
	*rule = 0;
	if (!cfg->create_active)
		return VERDICT_DROP;
	return path_judge(cfg, s, EV_OPEN, workload, 0, off, len,
			  ACC_WRITE | ACC_CREATE | ACC_TRUNC | ACC_NAMED, lexical, rule);
}

/* The stronger of two verdicts; the first kill's rule is kept. */
static __always_inline __u32 verdict_merge(__u32 v, __u32 *rule, __u32 w, __u32 wrule)
{
	if (w == VERDICT_KILL && v != VERDICT_KILL) {
		*rule = wrule;
		return w;
	}
	return w > v ? w : v;
}

/*
 * Act on a verdict: 0 = drop the event, else 0x100 | header flags
 * (EVF_ENFORCED when the process was killed).
 */
static __always_inline __u32 verdict_act(struct kind_counters *c, __u32 v)
{
	if (v == VERDICT_DROP)
		return 0;
	if (v == VERDICT_KILL)
		return 0x100 | kill_current(c);
	return 0x100;
}

/*
 * The kernel's verdict on an event with one path: 0 = no rule wants it
 * (drop it), else 0x100 | header flags (EVF_ENFORCED when the process was
 * killed). *rule is the rule enforced.
 */
static __always_inline __u32 path_verdict(struct vigil_config *cfg, struct kind_counters *c,
					  struct scratch *s, __u32 kind, __u32 workload, __u32 in_path,
					  __u32 off, __u32 len, __u32 access, __u32 lexical, __u32 *rule)
{
	s->hash.ids = 0;
	return verdict_act(c, path_judge(cfg, s, kind, workload, in_path, off, len, access, lexical, rule));
}

#endif /* VIGIL_LIB_RULES_H */
