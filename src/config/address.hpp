// Parsing of the network locations a config file names: HTTP(S) URLs for
// backends and APIs. Socket addresses ("host:port") are declared in the public
// header include/ringgate/config.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringgate::config {

// An http:// or https:// URL split into its parts. `host` is a DNS name or an
// IP literal (IPv6 without brackets); `path` is empty or starts with '/'.
struct HttpUrl {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::optional<uint16_t> port;  // absent = the scheme's default
  std::string path;
};

// Parses `text` as "http(s)://host[:port][/path]". A user-info part, a query
// or a fragment is refused. When `allow_path` is false only an empty path or a
// lone "/" is accepted. On failure returns nullopt and sets `reason` to a short
// phrase such as "port must be 1-65535" (the caller adds where and what).
std::optional<HttpUrl> parse_http_url(std::string_view text, bool allow_path, std::string& reason);

}  // namespace ringgate::config
