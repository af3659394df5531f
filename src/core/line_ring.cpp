#include "core/line_ring.hpp"

#include <bit>
#include <cstring>

namespace ringgate::core {

LineRing::LineRing(size_t capacity) {
  const size_t size = std::bit_ceil(capacity < 64 ? size_t{64} : capacity);
  data_ = std::make_unique_for_overwrite<char[]>(size);
  mask_ = size - 1;
}

bool LineRing::push(std::string_view line) noexcept {
  if (line.empty()) return true;
  const uint64_t head = head_.load(std::memory_order_relaxed);
  const uint64_t tail = tail_.load(std::memory_order_acquire);
  const size_t free = capacity() - static_cast<size_t>(head - tail);
  if (line.size() > free) return false;
  const size_t start = static_cast<size_t>(head) & mask_;
  const size_t first = line.size() < capacity() - start ? line.size() : capacity() - start;
  std::memcpy(data_.get() + start, line.data(), first);
  std::memcpy(data_.get(), line.data() + first, line.size() - first);
  head_.store(head + line.size(), std::memory_order_release);
  return true;
}

}  // namespace ringgate::core
