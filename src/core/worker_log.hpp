// A worker's side of logging: error lines rate-limited per message
// (LogLimiter) and access-log lines, both formatted into a reused buffer and
// copied into the worker's own rings, which the LogWriter thread drains. A
// worker never writes to a file descriptor to log, and never waits: a line
// that does not fit is dropped and counted
// (ringgate_access_log_dropped_total, ringgate_error_log_dropped_total).
#pragma once

#include <cstdarg>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/access_log.hpp"
#include "core/log_limiter.hpp"
#include "core/log_writer.hpp"
#include "core/metrics.hpp"

namespace ringgate::core {

class WorkerLog final : private LogLineSink {
 public:
  // `writer` is woken when the access ring fills up; it may be null (tests).
  WorkerLog(WorkerLogBuffers& buffers, LogWriter* writer, WorkerCounters& counters);
  WorkerLog(const WorkerLog&) = delete;
  WorkerLog& operator=(const WorkerLog&) = delete;

  // printf-style error-log lines, rate-limited per distinct message.
  void info(const char* format, ...) noexcept __attribute__((format(printf, 2, 3)));
  void warn(const char* format, ...) noexcept __attribute__((format(printf, 2, 3)));
  void error(const char* format, ...) noexcept __attribute__((format(printf, 2, 3)));

  // Writes the "N more like this" summaries that are due. Call once per loop
  // turn; a single branch when nothing is pending.
  void tick(uint64_t now_ms) noexcept {
    if (limiter_.pending()) limiter_.tick(now_ms, *this);
  }

  // `wait_ms` (the loop's wait for completions; -1 = none) shortened so the
  // loop wakes for a due summary even when nothing else happens.
  int64_t bound_wait_ms(int64_t wait_ms) const noexcept {
    const auto window = static_cast<int64_t>(LogLimiter::kWindowMs);
    if (!limiter_.pending() || (wait_ms >= 0 && wait_ms <= window)) return wait_ms;
    return window;
  }

  // Queues one access-log line for `entry`.
  void access(const AccessEntry& entry) noexcept;

  RequestIdGenerator& request_ids() noexcept { return request_ids_; }

 private:
  void log(LogLevel level, const char* format, va_list args) noexcept;
  void write_line(LogLevel level, std::string_view message) noexcept override;

  WorkerLogBuffers& buffers_;
  LogWriter* writer_;
  WorkerCounters& counters_;
  LogLimiter limiter_;
  RequestIdGenerator request_ids_;
  std::string line_;  // reused for every line
};

}  // namespace ringgate::core
