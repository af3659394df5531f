// RawClient: exact bytes out, responses parsed back (status line, headers,
// Content-Length / chunked / read-until-close bodies), with timeouts.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "harness.hpp"

namespace ringgate::itest {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

bool has_token(std::string_view list, std::string_view token) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item =
        trim(list.substr(start, comma == std::string_view::npos ? list.npos : comma - start));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

size_t HttpResponse::header_count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(),
                                           [&](const auto& h) { return iequals(h.first, name); }));
}

RawClient::RawClient(uint16_t port, RawClientOptions options) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (options.receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer,
                 sizeof options.receive_buffer);
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd_, POLLOUT, 0};
    int timeout = static_cast<int>(options.connect_timeout.count());
    if (::poll(&p, 1, timeout) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    } else {
      errno = ETIMEDOUT;
    }
  }
  if (rc != 0) {
    std::string error = "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(error);
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(std::string_view bytes, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) == 0) {
        error_ = "send: timed out after " + std::to_string(done) + " bytes";
        return false;
      }
      continue;
    }
    error_ = std::string("send: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void RawClient::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

bool RawClient::fill(Clock::time_point deadline) {
  if (eof_) {
    error_ = "connection closed by peer";
    return false;
  }
  char chunk[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
      }
      buf_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
      eof_ = true;
      error_ = n == 0 ? "connection closed by peer" : "connection reset by peer";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      error_ = std::string("recv: ") + std::strerror(errno);
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int left = remaining_ms(deadline);
    if (left == 0 || ::poll(&p, 1, left) == 0) {
      error_ = "timed out waiting for data";
      return false;
    }
  }
}

bool RawClient::need(size_t bytes, Clock::time_point deadline) {
  while (buf_.size() - pos_ < bytes) {
    if (!fill(deadline)) return false;
  }
  return true;
}

std::optional<size_t> RawClient::find_in_buffer(std::string_view needle) const {
  size_t at = std::string_view(buf_).find(needle, pos_);
  if (at == std::string_view::npos) return std::nullopt;
  return at;
}

bool RawClient::read_chunked_body(HttpResponse& response, Clock::time_point deadline) {
  for (;;) {
    std::optional<size_t> eol;
    while (!(eol = find_in_buffer("\r\n"))) {
      if (!fill(deadline)) return false;
    }
    std::string line = buf_.substr(pos_, *eol - pos_);
    pos_ = *eol + 2;
    size_t size = 0;
    try {
      size = std::stoul(line.substr(0, line.find(';')), nullptr, 16);
    } catch (const std::exception&) {
      error_ = "bad chunk size line: " + line;
      return false;
    }
    if (size == 0) {
      // Trailer fields until the empty line.
      for (;;) {
        while (!(eol = find_in_buffer("\r\n"))) {
          if (!fill(deadline)) return false;
        }
        bool empty = *eol == pos_;
        pos_ = *eol + 2;
        if (empty) return true;
      }
    }
    if (!need(size + 2, deadline)) return false;
    response.body.append(buf_, pos_, size);
    pos_ += size + 2;
  }
}

std::optional<HttpResponse> RawClient::read_response(Millis timeout, bool head_request) {
  auto deadline = Clock::now() + timeout;
  std::optional<size_t> head_end;
  while (!(head_end = find_in_buffer("\r\n\r\n"))) {
    if (!fill(deadline)) return std::nullopt;
  }
  std::string_view head(buf_.data() + pos_, *head_end - pos_);
  HttpResponse response;
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  size_t sp1 = status_line.find(' ');
  if (sp1 == std::string_view::npos || status_line.substr(0, 5) != "HTTP/") {
    error_ = "bad status line: " + std::string(status_line);
    return std::nullopt;
  }
  response.version = std::string(status_line.substr(0, sp1));
  size_t sp2 = status_line.find(' ', sp1 + 1);
  try {
    response.status = std::stoi(std::string(status_line.substr(sp1 + 1, sp2 - sp1 - 1)));
  } catch (const std::exception&) {
    error_ = "bad status code: " + std::string(status_line);
    return std::nullopt;
  }
  if (sp2 != std::string_view::npos) response.reason = std::string(status_line.substr(sp2 + 1));
  size_t at = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (at < head.size()) {
    size_t eol = head.find("\r\n", at);
    std::string_view line = head.substr(at, eol == std::string_view::npos ? head.npos : eol - at);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      response.headers.emplace_back(std::string(line.substr(0, colon)),
                                    trim(line.substr(colon + 1)));
    }
    if (eol == std::string_view::npos) break;
    at = eol + 2;
  }
  pos_ = *head_end + 4;

  bool no_body = head_request || (response.status >= 100 && response.status < 200) ||
                 response.status == 204 || response.status == 304;
  if (no_body) return response;
  auto te = response.header("Transfer-Encoding");
  if (te && has_token(*te, "chunked")) {
    response.chunked = true;
    if (!read_chunked_body(response, deadline)) return std::nullopt;
    return response;
  }
  if (auto cl = response.header("Content-Length")) {
    size_t length = 0;
    try {
      length = std::stoul(*cl);
    } catch (const std::exception&) {
      error_ = "bad Content-Length: " + *cl;
      return std::nullopt;
    }
    if (!need(length, deadline)) return std::nullopt;
    response.body = buf_.substr(pos_, length);
    pos_ += length;
    return response;
  }
  // No framing: the body runs until the server closes.
  while (fill(deadline)) {
  }
  if (!eof_) return std::nullopt;
  response.body = buf_.substr(pos_);
  pos_ = buf_.size();
  return response;
}

std::optional<HttpResponse> RawClient::read_final_response(Millis timeout, bool head_request) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto response = read_response(
        std::max(Millis(0), std::chrono::duration_cast<Millis>(deadline - Clock::now())),
        head_request);
    if (!response || response->status >= 200) return response;
  }
}

bool RawClient::wait_closed(Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (!eof_) {
    if (!fill(deadline) && !eof_) return false;
  }
  return true;
}

std::string make_request(std::string_view method, std::string_view target,
                         const std::vector<std::string>& headers,
                         std::optional<std::string_view> body) {
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: gw.test\r\n");
  for (const auto& h : headers) request.append(h).append("\r\n");
  if (body) request.append("Content-Length: ").append(std::to_string(body->size())).append("\r\n");
  request.append("\r\n");
  if (body) request.append(*body);
  return request;
}

std::string chunked_encoding(std::string_view body, size_t chunk_size) {
  std::string out;
  char size_line[32];
  for (size_t at = 0; at < body.size(); at += chunk_size) {
    size_t n = std::min(chunk_size, body.size() - at);
    std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    out.append(size_line).append(body.substr(at, n)).append("\r\n");
  }
  out.append("0\r\n\r\n");
  return out;
}

}  // namespace ringgate::itest
