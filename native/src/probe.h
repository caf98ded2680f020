// Probe: the loaded and attached BPF object, its maps (maps.h) and the
// ring-buffer reader (reader.h). close() stops and joins the thread and
// detaches everything.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "maps.h"
#include "reader.h"

struct bpf_object;
struct bpf_link;

namespace vigil {

class Probe : public Napi::ObjectWrap<Probe> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Probe(const Napi::CallbackInfo& info);
  ~Probe() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Pause(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value SetConfig(const Napi::CallbackInfo& info);
  Napi::Value AddCgroup(const Napi::CallbackInfo& info);
  Napi::Value RemoveCgroup(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Attached(const Napi::CallbackInfo& info);
  Napi::Value UpdateElems(const Napi::CallbackInfo& info);
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  void AttachOne(Napi::Env env, const std::string& name);
  Napi::Value DeleteElems(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void Load(Napi::Env env, const Napi::Object& opts);
  void Teardown();

  bpf_object* obj_ = nullptr;
  std::vector<bpf_link*> links_;
  std::vector<std::string> attached_;
  int cgroup_fd_ = -1;

  Maps maps_;
  Reader reader_;
  bool closed_ = false;
};

}  // namespace vigil
