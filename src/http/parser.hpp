// MessageParser: a strict HTTP/1.1 message parser around llhttp, one per
// connection direction, reused across messages and connections.
//
// Strictness (DESIGN §4.2): no llhttp lenient flag is ever enabled, and on top
// of llhttp's own checks the parser rejects what llhttp lets through: HTTP
// versions other than 1.0/1.1, Transfer-Encoding other than exactly one
// "chunked" (requests and responses), Transfer-Encoding on HTTP/1.0, duplicate
// Host, response status codes outside 100-599, oversized
// URLs/heads/bodies/trailers/chunk extensions.
//
// Memory: the head's bytes are copied into a per-parser arena whose capacity
// is kept across messages, so a warmed-up parser allocates nothing per message.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace ringgate::http {

enum class MessageKind : uint8_t { kRequest, kResponse };

struct ParserLimits {
  uint32_t max_header_bytes = 16384;  // start line + header fields + blank line
  uint32_t max_header_count = 100;
  uint32_t max_url_bytes = 8192;
  uint64_t max_body_bytes = 10485760;  // decoded body bytes per message
};

enum class ParseStatus : uint8_t { kNeedMore, kHeadComplete, kMessageComplete, kError };

struct ParseResult {
  ParseStatus status;
  size_t consumed;  // bytes of the fed buffer this call used
  // kError: the status to answer with. Requests: 400, 413, 414, 431, 501 or
  // 505; responses: always 502.
  int http_status = 0;
  const char* reason = nullptr;  // kError: short static text for logs
};

// Receives decoded body bytes (chunk framing removed) while feed() runs.
class BodySink {
 public:
  virtual void on_body(const char* data, size_t len) noexcept = 0;

 protected:
  ~BodySink() = default;
};

class MessageParser {
 public:
  MessageParser(MessageKind kind, const ParserLimits& limits) noexcept;
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  // New limits; they apply from the next byte fed.
  void set_limits(const ParserLimits& limits) noexcept;

  // Responses only: the request this response answers was HEAD (or the caller
  // otherwise knows it has no body). Sticky: applies to every following
  // response (including the final one after 1xx) until changed or reset().
  void expect_no_body(bool yes) noexcept;

  // Feeds bytes. Stops right after the head is complete (kHeadComplete,
  // `consumed` = bytes up to and including the blank line) so the caller can
  // route before any body byte is handled; the next feed() continues with the
  // body, delivering decoded body bytes to `sink`, and stops right after the
  // message ends (kMessageComplete; `consumed` counts only this message's
  // bytes, a pipelined next message is left unconsumed). A message without a
  // body returns kHeadComplete, then kMessageComplete with consumed 0 on the
  // next feed (len may be 0). kNeedMore: all bytes consumed, need more.
  // kError: the parser stays failed (same result) until reset().
  // After a message with head().upgrade, further feeds fail with 501.
  // Feeding after kMessageComplete without next_message() implies it.
  // How a stream is split into feeds changes neither the heads, bodies and
  // completions reported nor whether it fails. Only for a stream that breaks
  // a size limit and the syntax inside one token may the error differ (414,
  // 431 or 413 against 400): llhttp reports a syntax error without handing
  // over the token's bytes first, so the limit is seen only when a read
  // ended inside the token.
  ParseResult feed(const char* data, size_t len, BodySink& sink) noexcept;

  // The peer closed its side. Completes a kUntilClose response
  // (kMessageComplete); a message cut short is kError; with no message in
  // progress the close is clean: kNeedMore. Consumes nothing.
  ParseResult finish(BodySink& sink) noexcept;

  // The current message's head; valid after kHeadComplete until next_message().
  const MessageHead& head() const noexcept { return head_; }

  // Some byte of a message was seen and the message is not complete yet.
  bool in_message() const noexcept;

  // After kMessageComplete: forget the message (head() views die) and get
  // ready for the next pipelined message.
  void next_message() noexcept;

  // Fresh state for a new connection; keeps limits and buffer capacity.
  void reset() noexcept;

  // Decoded body bytes seen so far in the current message.
  uint64_t body_bytes() const noexcept { return body_bytes_; }

 private:
  struct Callbacks;  // llhttp callbacks (parser.cpp)

  enum class State : uint8_t {
    kIdle,             // between messages, no byte of the next one yet
    kHead,             // inside the start line / header fields
    kBody,             // head reported, body in progress
    kCompletePending,  // message ended together with its head; not reported yet
    kComplete,         // kMessageComplete reported; waiting for next_message()
    kUpgraded,         // an upgrade message completed: nothing more to parse
    kClosed,           // finish() completed the message
    kFailed,           // kError reported
  };

  // Offsets into arena_: views are built only when the head is complete
  // because the arena may grow (and move) while the head arrives.
  struct Span {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  struct HeaderSpan {
    Span name;
    Span value;
  };

  int fail(int request_status, const char* reason) noexcept;
  // Counts trailer or chunk-extension bytes; fails with `status` past the limit.
  int on_trailer_bytes(size_t len, bool new_field, int status) noexcept;
  void clear_message() noexcept;
  ParseResult failed_result(size_t consumed) const noexcept;
  int on_head_complete() noexcept;
  bool build_head() noexcept;
  bool check_transfer_encoding() noexcept;
  void choose_framing(bool skip_body) noexcept;
  void append_span(Span& span, const char* at, size_t len) noexcept;
  ParseResult execute(const char* data, size_t len) noexcept;

  llhttp_t llhttp_;
  MessageKind kind_;
  ParserLimits limits_;
  State state_ = State::kIdle;
  bool paused_ = false;  // llhttp is paused by one of our callbacks
  bool expect_no_body_ = false;
  bool head_done_now_ = false;     // set by callbacks during one execute()
  bool message_done_now_ = false;  // set by callbacks during one execute()
  bool field_open_ = false;        // the last header callback was for a name
  BodySink* sink_ = nullptr;       // valid during feed() only

  uint32_t head_bytes_ = 0;     // bytes of the current head fed so far
  uint64_t trailer_bytes_ = 0;  // trailer and chunk-extension bytes
  uint32_t trailer_count_ = 0;
  uint64_t body_bytes_ = 0;

  int error_status_ = 0;
  const char* error_reason_ = nullptr;

  std::string arena_;
  Span url_;
  Span reason_;
  std::vector<HeaderSpan> spans_;
  MessageHead head_;
};

}  // namespace ringgate::http
