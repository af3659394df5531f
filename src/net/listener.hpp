// Listening sockets. Each worker gets its own SO_REUSEPORT socket per
// configured listener so the kernel spreads connections across cores.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ringgate/config.hpp"

namespace ringgate::net {

// Creates, binds and listens a TCP socket on `address` with SO_REUSEADDR and
// SO_REUSEPORT. Returns the fd, or -1 with `error` naming the address and the
// reason. With port 0 the kernel picks one; read it back with bound_port().
int open_listener(const config::SocketAddress& address, std::string& error);

// The local port a bound socket has, or 0.
uint16_t bound_port(int fd);

// True when `host` is a loopback literal (127.0.0.0/8 or ::1).
bool is_loopback(const std::string& host);

// What a worker does when its multishot accept ends with `error` (a negative
// errno): kRepost at once for a failure that belongs to one connection,
// kPause (≈100 ms, counted) when the process or system is out of descriptors
// or memory — re-posting then would spin a core — and kStop when the socket
// itself is gone or the accept was cancelled.
enum class AcceptErrorAction : uint8_t { kRepost, kPause, kStop };
AcceptErrorAction accept_error_action(int error) noexcept;

// The listening sockets of every configured address, one per worker each
// (SO_REUSEPORT), kept across reloads. Listeners are matched by address, not
// by their place in the list: a reload keeps the sockets of the addresses it
// keeps (no connection is refused while it happens), opens the added ones,
// and lets go of the removed ones. Control thread only.
class ListenerSockets {
 public:
  explicit ListenerSockets(uint32_t workers) : workers_(workers) {}

  // Per config listener, the workers' sockets: reused for an address already
  // open, opened now otherwise (with port 0 the kernel picks one port that
  // all workers share). On failure closes what this call opened and returns
  // false with `error` naming the address; what was open stays open.
  bool prepare(const std::vector<config::Listener>& listeners, std::vector<std::vector<int>>& fds,
               std::string& error);

  // Forgets every address not in `listeners`: their sockets now belong to
  // the workers, which close them once they stop accepting. Returns the
  // addresses dropped, for the log.
  std::vector<std::string> retain_only(const std::vector<config::Listener>& listeners);

  // The port the sockets of `listener` are bound to (0 when not open).
  uint16_t port_of(const config::Listener& listener) const;

 private:
  uint32_t workers_;
  std::map<std::string, std::vector<int>> open_;  // by configured address text
};

}  // namespace ringgate::net
