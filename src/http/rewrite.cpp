#include "http/rewrite.hpp"

#include <array>
#include <charconv>

#include "http/error_response.hpp"

namespace ringgate::http {
namespace {

// What the gateway does with a header it forwards.
enum class HeaderRole : uint8_t {
  kForward,
  kHopByHop,
  kHost,
  kContentLength,
  kExpect,
  kForwardedFor,
  kForwardedProto,
  kForwardedHost,
};

HeaderRole classify(std::string_view name) noexcept {
  // Dispatch on length first: most headers are rejected by one size compare.
  switch (name.size()) {
    case 2:
      if (equals_ignore_case(name, "te")) return HeaderRole::kHopByHop;
      break;
    case 4:
      if (equals_ignore_case(name, "host")) return HeaderRole::kHost;
      break;
    case 6:
      if (equals_ignore_case(name, "expect")) return HeaderRole::kExpect;
      break;
    case 7:
      if (equals_ignore_case(name, "trailer") || equals_ignore_case(name, "upgrade"))
        return HeaderRole::kHopByHop;
      break;
    case 10:
      if (equals_ignore_case(name, "connection") || equals_ignore_case(name, "keep-alive")) {
        return HeaderRole::kHopByHop;
      }
      break;
    case 14:
      if (equals_ignore_case(name, "content-length")) return HeaderRole::kContentLength;
      break;
    case 15:
      if (equals_ignore_case(name, "x-forwarded-for")) return HeaderRole::kForwardedFor;
      break;
    case 16:
      if (equals_ignore_case(name, "proxy-connection")) return HeaderRole::kHopByHop;
      if (equals_ignore_case(name, "x-forwarded-host")) return HeaderRole::kForwardedHost;
      break;
    case 17:
      if (equals_ignore_case(name, "transfer-encoding")) return HeaderRole::kHopByHop;
      if (equals_ignore_case(name, "x-forwarded-proto")) return HeaderRole::kForwardedProto;
      break;
    case 18:
      if (equals_ignore_case(name, "proxy-authenticate")) return HeaderRole::kHopByHop;
      break;
    case 19:
      if (equals_ignore_case(name, "proxy-authorization")) return HeaderRole::kHopByHop;
      break;
    default:
      break;
  }
  return HeaderRole::kForward;
}

std::string_view trim_ows(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// The header names listed in a message's Connection headers (RFC 9110 §7.6.1):
// those headers are hop-by-hop too.
class ConnectionOptions {
 public:
  explicit ConnectionOptions(const std::vector<Header>& headers) noexcept : headers_(headers) {
    for (const Header& h : headers) {
      if (!equals_ignore_case(h.name, "connection")) continue;
      if (count_ == values_.size()) {
        overflow_ = true;  // rare: fall back to scanning every header
        return;
      }
      values_[count_++] = h.value;
    }
  }

  bool names(std::string_view header_name) const noexcept {
    if (overflow_) {
      for (const Header& h : headers_) {
        if (equals_ignore_case(h.name, "connection") && list_contains(h.value, header_name))
          return true;
      }
      return false;
    }
    for (size_t i = 0; i < count_; ++i) {
      if (list_contains(values_[i], header_name)) return true;
    }
    return false;
  }

 private:
  static bool list_contains(std::string_view list, std::string_view token) noexcept {
    while (!list.empty()) {
      size_t comma = list.find(',');
      if (equals_ignore_case(trim_ows(list.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return false;
  }

  const std::vector<Header>& headers_;
  std::array<std::string_view, 8> values_;
  size_t count_ = 0;
  bool overflow_ = false;
};

void append_number(std::string& out, uint64_t value, int base = 10) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value, base);
  out.append(digits, end);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void append_x_forwarded_for(std::string& out, const MessageHead& request,
                            const ConnectionOptions& options, std::string_view client_address) {
  out.append("X-Forwarded-For: ");
  for (const Header& h : request.headers) {
    if (classify(h.name) != HeaderRole::kForwardedFor || options.names(h.name) || h.value.empty())
      continue;
    out.append(h.value);
    out.append(", ");
  }
  out.append(client_address);
  out.append("\r\n");
}

}  // namespace

void append_backend_request_head(std::string& out, const MessageHead& request,
                                 const RequestRewrite& rw) {
  out.append(request.method);
  out.push_back(' ');
  out.append(rw.backend_target);
  out.append(" HTTP/1.1\r\n");
  append_header(out, "Host", rw.backend_host_header);

  ConnectionOptions options(request.headers);
  for (const Header& h : request.headers) {
    if (classify(h.name) == HeaderRole::kForward && !options.names(h.name))
      append_header(out, h.name, h.value);
  }
  append_x_forwarded_for(out, request, options, rw.client_address);
  append_header(out, "X-Forwarded-Proto", rw.client_tls ? "https" : "http");
  if (!request.host.empty()) append_header(out, "X-Forwarded-Host", request.host);

  switch (request.framing) {
    case BodyFraming::kLength:
      out.append("Content-Length: ");
      append_number(out, request.content_length);
      out.append("\r\n");
      break;
    case BodyFraming::kChunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case BodyFraming::kNone:
    case BodyFraming::kUntilClose:  // not a request framing
      break;
  }
  out.append("\r\n");
}

BodyFraming client_response_framing(const MessageHead& response,
                                    uint8_t client_version_minor) noexcept {
  if (response.framing == BodyFraming::kChunked && client_version_minor == 0)
    return BodyFraming::kUntilClose;
  return response.framing;
}

void append_client_response_head(std::string& out, const MessageHead& response,
                                 bool keep_alive_to_client, uint8_t client_version_minor) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(response.status));
  out.push_back(' ');
  out.append(response.reason.empty() ? reason_phrase(response.status) : response.reason);
  out.append("\r\n");

  ConnectionOptions options(response.headers);
  for (const Header& h : response.headers) {
    HeaderRole role = classify(h.name);
    if (role == HeaderRole::kHopByHop || role == HeaderRole::kContentLength ||
        options.names(h.name))
      continue;
    append_header(out, h.name, h.value);
  }

  const bool interim = response.status / 100 == 1;
  const BodyFraming framing = client_response_framing(response, client_version_minor);
  switch (framing) {
    case BodyFraming::kNone:
      // HEAD and 304 answers state the length the full response would have.
      if (!response.has_content_length || interim || response.status == 204) break;
      [[fallthrough]];
    case BodyFraming::kLength:
      out.append("Content-Length: ");
      append_number(out, response.content_length);
      out.append("\r\n");
      break;
    case BodyFraming::kChunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case BodyFraming::kUntilClose:
      break;
  }
  if (!interim) {
    if (!keep_alive_to_client || framing == BodyFraming::kUntilClose) {
      out.append("Connection: close\r\n");
    } else if (client_version_minor == 0) {
      out.append("Connection: keep-alive\r\n");
    }
  }
  out.append("\r\n");
}

void append_chunk(std::string& out, const char* data, size_t len) {
  if (len == 0) return;
  append_number(out, len, 16);
  out.append("\r\n");
  out.append(data, len);
  out.append("\r\n");
}

void append_last_chunk(std::string& out) { out.append("0\r\n\r\n"); }

}  // namespace ringgate::http
