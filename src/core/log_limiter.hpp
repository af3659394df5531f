// Rate limiting of a worker's log lines (DESIGN §4.8): each distinct message
// is written at most once per window (one second); the repeats are counted
// and reported as one line "N more like this: <message>" once the window has
// passed — when the message comes again, or at the next tick().
//
// "Distinct" means the same level and text: a backend that refuses every
// connection gives one line a second per pool, and a different failure at the
// same time still gets its own line. Keys live in a small fixed table (no
// allocation); if it ever fills, unrelated messages share a slot and are
// limited together, so the total stays bounded either way.
//
// Time is passed in by the caller (a manual clock in tests, CLOCK_MONOTONIC
// in workers). One limiter per worker; not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/log_format.hpp"

namespace ringgate::core {

// Where admitted lines go.
class LogLineSink {
 public:
  virtual void write_line(LogLevel level, std::string_view message) noexcept = 0;

 protected:
  ~LogLineSink() = default;
};

class LogLimiter {
 public:
  static constexpr uint64_t kWindowMs = 1000;
  static constexpr size_t kSlots = 64;
  // How much of a message is kept for its summary line.
  static constexpr size_t kKeptBytes = 200;

  // Writes `message` to `sink` unless the same message was written less than
  // kWindowMs ago, in which case it is only counted. A due summary of that
  // message's earlier repeats is written first.
  void log(LogLevel level, std::string_view message, uint64_t now_ms, LogLineSink& sink) noexcept;

  // Writes the summary of every message whose repeats are counted and whose
  // window has passed. Cheap when nothing is pending.
  void tick(uint64_t now_ms, LogLineSink& sink) noexcept;

  // Messages counted and not yet summarised, over all keys.
  bool pending() const noexcept { return pending_keys_ != 0; }
  // Lines suppressed since the start.
  uint64_t suppressed_total() const noexcept { return suppressed_total_; }

 private:
  struct Slot {
    uint64_t key = 0;  // hash of level and text; 0 = never used
    uint64_t window_end_ms = 0;
    uint64_t repeats = 0;  // suppressed since the last line written for this key
    LogLevel level = LogLevel::kInfo;
    uint16_t kept_length = 0;
    std::array<char, kKeptBytes> kept{};
  };

  Slot& slot_for(uint64_t key, uint64_t now_ms) noexcept;
  void summarise(Slot& slot, LogLineSink& sink) noexcept;

  std::array<Slot, kSlots> slots_{};
  size_t pending_keys_ = 0;
  uint64_t suppressed_total_ = 0;
};

}  // namespace ringgate::core
