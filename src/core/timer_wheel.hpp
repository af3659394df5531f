// A hashed timing wheel for connection timeouts (header, idle, backend connect
// and response, pool idle). Timers are intrusive nodes owned by connections, so
// arming and cancelling never allocate. Time is passed in by the caller (a
// manual clock in tests, CLOCK_MONOTONIC in workers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringgate::core {

struct TimerNode {
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  uint64_t deadline_ms = 0;
  uint32_t owner = 0;  // caller-defined: usually a connection slot
  uint8_t kind = 0;    // caller-defined: which timeout this is
  bool armed() const noexcept { return prev != nullptr; }
};

class TimerWheel {
 public:
  // `tick_ms`: resolution; `slots`: buckets (power of two). Timers further out
  // than tick_ms * slots simply stay in their bucket for extra rounds.
  explicit TimerWheel(uint64_t now_ms, uint32_t tick_ms = 8, uint32_t slots = 1024);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms (or re-arms) `node` to fire `delay_ms` after `now_ms`. Fires no
  // earlier than the deadline and at most one tick later.
  void arm(TimerNode& node, uint64_t now_ms, uint64_t delay_ms) noexcept;
  // Disarms `node`; a no-op if not armed.
  void cancel(TimerNode& node) noexcept;

  // Fires every timer whose deadline is <= now_ms, calling fire(TimerNode&)
  // after unlinking it. The callback may cancel or re-arm any timer, this one
  // or another due in the same bucket; a timer it cancels does not fire, and
  // one it re-arms fires at its new deadline.
  template <typename Fn>
  void advance(uint64_t now_ms, Fn&& fire);

  // Milliseconds until the next bucket that holds a timer needs a look, or -1
  // when no timer is armed.
  int64_t next_wait_ms(uint64_t now_ms) const noexcept;
  size_t armed_count() const noexcept { return armed_; }

 private:
  static void unlink(TimerNode& node) noexcept;
  static void link_last(TimerNode& head, TimerNode& node) noexcept;

  uint32_t tick_ms_;
  size_t mask_;
  uint64_t current_tick_;           // oldest tick not yet fully processed
  std::vector<TimerNode> buckets_;  // each a sentinel of a circular list
  size_t armed_ = 0;
};

template <typename Fn>
void TimerWheel::advance(uint64_t now_ms, Fn&& fire) {
  const uint64_t target_tick = now_ms / tick_ms_;
  if (armed_ == 0) {
    current_tick_ = target_tick;
    return;
  }
  // Never scan more than one full turn: past that every bucket was visited.
  uint64_t first = current_tick_;
  if (target_tick >= first && target_tick - first > mask_) first = target_tick - mask_;
  for (uint64_t tick = first; tick <= target_tick && armed_ > 0; ++tick) {
    TimerNode& head = buckets_[tick & mask_];
    if (head.next == &head) continue;
    // The bucket moves to a list of its own before anything fires. A
    // callback may cancel or re-arm any timer, a sibling in this bucket
    // included: each such node is unlinked from whichever well-formed list it
    // is in, so the walk below never follows a node that left under it.
    TimerNode pending;
    pending.next = head.next;
    pending.prev = head.prev;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    head.next = head.prev = &head;
    while (pending.next != &pending) {
      TimerNode& node = *pending.next;
      unlink(node);
      if (node.deadline_ms <= now_ms) {
        --armed_;
        fire(node);
      } else {
        link_last(head, node);  // due in a later turn of the wheel
      }
    }
  }
  // The current tick is only partly over: look at it again next time.
  current_tick_ = target_tick;
}

}  // namespace ringgate::core
