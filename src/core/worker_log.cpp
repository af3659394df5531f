#include "core/worker_log.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace ringgate::core {
namespace {

uint64_t monotonic_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace

WorkerLog::WorkerLog(WorkerLogBuffers& buffers, LogWriter* writer, WorkerCounters& counters)
    : buffers_(buffers), writer_(writer), counters_(counters) {
  line_.reserve(1024);
}

void WorkerLog::info(const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  log(LogLevel::kInfo, format, args);
  va_end(args);
}

void WorkerLog::warn(const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  log(LogLevel::kWarn, format, args);
  va_end(args);
}

void WorkerLog::error(const char* format, ...) noexcept {
  va_list args;
  va_start(args, format);
  log(LogLevel::kError, format, args);
  va_end(args);
}

void WorkerLog::log(LogLevel level, const char* format, va_list args) noexcept {
  char message[1024];
  const int n = std::vsnprintf(message, sizeof message, format, args);
  const size_t length = n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof message - 1);
  limiter_.log(level, std::string_view(message, length), monotonic_ms(), *this);
  counters_.error_log_suppressed.store(limiter_.suppressed_total(), std::memory_order_relaxed);
}

void WorkerLog::write_line(LogLevel level, std::string_view message) noexcept {
  line_.clear();
  append_log_line(line_, unix_time_ms(), level, message);
  if (!buffers_.errors.push(line_)) bump(counters_.error_log_dropped);
}

void WorkerLog::access(const AccessEntry& entry) noexcept {
  line_.clear();
  append_access_line(line_, entry);
  LineRing& ring = buffers_.access;
  if (!ring.push(line_)) {
    bump(counters_.access_log_dropped);
  } else {
    bump(counters_.access_log_lines);
  }
  // Past a quarter full the writer should not wait for its next interval.
  if (writer_ != nullptr && ring.used() > ring.capacity() / 4 &&
      !buffers_.woke_writer.exchange(true, std::memory_order_relaxed)) {
    writer_->wake();
  }
}

}  // namespace ringgate::core
