// The admin API listener, served from the control thread. Each request needs
// `Authorization: Bearer <token>` (401 otherwise); /healthz and /metrics may
// be opened to anyone with gateway.admin.publicHealthAndMetrics. Connections
// are short: one request, one response, close.
#pragma once

#include <poll.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/parser.hpp"
#include "ringgate/config.hpp"

namespace ringgate::admin {

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class AdminServer {
 public:
  // Renders /metrics; called on the control thread.
  using MetricsFn = std::function<std::string()>;

  AdminServer(const config::Admin& settings, MetricsFn metrics);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds the listener. Returns false with `error`.
  bool start(std::string& error);
  uint16_t port() const noexcept { return port_; }
  // New token / settings after a reload (the address is fixed until restart).
  void update(const config::Admin& settings);

  // Appends the descriptors to poll, then handles the ready ones.
  void collect(std::vector<pollfd>& fds) const;
  void handle(const pollfd& ready);

  // Routes one parsed request; exposed for unit tests.
  AdminResponse route(const http::MessageHead& head, const std::string& body) const;

 private:
  struct Session {
    int fd = -1;
    http::MessageParser parser{http::MessageKind::kRequest, http::ParserLimits{}};
    std::string body;
    std::string out;
    size_t sent = 0;
    bool responded = false;
    long long deadline_ms = 0;
  };

  void accept_one();
  static constexpr long long kAcceptPauseMs = 100;
  long long accept_paused_until_ms_ = 0;
  void read_session(Session& s);
  void write_session(Session& s);
  bool authorized(const http::MessageHead& head) const;

  config::Admin settings_;
  MetricsFn metrics_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Session>> sessions_;
};

}  // namespace ringgate::admin
