// The seam between the admin listener (HTTP, authentication, sessions) and
// the management resources behind it (certificates, backends, APIs,
// policies: DESIGN §5). Both sides run on the control thread only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringgate::admin {

// One authenticated admin request, its body read whole (at most 1 MiB).
struct AdminRequest {
  std::string_view method;                   // "GET", "HEAD", "PUT", "DELETE", …
  std::string_view path;                     // without the query: "/certificates/orders"
  std::string_view query;                    // after '?', without it; may be empty
  std::optional<std::string_view> if_match;  // the If-Match header as sent
  std::string_view body;
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Further headers, e.g. {"ETag", "\"…\""}; the server adds framing ones.
  std::vector<std::pair<std::string, std::string>> headers;
  // A response that must wait for something (pools warming after a change):
  // the server holds it until ready() returns true or the steady-clock time
  // `wait_deadline_ms` passes, checking between loop turns; it never blocks
  // the control thread. Empty: send at once.
  std::function<bool()> ready;
  long long wait_deadline_ms = 0;
};

// The management resources. handle() answers a request whose path is one of
// its routes, or returns nullopt (the server then answers 404).
class ResourceApi {
 public:
  virtual ~ResourceApi() = default;
  virtual std::optional<AdminResponse> handle(const AdminRequest& request) = 0;
};

// One entry of an error's "details": what (a JSON path, an XPath, an id) and why.
struct ErrorDetail {
  std::string target;
  std::string message;
};

// The APIM error envelope:
// {"error":{"code":"…","message":"…","details":[{"target":"…","message":"…"}]}}.
AdminResponse error_response(int status, std::string_view code, std::string_view message,
                             const std::vector<ErrorDetail>& details = {});

}  // namespace ringgate::admin
