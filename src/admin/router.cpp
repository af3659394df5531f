#include "admin/router.hpp"

#include <algorithm>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "admin/openapi.hpp"
#include "core/log.hpp"

namespace ringgate::admin {
namespace {

struct Target {
  std::string_view path;
  std::string_view query;
};

Target split_target(std::string_view target) {
  const size_t mark = target.find('?');
  if (mark == std::string_view::npos) return {target, {}};
  return {target.substr(0, mark), target.substr(mark + 1)};
}

bool is_read(std::string_view method) { return method == "GET" || method == "HEAD"; }

// Compares without an early exit, so timing does not reveal the token.
bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

AdminResponse unauthorized(bool token_sent) {
  AdminResponse r = error_response(
      401, "Unauthorized",
      token_sent ? "the bearer token is not the admin token (gateway.admin.tokenFile)"
                 : "send Authorization: Bearer <token> (the content of gateway.admin.tokenFile)");
  r.headers.emplace_back("WWW-Authenticate",
                         token_sent ? R"(Bearer realm="ringgate", error="invalid_token")"
                                    : R"(Bearer realm="ringgate")");
  return r;
}

AdminResponse too_large() {
  return error_response(413, "PayloadTooLarge",
                        "admin request bodies are limited to " +
                            std::to_string(kMaxAdminBodyBytes) + " bytes (1 MiB)");
}

AdminResponse read_only(std::string_view path) {
  AdminResponse r =
      error_response(405, "MethodNotAllowed", std::string(path) + " answers GET and HEAD only");
  r.headers.emplace_back("Allow", "GET, HEAD");
  return r;
}

AdminResponse static_file_response(const StaticFile& file) {
  AdminResponse r;
  r.content_type = file.content_type;
  r.body = file.body;
  r.headers = {{"Content-Security-Policy", std::string(kConsoleContentSecurityPolicy)},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"}};
  return r;
}

}  // namespace

Router::Router(const config::Admin& settings, MetricsFn metrics)
    : settings_(settings), metrics_(std::move(metrics)) {}

bool Router::authorized(const http::MessageHead& head) const {
  if (settings_.token.empty()) return false;
  const http::Header* auth = head.find("Authorization");
  if (auth == nullptr) return false;
  constexpr std::string_view kScheme = "Bearer ";
  if (auth->value.size() <= kScheme.size()) return false;
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  if (!http::equals_ignore_case(auth->value.substr(0, kScheme.size()), kScheme)) return false;
  return constant_time_equal(auth->value.substr(kScheme.size()), settings_.token);
}

std::optional<AdminResponse> Router::screen(const http::MessageHead& head) const {
  const std::string_view path = split_target(head.target).path;
  if (is_read(head.method)) {
    auto file = static_files_.find(std::string(path));
    if (file != static_files_.end()) return static_file_response(file->second);
  }
  const bool public_route =
      settings_.metrics_without_token && (path == "/healthz" || path == "/metrics");
  if (!public_route && !authorized(head)) {
    return unauthorized(head.find("Authorization") != nullptr);
  }
  if (head.framing == http::BodyFraming::kLength && head.content_length > kMaxAdminBodyBytes) {
    return too_large();
  }
  return std::nullopt;
}

AdminResponse Router::own_route(std::string_view path, std::string_view method) const {
  if (!is_read(method)) return read_only(path);
  AdminResponse r;
  if (path == "/healthz") {
    const std::string reason = health_ ? health_() : std::string();
    r.body = reason.empty() ? nlohmann::json{{"status", "ok"}}.dump()
                            : nlohmann::json{{"status", "degraded"}, {"reason", reason}}.dump(
                                  -1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4";
    if (metrics_) r.body = metrics_();
  } else {
    r.body = openapi_document();
  }
  return r;
}

AdminResponse Router::dispatch(const http::MessageHead& head, std::string_view body) const {
  const Target target = split_target(head.target);
  if (target.path == "/healthz" || target.path == "/metrics" || target.path == "/openapi.json") {
    return own_route(target.path, head.method);
  }
  if (resources_ == nullptr) return error_response(404, "NotFound", "no such admin resource");
  AdminRequest request;
  request.method = head.method == "HEAD" ? std::string_view("GET") : head.method;
  request.path = target.path;
  request.query = target.query;
  if (const http::Header* if_match = head.find("If-Match")) request.if_match = if_match->value;
  request.body = body;
  try {
    std::optional<AdminResponse> answer = resources_->handle(request);
    if (!answer) return error_response(404, "NotFound", "no such admin resource");
    return std::move(*answer);
  } catch (const std::exception& e) {
    // Control-plane code may throw at its edges (DESIGN §3); one failed
    // request must not take the control thread down.
    RG_ERROR("admin: %.*s %.*s failed: %s", static_cast<int>(head.method.size()),
             head.method.data(), static_cast<int>(target.path.size()), target.path.data(),
             e.what());
    return error_response(500, "InternalError", "the request failed; the gateway log says why");
  }
}

AdminResponse Router::route(const http::MessageHead& head, std::string_view body) const {
  if (std::optional<AdminResponse> early = screen(head)) return std::move(*early);
  return dispatch(head, body);
}

AdminResponse malformed_request_response(int status, std::string_view reason) {
  std::string_view code = "InvalidRequest";
  switch (status) {
    case 413:
      return too_large();
    case 414:
      code = "UriTooLong";
      break;
    case 431:
      code = "RequestHeaderFieldsTooLarge";
      break;
    case 501:
      code = "NotImplemented";
      break;
    case 505:
      code = "HttpVersionNotSupported";
      break;
    default:
      status = 400;
      break;
  }
  return error_response(status, code,
                        "the request could not be read: " +
                            std::string(reason.empty() ? "malformed HTTP/1.1" : reason));
}

}  // namespace ringgate::admin
