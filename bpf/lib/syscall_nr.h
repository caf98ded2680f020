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
#define NR_truncate      76
#define NR_ftruncate     77
#define NR_link          86
#define NR_symlink       88
#define NR_linkat        265
#define NR_symlinkat     266
#define NR_fallocate     285

#define NR_socket        41
#define NR_socketpair    53
#define NR_process_vm_readv  310
#define NR_process_vm_writev 311

/* issue 11 item 4 */
#define NR_ioctl         16
#define NR_dup           32
#define NR_dup2          33
#define NR_bind          49
#define NR_listen        50
#define NR_clone         56
#define NR_fcntl         72
#define NR_chown         92
#define NR_fchown        93
#define NR_lchown        94
#define NR_setxattr      188
#define NR_lsetxattr     189
#define NR_fsetxattr     190
#define NR_fchownat      260
#define NR_unshare       272
#define NR_dup3          292
#define NR_setns         308
#define NR_memfd_create  319
#define NR_bpf           321
#define NR_userfaultfd   323
#define NR_clone3        435
#define NR_setxattrat    463

#define X32_SYSCALL_BIT  0x40000000
#define TS_COMPAT        0x0002   /* thread_info.status: ia32 syscall in progress */

/* Syscall arguments as saved on entry; still intact at sys_exit. */
/* ia32 (int 0x80) arguments: ebx, ecx, edx, esi, edi; 32-bit values, pointers included */
#define SC32_ARG0(r) ((__u32)(r)->bx)
#define SC32_ARG1(r) ((__u32)(r)->cx)
#define SC32_ARG2(r) ((__u32)(r)->dx)
#define SC32_ARG3(r) ((__u32)(r)->si)
#define SC32_ARG4(r) ((__u32)(r)->di)

/*
 * arch/x86/entry/syscalls/syscall_32.tbl -> the native number of the same
 * call (0: not one we report). *narrow: 1, the old 16-bit-id set*id calls,
 * whose -1 is 0xffff; 2, socketcall; 3, the 16-bit-id chown calls.
 */
static __always_inline __u64 compat_native(__u64 nr, __u32 *narrow)
{
	*narrow = 0;
	switch (nr) {
	/* chown family: the 16-bit-id ones (-1 is 0xffff in the second and third argument), then the 32-bit ones */
	case 182: *narrow = 3; return NR_chown;
	case 16: *narrow = 3; return NR_lchown;
	case 95: *narrow = 3; return NR_fchown;
	case 212: return NR_chown;
	case 198: return NR_lchown;
	case 207: return NR_fchown;
	case 298: return NR_fchownat;
	case 226: return NR_setxattr;
	case 227: return NR_lsetxattr;
	case 228: return NR_fsetxattr;
	case 463: return NR_setxattrat;
	case 310: return NR_unshare;
	case 346: return NR_setns;
	case 120: return NR_clone;   /* flags first, as on x86_64 */
	case 435: return NR_clone3;
	case 361: return NR_bind;
	case 363: return NR_listen;
	case 41: return NR_dup;
	case 63: return NR_dup2;
	case 330: return NR_dup3;
	case 55: case 221: return NR_fcntl;   /* fcntl, fcntl64 */
	case 54: return NR_ioctl;
	case 356: return NR_memfd_create;
	case 374: return NR_userfaultfd;
	case 357: return NR_bpf;
	case 5: return NR_open;
	case 8: return NR_creat;
	case 9: return NR_link;
	case 10: return NR_unlink;
	case 15: return NR_chmod;
	case 21: return NR_mount;
	case 26: return NR_ptrace;
	case 38: return NR_rename;
	case 40: return NR_rmdir;
	case 83: return NR_symlink;
	case 92: case 193: return NR_truncate;     /* truncate, truncate64: the path (or fd) first */
	case 93: case 194: return NR_ftruncate;
	case 94: return NR_fchmod;
	case 128: return NR_init_module;
	case 295: return NR_openat;
	case 301: return NR_unlinkat;
	case 302: return NR_renameat;
	case 303: return NR_linkat;
	case 304: return NR_symlinkat;
	case 306: return NR_fchmodat;
	case 324: return NR_fallocate;  /* its 64-bit offset and length are split in two registers each: not read */
	case 347: return NR_process_vm_readv;
	case 348: return NR_process_vm_writev;
	case 350: return NR_finit_module;
	case 353: return NR_renameat2;
	case 102: *narrow = 2; return NR_socket;   /* socketcall: SYS_SOCKET, SYS_BIND, SYS_LISTEN, arguments in memory */
	case 359: return NR_socket;
	case 360: return NR_socketpair;
	case 429: return NR_move_mount;
	case 437: return NR_openat2;
	case 452: return NR_fchmodat2;
	/* set*id: the 32-bit-id calls, then the 16-bit ones */
	case 213: return NR_setuid;
	case 214: return NR_setgid;
	case 203: return NR_setreuid;
	case 204: return NR_setregid;
	case 208: return NR_setresuid;
	case 210: return NR_setresgid;
	case 215: return NR_setfsuid;
	case 216: return NR_setfsgid;
	case 23: *narrow = 1; return NR_setuid;
	case 46: *narrow = 1; return NR_setgid;
	case 70: *narrow = 1; return NR_setreuid;
	case 71: *narrow = 1; return NR_setregid;
	case 164: *narrow = 1; return NR_setresuid;
	case 170: *narrow = 1; return NR_setresgid;
	case 138: *narrow = 1; return NR_setfsuid;
	case 139: *narrow = 1; return NR_setfsgid;
	}
	return 0;
}

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
