// Helpers shared by the libFuzzer targets: reading choices out of the fuzz
// input and stopping the run when an invariant breaks. A broken invariant
// aborts, so libFuzzer keeps the input as a crash artefact just as it does for
// a sanitizer report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ringgate::fuzz {

[[noreturn]] inline void invariant_failed(const char* condition, const char* file, int line,
                                          const std::string& detail) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, condition);
  if (!detail.empty()) std::fprintf(stderr, "%s\n", detail.c_str());
  std::abort();
}

// FUZZ_CHECK(condition) or FUZZ_CHECK(condition, detail): aborts naming the
// condition (and printing `detail`, a std::string) when it is false.
#define FUZZ_CHECK(condition, ...)                                                    \
  do {                                                                                \
    if (!(condition)) {                                                               \
      ::ringgate::fuzz::invariant_failed(#condition, __FILE__, __LINE__,              \
                                         ::ringgate::fuzz::detail_text(__VA_ARGS__)); \
    }                                                                                 \
  } while (false)

inline std::string detail_text() { return {}; }
inline std::string detail_text(const std::string& text) { return text; }

// Reads the fuzz input front to back. Past the end every byte reads as 0 and
// every string as empty, so any input is a valid one.
class Input {
 public:
  Input(const uint8_t* data, size_t size) noexcept
      : bytes_(reinterpret_cast<const char*>(data), size) {}

  uint8_t byte() noexcept {
    if (bytes_.empty()) return 0;
    const auto b = static_cast<uint8_t>(bytes_.front());
    bytes_.remove_prefix(1);
    return b;
  }

  // The next `n` bytes (fewer at the end).
  std::string_view take(size_t n) noexcept {
    std::string_view part = bytes_.substr(0, n);
    bytes_.remove_prefix(part.size());
    return part;
  }

  // Everything up to the next `separator` (which is skipped), or the rest.
  std::string_view take_until(char separator) noexcept {
    const size_t end = bytes_.find(separator);
    std::string_view part = bytes_.substr(0, end);
    bytes_.remove_prefix(end == std::string_view::npos ? bytes_.size() : end + 1);
    return part;
  }

  std::string_view rest() noexcept { return take(bytes_.size()); }
  bool empty() const noexcept { return bytes_.empty(); }

 private:
  std::string_view bytes_;
};

// Printable form of fuzz bytes for an invariant's detail text.
inline std::string printable(std::string_view bytes, size_t limit = 400) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (bytes.size() > limit) out += "...";
  return out;
}

}  // namespace ringgate::fuzz
