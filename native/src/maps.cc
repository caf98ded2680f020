#include "maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "errors.h"
#include "options.h"

namespace vigil {

namespace {

struct MapBatch {
  int fd;
  uint32_t key_size;
  uint32_t value_size;
  const uint8_t* keys;
  size_t count;
};

MapBatch BatchArgs(const Napi::CallbackInfo& info, bpf_object* obj, const char* what) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsTypedArray())
    throw Napi::TypeError::New(env, std::string(what) + "(map, keys: Uint8Array, ...): bad arguments");
  std::string name = info[0].As<Napi::String>();
  bpf_map* m = obj ? bpf_object__find_map_by_name(obj, name.c_str()) : nullptr;
  if (!m) throw Napi::Error::New(env, std::string(what) + ": no map named " + name);
  Napi::Uint8Array keys = info[1].As<Napi::Uint8Array>();
  MapBatch b{bpf_map__fd(m), bpf_map__key_size(m), bpf_map__value_size(m), keys.Data(), 0};
  if (keys.ByteLength() % b.key_size)
    throw Napi::TypeError::New(env, std::string(what) + ": keys are " + std::to_string(keys.ByteLength()) +
                                        " bytes, not a multiple of the key size " + std::to_string(b.key_size));
  b.count = keys.ByteLength() / b.key_size;
  return b;
}

}  // namespace

void Maps::Open(Napi::Env env, bpf_object* obj) {
  obj_ = obj;
  settings_fd_ = bpf_object__find_map_fd_by_name(obj, "settings");
  counters_fd_ = bpf_object__find_map_fd_by_name(obj, "counters");
  cgroups_fd_ = bpf_object__find_map_fd_by_name(obj, "cgroups");
  if (settings_fd_ < 0 || counters_fd_ < 0 || cgroups_fd_ < 0)
    throw Napi::Error::New(env, "loading BPF object: settings/counters/cgroups maps missing");
}

void Maps::Close() {
  obj_ = nullptr;
  settings_fd_ = counters_fd_ = cgroups_fd_ = -1;
}

void Maps::InitConfig(uint32_t self_tgid, uint32_t ring_bytes) {
  cfg_.self_tgid = self_tgid;
  cfg_.wakeup_bytes = ring_bytes / 4;
}

void Maps::ApplyConfig(const Napi::Object& o) {
  cfg_.kinds = GetU32(o, "kinds", cfg_.kinds);
  cfg_.scoped_kinds = GetU32(o, "scopedKinds", cfg_.scoped_kinds);
  cfg_.scope_active = GetU32(o, "scopeActive", cfg_.scope_active);
  cfg_.self_tgid = GetU32(o, "selfTgid", cfg_.self_tgid);
  cfg_.wakeup_bytes = GetU32(o, "wakeupBytes", cfg_.wakeup_bytes);
  cfg_.kill_kinds = GetU32(o, "killKinds", cfg_.kill_kinds);
  cfg_.path_kinds = GetU32(o, "pathKinds", cfg_.path_kinds);
  cfg_.path_filter_kinds = GetU32(o, "pathFilterKinds", cfg_.path_filter_kinds);
  cfg_.urgent_kinds = GetU32(o, "urgentKinds", cfg_.urgent_kinds);
  cfg_.rules_gen = GetU32(o, "rulesGen", cfg_.rules_gen);
  cfg_.net_active = GetU32(o, "netActive", cfg_.net_active);
  cfg_.origin_active = GetU32(o, "originActive", cfg_.origin_active);
  cfg_.guard_only = GetU32(o, "guardOnly", cfg_.guard_only);
  cfg_.create_active = GetU32(o, "createActive", cfg_.create_active);
  cfg_.resolve_active = GetU32(o, "resolveActive", cfg_.resolve_active);
  cfg_.id_kinds = GetU32(o, "idKinds", cfg_.id_kinds);
  cfg_.exe_state = GetU32(o, "exeState", cfg_.exe_state);
  cfg_.loader_active = GetU32(o, "loaderActive", cfg_.loader_active);
  cfg_.dir_active = GetU32(o, "dirActive", cfg_.dir_active);
  Napi::Value bloom = o.Get("dirBloom");
  if (!bloom.IsUndefined()) {
    // 256 bits as eight 32-bit words, low word first (vigil_config.dir_bloom)
    if (!bloom.IsArray() || bloom.As<Napi::Array>().Length() != 8)
      throw Napi::TypeError::New(o.Env(), "dirBloom: expected an array of 8 numbers (32-bit words, low first)");
    Napi::Array a = bloom.As<Napi::Array>();
    uint32_t words[8];
    for (uint32_t i = 0; i < 8; i++) {
      Napi::Value v = a.Get(i);
      if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), "dirBloom: expected numbers");
      words[i] = v.As<Napi::Number>().Uint32Value();
    }
    for (uint32_t i = 0; i < 4; i++) cfg_.dir_bloom[i] = static_cast<uint64_t>(words[2 * i]) | (static_cast<uint64_t>(words[2 * i + 1]) << 32);
  }
  Napi::Value d = o.Get("prefixDepths");
  if (!d.IsUndefined()) {
    constexpr uint32_t kinds = sizeof(cfg_.prefix_depths) / sizeof(cfg_.prefix_depths[0]);
    if (!d.IsArray()) throw Napi::TypeError::New(o.Env(), "prefixDepths: expected an array of numbers, one per event kind");
    Napi::Array a = d.As<Napi::Array>();
    if (a.Length() > kinds) throw Napi::TypeError::New(o.Env(), "prefixDepths: at most one number per event kind (32)");
    for (uint32_t i = 0; i < kinds; i++) {
      Napi::Value v = i < a.Length() ? a.Get(i) : Napi::Number::New(o.Env(), 0);
      if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), "prefixDepths: expected numbers");
      cfg_.prefix_depths[i] = static_cast<uint16_t>(v.As<Napi::Number>().Uint32Value());
    }
  }
}

