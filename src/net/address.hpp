// Turning "host" + port into a socket address, for listeners (numeric only)
// and backends (names resolved too).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace ringgate::net {

struct ResolvedAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

// Resolves `host` (a name, an IPv4 literal or an IPv6 literal with or
// without brackets; "localhost" is 127.0.0.1) and `port`. With
// `numeric_only` no name lookup is made. Blocking when it looks a name up, so
// only for the control thread. Returns false with `error` naming the host.
bool resolve_address(const std::string& host, uint16_t port, bool numeric_only,
                     ResolvedAddress& out, std::string& error);

}  // namespace ringgate::net
