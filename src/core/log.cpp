#include "core/log.hpp"

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace ringgate::core {

void log(LogLevel level, const char* format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
  const char* name = level == LogLevel::kInfo   ? "info"
                     : level == LogLevel::kWarn ? "warn"
                                                : "error";
  // One fprintf call: stdio's lock keeps lines from different threads whole.
  std::fprintf(stderr, "%s.%03ldZ %s %s\n", when, ts.tv_nsec / 1000000, name, message);
}

}  // namespace ringgate::core
