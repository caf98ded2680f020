#include "errors.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <vector>

namespace vigil {

namespace {

thread_local std::string* g_sink = nullptr;

int PrintToSink(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG || g_sink == nullptr) return 0;
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  if (n > 0) g_sink->append(buf, std::min<size_t>(n, sizeof(buf) - 1));
  return 0;
}

const char* Hint(int err) {
  switch (err) {
    case EPERM:
    case EACCES:
      if (geteuid() == 0) return " (refused by this kernel even for root: lockdown, LSM policy or a restricted build)";
      return " (needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN, or root)";
    case ENOENT:
      return " (the kernel lacks this hook or BTF type)";
    case E2BIG:
    case ENOSPC:
      return " (program or map too large for this kernel)";
    case EINVAL:
      return " (rejected by the kernel: see the libbpf log)";
    default:
      return "";
  }
}

}  // namespace

std::string ErrnoMessage(const std::string& step, int err) {
  if (err < 0) err = -err;
  const char* name = strerrorname_np(err);
  std::string msg = step + ": " + (name ? name : "errno " + std::to_string(err));
  msg += " (";
  msg += strerror(err);
  msg += ")";
  msg += Hint(err);
  return msg;
}

LibbpfLogCapture::LibbpfLogCapture() : previous_(g_sink) {
  libbpf_set_print(PrintToSink);
  g_sink = &text_;
}

LibbpfLogCapture::~LibbpfLogCapture() { g_sink = previous_; }

std::string LibbpfLogCapture::Tail(size_t lines) const {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < text_.size(); i++)
    if (text_[i] == '\n' && i + 1 < text_.size()) starts.push_back(i + 1);
  size_t from = starts.size() > lines ? starts[starts.size() - lines] : 0;
  return text_.substr(from);
}

}  // namespace vigil
