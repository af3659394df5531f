#include "http/error_response.hpp"

#include <charconv>

namespace ringgate::http {

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      break;
  }
  switch (status / 100) {
    case 1:
      return "Informational";
    case 2:
      return "Success";
    case 3:
      return "Redirection";
    case 4:
      return "Client Error";
    default:
      return "Server Error";
  }
}

std::string_view error_message(int status) noexcept {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Access denied due to missing or invalid credentials";
    case 403:
      return "Forbidden";
    case 404:
      return "Resource not found";
    case 405:
      return "Method not allowed";
    case 408:
      return "Request timeout";
    case 413:
      return "Payload too large";
    case 414:
      return "URI too long";
    case 429:
      return "Rate limit is exceeded";
    case 431:
      return "Request header fields too large";
    case 500:
      return "Internal server error";
    case 501:
      return "Not implemented";
    case 502:
      return "Bad gateway";
    case 503:
      return "Service unavailable";
    case 504:
      return "Gateway timeout";
    case 505:
      return "HTTP version not supported";
    default:
      return reason_phrase(status);
  }
}

namespace {

void append_int(std::string& out, long long value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, end);
}

}  // namespace

void append_error_response(std::string& out, int status, bool close) {
  // The body is built in place after the head; Content-Length needs its size
  // first, and every part of it is known up front.
  char status_digits[24];
  auto [status_end, ec] =
      std::to_chars(status_digits, status_digits + sizeof(status_digits), status);
  std::string_view status_text(status_digits, static_cast<size_t>(status_end - status_digits));
  std::string_view message = error_message(status);
  constexpr std::string_view kBodyStart = "{\"statusCode\":";
  constexpr std::string_view kBodyMiddle = ",\"message\":\"";
  constexpr std::string_view kBodyEnd = "\"}";
  size_t body_size = kBodyStart.size() + status_text.size() + kBodyMiddle.size() + message.size() +
                     kBodyEnd.size();

  out.append("HTTP/1.1 ");
  out.append(status_text);
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\nContent-Type: application/json\r\nContent-Length: ");
  append_int(out, static_cast<long long>(body_size));
  out.append("\r\n");
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  out.append(kBodyStart);
  out.append(status_text);
  out.append(kBodyMiddle);
  out.append(message);  // static texts: nothing to escape
  out.append(kBodyEnd);
}

}  // namespace ringgate::http
