// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/* Process life cycle: exec, fork, exit, and cgroup creation (filter inheritance). */
#include "lib/common.h"
#include "lib/path.h"
#include "lib/rules.h"
#include "lib/exec.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * sched_process_exec fires after the point of no return, with the new image
 * mapped and bprm->file the file really executed (the interpreter, for a
 * script): the path is that file's, not the name passed to execve(), so a
 * symlink or a relative name cannot disguise what runs; its (device, inode)
 * is the file whatever its name. current == p here.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(vigil_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct vigil_config *cfg = get_config();
	/* p is current: plain loads, not two helper calls */
	__u64 pid_tgid = task_pid_tgid(p);
	__u64 cgid = task_cgroup_id(p);
	struct kind_counters *c;
	struct exe_file x;
	struct scratch *s;
	struct who who;
	__u32 scope = wanted(cfg, EV_EXEC, pid_tgid >> 32, cgid, &who);

	if (!scope)
		return 0;
	c = get_counters(EV_EXEC);
	if (!c)
		return 0;
	s = scratch_get(SCRATCH_PROCESS, c);
	if (!s)
		return 0;
	exe_file_btf(bprm->file, &x);
	exec_record(cfg, c, s, p, &x, pid_tgid, cgid, scope, &who, 0, bprm->argc, 1);
	scratch_put(s);
	return 0;
}

/*
 * A program without an interpreter (TS_LOADER: the dynamic loader run as a
 * program, or a static binary) maps a file executable for the first time:
 * `ld-linux-x86-64.so.2 /usr/bin/dash` maps dash's text this way, and dash
 * then runs under the loader's name. Judged as an exec of that file (an
 * exec record with EXE_LOADED); a kill here is acted on before the mmap
 * returns, so not one instruction of the program runs. The syscall
 * tracepoint of mmap alone: no cost for any other call, and most mmaps
 * (anonymous, not executable) stop at the first test. ia32 mmap2 has no
 * such tracepoint (a 32-bit loader run as a program is not seen).
 */
SEC("tp/syscalls/sys_enter_mmap")
int vigil_loader(struct trace_event_raw_sys_enter *ctx)
{
	__u64 prot = ctx->args[2];
	__s32 fd = (__s32)ctx->args[4];
	struct task_struct *task;
	struct vigil_config *cfg;
	struct kind_counters *c;
	struct task_state *ts;
	struct exe_file x;
	struct scratch *s;
	struct file *f;
	__u64 pid_tgid, cgid;
	__u32 scope;
	struct who who;

	if (!(prot & PROT_EXEC) || fd < 0)
		return 0;
	cfg = get_config();
	if (!cfg || !cfg->loader_active)
		return 0;
	task = bpf_get_current_task_btf();
	ts = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!ts || !(ts->flags & TS_LOADER))
		return 0;
	ts->flags &= ~TS_LOADER;
	f = task_fd_file(task, fd);
	if (!f)
		return 0;
	pid_tgid = task_pid_tgid(task);
	cgid = task_cgroup_id(task);
	scope = wanted(cfg, EV_EXEC, pid_tgid >> 32, cgid, &who);
	if (!scope)
		return 0;
	c = get_counters(EV_EXEC);
	if (!c)
		return 0;
	s = scratch_get(SCRATCH_LOADER, c);
	if (!s)
		return 0;
	exe_file_core(f, &x);
	exec_record(cfg, c, s, task, &x, pid_tgid, cgid, scope, &who, EXE_LOADED, 0, 0);
	scratch_put(s);
	return 0;
}

/* sched_process_fork runs in the parent after the child is fully set up. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(vigil_fork, struct task_struct *parent, struct task_struct *child)
{
	struct vigil_config *cfg = get_config();
	/* the parent is current */
	__u64 pid_tgid = task_pid_tgid(parent);
	__u64 cgid = task_cgroup_id(parent);
	struct kind_counters *c;
	struct fork_event *e;
	struct task_state *ts;
	__u32 child_pid = child->pid;
	__u32 scope;
	struct who who;

	/* the child, thread or process, is born where its parent's identity is, running its binary */
	if (cfg && (cfg->origin_active || cfg->exe_state)) {
		ts = bpf_task_storage_get(&tasks, parent, 0, 0);
		if (ts && ts->flags)
			bpf_task_storage_get(&tasks, child, ts, BPF_LOCAL_STORAGE_GET_F_CREATE);
	}
	/* a new thread is not a new process */
	if (child_pid != child->tgid)
		return 0;
	scope = wanted(cfg, EV_FORK, pid_tgid >> 32, cgid, &who);
	if (!scope)
		return 0;
	c = get_counters(EV_FORK);
	if (!c)
		return 0;
	e = reserve_record(c, EV_FORK, sizeof(*e), scope & 0xff, parent, pid_tgid, cgid, who.workload, who.pflags);
	if (!e)
		return 0;
	e->child_pid = child_pid;
	e->pad = 0;
	e->child_start_ns = child->start_boottime;
	submit_record(cfg, c, e);
	return 0;
}

