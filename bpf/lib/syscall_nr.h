/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* System call numbers and argument registers of the architectures we build for. */
#ifndef VIGIL_LIB_SYSCALL_NR_H
#define VIGIL_LIB_SYSCALL_NR_H

#if defined(__TARGET_ARCH_x86)

/* arch/x86/entry/syscalls/syscall_64.tbl */
#define NR_open          2
#define NR_ptrace        101
#define NR_rename        82
#define NR_rmdir         84
#define NR_creat         85
#define NR_unlink        87
#define NR_chmod         90
#define NR_fchmod        91
#define NR_setuid        105
#define NR_setgid        106
#define NR_setreuid      113
#define NR_setregid      114
#define NR_setresuid     117
#define NR_setresgid     119
#define NR_setfsuid      122
#define NR_setfsgid      123
#define NR_mount         165
#define NR_init_module   175
#define NR_openat        257
#define NR_unlinkat      263
#define NR_renameat      264
#define NR_fchmodat      268
#define NR_finit_module  313
#define NR_renameat2     316
#define NR_move_mount    429
#define NR_openat2       437
#define NR_fchmodat2     452

#define X32_SYSCALL_BIT  0x40000000
#define TS_COMPAT        0x0002   /* thread_info.status: ia32 syscall in progress */

/* Syscall arguments as saved on entry; still intact at sys_exit. */
#define SC_NR(r)   ((r)->orig_ax)
#define SC_ARG0(r) ((r)->di)
#define SC_ARG1(r) ((r)->si)
#define SC_ARG2(r) ((r)->dx)
#define SC_ARG3(r) ((r)->r10)
#define SC_ARG4(r) ((r)->r8)

#else
#error "Vigil's syscall probes are written for x86_64 only (see docs/kernel-support.md)"
#endif

#endif /* VIGIL_LIB_SYSCALL_NR_H */
