// What the admin listener answers, without any I/O (DESIGN §5, §10): the
// console's static files, the bearer-token check, the listener's own routes
// (/healthz, /metrics, /openapi.json), and every other path through the
// ResourceApi. Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "admin/resource_api.hpp"
#include "http/message.hpp"
#include "ringgate/config.hpp"

namespace ringgate::admin {

// The largest request body the admin API reads.
inline constexpr uint64_t kMaxAdminBodyBytes = 1024 * 1024;

// A file of the web console, served without the token.
struct StaticFile {
  std::string content_type;  // e.g. "text/html; charset=utf-8"
  std::string body;
};
// By request path without the query: "/", "/app.js".
using StaticFiles = std::unordered_map<std::string, StaticFile>;

// Sent with every static file: scripts, styles and API calls from this
// origin only (no inline script), no framing, no plugins.
inline constexpr std::string_view kConsoleContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

class Router {
 public:
  // Renders /metrics; called on the control thread.
  using MetricsFn = std::function<std::string()>;

  Router(const config::Admin& settings, MetricsFn metrics);

  // The token and publicHealthAndMetrics after a reload.
  void update(const config::Admin& settings) { settings_ = settings; }

  // The management resources; not owned, may be null (every path that is not
  // the listener's own is then 404). A response handed out keeps its ready()
  // callable, so whatever that refers to must outlive held responses too.
  void set_resources(ResourceApi* resources) noexcept { resources_ = resources; }
  // Why the gateway is degraded ("" when it is not), for GET /healthz:
  // {"status": "degraded", "reason": …} instead of {"status": "ok"}.
  using HealthFn = std::function<std::string()>;
  void set_health(HealthFn health) { health_ = std::move(health); }

  // The console's files; they shadow any other route of the same path for
  // GET and HEAD.
  void set_static_files(StaticFiles files) { static_files_ = std::move(files); }

  // The answer due as soon as the head is complete, before any body byte is
  // read: a static file (GET or HEAD, no token needed), 401 with
  // `WWW-Authenticate: Bearer` (token missing or wrong), or 413 (a
  // Content-Length over kMaxAdminBodyBytes). nullopt: the request is
  // admitted; read its body, then call dispatch().
  std::optional<AdminResponse> screen(const http::MessageHead& head) const;

  // The answer to an admitted request with its whole body. The resources see
  // HEAD as GET (the caller sends the head only); the path is the target
  // without its query. A response with `ready` set is to be held (see
  // AdminResponse). An exception from the resources becomes a 500 envelope.
  AdminResponse dispatch(const http::MessageHead& head, std::string_view body) const;

  // screen(), then dispatch() when it admits: the whole answer to one request.
  AdminResponse route(const http::MessageHead& head, std::string_view body) const;

 private:
  bool authorized(const http::MessageHead& head) const;
  AdminResponse own_route(std::string_view path, std::string_view method) const;

  config::Admin settings_;
  MetricsFn metrics_;
  HealthFn health_;
  ResourceApi* resources_ = nullptr;
  StaticFiles static_files_;
};

// The envelope for a request the parser refused with `status` (400, 413,
// 414, 431, 501, 505), `reason` being the parser's short text.
AdminResponse malformed_request_response(int status, std::string_view reason);

}  // namespace ringgate::admin