/*
 * sched_process_exit fires for every thread; signal->live has already been
 * decremented, so 0 means this is the last thread and the process is gone.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(vigil_exit, struct task_struct *p)
{
	struct vigil_config *cfg = get_config();
	__u64 pid_tgid, cgid;
	struct kind_counters *c;
	struct exit_event *e;
	__u32 scope;
	struct who who;

	if (p->signal->live.counter != 0)
		return 0;
	/* p is current */
	pid_tgid = task_pid_tgid(p);
	cgid = task_cgroup_id(p);
	scope = wanted(cfg, EV_EXIT, pid_tgid >> 32, cgid, &who);
	if (!scope)
		return 0;
	c = get_counters(EV_EXIT);
	if (!c)
		return 0;
	e = reserve_record(c, EV_EXIT, sizeof(*e), scope & 0xff, p, pid_tgid, cgid, who.workload, who.pflags);
	if (!e)
		return 0;
	e->status = p->exit_code;
	e->pad = 0;
	e->start_ns = p->start_boottime;
	submit_record(cfg, c, e);
	return 0;
}

/* Tell the agent of a cgroup made (op 0) or removed (op 1): its id, its parent's and its path. */
static __always_inline void cgroup_record(struct vigil_config *cfg, __u32 op, __u64 id, __u64 parent_id,
					  const char *path)
{
	struct kind_counters *c;
	struct cgroup_event *e;
	long n;

	if (!cfg || !(cfg->kinds & (1U << EV_CGROUP)))
		return;
	c = get_counters(EV_CGROUP);
	if (!c)
		return;
	e = reserve_record(c, EV_CGROUP, sizeof(*e) + VIGIL_CGROUP_PATH_MAX + 1, EVF_IN_SCOPE, NULL,
			   bpf_get_current_pid_tgid(), bpf_get_current_cgroup_id(), 0, 0);
	if (!e)
		return;
	e->id = id;
	e->parent_id = parent_id;
	n = bpf_probe_read_kernel_str((char *)(e + 1), VIGIL_CGROUP_PATH_MAX + 1, path);
	/* n counts the NUL; a path that filled the buffer may be cut: send none, the agent asks the kernel */
	e->path_len = n > 1 && n <= VIGIL_CGROUP_PATH_MAX ? n - 1 : 0;
	e->op = op;
	e->_pad[0] = e->_pad[1] = 0;
	submit_record(cfg, c, e);
}

/*
 * A new cgroup v2 directory: the agent may know an identity for its path
 * (a container, a pod). Until it maps it, and for good if it names nothing
 * new, the cgroup is in its nearest mapped ancestor's scope (cgroup_lookup):
 * nothing is copied into the map here, so a workload that creates cgroups
 * cannot fill it.
 */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(vigil_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	struct vigil_config *cfg = get_config();
	struct cgroup *parent;
	__u64 id, parent_id;

	/* hierarchy 0 is the cgroup v2 (default) hierarchy */
	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	parent = (struct cgroup *)BPF_CORE_READ(cgrp, self.parent);
	if (!parent)
		return 0;
	parent_id = BPF_CORE_READ(parent, kn, id);
	id = BPF_CORE_READ(cgrp, kn, id);
	/* tell the agent, which may know an identity for the new path */
	cgroup_record(cfg, 0, id, parent_id, path);
	return 0;
}

/*
 * A removed cgroup leaves the map: ids are never reused, entries would pile
 * up. The agent hears of it (op = 1) when it was mapped, to forget it too.
 */
SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(vigil_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	struct vigil_config *cfg = get_config();
	__u64 id;

	if (cgrp->root->hierarchy_id != 0)
		return 0;
	id = cgrp->kn->id;
	if (bpf_map_delete_elem(&cgroups, &id))
		return 0;
	cgroup_record(cfg, 1, id, cgrp->self.parent ? BPF_CORE_READ(cgrp, self.parent, cgroup, kn, id) : 0, path);
	return 0;
}

#ifndef bpf_ksym_exists
/* libbpf's, for older headers: is a __weak kfunc present in this kernel? */
#define bpf_ksym_exists(sym) ({ _Static_assert(!__builtin_constant_p(!!sym), #sym " should be __weak"); !!sym; })
#endif

/* bpf_send_signal_task (6.13+): a signal to a task other than current */
extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type, __u64 value) __ksym __weak;

/* struct cgroup before 6.1: ancestor ids instead of pointers */
struct cgroup___old {
	int level;
	__u64 ancestor_ids[];
} __attribute__((preserve_access_index));

/* The id of a cgroup's ancestor at `level` (the cgroup itself at its own level), 0 if it has none there. */
static __always_inline __u64 cgroup_ancestor_id(struct cgroup *cg, __u32 level)
{
	struct cgroup *a = NULL;
	__u64 id = 0;

	if (level > (__u32)BPF_CORE_READ(cg, level))
		return 0;
	if (bpf_core_field_exists(cg->ancestors)) {
		bpf_probe_read_kernel(&a, sizeof(a), &cg->ancestors[level & 255]);
		return a ? BPF_CORE_READ(a, kn, id) : 0;
	}
	bpf_probe_read_kernel(&id, sizeof(id), &((struct cgroup___old *)cg)->ancestor_ids[level & 255]);
	return id;
}

