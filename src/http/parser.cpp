#include "http/parser.hpp"

#include <algorithm>

namespace ringgate::http {
namespace {

constexpr int kResponseErrorStatus = 502;

// llhttp callback return codes (llhttp.h documents them per callback).
constexpr int kContinue = 0;
constexpr int kAbort = -1;
constexpr int kSkipBody = 1;  // on_headers_complete: the message has no body

std::string_view trim_ows(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

bool has_flag(const llhttp_t& p, llhttp_flags flag) noexcept {
  return (p.flags & static_cast<uint16_t>(flag)) != 0;
}

}  // namespace

struct MessageParser::Callbacks {
  static MessageParser& self(llhttp_t* p) noexcept { return *static_cast<MessageParser*>(p->data); }

  static int on_message_begin(llhttp_t* p) noexcept {
    MessageParser& m = self(p);
    m.state_ = State::kHead;
    return kContinue;
  }

  static int on_url(llhttp_t* p, const char* at, size_t len) noexcept {
    MessageParser& m = self(p);
    if (m.url_.length + len > m.limits_.max_url_bytes)
      return m.fail(414, "request target too long");
    m.append_span(m.url_, at, len);
    return kContinue;
  }

  static int on_status(llhttp_t* p, const char* at, size_t len) noexcept {
    MessageParser& m = self(p);
    m.append_span(m.reason_, at, len);
    return kContinue;
  }

  static int on_header_field(llhttp_t* p, const char* at, size_t len) noexcept {
    MessageParser& m = self(p);
    if (m.state_ == State::kBody) return m.on_trailer_bytes(len, !m.field_open_, 431);
    if (!m.field_open_) {
      if (m.spans_.size() >= m.limits_.max_header_count)
        return m.fail(431, "too many header fields");
      m.spans_.emplace_back();
      m.field_open_ = true;
    }
    m.append_span(m.spans_.back().name, at, len);
    return kContinue;
  }

  static int on_header_field_complete(llhttp_t* p) noexcept {
    self(p).field_open_ = false;
    return kContinue;
  }

  static int on_header_value(llhttp_t* p, const char* at, size_t len) noexcept {
    MessageParser& m = self(p);
    if (m.state_ == State::kBody) return m.on_trailer_bytes(len, false, 431);
    if (m.spans_.empty()) return m.fail(400, "header value without a name");
    m.append_span(m.spans_.back().value, at, len);
    return kContinue;
  }

  static int on_headers_complete(llhttp_t* p) noexcept { return self(p).on_head_complete(); }

  static int on_chunk_header(llhttp_t* p) noexcept {
    MessageParser& m = self(p);
    // llhttp holds the announced chunk size in content_length here; refusing
    // before the chunk's bytes arrive keeps an oversized body off the wire.
    if (p->content_length > m.limits_.max_body_bytes - m.body_bytes_) {
      return m.fail(413, "chunked body larger than the limit");
    }
    return kContinue;
  }

  static int on_chunk_extension(llhttp_t* p, const char* /*at*/, size_t len) noexcept {
    return self(p).on_trailer_bytes(len, false, 400);
  }

  static int on_body(llhttp_t* p, const char* at, size_t len) noexcept {
    MessageParser& m = self(p);
    if (len > m.limits_.max_body_bytes - m.body_bytes_)
      return m.fail(413, "body larger than the limit");
    m.body_bytes_ += len;
    m.sink_->on_body(at, len);
    return kContinue;
  }

  static int on_message_complete(llhttp_t* p) noexcept {
    self(p).message_done_now_ = true;
    // Stop right at the message's end so pipelined bytes stay unconsumed.
    return HPE_PAUSED;
  }

