// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * Outbound connections, from cgroup/connect4 and cgroup/connect6 attached at
 * the root of the cgroup v2 hierarchy: they run in the connecting task, see
 * the destination before the kernel acts on it, and are the hooks that can
 * refuse a connect (return 0 -> EPERM) without BPF LSM.
 */
#include "lib/common.h"
#include <bpf/bpf_endian.h>

static __always_inline void connect_event(struct bpf_sock_addr *ctx, __u16 family)
{
	struct vigil_config *cfg = get_config();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 cgid = bpf_get_current_cgroup_id();
	struct kind_counters *c;
	struct connect_event *e;
	__u32 scope = wanted(cfg, EV_CONNECT, pid_tgid >> 32, cgid);

	if (!scope)
		return;
	c = get_counters(EV_CONNECT);
	if (!c)
		return;
	/* no BTF task in cgroup programs: identity through helpers */
	e = reserve_record(c, EV_CONNECT, sizeof(*e), scope & 0xff, NULL, pid_tgid, cgid);
	if (!e)
		return;
	e->family = family;
	e->dport = bpf_ntohs(ctx->user_port);
	e->sock_type = ctx->type;
	e->protocol = ctx->protocol;
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (family == 2 /* AF_INET */) {
		__u32 a4 = ctx->user_ip4;

		__builtin_memcpy(e->daddr, &a4, 4);
	} else {
		__u32 a6[4];

		a6[0] = ctx->user_ip6[0];
		a6[1] = ctx->user_ip6[1];
		a6[2] = ctx->user_ip6[2];
		a6[3] = ctx->user_ip6[3];
		__builtin_memcpy(e->daddr, a6, 16);
	}
	submit_record(cfg, c, e);
}

SEC("cgroup/connect4")
int vigil_connect4(struct bpf_sock_addr *ctx)
{
	connect_event(ctx, 2);
	return 1;
}

SEC("cgroup/connect6")
int vigil_connect6(struct bpf_sock_addr *ctx)
{
	connect_event(ctx, 10);
	return 1;
}
