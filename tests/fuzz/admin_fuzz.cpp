// The admin listener's request handling: bytes of one admin connection parsed
// as AdminServer's sessions parse them (a request MessageParser with default
// limits, the body collected), then AdminServer::route(). Checks that only the
// right bearer token opens anything but the public endpoints, and that every
// answer is well-formed HTTP with a JSON body where it says JSON.
//
// Input: the bytes the client sends (head and body). The server's token is
// "fuzz-token". As the admin API grows (certificates, APIs, backends with JSON
// bodies), add its request bodies to corpus/admin/ and its promises here.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "admin/admin_server.hpp"
#include "fuzz_support.hpp"
#include "http/error_response.hpp"
#include "http/parser.hpp"

namespace {

using ringgate::admin::AdminResponse;
using ringgate::admin::AdminServer;
using ringgate::fuzz::printable;
namespace http = ringgate::http;

constexpr std::string_view kToken = "fuzz-token";

class BodySink final : public http::BodySink {
 public:
  void on_body(const char* data, size_t len) noexcept override { body.append(data, len); }
  std::string body;
};

AdminServer& server(bool public_metrics) {
  static AdminServer* servers[2] = {nullptr, nullptr};
  AdminServer*& s = servers[public_metrics ? 1 : 0];
  if (s == nullptr) {
    ringgate::config::Admin settings;
    settings.address = {"127.0.0.1", 0};
    settings.token = std::string(kToken);
    settings.metrics_without_token = public_metrics;
    s = new AdminServer(settings, [] { return std::string("ringgate_up 1\n"); });
  }
  return *s;
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

void check_response(const AdminResponse& r, const http::MessageHead& head, bool public_metrics,
                    const std::string& where) {
  FUZZ_CHECK(r.status >= 200 && r.status <= 599, where + std::to_string(r.status));
  FUZZ_CHECK(!http::reason_phrase(r.status).empty());
  FUZZ_CHECK(!r.content_type.empty() && r.content_type.find_first_of("\r\n") == std::string::npos,
             where);
  if (r.content_type == "application/json") FUZZ_CHECK(is_json(r.body), where + printable(r.body));
  const std::string_view path = head.target.substr(0, head.target.find('?'));
  const bool open = public_metrics && (path == "/healthz" || path == "/metrics");
  if (!open && !presents_token(head)) FUZZ_CHECK(r.status == 401, where + std::to_string(r.status));
}

// The error answer a session sends for a malformed request must itself be a
// complete, well-formed response.
void check_error_answer(int status, const std::string& where) {
  std::string out;
  http::append_error_response(out, status, true);
  http::MessageParser parser(http::MessageKind::kResponse, {});
  BodySink sink;
  const http::ParseResult head = parser.feed(out.data(), out.size(), sink);
  FUZZ_CHECK(head.status == http::ParseStatus::kHeadComplete, where + printable(out));
  FUZZ_CHECK(parser.head().status == status, where + printable(out));
  FUZZ_CHECK(!parser.head().keep_alive, where + printable(out));
  const http::ParseResult body =
      parser.feed(out.data() + head.consumed, out.size() - head.consumed, sink);
  FUZZ_CHECK(body.status == http::ParseStatus::kMessageComplete &&
                 head.consumed + body.consumed == out.size(),
             where + printable(out));
  FUZZ_CHECK(is_json(sink.body), where + printable(out));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  const std::string where = printable(request) + "\n";
  http::MessageParser parser(http::MessageKind::kRequest, http::ParserLimits{});
  BodySink sink;
  // A session reads at most 16 KiB at a time.
  constexpr size_t kReadSize = 16384;
  size_t pos = 0;
  size_t received = std::min(request.size(), kReadSize);
  for (;;) {
    const http::ParseResult r = parser.feed(request.data() + pos, received - pos, sink);
    pos += r.consumed;
    if (r.status == http::ParseStatus::kHeadComplete) continue;
    if (r.status == http::ParseStatus::kError) {
      check_error_answer(r.http_status, where);
      return 0;
    }
    if (r.status == http::ParseStatus::kMessageComplete) break;
    if (received == request.size()) return 0;  // the client never finished its request
    received = std::min(request.size(), received + kReadSize);
  }
  for (const bool public_metrics : {false, true}) {
    const AdminResponse response = server(public_metrics).route(parser.head(), sink.body);
    check_response(response, parser.head(), public_metrics, where);
  }
  return 0;
}
