#include "sysutil.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

namespace {

// Field 22 of /proc/PID/stat, or -1.
long long StartTicks(int pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  // comm may hold spaces and parentheses: fields resume after the last ')'
  char* p = strrchr(buf, ')');
  if (!p) return -1;
  p += 2;  // ") "
  // p is at field 3 (state); field 22 is 19 fields further
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  return p ? atoll(p) : -1;
}

Napi::Object KillResult(Napi::Env env, bool ok, const std::string& reason) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", ok);
  if (!ok) o.Set("reason", reason);
  return o;
}

}  // namespace

Napi::Value PidfdKill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "pidfdKill(pid: number, startTicks: number)");
  int pid = info[0].As<Napi::Number>().Int32Value();
  long long expected = info[1].As<Napi::Number>().Int64Value();
  if (pid <= 1) return KillResult(env, false, "refusing to kill pid " + std::to_string(pid));
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int err = errno;
    if (err == ESRCH) return KillResult(env, false, "the process had already exited");
    return KillResult(env, false, ErrnoMessage("pidfd_open", err));
  }
  long long actual = StartTicks(pid);
  if (actual < 0) {
    close(pidfd);
    return KillResult(env, false, "the process had already exited");
  }
  if (expected >= 0 && actual != expected) {
    close(pidfd);
    return KillResult(env, false,
                      "pid " + std::to_string(pid) + " now belongs to another process (started at tick " +
                          std::to_string(actual) + ", expected " + std::to_string(expected) + ")");
  }
  long r = syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  int err = errno;
  close(pidfd);
  if (r < 0) {
    if (err == ESRCH) return KillResult(env, false, "the process had already exited");
    return KillResult(env, false, ErrnoMessage("pidfd_send_signal", err));
  }
  return KillResult(env, true, "");
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
