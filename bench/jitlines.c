// SPDX-License-Identifier: Apache-2.0
/*
 * jitlines ID...: the JIT's line table of loaded BPF programs, for bench/profile.ts.
 *
 * For each program id: one "func <start> <length>" line per JITed function,
 * then one "<address> <file>:<line>" line per line-info record, addresses in
 * hex. From BPF_OBJ_GET_INFO_BY_FD (jited_ksyms, jited_func_lens,
 * jited_line_info, line_info) and the program's BTF for the file names. Why
 * not bpftool: its `dump jited ... linum` needs a build with a disassembler
 * (libbfd or LLVM), Debian's has neither; this needs only libbpf.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int dump(__u32 id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), nl, njl, lrs, nf, btf_id;
	int fd = bpf_prog_get_fd_by_id(id);
	struct btf *btf;
	__u64 *jli, *ks;
	__u32 *fl;
	void *li;

	if (fd < 0) {
		fprintf(stderr, "jitlines: program %u: %s\n", id, strerror(errno));
		return 1;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "jitlines: program %u: info: %s\n", id, strerror(errno));
		return 1;
	}
	nl = info.nr_line_info;
	njl = info.nr_jited_line_info;
	lrs = info.line_info_rec_size;
	nf = info.nr_jited_ksyms;
	btf_id = info.btf_id;
	li = calloc(nl ? nl : 1, lrs ? lrs : 1);
	jli = calloc(njl ? njl : 1, sizeof(__u64));
	ks = calloc(nf ? nf : 1, sizeof(__u64));
	fl = calloc(nf ? nf : 1, sizeof(__u32));
	if (!li || !jli || !ks || !fl) {
		fprintf(stderr, "jitlines: out of memory\n");
		return 1;
	}
	memset(&info, 0, sizeof(info));
	info.nr_line_info = nl;
	info.line_info_rec_size = lrs;
	info.line_info = (__u64)(unsigned long)li;
	info.nr_jited_line_info = njl;
	info.jited_line_info_rec_size = sizeof(__u64);
	info.jited_line_info = (__u64)(unsigned long)jli;
	info.nr_jited_ksyms = nf;
	info.jited_ksyms = (__u64)(unsigned long)ks;
	info.nr_jited_func_lens = nf;
	info.jited_func_lens = (__u64)(unsigned long)fl;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		fprintf(stderr, "jitlines: program %u: line info: %s\n", id, strerror(errno));
		return 1;
	}
	btf = btf_id ? btf__load_from_kernel_by_id(btf_id) : NULL;
	for (__u32 i = 0; i < nf; i++)
		printf("func %llx %u\n", (unsigned long long)ks[i], fl[i]);
	for (__u32 i = 0; i < nl && i < njl; i++) {
		struct bpf_line_info *l = (struct bpf_line_info *)((char *)li + (size_t)i * lrs);
		const char *file = btf ? btf__name_by_offset(btf, l->file_name_off) : NULL;
		const char *base = file ? strrchr(file, '/') : NULL;

		printf("%llx %s:%u\n", (unsigned long long)jli[i], base ? base + 1 : file ? file : "?",
		       BPF_LINE_INFO_LINE_NUM(l->line_col));
	}
	btf__free(btf);
	close(fd);
	free(li);
	free(jli);
	free(ks);
	free(fl);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: jitlines PROG_ID...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		rc |= dump((__u32)strtoul(argv[i], NULL, 10));
	return rc;
}
