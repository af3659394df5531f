#include "admin/admin_server.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <exception>
#include <limits>
#include <utility>

#include "admin/response_wire.hpp"
#include "net/listener.hpp"

namespace ringgate::admin {
namespace {

constexpr long long kAcceptPauseMs = 100;
// Connections taken per readiness of the listener; the rest wait a turn.
constexpr int kAcceptBatch = 16;
// Input discarded after an early answer before the connection is simply closed.
constexpr size_t kMaxDiscardBytes = 1024 * 1024;
constexpr size_t kReadChunk = 16384;

long long steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Head limits as the data plane's defaults. The body limit is lifted until
// the head has been screened: the parser would otherwise refuse a large
// Content-Length with 413 before the token is checked, telling an
// unauthenticated client something about the API.
http::ParserLimits head_limits() {
  http::ParserLimits limits;
  limits.max_body_bytes = std::numeric_limits<uint64_t>::max();
  return limits;
}

http::ParserLimits body_limits() {
  http::ParserLimits limits;
  limits.max_body_bytes = kMaxAdminBodyBytes;
  return limits;
}

class BodyCollector final : public http::BodySink {
 public:
  explicit BodyCollector(std::string& body) : body_(body) {}
  // The parser stops at kMaxAdminBodyBytes once the head is admitted, so this
  // never holds more than 1 MiB.
  void on_body(const char* data, size_t len) noexcept override { body_.append(data, len); }

 private:
  std::string& body_;
};

// A held response is sent once ready() says so; one that throws is sent too
// (holding it longer cannot help).
bool is_ready(const AdminResponse& response) {
  try {
    return response.ready();
  } catch (const std::exception&) {
    return true;
  }
}

}  // namespace

struct AdminServer::Session {
  explicit Session(int socket) : fd(socket) {}

  int fd;
  Phase phase = Phase::kHead;
  http::MessageParser parser{http::MessageKind::kRequest, head_limits()};
  std::string body;
  bool head_only = false;     // the request is HEAD: the answer has no body
  AdminResponse held;         // kHeld
  std::string out;            // kWriting
  size_t sent = 0;            // kWriting
  size_t discarded = 0;       // kLingering
  long long deadline_ms = 0;  // the current phase ends by then (kHeld: the answer is sent)
  long long body_due_ms = 0;  // kBody: the whole body by then
};

AdminServer::AdminServer(const config::Admin& settings, MetricsFn metrics, NowFn now)
    : router_(settings, std::move(metrics)),
      address_(settings.address),
      now_(now ? std::move(now) : NowFn(steady_now_ms)) {}

AdminServer::~AdminServer() {
  for (auto& [fd, session] : sessions_) ::close(fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool AdminServer::start(std::string& error) {
  listen_fd_ = net::open_listener(address_, error, net::PortSharing::kExclusive);
  if (listen_fd_ < 0) return false;
  // accept4 after a readiness report must not block when the client has
  // gone in between.
  const int flags = ::fcntl(listen_fd_, F_GETFL);
  ::fcntl(listen_fd_, F_SETFL, flags | O_NONBLOCK);
  port_ = net::bound_port(listen_fd_);
  return true;
}

void AdminServer::update(const config::Admin& settings) { router_.update(settings); }

void AdminServer::collect(std::vector<pollfd>& fds) {
  const long long now = now_();
  sweep(now);
  // While descriptors are exhausted the listener stays readable and accept
  // keeps failing: leave it out of the poll for a moment instead of spinning.
  if (listen_fd_ >= 0 && now >= accept_paused_until_ms_) fds.push_back({listen_fd_, POLLIN, 0});
  for (const auto& [fd, session] : sessions_) {
    switch (session->phase) {
      case Phase::kHead:
      case Phase::kBody:
      case Phase::kLingering:
        fds.push_back({fd, POLLIN, 0});
        break;
      case Phase::kWriting:
        fds.push_back({fd, POLLOUT, 0});
        break;
      case Phase::kHeld:  // nothing is read until the answer is out
      case Phase::kDone:
        break;
    }
  }
}

void AdminServer::handle(const pollfd& ready) {
  if (listen_fd_ >= 0 && ready.fd == listen_fd_) {
    if (ready.revents & POLLIN) accept_ready();
    return;
  }
  auto it = sessions_.find(ready.fd);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  if (ready.revents & POLLNVAL) {
    s.phase = Phase::kDone;
    return;
  }
  switch (s.phase) {
    case Phase::kHead:
    case Phase::kBody:
    case Phase::kLingering:
      if (ready.revents & (POLLIN | POLLHUP | POLLERR)) read_ready(s);
      break;
    case Phase::kWriting:
      if (ready.revents & (POLLOUT | POLLHUP | POLLERR)) write_ready(s);
      break;
    case Phase::kHeld:
    case Phase::kDone:
      break;
  }
}

int AdminServer::next_timeout_ms() const {
  const long long now = now_();
  long long wake = now + kMaxPollTimeoutMs;
  if (listen_fd_ >= 0 && accept_paused_until_ms_ > now) {
    wake = std::min(wake, accept_paused_until_ms_);
  }
  for (const auto& [fd, session] : sessions_) {
    if (session->phase == Phase::kDone) return 0;
    wake = std::min(wake, session->deadline_ms);
    if (session->phase == Phase::kHeld) wake = std::min(wake, now + kReadyCheckMs);
  }
  return static_cast<int>(std::clamp(wake - now, 0LL, kMaxPollTimeoutMs));
}

void AdminServer::adopt(int fd) {
  if (sessions_.size() >= kMaxSessions) {
    AdminResponse busy = error_response(
        503, "TooManySessions",
        "the admin API serves " + std::to_string(kMaxSessions) + " connections at once; retry");
    busy.headers.emplace_back("Retry-After", "1");
    const std::string bytes = encode_response(busy, /*head_only=*/false);
    // A fresh socket's send buffer takes these few hundred bytes whole; when
    // it does not, the client gets the close alone.
    (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
    return;
  }
  auto session = std::make_unique<Session>(fd);
  session->deadline_ms = now_() + kHeadTimeoutMs;
  sessions_.insert_or_assign(fd, std::move(session));
}

void AdminServer::accept_ready() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        accept_paused_until_ms_ = now_() + kAcceptPauseMs;
      }
      return;
    }
    adopt(fd);
  }
}

