/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * ptrace and the set*id family at sys_exit: the request and its arguments
 * in one priv_event, and the kernel's own kill when a rule asks for it.
 * Included by syscalls.bpf.c (the dispatcher), after struct sc_args.
 */
#ifndef VIGIL_SYSCALLS_PRIV_H
#define VIGIL_SYSCALLS_PRIV_H

#include "../lib/common.h"
#include "../lib/rules.h"
#include "../lib/syscall_nr.h"

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

static __always_inline void priv_event(struct vigil_config *cfg, struct kind_counters *c,
				       struct task_struct *task, __u32 kind, __u64 nr,
				       struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
				       __u8 scope, struct who *who)
{
	struct priv_event *e;
	__u32 rule = 0;

	if (cfg->kill_kinds & (1U << kind)) {
		struct rule_hit hit = rules_for_kind(cfg, kind, who->workload);

		if (hit.actions & RA_KILL) {
			rule = hit.kill_rule;
			scope |= kill_current(c);
		}
	}
	e = reserve_record(c, kind, sizeof(*e), scope, task, pid_tgid, cgid, who->workload, who->pflags);
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
	case NR_process_vm_readv: case NR_process_vm_writev:
		/* another process's memory read or written without ptrace: judged as a ptrace of it */
		e->arg[0] = nr == NR_process_vm_writev ? PTRACE_VM_WRITEV : PTRACE_VM_READV;
		e->arg[1] = a->a[0];
		e->arg[2] = 0;
		break;
	}
	submit_record(cfg, c, e);
}

#endif /* VIGIL_SYSCALLS_PRIV_H */
