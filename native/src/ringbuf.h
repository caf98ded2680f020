// A BPF ring-buffer consumer that publishes its position once per drain.
//
// libbpf's ring_buffer__consume() stores consumer_pos after every record;
// every store pulls the cache line away from the producing CPUs, which
// read it on each reservation. Publishing once per drain (and every
// kPublishBytes during a long one) keeps that line quiet. The memory
// layout and protocol are the kernel's (kernel/bpf/ringbuf.c): one RW
// consumer page, one RO producer page, then the data area mapped twice so
// that a record crossing the end is contiguous.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace vigil {

class RingBuf {
 public:
  RingBuf() = default;
  ~RingBuf();
  RingBuf(const RingBuf&) = delete;
  RingBuf& operator=(const RingBuf&) = delete;

  // Map the ring of `map_fd` (max_entries = data_size). Returns 0 or errno.
  int Open(int map_fd, size_t data_size);
  void Close();

  // Hand every committed record to `fn(data, len)`, in order; stop early if
  // `fn` returns false. Returns the number of records handed over.
  size_t Consume(const std::function<bool(const void*, uint32_t)>& fn);

 private:
  static constexpr uint64_t kPublishBytes = 256 * 1024;
  size_t page_ = 0;
  size_t size_ = 0;
  uint64_t mask_ = 0;
  uint64_t* consumer_pos_ = nullptr;
  uint64_t* producer_pos_ = nullptr;
  uint8_t* data_ = nullptr;
  void* cons_map_ = nullptr;
  void* prod_map_ = nullptr;
};

}  // namespace vigil
