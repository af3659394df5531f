// The admin listener's request handling, as one session does it but without
// the socket (src/admin/admin_server.cpp): the request parser with the body
// limit lifted until the head is screened, admin::Router::screen() once the
// head is complete, the body read under kMaxAdminBodyBytes, dispatch(), and
// encode_response() for the wire. Checks that only the bearer token opens
// anything but the console's files and the public endpoints, and that every
// answer is one well-formed HTTP/1.1 response: nothing a request carries can
// add a header or a second response, HEAD answers carry no body, and JSON
// bodies parse.
//
// Input: the bytes the client sends (head and body). The token is
// "fuzz-token". Once a ResourceApi implementation exists (certificates, APIs,
// backends, policies), set it on the routers below with a scratch state dir
// and add its request bodies to corpus/admin/.
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "admin/response_wire.hpp"
#include "admin/router.hpp"
#include "fuzz_support.hpp"
#include "http/error_response.hpp"
#include "http/parser.hpp"

namespace {

using ringgate::admin::AdminResponse;
using ringgate::admin::Router;
using ringgate::fuzz::printable;
namespace admin = ringgate::admin;
namespace http = ringgate::http;

constexpr std::string_view kToken = "fuzz-token";
constexpr size_t kReadSize = 16384;  // a session reads at most this much at a time

class BodySink final : public http::BodySink {
 public:
  void on_body(const char* data, size_t len) noexcept override { body.append(data, len); }
  std::string body;
};

const Router& router(bool public_metrics) {
  static const Router* routers[2] = {nullptr, nullptr};
  const Router*& r = routers[public_metrics ? 1 : 0];
  if (r == nullptr) {
    ringgate::config::Admin settings;
    settings.address = {"127.0.0.1", 0};
    settings.token = std::string(kToken);
    settings.metrics_without_token = public_metrics;
    auto* made = new Router(settings, [] { return std::string("ringgate_up 1\n"); });
    made->set_static_files({{"/", {"text/html; charset=utf-8", "<!doctype html><title>x</title>"}},
                            {"/app.js", {"text/javascript", "export {};"}}});
    r = made;
  }
  return *r;
}

bool is_json(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  return parser.parse(simdjson::padded_string(text)).get(root) == simdjson::SUCCESS;
}

// The rule of DESIGN §5, independently: the first Authorization header is
// "Bearer <token>" with the scheme in any case.
bool presents_token(const http::MessageHead& head) {
  const http::Header* auth = head.find("Authorization");
  if (auth == nullptr || auth->value.size() < 7) return false;
  return http::equals_ignore_case(auth->value.substr(0, 7), "Bearer ") &&
         auth->value.substr(7) == kToken;
}

// What one session answers, and whether the request's head was complete.
struct Answer {
  AdminResponse response;
  bool head_only = false;
  bool head_seen = false;
};

// Follows AdminServer's session: screen at the head, body limit after it,
// dispatch at the end. nullopt when the client never finished its request.
std::optional<Answer> serve(const Router& r, std::string_view request,
                            http::MessageParser& parser) {
  http::ParserLimits head_limits;
  head_limits.max_body_bytes = std::numeric_limits<uint64_t>::max();
  parser.set_limits(head_limits);
  BodySink sink;
  Answer answer;
  size_t pos = 0;
  size_t received = std::min(request.size(), kReadSize);
  for (;;) {
    const http::ParseResult result = parser.feed(request.data() + pos, received - pos, sink);
    pos += result.consumed;
    switch (result.status) {
      case http::ParseStatus::kError:
        answer.response = admin::malformed_request_response(result.http_status,
                                                            result.reason ? result.reason : "");
        return answer;
      case http::ParseStatus::kHeadComplete: {
        answer.head_seen = true;
        answer.head_only = parser.head().method == "HEAD";
        if (std::optional<AdminResponse> early = r.screen(parser.head())) {
          answer.response = std::move(*early);
          return answer;
        }
        http::ParserLimits body_limits;
        body_limits.max_body_bytes = admin::kMaxAdminBodyBytes;
        parser.set_limits(body_limits);
        break;
      }
      case http::ParseStatus::kMessageComplete:
        FUZZ_CHECK(sink.body.size() <= admin::kMaxAdminBodyBytes);
        answer.response = r.dispatch(parser.head(), sink.body);
        FUZZ_CHECK(!answer.response.ready, "a held response without resources");
        return answer;
      case http::ParseStatus::kNeedMore:
        if (received == request.size()) return std::nullopt;
        received = std::min(request.size(), received + kReadSize);
        break;
    }
  }
}

// DESIGN §5: without the token only the console's files (GET, HEAD) and, when
// configured, /healthz and /metrics answer; the rest is 401 with a challenge.
void check_access(const Answer& a, const http::MessageHead& head, bool public_metrics,
                  const std::string& where) {
  if (presents_token(head)) return;
  const std::string_view path = head.target.substr(0, head.target.find('?'));
  const bool read = head.method == "GET" || head.method == "HEAD";
  const bool static_file = read && (path == "/" || path == "/app.js");
  const bool open = public_metrics && (path == "/healthz" || path == "/metrics");
  if (static_file || open) return;
  FUZZ_CHECK(a.response.status == 401, where + std::to_string(a.response.status));
  const bool challenge =
      std::any_of(a.response.headers.begin(), a.response.headers.end(), [](const auto& h) {
        return h.first == "WWW-Authenticate" && h.second.starts_with("Bearer");
      });
  FUZZ_CHECK(challenge, where);
}

// The bytes encode_response() puts on the wire are exactly one response that
// says what the AdminResponse says.
void check_wire(const Answer& a, const std::string& where) {
  const AdminResponse& r = a.response;
  FUZZ_CHECK(r.status >= 200 && r.status <= 599, where + std::to_string(r.status));
  if (r.content_type == "application/json") FUZZ_CHECK(is_json(r.body), where + printable(r.body));
  const std::string wire = admin::encode_response(r, a.head_only);
  const std::string what = where + printable(wire);

  http::MessageParser parser(http::MessageKind::kResponse, {});
  parser.expect_no_body(a.head_only);
  BodySink sink;
  const http::ParseResult head = parser.feed(wire.data(), wire.size(), sink);
  FUZZ_CHECK(head.status == http::ParseStatus::kHeadComplete, what);
  const http::MessageHead& h = parser.head();
  FUZZ_CHECK(h.status == r.status && !h.keep_alive, what);
  const bool bodiless = a.head_only || r.status == 204 || r.status == 304;
  if (r.status != 204 && r.status != 304) {
    FUZZ_CHECK(h.has_content_length && h.content_length == r.body.size(), what);
  }
  // Each of the response's own headers is sent at most once, and nothing
  // else appears beyond the server's five.
  FUZZ_CHECK(h.headers.size() <= 5 + r.headers.size(), what);
  const http::ParseResult end =
      parser.feed(wire.data() + head.consumed, wire.size() - head.consumed, sink);
  FUZZ_CHECK(end.status == http::ParseStatus::kMessageComplete, what);
  FUZZ_CHECK(head.consumed + end.consumed == wire.size(), "bytes after the response: " + what);
  FUZZ_CHECK(sink.body == (bodiless ? std::string() : r.body), what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  const std::string where = printable(request) + "\n";
  for (const bool public_metrics : {false, true}) {
    http::MessageParser parser(http::MessageKind::kRequest, {});
    const std::optional<Answer> answer = serve(router(public_metrics), request, parser);
    if (!answer) continue;
    if (answer->head_seen) check_access(*answer, parser.head(), public_metrics, where);
    check_wire(*answer, where);
  }
  return 0;
}
