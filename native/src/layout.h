// The C layout of bpf/events.h, for the ABI test and the decoder's self-check.
#pragma once

#include <napi.h>

namespace vigil {

// { abiVersion, constants: {...}, structs: { name: { size, fields: { name: offset } } } }
Napi::Object Layout(Napi::Env env);

}  // namespace vigil