void Maps::AdoptConfig(Napi::Env env) {
  uint32_t zero = 0;
  vigil_config in_force{};
  if (bpf_map_lookup_elem(settings_fd_, &zero, &in_force))
    throw Napi::Error::New(env, ErrnoMessage("reading the pinned settings map", errno));
  in_force.self_tgid = cfg_.self_tgid;
  in_force.wakeup_bytes = cfg_.wakeup_bytes;
  cfg_ = in_force;
  WriteConfig(env);
}

void Maps::WriteConfig(Napi::Env env) {
  uint32_t zero = 0;
  if (bpf_map_update_elem(settings_fd_, &zero, &cfg_, BPF_ANY))
    throw Napi::Error::New(env, ErrnoMessage("writing the settings map", errno));
}

void Maps::AddCgroup(Napi::Env env, uint64_t id, uint32_t workload) {
  cgroup_info v{};
  v.workload = workload;
  if (bpf_map_update_elem(cgroups_fd_, &id, &v, BPF_ANY))
    throw Napi::Error::New(env, ErrnoMessage("adding cgroup " + std::to_string(id) + " to the cgroups map", errno));
  // cached scope decisions on every CPU are stale now
  cfg_.generation++;
  WriteConfig(env);
}

void Maps::RemoveCgroup(Napi::Env env, uint64_t id) {
  if (bpf_map_delete_elem(cgroups_fd_, &id) && errno != ENOENT)
    throw Napi::Error::New(env, ErrnoMessage("removing cgroup " + std::to_string(id), errno));
  cfg_.generation++;
  WriteConfig(env);
}

Napi::Value Maps::ReadMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "Probe.readMap(map: string)");
  std::string name = info[0].As<Napi::String>();
  bpf_map* m = obj_ ? bpf_object__find_map_by_name(obj_, name.c_str()) : nullptr;
  if (!m) throw Napi::Error::New(env, "Probe.readMap: no map named " + name);
  int fd = bpf_map__fd(m);
  uint32_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m);
  std::vector<uint8_t> keys, values, key(ks), next(ks), value(vs);
  const void* prev = nullptr;
  size_t count = 0;
  // a key removed meanwhile restarts the walk from the top: bounded by the map's size, plus room for churn
  for (size_t guard = 0; guard < static_cast<size_t>(bpf_map__max_entries(m)) * 2 + 16; guard++) {
    if (bpf_map_get_next_key(fd, prev, next.data())) {
      if (errno == ENOENT) break;
      throw Napi::Error::New(env, ErrnoMessage("reading map " + name, errno));
    }
    key = next;
    prev = key.data();
    if (bpf_map_lookup_elem(fd, key.data(), value.data())) continue;  // deleted meanwhile
    keys.insert(keys.end(), key.begin(), key.end());
    values.insert(values.end(), value.begin(), value.end());
    count++;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("keys", Napi::Buffer<uint8_t>::Copy(env, keys.data(), keys.size()));
  out.Set("values", Napi::Buffer<uint8_t>::Copy(env, values.data(), values.size()));
  out.Set("count", Napi::Number::New(env, static_cast<double>(count)));
  return out;
}

