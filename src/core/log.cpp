#include "core/log.hpp"

#include <cstdarg>
#include <cstdio>
#include <string>

namespace ringgate::core {

void log(LogLevel level, const char* format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  std::string line;
  append_log_line(line, unix_time_ms(), level, message);
  // One fwrite on unbuffered stderr is one write(): stdio's lock keeps lines
  // from different threads whole.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace ringgate::core
