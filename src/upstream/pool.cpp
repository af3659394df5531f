#include "upstream/pool.hpp"

#include <algorithm>

namespace ringgate::upstream {

uint32_t Pool::take_idle() noexcept {
  if (idle_.empty()) return kNoConnection;
  const uint32_t connection = idle_.back();
  idle_.pop_back();
  return connection;
}

void Pool::put_idle(uint32_t connection) { idle_.push_back(connection); }

Acquisition Pool::acquire(uint32_t max_open) noexcept {
  if (!waiters_.empty()) return {Acquired::kOverflow};
  const uint32_t connection = take_idle();
  if (connection != kNoConnection) return {Acquired::kReady, connection};
  return acquire_new(max_open);
}

Acquisition Pool::acquire_new(uint32_t max_open) const noexcept {
  if (!waiters_.empty() || open_ >= max_open) return {Acquired::kOverflow};
  return {Acquired::kPending};
}

uint32_t Pool::release(uint32_t connection) {
  const uint32_t waiter = next_waiter();
  if (waiter == kNoWaiter) put_idle(connection);
  return waiter;
}

bool Pool::wait(uint32_t waiter, uint32_t max_waiting) {
  if (waiters_.size() >= max_waiting) return false;
  waiters_.push_back(waiter);
  return true;
}

bool Pool::cancel_wait(uint32_t waiter) noexcept {
  auto it = std::find(waiters_.begin(), waiters_.end(), waiter);
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  return true;
}

uint32_t Pool::next_waiter() noexcept {
  if (waiters_.empty()) return kNoWaiter;
  const uint32_t waiter = waiters_.front();
  waiters_.erase(waiters_.begin());
  return waiter;
}

uint32_t Pool::admit_waiter(uint32_t max_open) noexcept {
  return open_ < max_open ? next_waiter() : kNoWaiter;
}

bool Pool::remove_idle(uint32_t connection) noexcept {
  auto it = std::find(idle_.begin(), idle_.end(), connection);
  if (it == idle_.end()) return false;
  idle_.erase(it);
  return true;
}

void Pool::on_open_started(bool spare) noexcept {
  ++open_;
  if (spare) ++spares_connecting_;
}

void Pool::on_spare_ready() noexcept {
  if (spares_connecting_ > 0) --spares_connecting_;
}

uint32_t Pool::on_closed(uint32_t max_open) noexcept {
  if (open_ > 0) --open_;
  return admit_waiter(max_open);
}

void Pool::on_connect_failure(uint64_t now_ms) noexcept {
  // Failures past the cap no longer change the delay; stopping the count
  // there keeps the shift below in range.
  constexpr uint32_t kFailuresToCap = 8;  // 250 ms << 7 > 30 s
  failures_ = std::min(failures_ + 1, kFailuresToCap);
  retry_at_ms_ = now_ms + std::min(kFirstBackOffMs << (failures_ - 1), kMaxBackOffMs);
}

void Pool::on_connect_success() noexcept {
  failures_ = 0;
  retry_at_ms_ = 0;
}

uint32_t Pool::refill_count(uint32_t min_idle, uint32_t max_open, uint64_t now_ms) const noexcept {
  if (!live || now_ms < retry_at_ms_) return 0;
  const uint64_t have = idle_.size() + spares_connecting_;
  if (have >= min_idle) return 0;
  const uint64_t room = max_open > open_ ? max_open - open_ : 0;
  return static_cast<uint32_t>(std::min<uint64_t>(min_idle - have, room));
}

}  // namespace ringgate::upstream
