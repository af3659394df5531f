#include "admin/admin_server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "http/error_response.hpp"
#include "net/listener.hpp"

namespace ringgate::admin {
namespace {

constexpr long long kSessionTimeoutMs = 10000;
constexpr size_t kMaxAdminBody = 16 * 1024 * 1024;

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Compares without an early exit, so timing does not reveal the token.
bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string error_body(const std::string& code, const std::string& message) {
  return "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\",\"details\":[]}}";
}

class DiscardSink final : public http::BodySink {
 public:
  explicit DiscardSink(std::string& body) : body_(body) {}
  void on_body(const char* data, size_t len) noexcept override {
    if (body_.size() + len <= kMaxAdminBody) body_.append(data, len);
  }

 private:
  std::string& body_;
};

}  // namespace

AdminServer::AdminServer(const config::Admin& settings, MetricsFn metrics)
    : settings_(settings), metrics_(std::move(metrics)) {}

AdminServer::~AdminServer() {
  for (auto& s : sessions_) ::close(s->fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool AdminServer::start(std::string& error) {
  listen_fd_ = net::open_listener(settings_.address, error);
  if (listen_fd_ < 0) return false;
  port_ = net::bound_port(listen_fd_);
  return true;
}

void AdminServer::update(const config::Admin& settings) {
  const config::SocketAddress address = settings_.address;
  settings_ = settings;
  settings_.address = address;
}

void AdminServer::collect(std::vector<pollfd>& fds) const {
  // While descriptors are exhausted the listener stays readable and accept
  // keeps failing: leave it out of the poll for a moment instead of spinning.
  if (listen_fd_ >= 0 && now_ms() >= accept_paused_until_ms_)
    fds.push_back({listen_fd_, POLLIN, 0});
  for (const auto& s : sessions_) {
    fds.push_back({s->fd, static_cast<short>(s->responded ? POLLOUT : POLLIN), 0});
  }
}

void AdminServer::handle(const pollfd& ready) {
  if (ready.fd == listen_fd_) {
    if (ready.revents & POLLIN) accept_one();
  } else {
    for (auto& s : sessions_) {
      if (s->fd != ready.fd) continue;
      if (ready.revents & (POLLIN | POLLHUP | POLLERR)) read_session(*s);
      if (s->fd >= 0 && s->responded && (ready.revents & POLLOUT)) write_session(*s);
      break;
    }
  }
  const long long now = now_ms();
  for (auto& s : sessions_) {
    if (s->fd >= 0 && now > s->deadline_ms) {
      ::close(s->fd);
      s->fd = -1;
    }
  }
  sessions_.erase(
      std::remove_if(sessions_.begin(), sessions_.end(), [](const auto& s) { return s->fd < 0; }),
      sessions_.end());
}

void AdminServer::accept_one() {
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      accept_paused_until_ms_ = now_ms() + kAcceptPauseMs;
    }
    return;
  }
  auto session = std::make_unique<Session>();
  session->fd = fd;
  session->deadline_ms = now_ms() + kSessionTimeoutMs;
  sessions_.push_back(std::move(session));
}

void AdminServer::read_session(Session& s) {
  char buffer[16384];
  const ssize_t n = ::recv(s.fd, buffer, sizeof buffer, 0);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0 || s.responded) {
    if (n <= 0) {
      ::close(s.fd);
      s.fd = -1;
    }
    return;
  }
  const char* data = buffer;
  size_t len = static_cast<size_t>(n);
  DiscardSink sink(s.body);
  for (;;) {
    const http::ParseResult r = s.parser.feed(data, len, sink);
    data += r.consumed;
    len -= r.consumed;
    if (r.status == http::ParseStatus::kHeadComplete) continue;
    if (r.status == http::ParseStatus::kError) {
      s.out.clear();
      http::append_error_response(s.out, r.http_status != 0 ? r.http_status : 400, true);
      s.responded = true;
    } else if (r.status == http::ParseStatus::kMessageComplete) {
      const AdminResponse response = route(s.parser.head(), s.body);
      s.out = "HTTP/1.1 " + std::to_string(response.status) + " " +
              std::string(http::reason_phrase(response.status)) +
              "\r\nContent-Type: " + response.content_type +
              "\r\nContent-Length: " + std::to_string(response.body.size()) +
              "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + response.body;
      s.responded = true;
    }
    break;
  }
  if (s.responded) write_session(s);
}

void AdminServer::write_session(Session& s) {
  while (s.sent < s.out.size()) {
    const ssize_t n = ::send(s.fd, s.out.data() + s.sent, s.out.size() - s.sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) break;
    s.sent += static_cast<size_t>(n);
  }
  ::shutdown(s.fd, SHUT_WR);
  ::close(s.fd);
  s.fd = -1;
}

bool AdminServer::authorized(const http::MessageHead& head) const {
  if (settings_.token.empty()) return false;
  const http::Header* auth = head.find("Authorization");
  if (auth == nullptr) return false;
  constexpr std::string_view kScheme = "Bearer ";
  if (auth->value.size() <= kScheme.size()) return false;
  // The scheme name is case-insensitive (RFC 9110 §11.1).
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(auth->value[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return false;
    }
  }
  return constant_time_equal(auth->value.substr(kScheme.size()), settings_.token);
}

AdminResponse AdminServer::route(const http::MessageHead& head, const std::string& body) const {
  (void)body;
  std::string_view path = head.target;
  const size_t query = path.find('?');
  if (query != std::string_view::npos) path = path.substr(0, query);
  const bool open_endpoint = path == "/healthz" || path == "/metrics";
  if (!(open_endpoint && settings_.metrics_without_token) && !authorized(head)) {
    return {
        401, "application/json",
        error_body("Unauthorized", "send Authorization: Bearer <token> (gateway.admin.tokenFile)")};
  }
  if (path == "/healthz") {
    if (head.method != "GET" && head.method != "HEAD") {
      return {405, "application/json", error_body("MethodNotAllowed", "use GET")};
    }
    return {200, "application/json", "{\"status\":\"ok\"}"};
  }
  if (path == "/metrics") {
    if (head.method != "GET" && head.method != "HEAD") {
      return {405, "application/json", error_body("MethodNotAllowed", "use GET")};
    }
    return {200, "text/plain; version=0.0.4", metrics_()};
  }
  return {404, "application/json", error_body("NotFound", "no such admin resource")};
}

}  // namespace ringgate::admin
