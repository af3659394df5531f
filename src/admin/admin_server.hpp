// The admin API listener, served from the control thread's poll loop
// (DESIGN §5). Hostile input is expected: the bearer token is checked as soon
// as a request head is complete (401 before any body byte is read), bodies
// are limited to 1 MiB, at most kMaxSessions connections are served at once
// (the next ones are answered 503 at accept and closed), a head must arrive
// within 10 s, and the socket is bound without SO_REUSEPORT so a second
// instance cannot share the port. One request per connection: every answer
// carries `Connection: close`. Nothing here blocks: sockets are non-blocking,
// each ready descriptor gets one bounded step, and deadlines are checked in
// one sweep per loop turn.
//
// The loop that drives it, each turn:
//   collect(fds);                          // sweep, then descriptors to poll
//   poll(fds, next_timeout_ms());
//   for each ready pollfd: handle(p);
#pragma once

#include <poll.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "admin/resource_api.hpp"
#include "admin/router.hpp"
#include "http/parser.hpp"
#include "ringgate/config.hpp"

namespace ringgate::admin {

// The listener's limits (DESIGN §5).
inline constexpr size_t kMaxSessions = 64;
inline constexpr long long kHeadTimeoutMs = 10000;  // accept to complete head
inline constexpr long long kIdleTimeoutMs = 10000;  // no byte read or written
inline constexpr long long kBodyTimeoutMs = 60000;  // head complete to whole body
inline constexpr long long kMaxHoldMs = 60000;      // a deferred response, at most
inline constexpr long long kLingerMs = 1000;        // draining input after the answer
inline constexpr long long kReadyCheckMs = 10;      // how often ready() is asked
inline constexpr long long kMaxPollTimeoutMs = 1000;

class AdminServer {
 public:
  using MetricsFn = Router::MetricsFn;
  // Steady-clock milliseconds; tests pass a manual clock.
  using NowFn = std::function<long long()>;

  AdminServer(const config::Admin& settings, MetricsFn metrics, NowFn now = {});
  // Closes the listener and every connection.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds the listener (exclusively: no SO_REUSEPORT). Returns false with
  // `error` naming the address and the reason.
  bool start(std::string& error);
  uint16_t port() const noexcept { return port_; }
  // New token / settings after a reload (the address is fixed until restart).
  void update(const config::Admin& settings);

  // See Router::set_resources and Router::set_static_files.
  void set_resources(ResourceApi* resources) noexcept { router_.set_resources(resources); }
  void set_static_files(StaticFiles files) { router_.set_static_files(std::move(files)); }
  void set_health(Router::HealthFn health) { router_.set_health(std::move(health)); }

  // Once per loop turn, before poll: closes connections past their deadline
  // or finished, sends held responses that became ready (or reached their
  // deadline), then appends the descriptors to poll.
  void collect(std::vector<pollfd>& fds);

  // One ready descriptor from the poll after collect(); O(1). A descriptor
  // that is not the listener's or a connection's is ignored. Descriptors are
  // closed only in collect(), so a number in this turn's poll results always
  // means the connection it meant when collect() ran.
  void handle(const pollfd& ready);

  // How long the next poll may sleep, in ms (0 to kMaxPollTimeoutMs): until
  // the nearest deadline, and at most kReadyCheckMs while a response is held.
  int next_timeout_ms() const;

  // Takes over a connected non-blocking socket (from the listener, or a
  // test's socketpair). With kMaxSessions already open it is answered 503
  // and closed at once.
  void adopt(int fd);

  // Open connections (those finished but not yet swept included).
  size_t session_count() const noexcept { return sessions_.size(); }

  // The whole answer to one parsed request (for fuzzing and tests).
  AdminResponse route(const http::MessageHead& head, const std::string& body) const {
    return router_.route(head, body);
  }

 private:
  enum class Phase : uint8_t {
    kHead,       // reading the request head
    kBody,       // admitted; reading the body
    kHeld,       // a deferred response waits for ready() or its deadline
    kWriting,    // sending the response
    kLingering,  // answered and write side shut: discarding input until the peer closes
    kDone,       // to be closed by the next sweep
  };

  struct Session;

  void accept_ready();
  void read_ready(Session& s);
  void consume(Session& s, const char* data, size_t len);
  void on_head(Session& s);
  void on_message(Session& s);
  void answer(Session& s, const AdminResponse& response);
  void write_ready(Session& s);
  void sweep(long long now);

  Router router_;
  config::SocketAddress address_;
  NowFn now_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  long long accept_paused_until_ms_ = 0;
  std::unordered_map<int, std::unique_ptr<Session>> sessions_;
};

}  // namespace ringgate::admin
