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

void Pool::on_closed() noexcept {
  if (open_ > 0) --open_;
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