void Maps::UpdateTask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsTypedArray())
    throw Napi::TypeError::New(env, "Probe.updateTask(map: string, pid: number, value: Uint8Array)");
  std::string name = info[0].As<Napi::String>();
  bpf_map* m = obj_ ? bpf_object__find_map_by_name(obj_, name.c_str()) : nullptr;
  if (!m || bpf_map__type(m) != BPF_MAP_TYPE_TASK_STORAGE) throw Napi::Error::New(env, "Probe.updateTask: no task storage map named " + name);
  Napi::Uint8Array v = info[2].As<Napi::Uint8Array>();
  if (v.ByteLength() != bpf_map__value_size(m)) throw Napi::TypeError::New(env, "Probe.updateTask: value must be the map's value size");
  int pid = info[1].As<Napi::Number>().Int32Value();
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) throw Napi::Error::New(env, ErrnoMessage("updateTask: pidfd_open(" + std::to_string(pid) + ")", errno));
  int err = bpf_map_update_elem(bpf_map__fd(m), &pidfd, v.Data(), BPF_ANY) ? errno : 0;
  close(pidfd);
  if (err) throw Napi::Error::New(env, ErrnoMessage("updateTask: " + name + " of pid " + std::to_string(pid), err));
}

void Maps::UpdateElems(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MapBatch b = BatchArgs(info, obj_, "Probe.updateElems");
  if (info.Length() < 3 || !info[2].IsTypedArray()) throw Napi::TypeError::New(env, "Probe.updateElems: values: expected a Uint8Array");
  Napi::Uint8Array values = info[2].As<Napi::Uint8Array>();
  if (values.ByteLength() != b.count * b.value_size)
    throw Napi::TypeError::New(env, "Probe.updateElems: values must be count * value size bytes");
  for (size_t i = 0; i < b.count; i++) {
    if (bpf_map_update_elem(b.fd, b.keys + i * b.key_size, values.Data() + i * b.value_size, BPF_ANY))
      throw Napi::Error::New(env, ErrnoMessage("updating " + info[0].As<Napi::String>().Utf8Value() + " entry " +
                                                   std::to_string(i) + " of " + std::to_string(b.count),
                                               errno));
  }
}

void Maps::DeleteElems(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MapBatch b = BatchArgs(info, obj_, "Probe.deleteElems");
  for (size_t i = 0; i < b.count; i++) {
    if (bpf_map_delete_elem(b.fd, b.keys + i * b.key_size) && errno != ENOENT)
      throw Napi::Error::New(env, ErrnoMessage("deleting from " + info[0].As<Napi::String>().Utf8Value(), errno));
  }
}

int Maps::ReadCounters(std::vector<kind_counters>& out) const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return ncpu ? -ncpu : EINVAL;
  std::vector<kind_counters> per_cpu(ncpu);
  out.assign(EV_KIND_MAX, kind_counters{});
  for (uint32_t k = 0; k < EV_KIND_MAX; k++) {
    if (bpf_map_lookup_elem(counters_fd_, &k, per_cpu.data())) return errno;
    for (const auto& c : per_cpu) {
      // seen is derived, saving the kernel one atomic per event
      out[k].seen += c.emitted + c.dropped + c.busy;
      out[k].emitted += c.emitted;
      out[k].dropped += c.dropped;
      out[k].busy += c.busy;
      out[k].enforced += c.enforced;
      out[k].lost += c.lost;
    }
  }
  return 0;
}

void Maps::KeepFinalCounters() {
  if (ReadCounters(final_counters_)) final_counters_.clear();
}

}  // namespace vigil
