#include "config/address.hpp"

#include <arpa/inet.h>

#include <charconv>

#include "config/json_reader.hpp"
#include "ringgate/config.hpp"

namespace ringgate::config {
namespace {

constexpr std::string_view kAddressExpectation =
    "expected \"host:port\" with a numeric IPv4/IPv6 host";

bool is_ipv4(const std::string& text) {
  in_addr addr{};
  return inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& text) {
  in6_addr addr{};
  return inet_pton(AF_INET6, text.c_str(), &addr) == 1;
}

// Decimal digits only (no sign, no spaces), at most five of them.
std::optional<uint32_t> parse_port_digits(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool is_hostname_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool is_valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.front() == '.' || host.front() == '-') return false;
  for (char c : host) {
    if (!is_hostname_char(c)) return false;
  }
  return host.find("..") == std::string_view::npos;
}

bool has_control_or_space(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Splits "host:port" / "[v6]:port" into the host without brackets and the
// port text. Returns false when the shape is wrong.
bool split_host_port(std::string_view text, std::string_view& host, std::string_view& port) {
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    return true;
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  host = text.substr(0, colon);
  port = text.substr(colon + 1);
  // An unbracketed IPv6 literal is ambiguous ("::1:80"): require brackets.
  return host.find(':') == std::string_view::npos;
}

// Fills url.host and url.port from "host[:port]" / "[v6][:port]".
bool parse_authority(std::string_view authority, HttpUrl& url, std::string& reason) {
  if (authority.find('@') != std::string_view::npos) {
    reason = "user info is not allowed; put credentials in a policy";
    return false;
  }
  std::string_view host = authority;
  std::optional<std::string_view> port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      reason = "unterminated IPv6 literal";
      return false;
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      reason = "unexpected text after the IPv6 literal";
      return false;
    }
    if (!after.empty()) port_text = after.substr(1);
    if (!is_ipv6(std::string(host))) {
      reason = "invalid IPv6 literal";
      return false;
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port_text = authority.substr(colon + 1);
    }
    if (host.empty()) {
      reason = "the host is missing";
      return false;
    }
    if (!is_valid_hostname(host)) {
      reason = "invalid host";
      return false;
    }
  }
  url.host = std::string(host);
  if (port_text) {
    const std::optional<uint32_t> port = parse_port_digits(*port_text);
    if (!port || *port == 0 || *port > 65535) {
      reason = "the port must be a number from 1 to 65535";
      return false;
    }
    url.port = static_cast<uint16_t>(*port);
  }
  return true;
}

}  // namespace

std::string SocketAddress::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<SocketAddress> parse_socket_address(const std::string& text, std::string& error) {
  const std::string found = ", found " + quote(text);
  std::string_view host_text;
  std::string_view port_text;
  if (!split_host_port(text, host_text, port_text)) {
    error = std::string(kAddressExpectation) + found;
    return std::nullopt;
  }
  const bool bracketed = !text.empty() && text.front() == '[';
  std::string host(host_text);
  if (!bracketed && host == "localhost") host = "127.0.0.1";
  const bool host_ok = bracketed ? is_ipv6(host) : is_ipv4(host);
  std::optional<uint32_t> port = parse_port_digits(port_text);
  if (!host_ok || !port) {
    error = std::string(kAddressExpectation) + found;
    return std::nullopt;
  }
  if (*port > 65535) {
    error = "port must be between 0 and 65535" + found;
    return std::nullopt;
  }
  return SocketAddress{std::move(host), static_cast<uint16_t>(*port)};
}

std::optional<HttpUrl> parse_http_url(std::string_view text, bool allow_path, std::string& reason) {
  HttpUrl url;
  std::string_view rest;
  if (text.starts_with("http://")) {
    url.scheme = "http";
    rest = text.substr(7);
  } else if (text.starts_with("https://")) {
    url.scheme = "https";
    rest = text.substr(8);
  } else {
    reason = "the scheme must be http:// or https://";
    return std::nullopt;
  }
  if (has_control_or_space(rest)) {
    reason = "spaces and control characters are not allowed";
    return std::nullopt;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    reason = "a query or fragment is not allowed";
    return std::nullopt;
  }
  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) url.path = std::string(rest.substr(slash));
  if (!parse_authority(rest.substr(0, slash), url, reason)) return std::nullopt;
  if (!allow_path && !url.path.empty() && url.path != "/") {
    reason = "a backend url has no path";
    return std::nullopt;
  }
  return url;
}

}  // namespace ringgate::config
