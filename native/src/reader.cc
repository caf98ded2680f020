#include "reader.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "errors.h"
#include "events.h"

namespace vigil {

namespace {

// event_hdr.prio of the record at p (len bytes); a record too short to hold a header is report-only
uint8_t PrioOf(const uint8_t* p, uint32_t len) {
  return len >= sizeof(event_hdr) ? p[offsetof(event_hdr, prio)] : PRIO_REPORT;
}

uint32_t SizeOf(const uint8_t* p) {
  uint32_t size;
  std::memcpy(&size, p + offsetof(event_hdr, size), sizeof(size));
  return size;
}

// on_closed, called once the poke function is finalized
struct Closing {
  Napi::FunctionReference fn;
};

void Finalized(Napi::Env, Closing* c, Reader*) {
  c->fn.Call({});
  delete c;
}

}  // namespace

void DeliverPoke(Napi::Env env, Napi::Function callback, Reader*, Batch*) {
  if (env == nullptr || callback.IsEmpty()) return;  // torn down: the batches wait in the queue
  callback.Call({});
}

Reader::~Reader() {
  Stop();
  Close();
  for (Batch* b : queue_) delete b;
  queue_.clear();
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

void Reader::Start(Napi::Env env, Napi::Function on_poke, Napi::Function on_closed) {
  auto* closing = new Closing{Napi::Persistent(on_closed)};
  // one poke at a time (poked_): the queue of pokes stays tiny; the batches wait in queue_
  poke_fn_ = PokeFn::New(env, on_poke, "vigil-ring-reader", 0, 1, this, Finalized, closing);
  batch_.reset(new Batch());
  batch_->data.reserve(opts_.batch_bytes);
  started_ = true;
  thread_ = std::thread(&Reader::Loop, this);
}

void Reader::Drain() {
  uint64_t records = 0, bytes = 0, urgent = 0;
  ring_.Consume([&](const void* data, uint32_t size) {
    // the ring's memory is reused once we publish our position: copy
    if (batch_->data.size() + size > opts_.batch_bytes) Flush();
    const auto* p = static_cast<const uint8_t*>(data);
    if (PrioOf(p, size) == PRIO_URGENT) {
      urgent++;
      batch_->urgent++;
    }
    batch_->data.insert(batch_->data.end(), p, p + size);
    batch_->records++;
    records++;
    bytes += size;
    return true;
  });
  records_read_.fetch_add(records, std::memory_order_relaxed);
  bytes_read_.fetch_add(bytes, std::memory_order_relaxed);
  urgent_records_read_.fetch_add(urgent, std::memory_order_relaxed);
  Flush();
}

void Reader::ShedReportOnly(size_t target) {
  for (Batch* b : queue_) {
    if (queued_ <= target) break;
    if (b->compact) continue;
    std::vector<uint8_t> kept;
    uint32_t kept_records = 0;
    size_t off = 0;
    while (off + sizeof(event_hdr) <= b->data.size()) {
      const uint8_t* p = b->data.data() + off;
      uint32_t size = SizeOf(p);
      if (size < sizeof(event_hdr) || off + size > b->data.size()) break;  // the decoder counts what follows
      if (PrioOf(p, size) != PRIO_REPORT) {
        kept.insert(kept.end(), p, p + size);
        kept_records++;
      } else {
        queue_drop_records_++;
      }
      off += size;
    }
    if (off < b->data.size()) {
      // malformed tail: kept as it is, for the decoder to count
      kept.insert(kept.end(), b->data.begin() + static_cast<long>(off), b->data.end());
    }
    queued_ -= b->data.size() - kept.size();
    b->data.swap(kept);
    b->records = kept_records;
    b->compact = true;
  }
  // batches left with nothing (an empty external ArrayBuffer would reach JS detached)
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->data.empty()) {
      delete *it;
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
}

void Reader::ShedPast(size_t limit) {
  while (queued_ > limit && !queue_.empty()) {
    Batch* b = queue_.back();
    size_t off = 0;
    while (off + sizeof(event_hdr) <= b->data.size()) {
      const uint8_t* p = b->data.data() + off;
      uint32_t size = SizeOf(p);
      if (size < sizeof(event_hdr) || off + size > b->data.size()) break;
      uint8_t prio = PrioOf(p, size);
      if (prio == PRIO_URGENT)
        urgent_drop_records_++;
      else if (prio == PRIO_CONTEXT)
        context_drop_records_++;
      else
        queue_drop_records_++;
      off += size;
    }
    queued_ -= b->data.size();
    queue_.pop_back();
    delete b;
  }
}

void Reader::Flush() {
  if (!batch_ || batch_->records == 0) return;
  bool poke;
  {
    std::lock_guard<std::mutex> lk(mu_);
    // a decision behind a backlog: the report-only records ahead of it go
    if (batch_->urgent > 0 && queued_ > opts_.urgent_ahead_bytes) ShedReportOnly(0);
    queued_ += batch_->data.size();
    queue_.push_back(batch_.release());
    batches_queued_++;
    // JS is behind: report-only records go first, then (far behind) the newest of the rest
    if (queued_ > opts_.queue_bytes) ShedReportOnly(opts_.queue_bytes);
    if (queued_ > opts_.hold_bytes) ShedPast(opts_.hold_bytes);
    pending_bytes_ = queued_;
    poke = !poked_ && !queue_.empty();
    if (poke) poked_ = true;
  }
  if (poke && poke_fn_.NonBlockingCall(nullptr) != napi_ok) {
    // closing: on_closed takes what is left
    std::lock_guard<std::mutex> lk(mu_);
    poked_ = false;
  }
  batch_.reset(new Batch());
  batch_->data.reserve(opts_.batch_bytes);
}

std::vector<Batch*> Reader::Take(size_t max, bool* more) {
  std::vector<Batch*> out;
  std::lock_guard<std::mutex> lk(mu_);
  while (!queue_.empty() && out.size() < max) {
    Batch* b = queue_.front();
    queue_.pop_front();
    queued_ -= b->data.size();
    records_delivered_ += b->records;
    out.push_back(b);
  }
  pending_bytes_ = queued_;
  *more = !queue_.empty();
  // empty: the next batch pokes; otherwise the caller comes back on its own
  poked_ = *more;
  return out;
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
  if (started_) poke_fn_.Release();
}

void Reader::Close() {
  ring_.Close();
  for (int* fd : {&epoll_fd_, &event_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

ReaderStats Reader::stats() const {
  return ReaderStats{records_read_.load(),          bytes_read_.load(),        batches_queued_.load(),
                     queue_drop_records_.load(),    context_drop_records_.load(), records_delivered_.load(),
                     wakeups_.load(),               urgent_records_read_.load(), urgent_drop_records_.load(),
                     pending_bytes_.load()};
}

}  // namespace vigil
