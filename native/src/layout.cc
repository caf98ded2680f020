#include "layout.h"

#include <cstddef>

#include "events.h"

namespace vigil {

namespace {

class StructLayout {
 public:
  StructLayout(Napi::Env env, Napi::Object structs, const char* name, size_t size)
      : fields_(Napi::Object::New(env)), env_(env) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("size", Napi::Number::New(env, static_cast<double>(size)));
    s.Set("fields", fields_);
    structs.Set(name, s);
  }
  StructLayout& Field(const char* name, size_t offset) {
    fields_.Set(name, Napi::Number::New(env_, static_cast<double>(offset)));
    return *this;
  }

 private:
  Napi::Object fields_;
  Napi::Env env_;
};

#define STRUCT(T) StructLayout(env, structs, #T, sizeof(struct T))
#define F(T, f) Field(#f, offsetof(struct T, f))

}  // namespace

Napi::Object Layout(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  Napi::Object structs = Napi::Object::New(env);
  out.Set("abiVersion", Napi::Number::New(env, VIGIL_ABI_VERSION));
  out.Set("structs", structs);

  Napi::Object c = Napi::Object::New(env);
  c.Set("VIGIL_COMM_LEN", VIGIL_COMM_LEN);
  c.Set("VIGIL_PATH_MAX", VIGIL_PATH_MAX);
  c.Set("VIGIL_ARGS_MAX", VIGIL_ARGS_MAX);
  c.Set("VIGIL_STR_MAX", VIGIL_STR_MAX);
  c.Set("VIGIL_RECORD_MAX", VIGIL_RECORD_MAX);
  c.Set("IO_URING_NAME", IO_URING_NAME);
  c.Set("EV_EXEC", static_cast<int>(EV_EXEC));
  c.Set("EV_FORK", static_cast<int>(EV_FORK));
  c.Set("EV_EXIT", static_cast<int>(EV_EXIT));
  c.Set("EV_OPEN", static_cast<int>(EV_OPEN));
  c.Set("EV_UNLINK", static_cast<int>(EV_UNLINK));
  c.Set("EV_RENAME", static_cast<int>(EV_RENAME));
  c.Set("EV_CHMOD", static_cast<int>(EV_CHMOD));
  c.Set("EV_CONNECT", static_cast<int>(EV_CONNECT));
  c.Set("EV_PTRACE", static_cast<int>(EV_PTRACE));
  c.Set("EV_SETUID", static_cast<int>(EV_SETUID));
  c.Set("EV_MOUNT", static_cast<int>(EV_MOUNT));
  c.Set("EV_MODULE", static_cast<int>(EV_MODULE));
  c.Set("EV_CGROUP", static_cast<int>(EV_CGROUP));
  c.Set("EV_MIGRATE", static_cast<int>(EV_MIGRATE));
  c.Set("EV_LINK", static_cast<int>(EV_LINK));
  c.Set("EV_SYMLINK", static_cast<int>(EV_SYMLINK));
  c.Set("EV_SOCKET", static_cast<int>(EV_SOCKET));
  c.Set("EV_IO_URING", static_cast<int>(EV_IO_URING));
  c.Set("EV_CODE", static_cast<int>(EV_CODE));
  c.Set("CODE_OPEN", static_cast<int>(CODE_OPEN));
  c.Set("CODE_MMAP", static_cast<int>(CODE_MMAP));
  c.Set("CODE_MPROTECT", static_cast<int>(CODE_MPROTECT));
  c.Set("EV_CHOWN", static_cast<int>(EV_CHOWN));
  c.Set("EV_SETXATTR", static_cast<int>(EV_SETXATTR));
  c.Set("EV_NAMESPACE", static_cast<int>(EV_NAMESPACE));
  c.Set("EV_BIND", static_cast<int>(EV_BIND));
  c.Set("EV_LISTEN", static_cast<int>(EV_LISTEN));
  c.Set("EV_DUP", static_cast<int>(EV_DUP));
  c.Set("EV_MEMFD", static_cast<int>(EV_MEMFD));
  c.Set("EV_USERFAULTFD", static_cast<int>(EV_USERFAULTFD));
  c.Set("EV_BPF", static_cast<int>(EV_BPF));
  c.Set("CLONE_NEW_MASK", static_cast<double>(CLONE_NEW_MASK));
  c.Set("USERFAULTFD_VIA_SYSCALL", USERFAULTFD_VIA_SYSCALL);
  c.Set("USERFAULTFD_VIA_DEV", USERFAULTFD_VIA_DEV);
  c.Set("EXEC_CWD_CUT", EXEC_CWD_CUT);
  c.Set("MEMFD_NAME", MEMFD_NAME);
  c.Set("BPF_PROG_NAME", BPF_PROG_NAME);
  c.Set("PTRACE_VM_READV", PTRACE_VM_READV);
  c.Set("PTRACE_VM_WRITEV", PTRACE_VM_WRITEV);
  c.Set("RM_EXACT", static_cast<int>(RM_EXACT));
  c.Set("RM_PREFIX", static_cast<int>(RM_PREFIX));
  c.Set("RM_ANY", static_cast<int>(RM_ANY));
  c.Set("RA_REPORT", static_cast<int>(RA_REPORT));
  c.Set("RA_KILL", static_cast<int>(RA_KILL));
  c.Set("ACC_READ", static_cast<int>(ACC_READ));
  c.Set("ACC_WRITE", static_cast<int>(ACC_WRITE));
  c.Set("ACC_CREATE", static_cast<int>(ACC_CREATE));
  c.Set("ACC_TRUNC", static_cast<int>(ACC_TRUNC));
  c.Set("NET_SLOTS", NET_SLOTS);
  c.Set("NET_PORTS", NET_PORTS);
  c.Set("EV_KIND_MAX", static_cast<int>(EV_KIND_MAX));
  c.Set("EVF_PATH_TRUNCATED", static_cast<int>(EVF_PATH_TRUNCATED));
  c.Set("EVF_STR2_TRUNCATED", static_cast<int>(EVF_STR2_TRUNCATED));
  c.Set("EVF_PATH_LEXICAL", static_cast<int>(EVF_PATH_LEXICAL));
  c.Set("EVF_STR2_LEXICAL", static_cast<int>(EVF_STR2_LEXICAL));
  c.Set("EVF_ENFORCED", static_cast<int>(EVF_ENFORCED));
  c.Set("EVF_IN_SCOPE", static_cast<int>(EVF_IN_SCOPE));
  c.Set("EVF_ENFORCE_FAILED", static_cast<int>(EVF_ENFORCE_FAILED));
  c.Set("EVF_COMPAT", static_cast<int>(EVF_COMPAT));
  c.Set("PF_ORIGIN", static_cast<int>(PF_ORIGIN));
  c.Set("PF_MOVED", static_cast<int>(PF_MOVED));
  c.Set("PF_INHERITED", static_cast<int>(PF_INHERITED));
  c.Set("PF_TTY", static_cast<int>(PF_TTY));
  c.Set("TS_ORIGIN", static_cast<int>(TS_ORIGIN));
  c.Set("TS_LOADER", static_cast<int>(TS_LOADER));
  c.Set("TS_EXE", static_cast<int>(TS_EXE));
  c.Set("TS_EXE_HASH", static_cast<int>(TS_EXE_HASH));
  c.Set("EXE_FILELESS", static_cast<int>(EXE_FILELESS));
  c.Set("EXE_MEMFD", static_cast<int>(EXE_MEMFD));
  c.Set("EXE_LOADED", static_cast<int>(EXE_LOADED));
  c.Set("EXE_NO_INTERP", static_cast<int>(EXE_NO_INTERP));
  c.Set("EXE_UPPER", static_cast<int>(EXE_UPPER));
  c.Set("BIN_HASH", static_cast<int>(BIN_HASH));
  c.Set("BIN_ID", static_cast<int>(BIN_ID));
  c.Set("WHO_NONE", static_cast<int>(WHO_NONE));
  c.Set("WHO_SELF", static_cast<int>(WHO_SELF));
  c.Set("WHO_PARENT", static_cast<int>(WHO_PARENT));
  c.Set("WHO_FILELESS", static_cast<int>(WHO_FILELESS));
  c.Set("WHO_UPPER", static_cast<int>(WHO_UPPER));
  c.Set("COND_SLOTS", COND_SLOTS);
  c.Set("COND_TESTS", COND_TESTS);
  c.Set("COND_EXCEPTIONS", COND_EXCEPTIONS);
  c.Set("PREFIX_DEPTH_KINDS", static_cast<int>(sizeof(vigil_config::prefix_depths) / sizeof(vigil_config::prefix_depths[0])));
  out.Set("constants", c);

  STRUCT(event_hdr).F(event_hdr, kind).F(event_hdr, flags).F(event_hdr, prio).F(event_hdr, pad).F(event_hdr, size).F(event_hdr, ktime_ns);
  STRUCT(proc_ctx).F(proc_ctx, pid).F(proc_ctx, tid).F(proc_ctx, uid).F(proc_ctx, gid).F(proc_ctx, cgroup_id).F(proc_ctx, comm)
      .F(proc_ctx, workload).F(proc_ctx, pflags);
  STRUCT(exec_event)
      .F(exec_event, hdr).F(exec_event, proc).F(exec_event, ppid).F(exec_event, exe_len).F(exec_event, args_len)
      .F(exec_event, start_ns).F(exec_event, exe_ino).F(exec_event, exe_ctime_ns).F(exec_event, exe_dev)
      .F(exec_event, argc).F(exec_event, rule).F(exec_event, cwd_len).F(exec_event, exe_flags).F(exec_event, tail);
  STRUCT(fork_event).F(fork_event, proc).F(fork_event, child_pid).F(fork_event, child_start_ns);
  STRUCT(exit_event).F(exit_event, proc).F(exit_event, status).F(exit_event, start_ns);
  STRUCT(file_event)
      .F(file_event, proc).F(file_event, ret).F(file_event, flags).F(file_event, mode).F(file_event, path_len)
      .F(file_event, new_path_len).F(file_event, syscall_nr).F(file_event, rule).F(file_event, dir_ino)
      .F(file_event, new_dir_ino).F(file_event, dir_dev).F(file_event, new_dir_dev).F(file_event, dir_off)
      .F(file_event, new_dir_off).F(file_event, id_flags).F(file_event, pad2).F(file_event, tail);
  STRUCT(connect_event)
      .F(connect_event, proc).F(connect_event, family).F(connect_event, dport).F(connect_event, sock_type)
      .F(connect_event, protocol).F(connect_event, daddr).F(connect_event, rule);
  STRUCT(priv_event).F(priv_event, proc).F(priv_event, ret).F(priv_event, syscall_nr).F(priv_event, arg)
      .F(priv_event, rule);
  STRUCT(cgroup_event).F(cgroup_event, proc).F(cgroup_event, id).F(cgroup_event, parent_id).F(cgroup_event, path_len).F(cgroup_event, op).F(cgroup_event, _pad);
  STRUCT(migrate_event).F(migrate_event, proc).F(migrate_event, to_cgid).F(migrate_event, from_cgid)
      .F(migrate_event, writer_pid).F(migrate_event, rule).F(migrate_event, path_len).F(migrate_event, threadgroup)
      .F(migrate_event, pad).F(migrate_event, tail);
  STRUCT(socket_event).F(socket_event, proc).F(socket_event, family).F(socket_event, type).F(socket_event, protocol)
      .F(socket_event, pad).F(socket_event, ret).F(socket_event, rule);
  STRUCT(io_uring_event).F(io_uring_event, proc).F(io_uring_event, opcode).F(io_uring_event, op_class)
      .F(io_uring_event, family).F(io_uring_event, rule).F(io_uring_event, sock_type).F(io_uring_event, names_full)
      .F(io_uring_event, pad).F(io_uring_event, pad2).F(io_uring_event, path).F(io_uring_event, new_path);
  STRUCT(code_event).F(code_event, proc).F(code_event, ino).F(code_event, dev).F(code_event, path_len)
      .F(code_event, how).F(code_event, pad).F(code_event, tail);
  STRUCT(code_key).F(code_key, workload).F(code_key, dev).F(code_key, ino);
  STRUCT(sys_event)
      .F(sys_event, proc).F(sys_event, ret).F(sys_event, syscall_nr).F(sys_event, flags).F(sys_event, str1_len)
      .F(sys_event, str2_len).F(sys_event, str3_len).F(sys_event, rule).F(sys_event, tail);
  STRUCT(attr_event).F(attr_event, proc).F(attr_event, ret).F(attr_event, syscall_nr).F(attr_event, uid)
      .F(attr_event, gid).F(attr_event, flags).F(attr_event, path_len).F(attr_event, name_len)
      .F(attr_event, value_len).F(attr_event, rule).F(attr_event, tail);
  STRUCT(sockfd_event).F(sockfd_event, proc).F(sockfd_event, ret).F(sockfd_event, syscall_nr).F(sockfd_event, fd)
      .F(sockfd_event, family).F(sockfd_event, type).F(sockfd_event, protocol).F(sockfd_event, port)
      .F(sockfd_event, backlog).F(sockfd_event, addr).F(sockfd_event, rule).F(sockfd_event, pad);
  STRUCT(memfd_event).F(memfd_event, proc).F(memfd_event, ret).F(memfd_event, flags).F(memfd_event, rule)
      .F(memfd_event, pad).F(memfd_event, name);
  STRUCT(bpf_event).F(bpf_event, proc).F(bpf_event, ret).F(bpf_event, cmd).F(bpf_event, prog_type)
      .F(bpf_event, attach_type).F(bpf_event, insn_cnt).F(bpf_event, rule).F(bpf_event, prog_name);
  STRUCT(kind_counters).F(kind_counters, seen).F(kind_counters, emitted).F(kind_counters, dropped)
      .F(kind_counters, busy).F(kind_counters, enforced).F(kind_counters, lost);
  STRUCT(vigil_config).F(vigil_config, kinds).F(vigil_config, scoped_kinds).F(vigil_config, self_tgid)
      .F(vigil_config, wakeup_bytes).F(vigil_config, scope_active)
      .F(vigil_config, generation).F(vigil_config, kill_kinds).F(vigil_config, path_kinds)
      .F(vigil_config, path_filter_kinds).F(vigil_config, urgent_kinds).F(vigil_config, rules_gen)
      .F(vigil_config, net_active).F(vigil_config, prefix_depths).F(vigil_config, origin_active).F(vigil_config, guard_only)
      .F(vigil_config, create_active).F(vigil_config, resolve_active).F(vigil_config, id_kinds).F(vigil_config, exe_state)
      .F(vigil_config, loader_active)
      .F(vigil_config, dir_active).F(vigil_config, dir_bloom);
  STRUCT(rule_key).F(rule_key, workload).F(rule_key, kind).F(rule_key, match).F(rule_key, gen).F(rule_key, hash);
  STRUCT(rule_val).F(rule_val, kill_rule).F(rule_val, actions).F(rule_val, access).F(rule_val, slots);
  STRUCT(file_key).F(file_key, workload).F(file_key, kind).F(file_key, match).F(file_key, gen).F(file_key, dev)
      .F(file_key, ino);
  STRUCT(bin_key).F(bin_key, set).F(bin_key, gen).F(bin_key, type).F(bin_key, dev).F(bin_key, val);
  STRUCT(bin_test).F(bin_test, set).F(bin_test, who).F(bin_test, negate);
  STRUCT(cond_key).F(cond_key, workload).F(cond_key, kind).F(cond_key, slot).F(cond_key, gen);
  STRUCT(rule_cond).F(rule_cond, rule).F(rule_cond, access).F(rule_cond, match).F(rule_cond, except);
  STRUCT(net_rule_key).F(net_rule_key, workload).F(net_rule_key, slot).F(net_rule_key, gen);
  STRUCT(net_rule).F(net_rule, rule).F(net_rule, has_pos).F(net_rule, has_neg).F(net_rule, nports).F(net_rule, ports);
  STRUCT(net_prefix_key).F(net_prefix_key, prefixlen).F(net_prefix_key, workload).F(net_prefix_key, slot)
      .F(net_prefix_key, gen).F(net_prefix_key, polarity).F(net_prefix_key, family).F(net_prefix_key, addr);
  STRUCT(cgroup_info).F(cgroup_info, workload).F(cgroup_info, flags);
  STRUCT(task_state).F(task_state, origin_cgid).F(task_state, origin_workload).F(task_state, origin_level)
      .F(task_state, flags).F(task_state, exe_ino).F(task_state, exe_dev).F(task_state, exe_flags)
      .F(task_state, exe_hash);
  return out;
}

}  // namespace vigil
