// BpfObject: the libbpf half of the Probe's lifecycle. Opens vigil.bpf.o,
// loads only the programs asked for, attaches and detaches them one by one
// (cgroup programs to the cgroup v2 root), and closes it all.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct bpf_object;
struct bpf_link;
struct bpf_map;

namespace vigil {

class BpfObject {
 public:
  BpfObject() = default;
  ~BpfObject();
  BpfObject(const BpfObject&) = delete;
  BpfObject& operator=(const BpfObject&) = delete;

  // Open `object`, size its `events` ring buffer to ring_bytes and load the
  // `wanted` programs (and only those) into the kernel.
  // `sizes`: max_entries of other maps by name (from configuration).
  void Load(Napi::Env env, const std::string& object, uint32_t ring_bytes, const std::vector<std::string>& wanted,
            const std::vector<std::pair<std::string, uint32_t>>& sizes);
  // The directory that cgroup programs attach to; "" for none.
  void OpenCgroupRoot(Napi::Env env, const std::string& cgroup_root);

  // Attach a loaded program (no-op if attached).
  void Attach(Napi::Env env, const std::string& name);
  // Detach an attached program (no-op if not attached).
  void Detach(const std::string& name);
  void DetachAll();
  // Detach everything, close the object (its map fds too) and the cgroup root.
  void Close();

  bpf_object* object() const { return obj_; }
  int RingFd() const;
  const std::vector<std::string>& attached() const { return attached_; }

 private:
  bpf_object* obj_ = nullptr;
  bpf_map* events_ = nullptr;
  std::vector<bpf_link*> links_;
  std::vector<std::string> attached_;
  int cgroup_fd_ = -1;
};

}  // namespace vigil