void AdminServer::read_ready(Session& s) {
  char buffer[kReadChunk];
  const ssize_t n = ::recv(s.fd, buffer, sizeof buffer, 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (n <= 0) {
    // The peer closed: a request cut short gets no answer, a lingering
    // connection is done.
    s.phase = Phase::kDone;
    return;
  }
  if (s.phase == Phase::kLingering) {
    s.discarded += static_cast<size_t>(n);
    if (s.discarded > kMaxDiscardBytes) s.phase = Phase::kDone;
    return;
  }
  if (s.phase == Phase::kBody) s.deadline_ms = std::min(now_() + kIdleTimeoutMs, s.body_due_ms);
  consume(s, buffer, static_cast<size_t>(n));
}

void AdminServer::consume(Session& s, const char* data, size_t len) {
  BodyCollector sink(s.body);
  while (s.phase == Phase::kHead || s.phase == Phase::kBody) {
    const http::ParseResult r = s.parser.feed(data, len, sink);
    data += r.consumed;
    len -= r.consumed;
    switch (r.status) {
      case http::ParseStatus::kNeedMore:
        return;
      case http::ParseStatus::kError:
        answer(s, malformed_request_response(r.http_status, r.reason ? r.reason : ""));
        return;
      case http::ParseStatus::kHeadComplete:
        on_head(s);  // the next feed continues with the body (or completes a bodiless message)
        break;
      case http::ParseStatus::kMessageComplete:
        // Bytes after the message are left unread: one request per connection.
        on_message(s);
        return;
    }
  }
}

void AdminServer::on_head(Session& s) {
  const http::MessageHead& head = s.parser.head();
  s.head_only = head.method == "HEAD";
  if (std::optional<AdminResponse> early = router_.screen(head)) {
    answer(s, *early);
    return;
  }
  s.parser.set_limits(body_limits());
  s.phase = Phase::kBody;
  const long long now = now_();
  s.body_due_ms = now + kBodyTimeoutMs;
  s.deadline_ms = std::min(now + kIdleTimeoutMs, s.body_due_ms);
  if (head.expect_continue && head.framing != http::BodyFraming::kNone) {
    // Nothing has been sent on this socket yet, so its buffer takes these few
    // bytes whole; a short write means the connection is already broken.
    const ssize_t n =
        ::send(s.fd, kContinueResponse.data(), kContinueResponse.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(kContinueResponse.size())) s.phase = Phase::kDone;
  }
}

void AdminServer::on_message(Session& s) {
  AdminResponse response = router_.dispatch(s.parser.head(), s.body);
  // A certificate upload's body holds the PFX and its password: wipe it.
  if (!s.body.empty()) OPENSSL_cleanse(s.body.data(), s.body.size());
  std::string().swap(s.body);
  if (response.ready && !is_ready(response)) {
    const long long now = now_();
    s.deadline_ms = std::clamp(response.wait_deadline_ms, now, now + kMaxHoldMs);
    s.held = std::move(response);
    s.phase = Phase::kHeld;
    return;
  }
  answer(s, response);
}

void AdminServer::answer(Session& s, const AdminResponse& response) {
  s.out = encode_response(response, s.head_only);
  s.sent = 0;
  s.phase = Phase::kWriting;
  s.deadline_ms = now_() + kIdleTimeoutMs;
  write_ready(s);
}

void AdminServer::write_ready(Session& s) {
  const size_t before = s.sent;
  while (s.sent < s.out.size()) {
    const ssize_t n = ::send(s.fd, s.out.data() + s.sent, s.out.size() - s.sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
    if (n <= 0) {
      s.phase = Phase::kDone;
      return;
    }
    s.sent += static_cast<size_t>(n);
  }
  const long long now = now_();
  if (s.sent < s.out.size()) {
    if (s.sent > before) s.deadline_ms = now + kIdleTimeoutMs;
    return;
  }
  // The FIN tells the client the answer is whole; reading on for a moment
  // keeps a close with unread request bytes from turning into a reset that
  // could destroy the answer before the client reads it.
  ::shutdown(s.fd, SHUT_WR);
  std::string().swap(s.out);
  s.phase = Phase::kLingering;
  s.deadline_ms = now + kLingerMs;
}

void AdminServer::sweep(long long now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Session& s = *it->second;
    if (s.phase == Phase::kHeld) {
      if (now >= s.deadline_ms || is_ready(s.held)) {
        const AdminResponse response = std::move(s.held);
        s.held = AdminResponse();
        answer(s, response);
      }
    } else if (s.phase != Phase::kDone && now >= s.deadline_ms) {
      s.phase = Phase::kDone;  // a timeout closes without an answer
    }
    if (s.phase == Phase::kDone) {
      ::close(s.fd);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ringgate::admin
