#include "features.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "errors.h"

namespace vigil {

namespace {

struct Outcome {
  std::string program;
  std::string section;
  bool loaded = false;
  bool attached = false;
  std::string error;
};

/** Where libbpf looks for tracepoint ids: tracefs, or its old place under debugfs. */
bool TracefsMounted() {
  return access("/sys/kernel/tracing/events", F_OK) == 0 || access("/sys/kernel/debug/tracing/events", F_OK) == 0;
}

Outcome TryOne(const std::string& path, const std::string& name, int cgroup_fd) {
  Outcome out;
  out.program = name;
  LibbpfLogCapture log;
  bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
  if (!obj) {
    out.error = ErrnoMessage("opening " + path, errno);
    return out;
  }
  bpf_program* target = nullptr;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    bool me = name == bpf_program__name(prog);
    bpf_program__set_autoload(prog, me);
    if (me) target = prog;
  }
  if (!target) {
    bpf_object__close(obj);
    out.error = "no program " + name;
    return out;
  }
  out.section = bpf_program__section_name(target);
  int err = bpf_object__load(obj);
  if (err) {
    out.error = ErrnoMessage("loading", err);
    bpf_object__close(obj);
    return out;
  }
  out.loaded = true;
  bpf_link* link = nullptr;
  if (bpf_program__type(target) == BPF_PROG_TYPE_CGROUP_SOCK_ADDR) {
    if (cgroup_fd < 0) {
      out.error = "attaching: no cgroup v2 root given";
    } else {
      link = bpf_program__attach_cgroup(target, cgroup_fd);
    }
  } else {
    link = bpf_program__attach(target);
  }
  if (link) {
    out.attached = true;
    bpf_link__destroy(link);
  } else if (out.error.empty()) {
    int e = errno;
    // libbpf finds a classic tracepoint's id in tracefs: without it mounted, ENOENT says nothing of the cause
    if (e == ENOENT && bpf_program__type(target) == BPF_PROG_TYPE_TRACEPOINT && !TracefsMounted()) {
      out.error = "attaching: ENOENT (tracefs is not mounted: mount -t tracefs nodev /sys/kernel/tracing)";
    } else {
      out.error = ErrnoMessage("attaching", e);
    }
  }
  bpf_object__close(obj);
  return out;
}

}  // namespace

Napi::Value ProbeFeatures(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "probeFeatures(objectPath, cgroupRoot?): expected a path");
  std::string path = info[0].As<Napi::String>();
  int cgroup_fd = -1;
  if (info.Length() > 1 && info[1].IsString()) {
    std::string root = info[1].As<Napi::String>();
    cgroup_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  std::vector<std::string> names;
  {
    LibbpfLogCapture log;
    bpf_object* obj = bpf_object__open_file(path.c_str(), nullptr);
    if (!obj) {
      int e = errno;
      if (cgroup_fd >= 0) close(cgroup_fd);
      throw Napi::Error::New(env, ErrnoMessage("opening " + path, e));
    }
    bpf_program* prog;
    bpf_object__for_each_program(prog, obj) names.push_back(bpf_program__name(prog));
    bpf_object__close(obj);
  }
  Napi::Array result = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) {
    Outcome o = TryOne(path, names[i], cgroup_fd);
    Napi::Object r = Napi::Object::New(env);
    r.Set("program", o.program);
    r.Set("section", o.section);
    r.Set("loaded", o.loaded);
    r.Set("attached", o.attached);
    r.Set("error", o.error.empty() ? env.Null() : Napi::String::New(env, o.error));
    result.Set(static_cast<uint32_t>(i), r);
  }
  if (cgroup_fd >= 0) close(cgroup_fd);
  return result;
}

}  // namespace vigil
