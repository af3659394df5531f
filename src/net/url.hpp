// The one parser of the http:// and https:// URLs the gateway is configured
// with (an API's serviceUrl, a backend's url, a policy's base-url). Used by
// the config loader, the router's service URLs and the policy parser, so a
// URL one accepts the others accept too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringgate::net {

struct HttpUrl {
  bool tls = false;              // https
  std::string host;              // a DNS name or an IP literal (IPv6 without brackets)
  std::optional<uint16_t> port;  // absent: the scheme's default
  std::string path;              // empty or starting with '/', as written

  uint16_t port_or_default() const noexcept { return port.value_or(tls ? 443 : 80); }
};

// Parses "http(s)://host[:port][/path]" (the scheme in any case). Refused:
// spaces and control characters, user info, a query or a fragment, an
// unbracketed or invalid IPv6 literal, a dotted-digits host that is no IPv4
// address, a port outside 1-65535, and path characters that must be
// percent-encoded. On failure returns nullopt and sets `reason` to a phrase
// such as "the port must be a number from 1 to 65535" (the caller says where
// and quotes the URL).
std::optional<HttpUrl> parse_http_url(std::string_view text, std::string& reason);

}  // namespace ringgate::net
