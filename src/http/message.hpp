// The parsed head of one HTTP/1.x message, as the proxy sees it: views into
// the parser's storage plus the framing facts the proxy needs to forward the
// body. Plain data; no llhttp types here.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace ringgate::http {

// One header field as received: the name as sent (case preserved), the value
// with surrounding whitespace removed.
struct Header {
  std::string_view name;
  std::string_view value;
};

// How the body of a message is delimited on the wire.
enum class BodyFraming : uint8_t {
  kNone,        // no body (or a body the message says nothing about: HEAD, 1xx, 204, 304)
  kLength,      // Content-Length bytes (possibly 0)
  kChunked,     // chunked transfer coding
  kUntilClose,  // responses only: body runs until the peer closes
};

// True when `a` and `b` are equal ignoring ASCII case (header names, tokens).
constexpr bool equals_ignore_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    // Only letters may differ by case; 0x20 is the ASCII case bit.
    if ((x | 0x20) != (y | 0x20)) return false;
    unsigned char lower = static_cast<unsigned char>(x | 0x20);
    if (lower < 'a' || lower > 'z') return false;
  }
  return true;
}

struct MessageHead {
  std::string_view method;  // requests
  std::string_view target;  // requests: request-target as sent
  int status = 0;           // responses
  std::string_view reason;  // responses
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  // Views into parser-owned storage; valid until MessageParser::next_message()
  // or reset().
  std::vector<Header> headers;
  BodyFraming framing = BodyFraming::kNone;
  // The Content-Length value whenever the message carried one (also for
  // responses without a body such as the answer to HEAD, and 304).
  uint64_t content_length = 0;
  bool has_content_length = false;
  // Whether the connection may carry another message after this one
  // (llhttp_should_keep_alive semantics; false for upgrades and kUntilClose).
  bool keep_alive = true;
  bool expect_continue = false;  // request had "Expect: 100-continue"
  bool upgrade = false;          // CONNECT, Upgrade request, or 101 response
  std::string_view host;         // request Host header value (empty if none)

  // The first header called `name` (ASCII case-insensitive), or nullptr.
  const Header* find(std::string_view name) const noexcept {
    for (const Header& h : headers) {
      if (equals_ignore_case(h.name, name)) return &h;
    }
    return nullptr;
  }
};

}  // namespace ringgate::http
