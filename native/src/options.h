// Reading the options object that JS hands to the Probe (and to setConfig).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace vigil {

// o[key] as a u32, or `def` when absent; a TypeError names the option.
inline uint32_t GetU32(const Napi::Object& o, const char* key, uint32_t def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return def;
  if (!v.IsNumber())
    throw Napi::TypeError::New(o.Env(), std::string("Probe options.") + key + ": expected a number");
  return v.As<Napi::Number>().Uint32Value();
}

}  // namespace vigil
