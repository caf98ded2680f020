// Probe: the loaded and attached BPF object plus the ring-buffer reader.
//
// One reader thread drains the ring buffer (woken by a short timer, or by
// the kernel once the fill threshold is crossed) and copies records into
// batches; each batch reaches JS as one ArrayBuffer through a bounded
// TypedThreadSafeFunction queue. What does not fit is counted, never
// waited for. close() stops and joins the thread and detaches everything.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events.h"
#include "ringbuf.h"

struct bpf_object;
struct bpf_link;

namespace vigil {

struct Batch {
  std::vector<uint8_t> data;
  uint32_t records = 0;
};

class Probe;
void DeliverBatch(Napi::Env env, Napi::Function callback, Probe* probe, Batch* batch);
using BatchFn = Napi::TypedThreadSafeFunction<Probe, Batch, DeliverBatch>;

class Probe : public Napi::ObjectWrap<Probe> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Probe(const Napi::CallbackInfo& info);
  ~Probe() override;

  void CountDelivered(uint32_t records) { records_delivered_ += records; }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Pause(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value SetConfig(const Napi::CallbackInfo& info);
  Napi::Value AddCgroup(const Napi::CallbackInfo& info);
  Napi::Value RemoveCgroup(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Attached(const Napi::CallbackInfo& info);
  Napi::Value UpdateElems(const Napi::CallbackInfo& info);
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  void AttachOne(Napi::Env env, const std::string& name);
  Napi::Value DeleteElems(const Napi::CallbackInfo& info);
  void ApplyConfig(const Napi::Object& o);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void Load(Napi::Env env, const Napi::Object& opts);
  void WriteConfig(Napi::Env env);
  void ReaderLoop();
  void Drain();
  void Flush();
  int ReadCounters(std::vector<kind_counters>& out);
  void StopReader();
  void Teardown();

  bpf_object* obj_ = nullptr;
  std::vector<bpf_link*> links_;
  std::vector<std::string> attached_;
  RingBuf ring_;
  int cgroup_fd_ = -1;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  int settings_fd_ = -1;
  int counters_fd_ = -1;
  int cgroups_fd_ = -1;

  // run-time configuration, as the kernel reads it
  vigil_config cfg_{};
  int poll_interval_ms_ = 2;
  size_t batch_bytes_ = 256 * 1024;
  size_t queue_depth_ = 64;

  // reader
  std::thread reader_;
  BatchFn batch_fn_;
  bool started_ = false;
  bool closed_ = false;
  std::atomic<bool> stopping_{false};
  std::mutex pause_mu_;
  std::condition_variable pause_cv_;
  bool paused_ = false;
  std::unique_ptr<Batch> batch_;
  std::vector<kind_counters> final_counters_;

  // reader statistics
  std::atomic<uint64_t> records_read_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> batches_queued_{0};
  std::atomic<uint64_t> queue_drop_records_{0};
  std::atomic<uint64_t> queue_drop_batches_{0};
  std::atomic<uint64_t> records_delivered_{0};
  std::atomic<uint64_t> wakeups_{0};
};

}  // namespace vigil
