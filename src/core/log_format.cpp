#include "core/log_format.hpp"

#include <ctime>

namespace ringgate::core {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_digits(std::string& out, uint64_t value, int width) {
  char digits[20];
  for (int i = width - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(digits, static_cast<size_t>(width));
}

bool in_range(unsigned char c, unsigned char low, unsigned char high) {
  return c >= low && c <= high;
}

// Length of the well-formed UTF-8 sequence (RFC 3629 §4) that starts at
// text[at] (a byte >= 0x80), or 0 when there is none: overlong forms,
// surrogates and code points above U+10FFFF are not well-formed.
size_t utf8_sequence_length(std::string_view text, size_t at) {
  const auto byte = [&](size_t i) -> unsigned char {
    return at + i < text.size() ? static_cast<unsigned char>(text[at + i]) : 0;
  };
  const unsigned char lead = byte(0);
  const auto continuation = [&](size_t i) { return in_range(byte(i), 0x80, 0xBF); };
  if (in_range(lead, 0xC2, 0xDF)) return continuation(1) ? 2 : 0;
  if (in_range(lead, 0xE0, 0xEF)) {
    const unsigned char low = lead == 0xE0 ? 0xA0 : 0x80;
    const unsigned char high = lead == 0xED ? 0x9F : 0xBF;
    return in_range(byte(1), low, high) && continuation(2) ? 3 : 0;
  }
  if (in_range(lead, 0xF0, 0xF4)) {
    const unsigned char low = lead == 0xF0 ? 0x90 : 0x80;
    const unsigned char high = lead == 0xF4 ? 0x8F : 0xBF;
    return in_range(byte(1), low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

void append_unicode_escape(std::string& out, unsigned char c) {
  const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  out.append(escape, sizeof escape);
}

}  // namespace

const char* level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "error";
}

// Days since the epoch to a civil date: Howard Hinnant's days_from_civil
// inverse, in unsigned arithmetic (dates before 1970 are not needed).
void append_utc_time(std::string& out, uint64_t unix_ms) {
  const uint64_t days = unix_ms / 86400000;
  const uint64_t ms_of_day = unix_ms % 86400000;
  const uint64_t z = days + 719468;
  const uint64_t era = z / 146097;
  const uint64_t day_of_era = z - era * 146097;
  const uint64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const uint64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const uint64_t mp = (5 * day_of_year + 2) / 153;
  const uint64_t day = day_of_year - (153 * mp + 2) / 5 + 1;
  const uint64_t month = mp < 10 ? mp + 3 : mp - 9;
  const uint64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);

  append_digits(out, year, 4);
  out.push_back('-');
  append_digits(out, month, 2);
  out.push_back('-');
  append_digits(out, day, 2);
  out.push_back('T');
  append_digits(out, ms_of_day / 3600000, 2);
  out.push_back(':');
  append_digits(out, ms_of_day / 60000 % 60, 2);
  out.push_back(':');
  append_digits(out, ms_of_day / 1000 % 60, 2);
  out.push_back('.');
  append_digits(out, ms_of_day % 1000, 3);
  out.push_back('Z');
}

uint64_t unix_time_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  size_t plain_from = 0;  // start of the run of bytes copied as they are
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const size_t n = utf8_sequence_length(text, i)) {
        i += n;
        continue;
      }
    }
    out.append(text.data() + plain_from, i - plain_from);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      append_unicode_escape(out, c);
    }
    plain_from = ++i;
  }
  out.append(text.data() + plain_from, text.size() - plain_from);
  out.push_back('"');
}

void append_log_line(std::string& out, uint64_t unix_ms, LogLevel level, std::string_view message) {
  append_utc_time(out, unix_ms);
  out.push_back(' ');
  out.append(level_name(level));
  out.push_back(' ');
  const size_t start = out.size();
  out.append(message);
  for (size_t i = start; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c < 0x20 || c == 0x7F) out[i] = ' ';
  }
  out.push_back('\n');
}

}  // namespace ringgate::core
