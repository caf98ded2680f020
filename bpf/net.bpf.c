// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Outbound connections, from cgroup/connect4 and cgroup/connect6 attached at
 * the root of the cgroup v2 hierarchy: they run in the connecting task, see
 * the destination before the kernel acts on it, and are the hooks that can
 * refuse a connect (return 0 -> EPERM) without BPF LSM. cgroup/sendmsg4|6
 * apply the same refusals to UDP datagrams sent without connect().
 */
#include "lib/common.h"
#include "lib/rules.h"
#include <bpf/bpf_endian.h>

/* ::ffff:0:0/96, the IPv4-mapped IPv6 addresses */
static __always_inline int v4_mapped(const __u8 *a)
{
	return *(const __u64 *)&a[0] == 0 && *(const __u16 *)&a[8] == 0 && a[10] == 0xff && a[11] == 0xff;
}

/* Returns 1 to let the connect (or datagram) through, 0 to refuse it. */
static __always_inline int connect_event(struct bpf_sock_addr *ctx, __u16 family, int report_all)
{
	struct vigil_config *cfg = get_config();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cgid = bpf_get_current_cgroup_id();
	__u16 dport = bpf_ntohs(ctx->user_port);
	struct kind_counters *c;
	struct connect_event *e;
	struct who who = {};
	__u32 rule = 0, flags;
	__u8 addr[16] = {};
	__u32 scope;

	if (!cfg)
		return 1;
	if (family == 2 /* AF_INET */) {
		__u32 a4 = ctx->user_ip4;

		__builtin_memcpy(addr, &a4, 4);
	} else {
		__u32 a6[4];

		a6[0] = ctx->user_ip6[0];
		a6[1] = ctx->user_ip6[1];
		a6[2] = ctx->user_ip6[2];
		a6[3] = ctx->user_ip6[3];
		__builtin_memcpy(addr, a6, 16);
	}
	scope = wanted(cfg, EV_CONNECT, pid_tgid >> 32, cgid, &who);
	/* refusals do not depend on what is reported: look the workload up anyway */
	if (cfg->net_active && (pid_tgid >> 32) != cfg->self_tgid) {
		__u8 fam = family == 2 ? 4 : 6;
		__u8 look[16] = {};

		if (!scope) {
			cgroup_lookup(cfg, cgid, &who);
			task_origin(cfg, cgid, &who);
		}
		__builtin_memcpy(look, addr, 16);
		/*
		 * ::ffff:a.b.c.d from an AF_INET6 socket reaches the IPv4 host a.b.c.d:
		 * judged as that IPv4 address, or a v4 deny is walked around over IPv6
		 */
		if (fam == 6 && v4_mapped(addr)) {
			fam = 4;
			__builtin_memcpy(look, &addr[12], 4);
			__builtin_memset(&look[4], 0, 12);
		}
		rule = net_denied(cfg, who.workload, fam, look, dport);
	}
	if (!rule && (!scope || !report_all))
		return 1;
	c = get_counters(EV_CONNECT);
	if (!c)
		return rule ? 0 : 1;
	flags = scope & 0xff;
	if (rule) {
		flags |= EVF_ENFORCED;
		__sync_fetch_and_add(&c->enforced, 1);
	}
	/* no BTF task in cgroup programs: identity through helpers */
	e = reserve_record(c, EV_CONNECT, sizeof(*e), flags, NULL, pid_tgid, cgid, who.workload, who.pflags);
	if (!e)
		return rule ? 0 : 1;
	e->family = family;
	e->dport = dport;
	e->sock_type = ctx->type;
	e->protocol = ctx->protocol;
	__builtin_memcpy(e->daddr, addr, 16);
	e->rule = rule;
	e->pad = 0;
	submit_record(cfg, c, e);
	return rule ? 0 : 1;
}

SEC("cgroup/connect4")
int vigil_connect4(struct bpf_sock_addr *ctx)
{
	return connect_event(ctx, 2, 1);
}

SEC("cgroup/connect6")
int vigil_connect6(struct bpf_sock_addr *ctx)
{
	return connect_event(ctx, 10, 1);
}

/* unconnected UDP: only refusals are reported (every datagram would be too many) */
SEC("cgroup/sendmsg4")
int vigil_sendmsg4(struct bpf_sock_addr *ctx)
{
	return connect_event(ctx, 2, 0);
}

SEC("cgroup/sendmsg6")
int vigil_sendmsg6(struct bpf_sock_addr *ctx)
{
	return connect_event(ctx, 10, 0);
}

#define SOCK_RAW 3

/*
 * cgroup/sock_create runs before an inet socket exists, in the creating
 * task: a workload with connect refusals may not create a raw socket (a
 * hand-built datagram on one passes every port and address refusal). The
 * socket() call fails with EPERM. Packet sockets (AF_PACKET) never reach this
 * hook: the sys_exit probe kills their creator (syscalls/sock.h).
 */
SEC("cgroup/sock_create")
int vigil_sock_create(struct bpf_sock *sk)
{
	struct vigil_config *cfg = get_config();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cgid = bpf_get_current_cgroup_id();
	struct kind_counters *c;
	struct socket_event *e;
	struct who who = {};

	if (!cfg || !cfg->net_active || sk->type != SOCK_RAW)
		return 1;
	if ((pid_tgid >> 32) == cfg->self_tgid)
		return 1;
	cgroup_lookup(cfg, cgid, &who);
	task_origin(cfg, cgid, &who);
	if (!net_guarded(cfg, who.workload))
		return 1;
	c = get_counters(EV_SOCKET);
	if (!c)
		return 0;
	__sync_fetch_and_add(&c->enforced, 1);
	e = reserve_record(c, EV_SOCKET, sizeof(*e), EVF_IN_SCOPE | EVF_ENFORCED, NULL, pid_tgid, cgid, who.workload, who.pflags);
	if (!e)
		return 0;
	e->family = sk->family;
	e->type = sk->type;
	e->protocol = sk->protocol;
	e->pad = 0;
	e->ret = -1;   /* EPERM */
	e->rule = 0;
	submit_record(cfg, c, e);
	return 0;
}
