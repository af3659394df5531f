// Listening sockets. Each worker gets its own SO_REUSEPORT socket per
// configured listener so the kernel spreads connections across cores.
#pragma once

#include <string>

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

}  // namespace ringgate::net
