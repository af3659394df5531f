// Text formats shared by every log line ringgate writes: the UTC timestamp,
// JSON string escaping, and the layout of an error-log line. Pure functions
// that append to a caller-owned buffer, so a reused buffer makes them
// allocation-free on the data path; no locks (gmtime_r takes glibc's tz lock,
// so the calendar arithmetic is done here).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringgate::core {

enum class LogLevel { kInfo, kWarn, kError };

// "info", "warn" or "error".
const char* level_name(LogLevel level) noexcept;

// Appends `unix_ms` (milliseconds since 1970-01-01T00:00:00Z, not negative)
// as RFC 3339 UTC with milliseconds: "2026-11-29T19:28:41.007Z".
void append_utc_time(std::string& out, uint64_t unix_ms);

// Milliseconds since the epoch from CLOCK_REALTIME.
uint64_t unix_time_ms() noexcept;

// Appends `text` as a JSON string literal, quotes included. `"` and `\` are
// escaped with a backslash, control characters (U+0000–U+001F, U+007F) as
// \u00XX. Well-formed UTF-8 passes through; a byte that is not part of a
// well-formed sequence is written as \u00XX (read as Latin-1), so the result
// is valid JSON whatever bytes a client sent.
void append_json_string(std::string& out, std::string_view text);

// Appends one error-log line: "<time> <level> <message>\n". Newlines and
// other control characters inside `message` become spaces, so one event is
// always one line.
void append_log_line(std::string& out, uint64_t unix_ms, LogLevel level, std::string_view message);

}  // namespace ringgate::core
