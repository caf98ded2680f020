// Maps: what user space writes into and reads out of the loaded object.
// The run-time configuration (the `settings` map, as the kernel reads it),
// the `cgroups` scope map, batched updates and deletes of any map by name
// (rule tables), and the per-CPU `counters`, summed. The map fds belong to
// the BPF object; Maps only borrows them.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "events.h"

struct bpf_object;

namespace vigil {

class Maps {
 public:
  // Find the settings, counters and cgroups maps of a loaded object.
  void Open(Napi::Env env, bpf_object* obj);
  // Forget the object (closing it closes the maps).
  void Close();

  // The configuration before any options: this process and the ring size.
  void InitConfig(uint32_t self_tgid, uint32_t ring_bytes);
  // Fold the configuration fields present in `o` into the configuration.
  void ApplyConfig(const Napi::Object& o);
  // Write the configuration to the settings map.
  void WriteConfig(Napi::Env env);
  // Take over the configuration in force (a pinned settings map): keep it, but
  // for what is this process's own (its tgid, its reader's wakeup threshold).
  void AdoptConfig(Napi::Env env);

  void AddCgroup(Napi::Env env, uint64_t id, uint32_t workload);
  // A cgroup that is not in the map is fine.
  void RemoveCgroup(Napi::Env env, uint64_t id);

  // updateElems(map, keys, values): one bpf_map_update_elem per key, in order.
  void UpdateElems(const Napi::CallbackInfo& info);
  // deleteElems(map, keys): missing keys are fine.
  void DeleteElems(const Napi::CallbackInfo& info);

  // readMap(map): every entry, as { keys, values, count } (keys and values concatenated).
  Napi::Value ReadMap(const Napi::CallbackInfo& info);
  // updateTask(map, pid, value): a task-storage entry, keyed by the task's pidfd.
  void UpdateTask(const Napi::CallbackInfo& info);

  // Sum the per-CPU counters of every kind into `out`. Returns 0 or errno.
  int ReadCounters(std::vector<kind_counters>& out) const;
  // Read the counters one last time, so that they outlive the maps.
  void KeepFinalCounters();
  const std::vector<kind_counters>& final_counters() const { return final_counters_; }

 private:
  bpf_object* obj_ = nullptr;
  int settings_fd_ = -1;
  int counters_fd_ = -1;
  int cgroups_fd_ = -1;
  // run-time configuration, as the kernel reads it
  vigil_config cfg_{};
  std::vector<kind_counters> final_counters_;
};

}  // namespace vigil
