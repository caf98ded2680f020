#include "sysutil.h"

#include <fcntl.h>
#include <time.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errors.h"

namespace vigil {

namespace {

constexpr int kFileidKernfs = 0xfe;

struct KernfsHandle {
  unsigned int handle_bytes;
  int handle_type;
  uint64_t id;
};

}  // namespace

Napi::Value CgroupPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBigInt())
    throw Napi::TypeError::New(env, "cgroupPath(cgroupRoot: string, id: bigint)");
  std::string root = info[0].As<Napi::String>();
  bool lossless = false;
  uint64_t id = info[1].As<Napi::BigInt>().Uint64Value(&lossless);
  int mount_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (mount_fd < 0) throw Napi::Error::New(env, ErrnoMessage("opening cgroup v2 root " + root, errno));
  KernfsHandle h{sizeof(uint64_t), kFileidKernfs, id};
  int fd = open_by_handle_at(mount_fd, reinterpret_cast<file_handle*>(&h), O_RDONLY | O_CLOEXEC);
  int err = errno;
  close(mount_fd);
  if (fd < 0) {
    if (err == ESTALE || err == ENOENT) return env.Null();
    throw Napi::Error::New(env, ErrnoMessage("resolving cgroup id " + std::to_string(id), err));
  }
  char link[64];
  char target[PATH_MAX];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof(target) - 1);
  err = errno;
  close(fd);
  if (n < 0) throw Napi::Error::New(env, ErrnoMessage("reading the path of cgroup " + std::to_string(id), err));
  target[n] = 0;
  std::string path(target);
  // readlink gives the path as seen from our mount namespace
  if (path.compare(0, root.size(), root) == 0) path = path.substr(root.size());
  if (path.empty()) path = "/";
  return Napi::String::New(env, path);
}

Napi::Value Clocks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // bracket the boottime read with two realtime reads and take the midpoint
  timespec r1, b, r2;
  clock_gettime(CLOCK_REALTIME, &r1);
  clock_gettime(CLOCK_BOOTTIME, &b);
  clock_gettime(CLOCK_REALTIME, &r2);
  auto ns = [](const timespec& t) -> uint64_t { return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec); };
  Napi::Object o = Napi::Object::New(env);
  o.Set("realtimeNs", Napi::BigInt::New(env, (ns(r1) + ns(r2)) / 2));
  o.Set("boottimeNs", Napi::BigInt::New(env, ns(b)));
  return o;
}

}  // namespace vigil