  static const llhttp_settings_t* settings() noexcept {
    static const llhttp_settings_t kSettings = [] {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_message_begin = on_message_begin;
      s.on_url = on_url;
      s.on_status = on_status;
      s.on_header_field = on_header_field;
      s.on_header_field_complete = on_header_field_complete;
      s.on_header_value = on_header_value;
      s.on_headers_complete = on_headers_complete;
      s.on_chunk_header = on_chunk_header;
      s.on_chunk_extension_name = on_chunk_extension;
      s.on_chunk_extension_value = on_chunk_extension;
      s.on_body = on_body;
      s.on_message_complete = on_message_complete;
      return s;
    }();
    return &kSettings;
  }
};

MessageParser::MessageParser(MessageKind kind, const ParserLimits& limits) noexcept
    : kind_(kind), limits_(limits) {
  llhttp_init(&llhttp_, kind == MessageKind::kRequest ? HTTP_REQUEST : HTTP_RESPONSE,
              Callbacks::settings());
  llhttp_.data = this;
  // Enough for a typical head; the capacity only grows (and is kept) when a
  // larger head arrives, so a long-lived connection settles to no allocation.
  // Reserving the full limit per parser would cost GiBs at 100k connections.
  arena_.reserve(1024);
  spans_.reserve(32);
  head_.headers.reserve(32);
}

void MessageParser::set_limits(const ParserLimits& limits) noexcept { limits_ = limits; }

void MessageParser::expect_no_body(bool yes) noexcept { expect_no_body_ = yes; }

bool MessageParser::in_message() const noexcept {
  return state_ == State::kHead || state_ == State::kBody || state_ == State::kCompletePending;
}

int MessageParser::fail(int request_status, const char* reason) noexcept {
  error_status_ = kind_ == MessageKind::kRequest ? request_status : kResponseErrorStatus;
  error_reason_ = reason;
  return kAbort;
}

ParseResult MessageParser::failed_result(size_t consumed) const noexcept {
  return {ParseStatus::kError, consumed, error_status_, error_reason_};
}

int MessageParser::on_trailer_bytes(size_t len, bool new_field, int status) noexcept {
  // Trailer fields and chunk extensions are parsed (and validated) by llhttp
  // but dropped: the proxy re-frames the body. They still must not be endless.
  trailer_bytes_ += len;
  if (new_field) ++trailer_count_;
  field_open_ = field_open_ || new_field;
  if (trailer_bytes_ > limits_.max_header_bytes) {
    return fail(status, status == 431 ? "trailer fields too large" : "chunk extensions too long");
  }
  if (trailer_count_ > limits_.max_header_count) return fail(431, "too many trailer fields");
  return kContinue;
}

void MessageParser::append_span(Span& span, const char* at, size_t len) noexcept {
  if (span.length == 0) span.offset = static_cast<uint32_t>(arena_.size());
  arena_.append(at, len);
  span.length += static_cast<uint32_t>(len);
}

int MessageParser::on_head_complete() noexcept {
  if (!build_head()) return kAbort;
  state_ = State::kBody;
  head_done_now_ = true;
  bool has_body = head_.framing == BodyFraming::kChunked ||
                  head_.framing == BodyFraming::kUntilClose ||
                  (head_.framing == BodyFraming::kLength && head_.content_length > 0);
  // Without a body llhttp completes the message at once (our
  // on_message_complete pauses there); with one, pause so that the caller
  // routes before any body byte is delivered.
  return has_body ? HPE_PAUSED : kSkipBody;
}

bool MessageParser::build_head() noexcept {
  const bool request = kind_ == MessageKind::kRequest;
  // llhttp also accepts "HTTP/2.0" (and 0.9 for some inputs) on an HTTP/1 wire.
  if (llhttp_.http_major != 1 || llhttp_.http_minor > 1) {
    fail(505, "unsupported HTTP version");
    return false;
  }
  head_.version_major = llhttp_.http_major;
  head_.version_minor = llhttp_.http_minor;
  std::string_view arena(arena_);
  if (request) {
    head_.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_.method));
    head_.target = arena.substr(url_.offset, url_.length);
  } else {
    // llhttp takes any three digits; RFC 9110 §15 defines 100-599 only, and
    // a status such as 099 would be re-emitted as an invalid status line.
    if (llhttp_.status_code < 100 || llhttp_.status_code > 599) {
      fail(502, "response status code outside 100-599");
      return false;
    }
    head_.status = llhttp_.status_code;
    head_.reason = arena.substr(reason_.offset, reason_.length);
  }

