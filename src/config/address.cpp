
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

}  // namespace ringgate::config
