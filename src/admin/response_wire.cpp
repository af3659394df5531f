#include "admin/response_wire.hpp"

#include <array>

#include "http/error_response.hpp"
#include "http/message.hpp"

namespace ringgate::admin {
namespace {

// The headers encode_response() writes itself; a second copy from the
// response would make the framing ambiguous or contradict the policy.
constexpr std::array<std::string_view, 6> kServerHeaders = {
    "Content-Length", "Transfer-Encoding",      "Connection",
    "Content-Type",   "X-Content-Type-Options", "Cache-Control"};

bool is_token_char(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_safe_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_safe_header(std::string_view name, std::string_view value) {
  if (name.empty() || !is_safe_value(value)) return false;
  for (char c : name) {
    if (!is_token_char(static_cast<unsigned char>(c))) return false;
  }
  for (std::string_view reserved : kServerHeaders) {
    if (http::equals_ignore_case(name, reserved)) return false;
  }
  return true;
}

}  // namespace

std::string encode_response(const AdminResponse& response, bool head_only) {
  const bool bodiless_status = response.status == 204 || response.status == 304;
  std::string out;
  out.reserve(256 + (head_only || bodiless_status ? 0 : response.body.size()));
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += http::reason_phrase(response.status);
  out += "\r\n";
  if (!bodiless_status) {
    out += "Content-Type: ";
    out += is_safe_value(response.content_type) ? std::string_view(response.content_type)
                                                : std::string_view("application/octet-stream");
    out += "\r\nContent-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
  }
  out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n";
  for (const auto& [name, value] : response.headers) {
    if (!is_safe_header(name, value)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  if (!head_only && !bodiless_status) out += response.body;
  return out;
}

}  // namespace ringgate::admin
