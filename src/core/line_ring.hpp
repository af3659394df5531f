// A bounded single-producer single-consumer byte ring that carries whole
// log lines from one worker to the log writer thread without a lock.
//
// The producer (one worker) copies a complete line in and then publishes it
// by advancing `head`; the consumer (the writer thread) reads everything up
// to `head` and then frees it by advancing `tail`. Because `head` only ever
// moves by whole lines, whatever the consumer sees is a run of whole lines.
// A line that does not fit in the free space is refused, never split, and
// the producer never waits.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace ringgate::core {

class LineRing {
 public:
  // `capacity` is rounded up to a power of two (at least 64 bytes). The
  // memory is allocated once, here.
  explicit LineRing(size_t capacity);
  LineRing(const LineRing&) = delete;
  LineRing& operator=(const LineRing&) = delete;

  // Producer only. Copies `line` in whole and publishes it; false (nothing
  // copied) when it does not fit in the free space.
  bool push(std::string_view line) noexcept;

  // Bytes published and not yet consumed. Exact for the producer and the
  // consumer; a snapshot for anyone else.
  size_t used() const noexcept {
    return static_cast<size_t>(head_.load(std::memory_order_acquire) -
                               tail_.load(std::memory_order_acquire));
  }
  size_t capacity() const noexcept { return mask_ + 1; }

  // Consumer only. Hands every published byte to `write(const char*, size_t)`
  // (one or two calls, in order: the ring may wrap), then frees them.
  // Returns the bytes handed over.
  template <typename Write>
  size_t drain(Write&& write) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_acquire);
    const size_t length = static_cast<size_t>(head - tail);
    if (length == 0) return 0;
    const size_t start = static_cast<size_t>(tail) & mask_;
    const size_t first = length < capacity() - start ? length : capacity() - start;
    write(data_.get() + start, first);
    if (first < length) write(data_.get(), length - first);
    tail_.store(head, std::memory_order_release);
    return length;
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t mask_;
  // Positions count bytes since the start and never wrap in practice (2^64).
  alignas(64) std::atomic<uint64_t> head_{0};  // written by the producer
  alignas(64) std::atomic<uint64_t> tail_{0};  // written by the consumer
};

}  // namespace ringgate::core
