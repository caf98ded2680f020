// BpfObject: the libbpf half of the Probe's lifecycle. Opens vigil.bpf.o,
// loads only the programs asked for, attaches and detaches them one by one
// (cgroup programs to the cgroup v2 root), and closes it all.
//
// With a pin directory (bpffs), enforcement outlives this process: the maps
// that hold state (settings, cgroups, rules, tasks, counters, the ring) are
// pinned and reused by the next agent, links are pinned so the programs stay
// attached while no agent runs, and a new agent's link replaces the old one
// only after it is attached (never a moment with neither). Layout:
//   DIR/v<ABI>/maps/<map>, DIR/v<ABI>/links/<program>
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
  // `pin_dir`: "" for none, else pin and reuse maps and links there (see above).
  void Load(Napi::Env env, const std::string& object, uint32_t ring_bytes, const std::vector<std::string>& wanted,
            const std::vector<std::pair<std::string, uint32_t>>& sizes, const std::string& pin_dir);
  // True when the maps of a previous agent were reused (its settings and rules are in force).
  bool adopted() const { return adopted_; }
  const std::string& pin_base() const { return pin_base_; }
  // Unpin and detach what other ABI versions left in the pin directory (after our links are attached).
  void RemoveOtherVersions();
  // Remove everything under a pin directory: links (their programs detach once nobody holds them) and maps.
  static std::vector<std::string> UnpinAll(const std::string& dir);
  // The directory that cgroup programs attach to; "" for none.
  void OpenCgroupRoot(Napi::Env env, const std::string& cgroup_root);

  // Attach a loaded program (no-op if attached).
  void Attach(Napi::Env env, const std::string& name);
  // Detach an attached program (no-op if not attached).
  void Detach(const std::string& name);
  void DetachAll();
  // Detach everything, close the object (its map fds too) and the cgroup root.
  // keep_pinned: pinned links stay attached (enforcement goes on without us).
  void Close(bool keep_pinned = false);
  // Release our links; keep_pinned: pinned ones stay in the kernel.
  void ReleaseLinks(bool keep_pinned);

  bpf_object* object() const { return obj_; }
  int RingFd() const;
  const std::vector<std::string>& attached() const { return attached_; }

 private:
  bpf_object* obj_ = nullptr;
  bpf_map* events_ = nullptr;
  std::vector<bpf_link*> links_;
  std::vector<std::string> attached_;
  int cgroup_fd_ = -1;
  std::string pin_root_;
  std::string pin_base_;
  bool adopted_ = false;

  void Open(Napi::Env env, const std::string& object, uint32_t ring_bytes, const std::vector<std::string>& wanted,
            const std::vector<std::pair<std::string, uint32_t>>& sizes, bool pin);
  std::string LinkPath(const std::string& name) const { return pin_base_ + "/links/" + name; }
};

}  // namespace vigil
