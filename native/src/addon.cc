// Entry point of the native addon: the Probe class and a few functions.
#include <napi.h>

#include "bpf_object.h"
#include "features.h"
#include "layout.h"
#include "pidfd_kill.h"
#include "probe.h"
#include "sysutil.h"

namespace {

Napi::Value LayoutFn(const Napi::CallbackInfo& info) { return vigil::Layout(info.Env()); }

// unpinAll(dir): remove a pin directory (links first: their programs detach once nobody holds them).
Napi::Value UnpinAllFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "unpinAll(dir: string)");
  std::vector<std::string> removed = vigil::BpfObject::UnpinAll(info[0].As<Napi::String>());
  Napi::Array a = Napi::Array::New(env, removed.size());
  for (size_t i = 0; i < removed.size(); i++) a.Set(static_cast<uint32_t>(i), removed[i]);
  return a;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Probe", vigil::Probe::Init(env));
  exports.Set("layout", Napi::Function::New(env, LayoutFn, "layout"));
  exports.Set("probeFeatures", Napi::Function::New(env, vigil::ProbeFeatures, "probeFeatures"));
  exports.Set("cgroupPath", Napi::Function::New(env, vigil::CgroupPath, "cgroupPath"));
  exports.Set("clocks", Napi::Function::New(env, vigil::Clocks, "clocks"));
  exports.Set("pidfdKill", Napi::Function::New(env, vigil::PidfdKill, "pidfdKill"));
  exports.Set("unpinAll", Napi::Function::New(env, UnpinAllFn, "unpinAll"));
  return exports;
}

}  // namespace

NODE_API_MODULE(vigil_native, Init)
