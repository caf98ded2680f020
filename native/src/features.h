// Which hook types this kernel accepts, found by loading and attaching one
// tiny program of each type (bpf/features.bpf.c).
#pragma once

#include <napi.h>

namespace vigil {

// probeFeatures(objectPath, cgroupRoot) -> [{ program, section, loaded, attached, error }]
Napi::Value ProbeFeatures(const Napi::CallbackInfo& info);

}  // namespace vigil
