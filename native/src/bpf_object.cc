#include "bpf_object.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "errors.h"

namespace vigil {

BpfObject::~BpfObject() { Close(); }

void BpfObject::Load(Napi::Env env, const std::string& object, uint32_t ring_bytes,
                     const std::vector<std::string>& wanted, const std::vector<std::pair<std::string, uint32_t>>& sizes) {
  LibbpfLogCapture log;
  obj_ = bpf_object__open_file(object.c_str(), nullptr);
  if (!obj_) {
    int err = errno;
    obj_ = nullptr;
    throw Napi::Error::New(env, ErrnoMessage("opening BPF object " + object, err) + "\n" + log.Tail(10));
  }

  events_ = bpf_object__find_map_by_name(obj_, "events");
  if (!events_) throw Napi::Error::New(env, "opening BPF object " + object + ": no `events` ring buffer map");
  int err = bpf_map__set_max_entries(events_, ring_bytes);
  if (err) throw Napi::Error::New(env, ErrnoMessage("sizing the ring buffer", err));
  for (const auto& [name, entries] : sizes) {
    bpf_map* m = bpf_object__find_map_by_name(obj_, name.c_str());
    if (!m) throw Napi::Error::New(env, "sizing map " + name + ": no such map in " + object);
    err = bpf_map__set_max_entries(m, entries);
    if (err) throw Napi::Error::New(env, ErrnoMessage("sizing map " + name + " to " + std::to_string(entries), err));
  }

  // Load only what was asked for: unneeded hooks never reach the kernel.
  bpf_program* prog;
  std::vector<std::string> found;
  bpf_object__for_each_program(prog, obj_) {
    std::string name = bpf_program__name(prog);
    bool want = false;
    for (const auto& w : wanted) want = want || w == name;
    bpf_program__set_autoload(prog, want);
    if (want) found.push_back(name);
  }
  for (const auto& w : wanted) {
    bool ok = false;
    for (const auto& f : found) ok = ok || f == w;
    if (!ok) throw Napi::Error::New(env, "loading BPF object: no program named `" + w + "` in " + object);
  }

  err = bpf_object__load(obj_);
  if (err)
    throw Napi::Error::New(env, ErrnoMessage("loading BPF object " + object, err) + "\n" + log.Tail(25));
}

void BpfObject::OpenCgroupRoot(Napi::Env env, const std::string& cgroup_root) {
  if (cgroup_root.empty()) return;
  cgroup_fd_ = open(cgroup_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd_ < 0) throw Napi::Error::New(env, ErrnoMessage("opening cgroup v2 root " + cgroup_root, errno));
}

int BpfObject::RingFd() const { return bpf_map__fd(events_); }

void BpfObject::Attach(Napi::Env env, const std::string& name) {
  for (size_t i = 0; i < attached_.size(); i++)
    if (attached_[i] == name) return;
  bpf_program* prog = bpf_object__find_program_by_name(obj_, name.c_str());
  if (!prog || !bpf_program__autoload(prog))
    throw Napi::Error::New(env, "attaching " + name + ": not a loaded program");
  LibbpfLogCapture log;
  bpf_link* link = nullptr;
  if (bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SOCK_ADDR) {
    if (cgroup_fd_ < 0)
      throw Napi::Error::New(env, "attaching " + name + ": options.cgroupRoot (the cgroup v2 mount) is required");
    link = bpf_program__attach_cgroup(prog, cgroup_fd_);
  } else {
    link = bpf_program__attach(prog);
  }
  if (!link) {
    int e = errno;
    throw Napi::Error::New(env, ErrnoMessage("attaching " + name, e) + "\n" + log.Tail(10));
  }
  links_.push_back(link);
  attached_.push_back(name);
}

void BpfObject::Detach(const std::string& name) {
  for (size_t i = 0; i < attached_.size(); i++) {
    if (attached_[i] != name) continue;
    bpf_link__destroy(links_[i]);
    links_.erase(links_.begin() + static_cast<long>(i));
    attached_.erase(attached_.begin() + static_cast<long>(i));
    break;
  }
}

void BpfObject::DetachAll() {
  for (auto* l : links_) bpf_link__destroy(l);
  links_.clear();
}

void BpfObject::Close() {
  DetachAll();
  if (obj_) bpf_object__close(obj_);
  obj_ = nullptr;
  events_ = nullptr;
  if (cgroup_fd_ >= 0) close(cgroup_fd_);
  cgroup_fd_ = -1;
}

}  // namespace vigil
