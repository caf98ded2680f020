// Error text for the addon: every message names the step and the errno.
#pragma once

#include <string>

namespace vigil {

// "step: EPERM (Operation not permitted)" plus a hint for the usual causes.
std::string ErrnoMessage(const std::string& step, int err);

// Captures libbpf's log lines (verifier output included) on this thread
// while alive, so that a failed load can say why.
class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;
  // The last `lines` lines of warnings and errors.
  std::string Tail(size_t lines) const;

 private:
  std::string text_;
  std::string* previous_;
};

}  // namespace vigil
