// SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0)
/*
 * One tiny program per hook type. `vigil probe` loads and attaches each on
 * its own and reports what this kernel accepts; the agent picks its
 * enforcement modes from the answers.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sys_exit")
int BPF_PROG(feat_tp_btf, struct pt_regs *regs, long ret) { return 0; }

SEC("raw_tp/sys_exit")
int feat_raw_tp(void *ctx) { return 0; }

SEC("tp/syscalls/sys_enter_openat")
int feat_tracepoint(void *ctx) { return 0; }

SEC("fentry/security_file_open")
int BPF_PROG(feat_fentry, struct file *file) { return 0; }

SEC("fexit/security_file_open")
int BPF_PROG(feat_fexit, struct file *file, int ret) { return 0; }

SEC("lsm/file_open")
int BPF_PROG(feat_lsm, struct file *file) { return 0; }

SEC("kprobe/security_file_open")
int feat_kprobe(void *ctx) { return 0; }

SEC("cgroup/connect4")
int feat_cgroup_connect4(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/sendmsg4")
int feat_cgroup_sendmsg4(struct bpf_sock_addr *ctx) { return 1; }

/* bpf_send_signal from a BTF tracepoint: in-kernel kill */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(feat_send_signal, struct task_struct *p)
{
	if (p == (void *)1)
		bpf_send_signal(9);
	return 0;
}
