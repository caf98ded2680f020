#include "ringbuf.h"

#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace vigil {

RingBuf::~RingBuf() { Close(); }

int RingBuf::Open(int map_fd, size_t data_size) {
  page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_ = data_size;
  mask_ = data_size - 1;
  cons_map_ = mmap(nullptr, page_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  if (cons_map_ == MAP_FAILED) {
    cons_map_ = nullptr;
    return errno;
  }
  prod_map_ = mmap(nullptr, page_ + 2 * data_size, PROT_READ, MAP_SHARED, map_fd, static_cast<off_t>(page_));
  if (prod_map_ == MAP_FAILED) {
    int err = errno;
    prod_map_ = nullptr;
    Close();
    return err;
  }
  consumer_pos_ = static_cast<uint64_t*>(cons_map_);
  producer_pos_ = static_cast<uint64_t*>(prod_map_);
  data_ = static_cast<uint8_t*>(prod_map_) + page_;
  return 0;
}

void RingBuf::Close() {
  if (prod_map_) munmap(prod_map_, page_ + 2 * size_);
  if (cons_map_) munmap(cons_map_, page_);
  prod_map_ = cons_map_ = nullptr;
  consumer_pos_ = producer_pos_ = nullptr;
  data_ = nullptr;
}

size_t RingBuf::Consume(const std::function<bool(const void*, uint32_t)>& fn) {
  if (!consumer_pos_) return 0;
  size_t n = 0;
  uint64_t cons = __atomic_load_n(consumer_pos_, __ATOMIC_ACQUIRE);
  uint64_t published = cons;
  bool stop = false;
  while (!stop) {
    uint64_t prod = __atomic_load_n(producer_pos_, __ATOMIC_ACQUIRE);
    if (cons >= prod) break;
    while (cons < prod) {
      const uint8_t* rec = data_ + (cons & mask_);
      uint32_t len = __atomic_load_n(reinterpret_cast<const uint32_t*>(rec), __ATOMIC_ACQUIRE);
      if (len & BPF_RINGBUF_BUSY_BIT) {
        stop = true;  // reserved, not committed yet: the rest waits for the next drain
        break;
      }
      bool discarded = len & BPF_RINGBUF_DISCARD_BIT;
      len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
      if (!discarded) {
        n++;
        if (!fn(rec + BPF_RINGBUF_HDR_SZ, len)) stop = true;
      }
      cons += (static_cast<uint64_t>(len) + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
      if (stop) break;
      if (cons - published >= kPublishBytes) {
        __atomic_store_n(consumer_pos_, cons, __ATOMIC_RELEASE);
        published = cons;
      }
    }
  }
  if (cons != published) __atomic_store_n(consumer_pos_, cons, __ATOMIC_RELEASE);
  return n;
}

}  // namespace vigil
