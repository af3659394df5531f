#include "message_stream.hpp"

#include <algorithm>

namespace ringgate::fuzz {
namespace {

using http::BodyFraming;
using http::Header;
using http::MessageHead;
using http::MessageKind;
using http::MessageParser;
using http::ParseResult;
using http::ParseStatus;

constexpr http::ParserLimits kTinyLimits{/*max_header_bytes=*/96, /*max_header_count=*/4,
                                         /*max_url_bytes=*/24, /*max_body_bytes=*/16};

class StringSink final : public http::BodySink {
 public:
  void on_body(const char* data, size_t len) noexcept override { body.append(data, len); }
  std::string body;
};

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string describe(const MessageHead& h) {
  std::string s;
  s.append(h.method).append(" ").append(h.target).append(" ");
  s.append(std::to_string(h.status)).append(" ").append(h.reason);
  s.append(" HTTP/").append(std::to_string(h.version_major)).append(".");
  s.append(std::to_string(h.version_minor));
  for (const Header& x : h.headers) s.append(" [").append(x.name).append("=").append(x.value);
  s.append("] framing=").append(std::to_string(static_cast<int>(h.framing)));
  s.append(" cl=").append(h.has_content_length ? std::to_string(h.content_length) : "-");
  s.append(h.keep_alive ? " keep-alive" : " close");
  s.append(h.expect_continue ? " expect-continue" : "");
  s.append(h.upgrade ? " upgrade" : "");
  s.append(" host=").append(h.host);
  return s;
}

// What DESIGN §4.2 and parser.hpp promise about every head handed out.
void check_head(const MessageHead& h, const StreamPlan& plan, size_t head_bytes) {
  const bool request = plan.kind == MessageKind::kRequest;
  const std::string what = printable(describe(h));
  FUZZ_CHECK(head_bytes <= plan.limits.max_header_bytes, what);
  FUZZ_CHECK(h.version_major == 1 && h.version_minor <= 1, what);
  FUZZ_CHECK(h.headers.size() <= plan.limits.max_header_count, what);
  if (request) {
    FUZZ_CHECK(!h.method.empty() && !h.target.empty(), what);
    FUZZ_CHECK(h.target.size() <= plan.limits.max_url_bytes, what);
    FUZZ_CHECK(h.framing != BodyFraming::kUntilClose, what);
  } else {
    FUZZ_CHECK(h.status >= 100 && h.status <= 999, what);
  }
  int hosts = 0;
  int transfer_encodings = 0;
  int content_lengths = 0;
  for (const Header& x : h.headers) {
    FUZZ_CHECK(!x.name.empty() && std::all_of(x.name.begin(), x.name.end(), is_token_char), what);
    FUZZ_CHECK(x.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos,
               what);
    FUZZ_CHECK(x.value.find_first_of(" \t") != 0, what);
    FUZZ_CHECK(x.value.empty() || (x.value.back() != ' ' && x.value.back() != '\t'), what);
    if (http::equals_ignore_case(x.name, "host")) ++hosts;
    if (http::equals_ignore_case(x.name, "content-length")) ++content_lengths;
    if (http::equals_ignore_case(x.name, "transfer-encoding")) {
      ++transfer_encodings;
      FUZZ_CHECK(http::equals_ignore_case(x.value, "chunked"), what);
    }
  }
  if (request) FUZZ_CHECK(hosts <= 1, what);
  // Ambiguous framing never gets through (request smuggling).
  FUZZ_CHECK(transfer_encodings <= 1, what);
  FUZZ_CHECK(transfer_encodings == 0 || content_lengths == 0, what);
  FUZZ_CHECK(transfer_encodings == 0 || h.version_minor == 1, what);
  FUZZ_CHECK(content_lengths == 0 || h.has_content_length, what);
  if (h.framing == BodyFraming::kChunked) FUZZ_CHECK(transfer_encodings == 1, what);
  if (h.framing == BodyFraming::kLength) {
    FUZZ_CHECK(h.has_content_length && h.content_length <= plan.limits.max_body_bytes, what);
  }
  if (h.upgrade || h.framing == BodyFraming::kUntilClose) FUZZ_CHECK(!h.keep_alive, what);
}

void check_error(const ParseResult& r, const StreamPlan& plan) {
  FUZZ_CHECK(r.reason != nullptr);
  if (plan.kind == MessageKind::kResponse) {
    FUZZ_CHECK(r.http_status == 502, std::to_string(r.http_status));
  } else {
    const int s = r.http_status;
    FUZZ_CHECK(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505,
               std::to_string(s) + " " + r.reason);
  }
}

// Everything one run observed, in order; equal for any way of splitting.
struct Trace {
  std::string events;
  size_t consumed = 0;  // bytes consumed when the run ended without an error
  bool failed = false;
};

// Feeds the stream with reads of `piece` sizes (cycled; empty = everything at
// once), honouring `consumed` the way a connection's read buffer does.
Trace run(MessageParser& parser, const StreamPlan& plan, const std::vector<uint8_t>& pieces) {
  Trace trace;
  StringSink sink;
  const std::string_view stream = plan.stream;
  size_t pos = 0;       // consumed by the parser
  size_t received = 0;  // delivered by "reads" so far
  size_t next_piece = 0;
  size_t message_start = 0;
  bool zero_cycle = true;  // no piece of the current cycle delivered a byte
  // Every cycle of reads delivers a byte (or the rest), every other step
  // consumes one or ends a head or a message.
  const size_t max_steps = (stream.size() + 1) * (pieces.size() + 1) + 3 * stream.size() + 64;

  auto deliver = [&]() {
    if (pieces.empty()) {
      received = stream.size();
      return;
    }
    const size_t n = pieces[next_piece];
    if (n > 0) zero_cycle = false;
    if (++next_piece == pieces.size()) {
      // A cycle of empty reads only would never end: deliver the rest.
      if (zero_cycle) received = stream.size();
      next_piece = 0;
      zero_cycle = true;
    }
    received = std::min(stream.size(), received + n);
  };

  deliver();
  for (size_t step = 0;; ++step) {
    FUZZ_CHECK(step < max_steps, "no progress: " + printable(trace.events));
    const size_t len = received - pos;
    const ParseResult r = parser.feed(stream.data() + pos, len, sink);
    FUZZ_CHECK(r.consumed <= len);
    pos += r.consumed;
    switch (r.status) {
      case ParseStatus::kError: {
        check_error(r, plan);
        trace.events += "error " + std::to_string(r.http_status) + "\n";
        trace.failed = true;
        // A failed parser stays failed with the same answer and takes nothing.
        const ParseResult again = parser.feed(stream.data() + pos, received - pos, sink);
        FUZZ_CHECK(again.status == ParseStatus::kError && again.consumed == 0 &&
                   again.http_status == r.http_status);
        const ParseResult closed = parser.finish(sink);
        FUZZ_CHECK(closed.status == ParseStatus::kError && closed.http_status == r.http_status);
        return trace;
      }
      case ParseStatus::kHeadComplete:
        FUZZ_CHECK(r.consumed > 0);
        FUZZ_CHECK(parser.in_message());
        check_head(parser.head(), plan, pos - message_start);
        trace.events += "head " + describe(parser.head()) + "\n";
        break;
      case ParseStatus::kMessageComplete: {
        const MessageHead& h = parser.head();
        FUZZ_CHECK(!parser.in_message());
        FUZZ_CHECK(parser.body_bytes() == sink.body.size());
        FUZZ_CHECK(sink.body.size() <= plan.limits.max_body_bytes);
        if (h.framing == BodyFraming::kLength) FUZZ_CHECK(sink.body.size() == h.content_length);
        if (h.framing == BodyFraming::kNone) FUZZ_CHECK(sink.body.empty());
        trace.events += "body " + sink.body + "\n";
        sink.body.clear();
        if (!plan.skip_next_message) parser.next_message();
        message_start = pos;
        break;
      }
      case ParseStatus::kNeedMore:
        FUZZ_CHECK(r.consumed == len, "kNeedMore must consume every byte");
        if (received == stream.size()) {
          trace.consumed = pos;
          if (!plan.finish_at_end) return trace;
          const ParseResult f = parser.finish(sink);
          FUZZ_CHECK(f.consumed == 0);
          if (f.status == ParseStatus::kError) {
            check_error(f, plan);
            trace.failed = true;
          } else if (f.status == ParseStatus::kMessageComplete) {
            FUZZ_CHECK(parser.head().framing == BodyFraming::kUntilClose);
            trace.events += "body " + sink.body + "\n";
          }
          trace.events += "finish " + std::to_string(static_cast<int>(f.status)) + " " +
                          std::to_string(f.http_status) + "\n";
          return trace;
        }
        deliver();
        break;
    }
  }
}

// A parser after reset() must parse a plain message as a new one would.
void check_fresh_after_reset(MessageParser& parser, const StreamPlan& plan) {
  parser.reset();
  StringSink sink;
  const std::string_view message = plan.kind == MessageKind::kRequest
                                       ? "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                                       : "HTTP/1.1 204 No Content\r\n\r\n";
  const ParseResult head = parser.feed(message.data(), message.size(), sink);
  FUZZ_CHECK(head.status == ParseStatus::kHeadComplete && head.consumed == message.size());
  const ParseResult done = parser.feed(nullptr, 0, sink);
  FUZZ_CHECK(done.status == ParseStatus::kMessageComplete && done.consumed == 0);
}

// Both runs failed on the same messages, one on a syntax error and the
// other on a size limit within the same token: the one difference feed()'s
// contract allows.
bool same_failure(const Trace& a, const Trace& b) {
  if (!a.failed || !b.failed || a.events.size() != b.events.size()) return false;
  const size_t last = a.events.rfind("error ");
  if (last == std::string::npos || a.events.compare(0, last, b.events, 0, last) != 0) return false;
  const std::string x = a.events.substr(last);
  const std::string y = b.events.substr(last);
  auto is_limit = [](const std::string& e) {
    return e == "error 413\n" || e == "error 414\n" || e == "error 431\n";
  };
  return (x == "error 400\n" && is_limit(y)) || (y == "error 400\n" && is_limit(x));
}

}  // namespace

StreamPlan read_plan(MessageKind kind, Input& input) {
  StreamPlan plan;
  plan.kind = kind;
  const uint8_t options = input.byte();
  if (options & 1) plan.limits = kTinyLimits;
  plan.expect_no_body = (options & 2) != 0;
  plan.finish_at_end = (options & 4) != 0;
  plan.skip_next_message = (options & 8) != 0;
  const size_t count = input.byte() % 32;
  for (size_t i = 0; i < count; ++i) plan.pieces.push_back(input.byte());
  plan.stream = input.rest();
  return plan;
}

void check_stream(const StreamPlan& plan) {
  MessageParser parser(plan.kind, plan.limits);
  parser.expect_no_body(plan.expect_no_body);
  const Trace whole = run(parser, plan, {});
  parser.reset();
  parser.expect_no_body(plan.expect_no_body);
  const Trace split = run(parser, plan, plan.pieces);
  FUZZ_CHECK(whole.events == split.events || same_failure(whole, split),
             "all at once:\n" + printable(whole.events, 2000) + "\nin pieces:\n" +
                 printable(split.events, 2000));
  if (!whole.failed) FUZZ_CHECK(whole.consumed == split.consumed);
  check_fresh_after_reset(parser, plan);
}

}  // namespace ringgate::fuzz
