// How the admin listener puts an AdminResponse on the wire. Every admin
// answer is one HTTP/1.1 response on a connection that closes after it.
#pragma once

#include <string>
#include <string_view>

#include "admin/resource_api.hpp"

namespace ringgate::admin {

// The whole response: status line, Content-Type, Content-Length,
// `Cache-Control: no-store`, `X-Content-Type-Options: nosniff`,
// `Connection: close`, then the response's own headers, then the body.
// `head_only` (the request was HEAD): the same head, Content-Length still the
// body's size, no body bytes. 204 and 304 carry neither a body nor
// Content-Type/Content-Length.
// Own headers that the server frames itself (Content-Length,
// Transfer-Encoding, Connection, Content-Type, Cache-Control,
// X-Content-Type-Options) are left out, as is any header whose name is not
// an HTTP token or whose value holds CR, LF or NUL: a value taken from a
// request must not be able to add a header or end the head.
std::string encode_response(const AdminResponse& response, bool head_only);

// The interim answer to `Expect: 100-continue`.
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace ringgate::admin
