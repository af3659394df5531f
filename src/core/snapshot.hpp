// The runtime view of one configuration: what workers need per request,
// precomputed (routes, resolved backend addresses, pool keys, parser limits).
// Immutable once published; workers switch to a new one between loop
// iterations, and an exchange that already began keeps what it copied.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "http/parser.hpp"
#include "http/router.hpp"
#include "ringgate/config.hpp"
#include "ringgate/pool_key.hpp"

namespace ringgate::core {

struct BackendAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

struct RouteTarget {
  std::string api_id;
  http::ServiceUrl service;
  uint32_t pool;  // index into Snapshot::pools
};

struct PoolSpec {
  PoolKey key;
  std::string key_text;  // key.to_string(), the metrics label
  BackendAddress address;
};

struct Snapshot {
  std::shared_ptr<const config::Config> config;
  uint64_t generation = 0;
  http::Router router;
  std::vector<RouteTarget> routes;  // indexed like the router's api indices
  std::vector<PoolSpec> pools;
  http::ParserLimits limits;
};

// Builds the runtime snapshot; resolves backend host names (blocking, so only
// on the control thread). Appends a problem per API it cannot serve and
// returns null if there is any.
std::shared_ptr<const Snapshot> build_snapshot(std::shared_ptr<const config::Config> config,
                                               uint64_t generation,
                                               std::vector<config::Problem>& problems);

// Resolves host:port (numeric or a name) to a socket address.
bool resolve_address(const std::string& host, uint16_t port, BackendAddress& out,
                     std::string& error);

}  // namespace ringgate::core
