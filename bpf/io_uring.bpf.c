// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * io_uring submissions. A request submitted through io_uring is done by the
 * kernel without a system call of its own, so the sys_exit probe never sees
 * an open, a rename or a connect made that way (Falco, Tetragon and Defender
 * were all shown blind to this in 2025). io_uring_submit_req fires for each
 * request as it is submitted, in the submitting task (or its SQPOLL thread,
 * which belongs to the same process): the requests that open a door are
 * reported, and a kill rule kills the submitter before the request runs its
 * course in user space's favour.
 */
#include "lib/common.h"
#include "lib/rules.h"

/* 1 = files, 2 = sockets, 0 = neither (reads, writes, polls, timeouts: no new door) */
static __always_inline __u32 op_class(__u32 op)
{
	switch (op) {
	case 17:   /* FALLOCATE */
	case 18:   /* OPENAT */
	case 28:   /* OPENAT2 */
	case 35:   /* RENAMEAT */
	case 36:   /* UNLINKAT */
	case 37:   /* MKDIRAT */
	case 38:   /* SYMLINKAT */
	case 39:   /* LINKAT */
	case 41:   /* FSETXATTR */
	case 42:   /* SETXATTR */
	case 55:   /* FTRUNCATE */
		return 1;
	case 13:   /* ACCEPT */
	case 16:   /* CONNECT */
	case 45:   /* SOCKET */
	case 56:   /* BIND */
	case 57:   /* LISTEN */
		return 2;
	}
	return 0;
}

#define OP_OPENAT    18
#define OP_OPENAT2   28
#define OP_RENAMEAT  35
#define OP_UNLINKAT  36
#define OP_MKDIRAT   37
#define OP_SYMLINKAT 38
#define OP_LINKAT    39
#define OP_SETXATTR  42
#define OP_SOCKET    45
#define AF_PACKET    17

/*
 * The request's own data (io_kiocb_to_cmd): prepared before the tracepoint,
 * so the names are the kernel's copies (struct filename), not user memory a
 * second thread could change after we read it.
 */
static __always_inline void names(struct io_uring_event *e, struct io_kiocb *req, __u32 op)
{
	struct filename *a = NULL, *b = NULL;
	void *cmd = &req->cmd;
	long n;

	switch (op) {
	case OP_OPENAT: case OP_OPENAT2:
		a = BPF_CORE_READ((struct io_open *)cmd, filename);
		break;
	case OP_UNLINKAT:
		a = BPF_CORE_READ((struct io_unlink *)cmd, filename);
		break;
	case OP_MKDIRAT:
		a = BPF_CORE_READ((struct io_mkdir *)cmd, filename);
		break;
	case OP_SETXATTR:
		a = BPF_CORE_READ((struct io_xattr *)cmd, filename);
		break;
	case OP_RENAMEAT:
		a = BPF_CORE_READ((struct io_rename *)cmd, oldpath);
		b = BPF_CORE_READ((struct io_rename *)cmd, newpath);
		break;
	case OP_SYMLINKAT: case OP_LINKAT:
		a = BPF_CORE_READ((struct io_link *)cmd, oldpath);
		b = BPF_CORE_READ((struct io_link *)cmd, newpath);
		break;
	}
	if (a) {
		n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(a, name));
		if (n == sizeof(e->path))
			e->names_full |= 1;
	}
	if (b) {
		n = bpf_probe_read_kernel_str(e->new_path, sizeof(e->new_path), BPF_CORE_READ(b, name));
		if (n == sizeof(e->new_path))
			e->names_full |= 2;
	}
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(vigil_io_uring, struct io_kiocb *req)
{
	struct vigil_config *cfg = get_config();
	__u32 op = BPF_CORE_READ(req, opcode), cls = op_class(op), rule = 0, scope;
	__u32 family = 0, type = 0;
	__u64 pid_tgid, cgid;
	struct kind_counters *c;
	struct io_uring_event *e;
	struct who who;

	if (!cls)
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	cgid = bpf_get_current_cgroup_id();
	scope = wanted(cfg, EV_IO_URING, pid_tgid >> 32, cgid, &who);
	if (!scope)
		return 0;
	c = get_counters(EV_IO_URING);
	if (!c)
		return 0;
	scope &= 0xff;
	if (op == OP_SOCKET) {
		family = BPF_CORE_READ((struct io_socket *)&req->cmd, domain);
		type = BPF_CORE_READ((struct io_socket *)&req->cmd, type) & 0xf;
	}
	/* the packet-socket guard (syscalls/sock.h) for the socket made without a syscall */
	if (family == AF_PACKET && net_guarded(cfg, who.workload)) {
		scope |= kill_current(c);
	} else if (cfg->kill_kinds & (1U << EV_IO_URING)) {
		struct rule_hit hit = rules_for_kind(cfg, EV_IO_URING, who.workload);

		if (hit.actions & RA_KILL) {
			rule = hit.kill_rule;
			scope |= kill_current(c);
		}
	}
	/* enabled for the guard only: reported when it acted */
	if ((cfg->guard_only & (1U << EV_IO_URING)) && !(scope & (EVF_ENFORCED | EVF_ENFORCE_FAILED)))
		return 0;
	e = reserve_record(c, EV_IO_URING, sizeof(*e), scope, NULL, pid_tgid, cgid, who.workload, who.pflags);
	if (!e)
		return 0;
	e->opcode = op;
	e->op_class = cls;
	e->family = family;
	e->rule = rule;
	e->sock_type = type;
	e->names_full = 0;
	e->pad = 0;
	e->pad2 = 0;
	e->path[0] = 0;
	e->new_path[0] = 0;
	names(e, req, op);
	submit_record(cfg, c, e);
	return 0;
}
