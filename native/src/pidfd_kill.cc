#include "pidfd_kill.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "errors.h"

namespace vigil {

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

}  // namespace vigil
