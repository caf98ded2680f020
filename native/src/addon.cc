// Entry point of the native addon: the Probe class and a few functions.
#include <napi.h>

#include "features.h"
#include "layout.h"
#include "pidfd_kill.h"
#include "probe.h"
#include "sysutil.h"

namespace {

Napi::Value LayoutFn(const Napi::CallbackInfo& info) { return vigil::Layout(info.Env()); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Probe", vigil::Probe::Init(env));
  exports.Set("layout", Napi::Function::New(env, LayoutFn, "layout"));
  exports.Set("probeFeatures", Napi::Function::New(env, vigil::ProbeFeatures, "probeFeatures"));
  exports.Set("cgroupPath", Napi::Function::New(env, vigil::CgroupPath, "cgroupPath"));
  exports.Set("clocks", Napi::Function::New(env, vigil::Clocks, "clocks"));
  exports.Set("pidfdKill", Napi::Function::New(env, vigil::PidfdKill, "pidfdKill"));
  return exports;
}

}  // namespace

NODE_API_MODULE(vigil_native, Init)
