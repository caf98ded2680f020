// Reader: the ring-buffer reader thread and its road to JS.
//
// One reader thread drains the ring buffer (woken by a short timer, or by
// the kernel once the fill threshold is crossed) and copies records into
// batches; each batch reaches JS as one ArrayBuffer through a bounded
// TypedThreadSafeFunction queue. What does not fit is counted, never
// waited for.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ringbuf.h"

namespace vigil {

struct Batch {
  std::vector<uint8_t> data;
  uint32_t records = 0;
};

class Reader;
void DeliverBatch(Napi::Env env, Napi::Function callback, Reader* reader, Batch* batch);
using BatchFn = Napi::TypedThreadSafeFunction<Reader, Batch, DeliverBatch>;

struct ReaderOptions {
  int poll_interval_ms = 2;
  size_t batch_bytes = 256 * 1024;
  size_t queue_depth = 64;
};

struct ReaderStats {
  uint64_t records_read;
  uint64_t bytes_read;
  uint64_t batches_queued;
  uint64_t queue_drop_records;
  uint64_t queue_drop_batches;
  uint64_t records_delivered;
  uint64_t wakeups;
};

class Reader {
 public:
  Reader() = default;
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Map the ring of `ring_fd` and set up the epoll the thread waits on.
  void Open(Napi::Env env, int ring_fd, uint32_t ring_bytes, const ReaderOptions& opts);
  // Start the thread: batches go to on_batch(buf, records); on_closed()
  // runs once the last queued batch has been delivered after Release().
  void Start(Napi::Env env, Napi::Function on_batch, Napi::Function on_closed);
  bool started() const { return started_; }
  void Pause();
  void Resume();
  // Stop the thread after a last drain, and join it.
  void Stop();
  // Let go of the JS function: queued batches still reach JS, then on_closed.
  void Release();
  // Unmap the ring, close the epoll and eventfd. The thread must be stopped.
  void Close();

  ReaderStats stats() const;
  void CountDelivered(uint32_t records) { records_delivered_ += records; }

 private:
  void Loop();
  void Drain();
  void Flush();

  RingBuf ring_;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  ReaderOptions opts_;

  std::thread thread_;
  BatchFn batch_fn_;
  bool started_ = false;
  std::atomic<bool> stopping_{false};
  std::mutex pause_mu_;
  std::condition_variable pause_cv_;
  bool paused_ = false;
  std::unique_ptr<Batch> batch_;

  // statistics
  std::atomic<uint64_t> records_read_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> batches_queued_{0};
  std::atomic<uint64_t> queue_drop_records_{0};
  std::atomic<uint64_t> queue_drop_batches_{0};
  std::atomic<uint64_t> records_delivered_{0};
  std::atomic<uint64_t> wakeups_{0};
};

}  // namespace vigil
