// The addon's one kill.
#pragma once

#include <napi.h>

namespace vigil {

// pidfdKill(pid, startTicks) -> { ok: true } | { ok: false, reason }
// SIGKILL a process, race-free against PID reuse: pidfd_open() pins the
// process, /proc/PID/stat's start time (field 22, clock ticks since boot)
// proves it is the one we mean, pidfd_send_signal() kills exactly it.
Napi::Value PidfdKill(const Napi::CallbackInfo& info);

}  // namespace vigil
