#include "reader.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "errors.h"

namespace vigil {

void DeliverBatch(Napi::Env env, Napi::Function callback, Reader* reader, Batch* batch) {
  if (env == nullptr || callback.IsEmpty()) {
    delete batch;  // torn down: nobody to deliver to
    return;
  }
  uint32_t records = batch->records;
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
      env, batch->data.data(), batch->data.size(),
      [](Napi::Env, void*, Batch* b) { delete b; }, batch);
  reader->CountDelivered(records);
  callback.Call({ab, Napi::Number::New(env, records)});
}

Reader::~Reader() {
  Stop();
  Close();
}

void Reader::Open(Napi::Env env, int ring_fd, uint32_t ring_bytes, const ReaderOptions& opts) {
  opts_ = opts;
  int err = ring_.Open(ring_fd, ring_bytes);
  if (err) throw Napi::Error::New(env, ErrnoMessage("mapping the ring buffer", err));
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || event_fd_ < 0) throw Napi::Error::New(env, ErrnoMessage("creating the reader's epoll", errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = 0;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ring_fd, &ev) < 0)
    throw Napi::Error::New(env, ErrnoMessage("watching the ring buffer", errno));
  ev.data.u32 = 1;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) < 0)
    throw Napi::Error::New(env, ErrnoMessage("watching the reader's eventfd", errno));
}

void Reader::Start(Napi::Env env, Napi::Function on_batch, Napi::Function on_closed) {
  auto* closed_ref = new Napi::FunctionReference(Napi::Persistent(on_closed));
  batch_fn_ = BatchFn::New(
      env, on_batch, "vigil-ring-reader", opts_.queue_depth, 1, this,
      [](Napi::Env env, Napi::FunctionReference* ref, Reader*) {
        // every queued batch has been delivered: tell JS we are done
        ref->Call({});
        delete ref;
        (void)env;
      },
      closed_ref);
  batch_.reset(new Batch());
  batch_->data.reserve(opts_.batch_bytes);
  started_ = true;
  thread_ = std::thread(&Reader::Loop, this);
}

void Reader::Drain() {
  uint64_t records = 0, bytes = 0;
  ring_.Consume([&](const void* data, uint32_t size) {
    // the ring's memory is reused once we publish our position: copy
    if (batch_->data.size() + size > opts_.batch_bytes) Flush();
    const auto* p = static_cast<const uint8_t*>(data);
    batch_->data.insert(batch_->data.end(), p, p + size);
    batch_->records++;
    records++;
    bytes += size;
    return true;
  });
  records_read_.fetch_add(records, std::memory_order_relaxed);
  bytes_read_.fetch_add(bytes, std::memory_order_relaxed);
  Flush();
}

void Reader::Flush() {
  if (!batch_ || batch_->records == 0) return;
  Batch* b = batch_.release();
  uint32_t records = b->records;
  napi_status st = batch_fn_.NonBlockingCall(b);
  if (st == napi_ok) {
    batches_queued_++;
  } else {
    // the JS queue is full (or closing): count, never block the reader
    queue_drop_records_ += records;
    queue_drop_batches_++;
    delete b;
  }
  batch_.reset(new Batch());
  batch_->data.reserve(opts_.batch_bytes);
}

void Reader::Loop() {
  epoll_event evs[2];
  while (!stopping_.load()) {
    {
      std::unique_lock<std::mutex> lk(pause_mu_);
      pause_cv_.wait(lk, [this] { return !paused_ || stopping_.load(); });
    }
    if (stopping_.load()) break;
    int n = epoll_wait(epoll_fd_, evs, 2, opts_.poll_interval_ms);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u32 == 1) {
        uint64_t v;
        while (read(event_fd_, &v, sizeof(v)) == sizeof(v)) {
        }
      } else {
        wakeups_++;
      }
    }
    {
      std::lock_guard<std::mutex> lk(pause_mu_);
      if (paused_) continue;
    }
    Drain();
  }
  // Drain what is left so that close() loses nothing that was emitted.
  bool paused;
  {
    std::lock_guard<std::mutex> lk(pause_mu_);
    paused = paused_;
  }
  if (!paused) {
    Drain();
  }
}

void Reader::Pause() {
  std::lock_guard<std::mutex> lk(pause_mu_);
  paused_ = true;
}

void Reader::Resume() {
  {
    std::lock_guard<std::mutex> lk(pause_mu_);
    paused_ = false;
  }
  pause_cv_.notify_all();
  uint64_t one = 1;
  if (event_fd_ >= 0 && write(event_fd_, &one, sizeof(one)) < 0) {
    // the reader wakes on its timer anyway
  }
}

void Reader::Stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lk(pause_mu_);
  }
  pause_cv_.notify_all();
  uint64_t one = 1;
  if (write(event_fd_, &one, sizeof(one)) < 0) {
    // the reader wakes on its timer anyway
  }
  thread_.join();
}

void Reader::Release() {
  if (started_) batch_fn_.Release();
}

void Reader::Close() {
  ring_.Close();
  for (int* fd : {&epoll_fd_, &event_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

ReaderStats Reader::stats() const {
  return ReaderStats{records_read_.load(),        bytes_read_.load(),         batches_queued_.load(),
                     queue_drop_records_.load(),  queue_drop_batches_.load(), records_delivered_.load(),
                     wakeups_.load()};
}

}  // namespace vigil
