// Reader: the ring-buffer reader thread and its road to JS.
//
// One reader thread drains the ring buffer (woken by a short timer, or by
// the kernel once the fill threshold is crossed) and copies records into
// batches, in ring order. The batches wait in one queue that JS pulls from
// (Take), poked through a TypedThreadSafeFunction when the queue was empty.
//
// Nothing is shed blindly. When more than queue_bytes wait for JS, the
// report-only records of waiting batches are removed (counted as queue
// drops), oldest batches first, so that what remains, in order, is what
// judgements need: the process life cycle and the records a user-space kill
// rule must judge (event_hdr.prio). And when a batch holding such a record
// arrives behind more than urgent_ahead_bytes, the report-only records ahead
// of it go at once: a decision waits behind the other decisions and the life
// cycle, never behind a backlog of report-only records. What remains waits
// for as long as JS needs, up to hold_bytes; past that, urgent records are
// counted as lost decisions.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ringbuf.h"

namespace vigil {

struct Batch {
  std::vector<uint8_t> data;
  uint32_t records = 0;
  // records a user-space kill rule must judge
  uint32_t urgent = 0;
  // report-only records removed already (nothing left to shed)
  bool compact = false;
};

class Reader;
void DeliverPoke(Napi::Env env, Napi::Function callback, Reader* reader, Batch* unused);
using PokeFn = Napi::TypedThreadSafeFunction<Reader, Batch, DeliverPoke>;

struct ReaderOptions {
  int poll_interval_ms = 2;
  size_t batch_bytes = 256 * 1024;
  // bytes waiting for JS before report-only records are shed
  size_t queue_bytes = 64 * 256 * 1024;
  // bytes of life-cycle and urgent records waiting for JS before urgent ones are lost
  size_t hold_bytes = 64u << 20;
  // bytes waiting ahead of an urgent record before the report-only ones among them are shed
  size_t urgent_ahead_bytes = 1u << 20;
};

struct ReaderStats {
  uint64_t records_read;
  uint64_t bytes_read;
  uint64_t batches_queued;
  // report-only records shed because JS was behind
  uint64_t queue_drop_records;
  // life-cycle records shed past hold_bytes
  uint64_t context_drop_records;
  uint64_t records_delivered;
  uint64_t wakeups;
  uint64_t urgent_records_read;
  // urgent records shed past hold_bytes: decisions that will not be made
  uint64_t urgent_drop_records;
  uint64_t pending_bytes;
};

class Reader {
 public:
  Reader() = default;
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Map the ring of `ring_fd` and set up the epoll the thread waits on.
  void Open(Napi::Env env, int ring_fd, uint32_t ring_bytes, const ReaderOptions& opts);
  // Start the thread: on_poke() runs when batches wait (take them with
  // Take); on_closed() runs once after Release(), when no poke is left.
  void Start(Napi::Env env, Napi::Function on_poke, Napi::Function on_closed);
  bool started() const { return started_; }
  void Pause();
  void Resume();
  // Stop the thread after a last drain, and join it.
  void Stop();
  // Let go of the JS function: a pending poke still reaches JS, then on_closed.
  void Release();
  // Unmap the ring, close the epoll and eventfd. The thread must be stopped.
  void Close();
  // Up to max waiting batches, oldest first (the caller owns them); *more:
  // whether some are left (the caller comes back for them: no new poke).
  std::vector<Batch*> Take(size_t max, bool* more);

  ReaderStats stats() const;

 private:
  void Loop();
  void Drain();
  void Flush();
  // remove the report-only records of waiting batches, oldest first, until queued_ <= target (under mu_)
  void ShedReportOnly(size_t target);
  // the same for life-cycle and urgent records past hold_bytes, newest first (under mu_)
  void ShedPast(size_t limit);

  RingBuf ring_;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  ReaderOptions opts_;

  std::thread thread_;
  PokeFn poke_fn_;
  bool started_ = false;
  std::atomic<bool> stopping_{false};
  std::mutex pause_mu_;
  std::condition_variable pause_cv_;
  bool paused_ = false;
  std::unique_ptr<Batch> batch_;

  std::mutex mu_;
  std::deque<Batch*> queue_;
  size_t queued_ = 0;       // bytes in queue_
  bool poked_ = false;      // a poke is pending, or JS said it comes back

  // statistics
  std::atomic<uint64_t> records_read_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> batches_queued_{0};
  std::atomic<uint64_t> queue_drop_records_{0};
  std::atomic<uint64_t> context_drop_records_{0};
  std::atomic<uint64_t> records_delivered_{0};
  std::atomic<uint64_t> wakeups_{0};
  std::atomic<uint64_t> urgent_records_read_{0};
  std::atomic<uint64_t> urgent_drop_records_{0};
  std::atomic<uint64_t> pending_bytes_{0};
};

}  // namespace vigil
