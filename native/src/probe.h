// Probe: the JS face of the loaded and attached BPF object plus the
// ring-buffer reader. It checks arguments and delegates: BpfObject loads,
// attaches and detaches; Maps writes configuration, scope and rule maps and
// reads the counters; Reader runs the reader thread. close() stops and
// joins the thread and detaches everything.
#pragma once

#include <napi.h>

#include "bpf_object.h"
#include "maps.h"
#include "reader.h"

namespace vigil {

class Probe : public Napi::ObjectWrap<Probe> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Probe(const Napi::CallbackInfo& info);
  ~Probe() override;

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Take(const Napi::CallbackInfo& info);
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
  Napi::Value DeleteElems(const Napi::CallbackInfo& info);
  Napi::Value ReadMap(const Napi::CallbackInfo& info);
  Napi::Value UpdateTask(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void Load(Napi::Env env, const Napi::Object& opts);
  // Throws "Probe.<method>: the probe is closed" once closed.
  void RequireOpen(Napi::Env env, const char* method) const;
  void Teardown();
  Napi::Value Pinned(const Napi::CallbackInfo& info);

  BpfObject bpf_;
  Maps maps_;
  Reader reader_;
  bool closed_ = false;
  bool keep_pinned_ = true;
};

}  // namespace vigil
