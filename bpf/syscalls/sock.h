/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * socket and socketpair at sys_exit: every family (cgroup/sock_create sees
 * inet sockets only). A workload with network deny rules may not hold a
 * packet socket (AF_PACKET writes frames below every cgroup/connect hook):
 * it dies here, before it returns to user space with the descriptor. Raw
 * inet sockets were already refused at creation (net.bpf.c). Included by
 * syscalls.bpf.c (the dispatcher), after struct sc_args.
 */
#ifndef VIGIL_SYSCALLS_SOCK_H
#define VIGIL_SYSCALLS_SOCK_H

#include "../lib/common.h"
#include "../lib/rules.h"

#define AF_PACKET     17
#define SOCK_TYPE_MASK 0xf

static __always_inline void socket_event(struct vigil_config *cfg, struct kind_counters *c,
					 struct task_struct *task, struct sc_args *a, long ret,
					 __u64 pid_tgid, __u64 cgid, __u8 scope, struct who *who)
{
	struct socket_event *e;
	__u32 rule = 0, family = a->a[0], type = a->a[1] & SOCK_TYPE_MASK;

	if (ret >= 0 && family == AF_PACKET && net_guarded(cfg, who->workload)) {
		scope |= kill_current(c);
	} else if (cfg->kill_kinds & (1U << EV_SOCKET)) {
		struct rule_hit hit = rules_for_kind(cfg, EV_SOCKET, who->workload);

		if (hit.actions & RA_KILL) {
			rule = hit.kill_rule;
			scope |= kill_current(c);
		}
	}
	/* enabled for the packet-socket guard only: reported when it acted */
	if ((cfg->guard_only & (1U << EV_SOCKET)) && !(scope & (EVF_ENFORCED | EVF_ENFORCE_FAILED)))
		return;
	e = reserve_record(c, EV_SOCKET, sizeof(*e), scope, task, pid_tgid, cgid, who->workload, who->pflags);
	if (!e)
		return;
	e->family = family;
	e->type = type;
	e->protocol = a->a[2];
	e->pad = 0;
	e->ret = ret;
	e->rule = rule;
	submit_record(cfg, c, e);
}

#endif /* VIGIL_SYSCALLS_SOCK_H */