  head_.headers.clear();
  int host_count = 0;
  for (const HeaderSpan& s : spans_) {
    Header h{arena.substr(s.name.offset, s.name.length),
             trim_ows(arena.substr(s.value.offset, s.value.length))};
    head_.headers.push_back(h);
    if (!request) continue;
    if (equals_ignore_case(h.name, "host")) {
      ++host_count;
      head_.host = h.value;
    } else if (head_.version_minor == 1 && equals_ignore_case(h.name, "expect") &&
               equals_ignore_case(h.value, "100-continue")) {
      head_.expect_continue = true;
    }
  }
  if (host_count > 1) {
    fail(400, "more than one Host header");
    return false;
  }
  if (!check_transfer_encoding()) return false;

  head_.has_content_length = has_flag(llhttp_, F_CONTENT_LENGTH);
  head_.content_length = head_.has_content_length ? llhttp_.content_length : 0;
  head_.upgrade = llhttp_.upgrade != 0 || (!request && head_.status == 101);
  // llhttp ends a CONNECT request with its head, whatever its framing
  // headers say (RFC 9110 §9.3.6: it has no content): what follows is the
  // tunnel.
  const bool connect = request && llhttp_.method == HTTP_CONNECT;
  bool skip_body = connect || (!request && (expect_no_body_ || head_.status / 100 == 1 ||
                                            head_.status == 204 || head_.status == 304));
  choose_framing(skip_body);
  if (head_.framing == BodyFraming::kLength && head_.content_length > limits_.max_body_bytes) {
    fail(413, "Content-Length larger than the limit");
    return false;
  }
  bool connection_ok = head_.version_minor == 1 ? !has_flag(llhttp_, F_CONNECTION_CLOSE)
                                                : has_flag(llhttp_, F_CONNECTION_KEEP_ALIVE);
  head_.keep_alive = connection_ok && head_.framing != BodyFraming::kUntilClose && !head_.upgrade;
  return true;
}

bool MessageParser::check_transfer_encoding() noexcept {
  // The header decides, not llhttp's F_TRANSFER_ENCODING: llhttp leaves the
  // flag unset for an empty value, and such a message would otherwise pass
  // with a Transfer-Encoding header the next hop may read differently.
  const Header* te = nullptr;
  for (const Header& h : head_.headers) {
    if (!equals_ignore_case(h.name, "transfer-encoding")) continue;
    if (te != nullptr) {
      fail(400, "more than one Transfer-Encoding header");
      return false;
    }
    te = &h;
  }
  if (te == nullptr) return true;
  if (has_flag(llhttp_, F_CONTENT_LENGTH)) {
    fail(400, "both Content-Length and Transfer-Encoding");
    return false;
  }
  if (head_.version_minor == 0) {
    fail(400, "Transfer-Encoding in an HTTP/1.0 message");
    return false;
  }
  if (equals_ignore_case(te->value, "chunked")) return true;
  // Other codings would have to be forwarded as they are; the proxy
  // re-frames bodies as plain chunked, so it refuses them instead.
  if (has_flag(llhttp_, F_CHUNKED)) {
    fail(501, "transfer coding other than chunked");
  } else {
    fail(400, "Transfer-Encoding does not end in chunked");
  }
  return false;
}

void MessageParser::choose_framing(bool skip_body) noexcept {
  if (skip_body) {
    head_.framing = BodyFraming::kNone;
  } else if (has_flag(llhttp_, F_CHUNKED)) {
    head_.framing = BodyFraming::kChunked;
  } else if (head_.has_content_length) {
    head_.framing = BodyFraming::kLength;
  } else {
    head_.framing = kind_ == MessageKind::kRequest ? BodyFraming::kNone : BodyFraming::kUntilClose;
  }
}

ParseResult MessageParser::feed(const char* data, size_t len, BodySink& sink) noexcept {
  switch (state_) {
    case State::kFailed:
      return failed_result(0);
    case State::kUpgraded:
      fail(501, "protocol upgrade is not supported");
      state_ = State::kFailed;
      return failed_result(0);
    case State::kClosed:
      fail(400, "data after the end of the connection");
      state_ = State::kFailed;
      return failed_result(0);
    case State::kCompletePending:
      state_ = State::kComplete;
      return {ParseStatus::kMessageComplete, 0};
    case State::kComplete:
      next_message();
      if (state_ == State::kUpgraded) return feed(data, len, sink);
      break;
    default:
      break;
  }
  sink_ = &sink;
  ParseResult result = execute(data, len);
  sink_ = nullptr;
  return result;
}