/* The scope of a cgroup that is not the current task's: its own entry, else its nearest mapped ancestor's. */
struct dst_scope {
	__u64 hit;
	__u32 workload;
	__u32 level;
};

static __always_inline int cgroup_scope_of(struct cgroup *cg, struct dst_scope *sc)
{
	__u64 id = BPF_CORE_READ(cg, kn, id);
	__u32 level = BPF_CORE_READ(cg, level);
	struct cgroup_info *info = bpf_map_lookup_elem(&cgroups, &id);

	if (info) {
		sc->hit = id;
		sc->workload = info->workload;
		sc->level = level;
		return 1;
	}
	for (__u32 lvl = 1; lvl < ANCESTOR_LEVELS_MAX; lvl++) {
		__u64 a;

		if (lvl >= level)
			break;
		a = cgroup_ancestor_id(cg, lvl);
		info = a ? bpf_map_lookup_elem(&cgroups, &a) : NULL;
		if (info) {
			sc->hit = a;
			sc->workload = info->workload;
			sc->level = lvl;
		}
	}
	return sc->hit != 0;
}

/*
 * A task with an origin workload is moved: when it leaves that workload's
 * cgroup subtree, it is an event of its own (the kernel goes on judging the
 * task as its origin workload: PF_MOVED). cgroup_attach_task fires after
 * the move, in the task that wrote cgroup.procs (or did clone3 into a
 * cgroup), once per task moved.
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(vigil_migrate, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
	struct vigil_config *cfg = get_config();
	struct kind_counters *c;
	struct migrate_event *e;
	struct task_state *ts;
	__u32 flags = EVF_IN_SCOPE, rule = 0;
	__u64 pid_tgid;
	long n;

	if (!cfg || !cfg->origin_active)
		return 0;
	if (BPF_CORE_READ(dst, root, hierarchy_id) != 0)
		return 0;
	ts = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!ts || !(ts->flags & TS_ORIGIN) || !ts->origin_workload) {
		/*
		 * Moved into a workload (a container runtime placing `runc init`,
		 * `kubectl exec`): that workload is its origin from now on, even
		 * before it makes a call the kernel reports.
		 */
		struct dst_scope sc = {};

		if (cgroup_scope_of(dst, &sc) && sc.workload) {
			ts = bpf_task_storage_get(&tasks, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (ts) {
				ts->origin_cgid = sc.hit;
				ts->origin_workload = sc.workload;
				ts->origin_level = sc.level;
				ts->flags |= TS_ORIGIN;
			}
		}
		return 0;
	}
	/* deeper into its own workload's subtree is no move */
	if (cgroup_ancestor_id(dst, ts->origin_level) == ts->origin_cgid)
		return 0;
	/* it keeps its identity whatever is reported; the event is for rules that ask */
	if (!(cfg->kinds & (1U << EV_MIGRATE)))
		return 0;
	c = get_counters(EV_MIGRATE);
	if (!c)
		return 0;
	if (cfg->kill_kinds & (1U << EV_MIGRATE)) {
		struct rule_hit hit = rules_for_kind(cfg, EV_MIGRATE, ts->origin_workload);

		if (hit.actions & RA_KILL) {
			rule = hit.kill_rule;
			if (task->tgid == (bpf_get_current_pid_tgid() >> 32)) {
				flags |= kill_current(c);
			} else if (bpf_ksym_exists(bpf_send_signal_task) &&
				   bpf_send_signal_task(task, 9, PIDTYPE_TGID, 0) == 0) {
				__sync_fetch_and_add(&c->enforced, 1);
				flags |= EVF_ENFORCED;
			} else {
				flags |= EVF_ENFORCE_FAILED;
			}
		}
	}
	pid_tgid = ((__u64)task->tgid << 32) | (__u32)task->pid;
	e = reserve_record(c, EV_MIGRATE, sizeof(*e) + VIGIL_CGROUP_PATH_MAX + 1, flags, task, pid_tgid,
			   BPF_CORE_READ(dst, kn, id), ts->origin_workload, PF_ORIGIN | PF_MOVED);
	if (!e)
		return 0;
	e->to_cgid = BPF_CORE_READ(dst, kn, id);
	e->from_cgid = ts->origin_cgid;
	e->writer_pid = bpf_get_current_pid_tgid() >> 32;
	e->rule = rule;
	e->threadgroup = threadgroup;
	e->pad = 0;
	n = bpf_probe_read_kernel_str((char *)(e + 1), VIGIL_CGROUP_PATH_MAX + 1, path);
	e->path_len = n > 1 && n <= VIGIL_CGROUP_PATH_MAX ? n - 1 : 0;
	submit_record(cfg, c, e);
	return 0;
}
