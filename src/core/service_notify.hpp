// The service manager's notify protocol (systemd's sd_notify): one datagram
// of "KEY=value" lines per state change to the socket named by
// $NOTIFY_SOCKET. Without that variable every call does nothing. The socket is
// connected at start, before the gateway gives up root, so later messages
// need no access to its path.
#pragma once

#include <string>
#include <string_view>

#include "files/unique_fd.hpp"

namespace ringgate::core {

class ServiceNotifier {
 public:
  // Reads $NOTIFY_SOCKET ("/path", or "@name" for the abstract namespace)
  // and connects to it. `error` is set when it is set but unusable.
  explicit ServiceNotifier(std::string& error);

  bool enabled() const noexcept { return socket_.get() >= 0; }

  // Listeners bound, pools warm: the service is up. `status`: STATUS= text.
  void ready(std::string_view status);
  // A reload (SIGHUP) begins; ready() ends it, whatever its outcome.
  void reloading(std::string_view status);
  // Draining towards exit.
  void stopping(std::string_view status);
  void status(std::string_view status);

 private:
  void send(const std::string& message);

  files::UniqueFd socket_;
};

}  // namespace ringgate::core
