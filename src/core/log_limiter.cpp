#include "core/log_limiter.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace ringgate::core {
namespace {

constexpr size_t kProbes = 4;

// FNV-1a over the level and the text; never 0 (0 marks an unused slot).
uint64_t key_of(LogLevel level, std::string_view message) noexcept {
  uint64_t hash = 14695981039346656037ULL;
  const auto mix = [&](unsigned char byte) {
    hash ^= byte;
    hash *= 1099511628211ULL;
  };
  mix(static_cast<unsigned char>(level));
  for (char c : message) mix(static_cast<unsigned char>(c));
  return hash == 0 ? 1 : hash;
}

}  // namespace

LogLimiter::Slot& LogLimiter::slot_for(uint64_t key, uint64_t now_ms) noexcept {
  const size_t home = static_cast<size_t>(key % kSlots);
  Slot* reusable = nullptr;
  for (size_t i = 0; i < kProbes; ++i) {
    Slot& slot = slots_[(home + i) % kSlots];
    if (slot.key == key) return slot;
    const bool idle = slot.key == 0 || (slot.repeats == 0 && now_ms >= slot.window_end_ms);
    if (reusable == nullptr && idle) reusable = &slot;
  }
  if (reusable == nullptr) return slots_[home];  // table crowded: share a slot
  *reusable = Slot{};
  reusable->key = key;
  return *reusable;
}

void LogLimiter::log(LogLevel level, std::string_view message, uint64_t now_ms,
                     LogLineSink& sink) noexcept {
  const uint64_t key = key_of(level, message);
  Slot& slot = slot_for(key, now_ms);
  if (now_ms < slot.window_end_ms) {
    if (slot.repeats++ == 0) ++pending_keys_;
    ++suppressed_total_;
    return;
  }
  if (slot.repeats > 0) summarise(slot, sink);
  sink.write_line(level, message);
  slot.key = key;
  slot.level = level;
  slot.window_end_ms = now_ms + kWindowMs;
  slot.kept_length =
      static_cast<uint16_t>(message.size() < kKeptBytes ? message.size() : kKeptBytes);
  std::memcpy(slot.kept.data(), message.data(), slot.kept_length);
}

void LogLimiter::tick(uint64_t now_ms, LogLineSink& sink) noexcept {
  if (pending_keys_ == 0) return;
  for (Slot& slot : slots_) {
    if (slot.repeats > 0 && now_ms >= slot.window_end_ms) summarise(slot, sink);
  }
}

// The summary stands for the repeats; the next occurrence of the message
// starts a new window and is written again.
void LogLimiter::summarise(Slot& slot, LogLineSink& sink) noexcept {
  char line[kKeptBytes + 64];
  const int n = std::snprintf(line, sizeof line, "%" PRIu64 " more like this: %.*s", slot.repeats,
                              static_cast<int>(slot.kept_length), slot.kept.data());
  const size_t length = n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof line - 1);
  sink.write_line(slot.level, std::string_view(line, length));
  slot.repeats = 0;
  --pending_keys_;
}

}  // namespace ringgate::core
