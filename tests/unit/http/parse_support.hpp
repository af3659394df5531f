// Test helpers: drive a MessageParser over a byte string the way a connection
// would (honouring `consumed`), optionally in small pieces, and record what
// happened in a comparable form.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "http/parser.hpp"

namespace ringgate::http::testing {

// Concatenates strings. Tests build inputs with this instead of
// `"literal" + std::string`, which trips GCC 12's false -Wrestrict at -O3.
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

class StringSink final : public BodySink {
 public:
  void on_body(const char* data, size_t len) noexcept override { body.append(data, len); }
  std::string body;
};

// Everything observable about one run over an input.
struct Outcome {
  std::vector<std::string> heads;   // "GET /x HTTP/1.1 h=2" / "200 OK HTTP/1.1 h=1"
  std::vector<std::string> bodies;  // one per completed message
  int error_status = 0;             // 0 when no error
  size_t consumed = 0;              // bytes consumed in total (0 after an error:
                                    // where it stops depends on how bytes arrive)
  bool operator==(const Outcome&) const = default;
};

inline std::string describe(const MessageHead& h) {
  std::string s;
  if (!h.method.empty()) {
    s.append(h.method).append(" ").append(h.target);
  } else {
    s.append(std::to_string(h.status)).append(" ").append(h.reason);
  }
  s.append(" HTTP/1.").append(std::to_string(h.version_minor));
  s.append(" h=").append(std::to_string(h.headers.size()));
  for (const Header& x : h.headers) s.append(" ").append(x.name).append("=").append(x.value);
  s.append(" f=").append(std::to_string(static_cast<int>(h.framing)));
  s.append(h.keep_alive ? " ka" : " close");
  return s;
}

// Feeds `input` in pieces of `step` bytes (0 = all at once), like a
// connection whose reads return that much, until everything is consumed or
// an error. Calls next_message() after each message; finish() at the end
// when `finish_at_end`.
inline Outcome run_parser(MessageParser& parser, std::string_view input, size_t step = 0,
                          bool finish_at_end = false) {
  Outcome out;
  StringSink sink;
  size_t pos = 0;
  size_t end = step == 0 ? input.size() : std::min(step, input.size());
  for (int guard = 0; guard < 1000000; ++guard) {
    ParseResult r = parser.feed(input.data() + pos, end - pos, sink);
    pos += r.consumed;
    switch (r.status) {
      case ParseStatus::kError:
        out.error_status = r.http_status;
        return out;
      case ParseStatus::kHeadComplete:
        out.heads.push_back(describe(parser.head()));
        break;
      case ParseStatus::kMessageComplete:
        out.bodies.push_back(sink.body);
        sink.body.clear();
        parser.next_message();
        break;
      case ParseStatus::kNeedMore:
        if (end == input.size()) {
          if (finish_at_end) {
            ParseResult f = parser.finish(sink);
            if (f.status == ParseStatus::kError) out.error_status = f.http_status;
            if (f.status == ParseStatus::kMessageComplete) out.bodies.push_back(sink.body);
          }
          out.consumed = pos;
          return out;
        }
        end = std::min(end + (step == 0 ? input.size() : step), input.size());
        break;
    }
  }
  out.error_status = -1;  // the parser never made progress
  return out;
}

// Status of parsing `raw` as a request (0 = accepted).
inline int request_error(std::string_view raw, const ParserLimits& limits = {}) {
  MessageParser p(MessageKind::kRequest, limits);
  return run_parser(p, raw).error_status;
}

// Status of parsing `raw` as a response (0 = accepted).
inline int response_error(std::string_view raw) {
  MessageParser p(MessageKind::kResponse, {});
  return run_parser(p, raw).error_status;
}

}  // namespace ringgate::http::testing