ParseResult MessageParser::execute(const char* data, size_t len) noexcept {
  const bool in_head = state_ == State::kIdle || state_ == State::kHead;
  size_t n = len;
  if (in_head)
    n = std::min<size_t>(
        len, limits_.max_header_bytes - std::min(head_bytes_, limits_.max_header_bytes));
  if (paused_) {
    llhttp_resume(&llhttp_);
    paused_ = false;
  }
  head_done_now_ = false;
  message_done_now_ = false;
  static constexpr char kEmpty[1] = {0};
  const char* p = data != nullptr ? data : kEmpty;
  llhttp_errno_t err = llhttp_execute(&llhttp_, p, n);

  size_t used = n;
  if (err == HPE_PAUSED) {
    paused_ = true;
    used = static_cast<size_t>(llhttp_get_error_pos(&llhttp_) - p);
  } else if (err != HPE_OK) {
    const char* pos = llhttp_get_error_pos(&llhttp_);
    if (error_status_ == 0) {
      // An llhttp rejection (or an upgrade llhttp will not parse past).
      if (err == HPE_PAUSED_UPGRADE) {
        fail(501, "protocol upgrade is not supported");
      } else {
        fail(400, llhttp_get_error_reason(&llhttp_));
      }
    }
    state_ = State::kFailed;
    return failed_result(pos != nullptr && pos >= p ? static_cast<size_t>(pos - p) : 0);
  }

  if (head_done_now_) {
    state_ = message_done_now_ ? State::kCompletePending : State::kBody;
    return {ParseStatus::kHeadComplete, used};
  }
  if (message_done_now_) {
    state_ = State::kComplete;
    return {ParseStatus::kMessageComplete, used};
  }
  if (in_head) {
    head_bytes_ += static_cast<uint32_t>(used);
    // The head is still open: one more byte would already be over the limit.
    if (head_bytes_ >= limits_.max_header_bytes) {
      fail(431, "request head larger than the limit");
      state_ = State::kFailed;
      return failed_result(used);
    }
  }
  return {ParseStatus::kNeedMore, used};
}

ParseResult MessageParser::finish(BodySink& /*sink*/) noexcept {
  switch (state_) {
    case State::kFailed:
      return failed_result(0);
    case State::kCompletePending:
      state_ = State::kComplete;
      return {ParseStatus::kMessageComplete, 0};
    case State::kHead:
      fail(400, "connection closed inside the message head");
      state_ = State::kFailed;
      return failed_result(0);
    case State::kBody:
      if (head_.framing == BodyFraming::kUntilClose) {
        state_ = State::kClosed;
        return {ParseStatus::kMessageComplete, 0};
      }
      fail(400, "connection closed before the body ended");
      state_ = State::kFailed;
      return failed_result(0);
    default:
      return {ParseStatus::kNeedMore, 0};
  }
}

void MessageParser::next_message() noexcept {
  if (state_ != State::kComplete && state_ != State::kCompletePending) return;
  state_ = head_.upgrade ? State::kUpgraded : State::kIdle;
  clear_message();
}

void MessageParser::clear_message() noexcept {
  arena_.clear();
  spans_.clear();
  url_ = {};
  reason_ = {};
  head_.headers.clear();
  MessageHead fresh;
  fresh.headers.swap(head_.headers);  // keep the vector's capacity
  head_ = std::move(fresh);
  field_open_ = false;
  head_bytes_ = 0;
  trailer_bytes_ = 0;
  trailer_count_ = 0;
  body_bytes_ = 0;
}

void MessageParser::reset() noexcept {
  llhttp_reset(&llhttp_);
  clear_message();
  state_ = State::kIdle;
  paused_ = false;
  expect_no_body_ = false;
  error_status_ = 0;
  error_reason_ = nullptr;
}

}  // namespace ringgate::http
