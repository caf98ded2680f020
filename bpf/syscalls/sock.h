/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/*
 * socket and socketpair at sys_exit: every family (cgroup/sock_create sees
 * inet sockets only). A workload with network deny rules may not hold a
 * packet socket (AF_PACKET writes frames below every cgroup/connect hook):
 * it dies here, before it returns to user space with the descriptor. Raw
 * inet sockets were already refused at creation (net.bpf.c). Then bind,
 * listen and dup (below). Included by syscalls.bpf.c (the dispatcher),
 * after struct sc_args.
 */
#ifndef VIGIL_SYSCALLS_SOCK_H
#define VIGIL_SYSCALLS_SOCK_H

#include "../lib/common.h"
#include "../lib/path.h"
#include "../lib/rules.h"
#include <bpf/bpf_endian.h>

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

#define AF_INET       2
#define AF_INET6      10
#define S_IFMT        0170000
#define S_IFSOCK      0140000

/* The socket behind a descriptor of the current task, or NULL (not a socket). */
static __always_inline struct sock *fd_sock(struct task_struct *task, __s32 fd)
{
	struct file *f = task_fd_file(task, fd);
	struct socket *so;

	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	return so ? BPF_CORE_READ(so, sk) : NULL;
}

/* The socket's local (peer = 0) or remote (peer = 1) address and port, inet families only. */
static __always_inline void sock_addr(struct sock *sk, __u16 family, int peer, struct sockfd_event *e)
{
	if (family == AF_INET) {
		__u32 a4 = peer ? BPF_CORE_READ(sk, __sk_common.skc_daddr) : BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

		__builtin_memcpy(e->addr, &a4, 4);
	} else if (family == AF_INET6) {
		if (peer)
			BPF_CORE_READ_INTO(&e->addr, sk, __sk_common.skc_v6_daddr);
		else
			BPF_CORE_READ_INTO(&e->addr, sk, __sk_common.skc_v6_rcv_saddr);
	}
	if (peer)
		e->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	else
		e->port = BPF_CORE_READ(sk, __sk_common.skc_num);
}

/*
 * bind, listen, and a socket put on descriptor 0, 1 or 2 (dup, dup2, dup3,
 * fcntl F_DUPFD: a reverse shell's first step; only inet and inet6
 * sockets: services under systemd and container runtimes hand out unix
 * sockets as standard descriptors every day). Included by syscalls.bpf.c.
 */
static __always_inline void sockfd_event(struct vigil_config *cfg, struct kind_counters *c,
					 struct task_struct *task, __u32 kind, __u64 nr,
					 struct sc_args *a, long ret, __u64 pid_tgid, __u64 cgid,
					 __u8 scope, struct who *who)
{
	struct sockfd_event *e;
	struct sock *sk;
	__u32 rule = 0;
	__u16 family = 0;

	/* dup: the descriptor that became 0, 1 or 2 is the socket (sc_boring checked the range) */
	sk = fd_sock(task, kind == EV_DUP ? (__s32)ret : (__s32)a->a[0]);
	if (sk)
		family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (kind == EV_DUP && family != AF_INET && family != AF_INET6)
		return;
	scope |= kind_verdict(cfg, c, kind, who, &rule);
	e = reserve_record(c, kind, sizeof(*e), scope, task, pid_tgid, cgid, who->workload, who->pflags);
	if (!e)
		return;
	e->ret = ret;
	e->syscall_nr = nr;
	e->fd = a->a[0];
	e->family = family;
	e->type = sk ? BPF_CORE_READ(sk, sk_type) : 0;
	e->protocol = sk ? BPF_CORE_READ(sk, sk_protocol) : 0;
	e->port = 0;
	e->backlog = kind == EV_LISTEN ? a->a[1] : 0;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	e->rule = rule;
	e->pad = 0;
	if (kind == EV_BIND && (ret < 0 || !sk)) {
		/* refused: the address as asked for (sockaddr_in: port at 2, address at 4; sockaddr_in6: address at 8) */
		__u8 sa[28] = {};
		__u32 n = a->a[2] > sizeof(sa) ? sizeof(sa) : a->a[2];

		bpf_probe_read_user(sa, n, (void *)a->a[1]);
		e->family = *(__u16 *)&sa[0];
		e->port = ((__u16)sa[2] << 8) | sa[3];
		if (e->family == AF_INET)
			__builtin_memcpy(e->addr, &sa[4], 4);
		else if (e->family == AF_INET6)
			__builtin_memcpy(e->addr, &sa[8], 16);
	} else if (sk) {
		/* bound or listening: the kernel's own view (port 0 has become the port it chose) */
		sock_addr(sk, family, kind == EV_DUP, e);
	}
	submit_record(cfg, c, e);
}

#endif /* VIGIL_SYSCALLS_SOCK_H */
