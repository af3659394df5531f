#include "net/url.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace ringgate::net {
namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool has_space_or_control(std::string_view text) noexcept {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool is_host_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool is_host_name(std::string_view host) noexcept {
  if (host.empty() || host.size() > 253 || host.front() == '.' || host.front() == '-') return false;
  for (char c : host) {
    if (!is_host_name_char(c)) return false;
  }
  return host.find("..") == std::string_view::npos;
}

bool is_dotted_digits(std::string_view host) noexcept {
  for (char c : host) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return true;
}

bool is_address(int family, std::string_view text) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(family, std::string(text).c_str(), buffer) == 1;
}

// RFC 3986 pchar plus '/' and '%' (escapes are the router's business).
bool is_path_char(char c) noexcept {
  if (is_host_name_char(c)) return true;
  switch (c) {
    case '/':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '%':
      return true;
    default:
      return false;
  }
}

// "host[:port]" or "[v6][:port]" into url.host and url.port.
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
    if (!is_address(AF_INET6, host)) {
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
    if (!is_host_name(host) || (is_dotted_digits(host) && !is_address(AF_INET, host))) {
      reason = "invalid host";
      return false;
    }
  }
  url.host = std::string(host);
  if (port_text) {
    unsigned value = 0;
    const char* first = port_text->data();
    const char* last = first + port_text->size();
    const auto [end, ec] = std::from_chars(first, last, value);
    if (port_text->empty() || ec != std::errc() || end != last || value == 0 || value > 65535) {
      reason = "the port must be a number from 1 to 65535";
      return false;
    }
    url.port = static_cast<uint16_t>(value);
  }
  return true;
}

}  // namespace

std::optional<HttpUrl> parse_http_url(std::string_view text, std::string& reason) {
  HttpUrl url;
  std::string_view rest;
  if (starts_with_ignoring_case(text, "https://")) {
    url.tls = true;
    rest = text.substr(8);
  } else if (starts_with_ignoring_case(text, "http://")) {
    rest = text.substr(7);
  } else {
    reason = "the scheme must be http:// or https://";
    return std::nullopt;
  }
  if (has_space_or_control(rest)) {
    reason = "spaces and control characters are not allowed";
    return std::nullopt;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    reason = "a query or fragment is not allowed";
    return std::nullopt;
  }
  const size_t slash = rest.find('/');
  if (!parse_authority(rest.substr(0, slash), url, reason)) return std::nullopt;
  if (slash != std::string_view::npos) url.path = std::string(rest.substr(slash));
  for (char c : url.path) {
    if (!is_path_char(c)) {
      reason = "the path contains a character that must be percent-encoded";
      return std::nullopt;
    }
  }
  return url;
}

}  // namespace ringgate::net
