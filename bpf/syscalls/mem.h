/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * Code that comes from no file: memfd_create (fileless execution starts
 * with an anonymous file, executed through /proc/self/fd/N) and BPF
 * programs loaded into this kernel (bpf(BPF_PROG_LOAD), a rootkit's way in).
 * userfaultfd, the other memory trick, shares priv_event (syscalls/priv.h).
 * Included by syscalls.bpf.c (the dispatcher), after struct sc_args.
 */
#ifndef VIGIL_SYSCALLS_MEM_H
#define VIGIL_SYSCALLS_MEM_H

#include "../lib/common.h"
#include "../lib/rules.h"

static __always_inline void memfd_event(struct vigil_config *cfg, struct kind_counters *c,
					struct task_struct *task, struct sc_args *a, long ret,
					__u64 pid_tgid, __u64 cgid, __u8 scope, struct who *who)
{
	struct memfd_event *e;
	__u32 rule;

	scope |= kind_verdict(cfg, c, EV_MEMFD, who, &rule);
	e = reserve_record(c, EV_MEMFD, sizeof(*e), scope, task, pid_tgid, cgid, who->workload, who->pflags);
	if (!e)
		return;
	e->ret = ret;
	e->flags = a->a[1];
	e->rule = rule;
	e->pad = 0;
	e->name[0] = 0;
	if (bpf_probe_read_user_str(e->name, sizeof(e->name), (void *)a->a[0]) < 0)
		e->name[0] = 0;
	submit_record(cfg, c, e);
}

/* union bpf_attr for BPF_PROG_LOAD, as far as we read it */
struct prog_load_attr {
	__u32 prog_type;
	__u32 insn_cnt;
	__u64 insns;
	__u64 license;
	__u32 log_level;
	__u32 log_size;
	__u64 log_buf;
	__u32 kern_version;
	__u32 prog_flags;
	char  prog_name[16];
	__u32 prog_ifindex;
	__u32 expected_attach_type;
};

static __always_inline void bpf_event(struct vigil_config *cfg, struct kind_counters *c,
				      struct task_struct *task, struct sc_args *a, long ret,
				      __u64 pid_tgid, __u64 cgid, __u8 scope, struct who *who)
{
	struct prog_load_attr attr = {};
	struct bpf_event *e;
	__u32 rule, n = a->a[2] > sizeof(attr) ? sizeof(attr) : a->a[2];

	/* the caller's size: the kernel reads no more (and zeroes the rest) */
	bpf_probe_read_user(&attr, n, (void *)a->a[1]);
	scope |= kind_verdict(cfg, c, EV_BPF, who, &rule);
	e = reserve_record(c, EV_BPF, sizeof(*e), scope, task, pid_tgid, cgid, who->workload, who->pflags);
	if (!e)
		return;
	e->ret = ret;
	e->cmd = a->a[0];
	e->prog_type = attr.prog_type;
	e->attach_type = attr.expected_attach_type;
	e->insn_cnt = attr.insn_cnt;
	e->rule = rule;
	__builtin_memcpy(e->prog_name, attr.prog_name, sizeof(e->prog_name));
	submit_record(cfg, c, e);
}

#endif /* VIGIL_SYSCALLS_MEM_H */
