#include "core/timer_wheel.hpp"

namespace ringgate::core {

TimerWheel::TimerWheel(uint64_t now_ms, uint32_t tick_ms, uint32_t slots)
    : tick_ms_(tick_ms == 0 ? 1 : tick_ms), current_tick_(now_ms / (tick_ms == 0 ? 1 : tick_ms)) {
  size_t size = 1;
  while (size < slots) size <<= 1;
  mask_ = size - 1;
  buckets_.resize(size);
  for (TimerNode& head : buckets_) head.prev = head.next = &head;
}

void TimerWheel::unlink(TimerNode& node) noexcept {
  node.prev->next = node.next;
  node.next->prev = node.prev;
  node.prev = node.next = nullptr;
}

void TimerWheel::link_last(TimerNode& head, TimerNode& node) noexcept {
  node.next = &head;
  node.prev = head.prev;
  head.prev->next = &node;
  head.prev = &node;
}

void TimerWheel::arm(TimerNode& node, uint64_t now_ms, uint64_t delay_ms) noexcept {
  if (node.armed()) {
    unlink(node);
    --armed_;
  }
  node.deadline_ms = now_ms + delay_ms;
  // The tick holding the deadline; one already passed is replaced by the
  // oldest one advance() still looks at.
  uint64_t tick = node.deadline_ms / tick_ms_;
  if (tick < current_tick_) tick = current_tick_;
  link_last(buckets_[tick & mask_], node);
  ++armed_;
}

void TimerWheel::cancel(TimerNode& node) noexcept {
  if (!node.armed()) return;
  unlink(node);
  --armed_;
}

int64_t TimerWheel::next_wait_ms(uint64_t now_ms) const noexcept {
  if (armed_ == 0) return -1;
  // Wake at the next tick boundary: advance() then sees every bucket up to it.
  const uint64_t next_tick_start = (now_ms / tick_ms_ + 1) * tick_ms_;
  return static_cast<int64_t>(next_tick_start - now_ms);
}

}  // namespace ringgate::core
