// System calls Node does not expose.
#pragma once

#include <napi.h>

namespace vigil {

// cgroupPath(cgroupRoot, id: bigint) -> path relative to the root, or null
// when no such cgroup exists (any more). Uses open_by_handle_at on the
// cgroup v2 filesystem: a cgroup id is its kernfs file handle.
Napi::Value CgroupPath(const Napi::CallbackInfo& info);

// clocks() -> { realtimeNs: bigint, boottimeNs: bigint }, read back to back:
// kernel timestamps are CLOCK_BOOTTIME, alerts want wall-clock time.
Napi::Value Clocks(const Napi::CallbackInfo& info);

}  // namespace vigil
