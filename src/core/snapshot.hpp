// The runtime view of one configuration: what workers need per request,
// precomputed (routes, resolved backend addresses, pool keys with their TLS
// settings and client certificates, parser limits). Immutable once
// published; workers switch to a new one between loop iterations, and an
// exchange that already began keeps what it copied.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "certs/store.hpp"
#include "http/header_edit.hpp"
#include "http/parser.hpp"
#include "http/router.hpp"
#include "net/address.hpp"
#include "policy/policy.hpp"
#include "ringgate/config.hpp"
#include "ringgate/pool_key.hpp"
#include "tls/context.hpp"

namespace ringgate::core {

using BackendAddress = net::ResolvedAddress;

// Everything needed to open a connection for one pool key.
struct PoolSpec {
  PoolKey key;
  std::string key_text;  // key.to_string(), the metrics label
  BackendAddress address;
  bool tls = false;
  std::string sni;  // server name for SNI and the name check
  // The key's TLS client context (verification settings, trust anchors,
  // client certificate), built and checked with the snapshot; null for plain
  // TCP. Never modified once built, so every worker makes its connections
  // from this one context.
  std::shared_ptr<SSL_CTX> tls_context;
};

struct RouteTarget {
  std::string api_id;
  http::ServiceUrl service;
  uint32_t pool;  // index into Snapshot::pools
  // Backend request edits: <set-header> in <inbound>, then Authorization
  // from <authentication-basic>. Response edits: <set-header> in <outbound>.
  std::vector<http::HeaderEdit> request_edits;
  std::vector<http::HeaderEdit> response_edits;
  // How long the backend may stay silent once the whole request went out:
  // the policy's <forward-request timeout>, else gateway backendResponseMs.
  uint32_t response_timeout_ms = 0;
};

struct ListenerTls {
  // Server certificates by SNI name; null for a plain-HTTP listener.
  std::shared_ptr<const tls::ServerContexts> contexts;
};

struct Snapshot {
  std::shared_ptr<const config::Config> config;
  uint64_t generation = 0;
  http::Router router;
  std::vector<RouteTarget> routes;  // indexed like the router's api indices
  std::vector<PoolSpec> pools;
  std::vector<ListenerTls> listener_tls;  // per config listener; certificate null = plain
  // Per config listener, each worker's listening socket ([listener][worker]):
  // filled by the control thread before it publishes the snapshot.
  std::vector<std::vector<int>> listener_fds;
  http::ParserLimits limits;
};

// Builds the runtime snapshot from a validated config and the certificates
// it may reference (`store`: the config file's and the uploaded ones).
// Resolves backend host names and reads CA bundles (blocking, so only on the
// control thread), and builds every TLS context a listener or a pool needs,
// so that what OpenSSL refuses (a CA file without certificates, a key too
// weak for the security level) is found here and not by a request.
// Appends every problem found, each with its JSON path, and returns null if
// there is any. With `previous`, a pool key it already has keeps its TLS
// context instead of having a new one built (admin changes, one after the
// other, then cost no context for the keys they leave alone).
std::shared_ptr<Snapshot> build_snapshot(std::shared_ptr<const config::Config> config,
                                         const certs::CertificateSet& store, uint64_t generation,
                                         std::vector<config::Problem>& problems,
                                         const Snapshot* previous = nullptr);

// Fills `store` from the config file's `certificates` and the ones persisted
// under stateDir, appending a problem per certificate that does not load.
// With `create_state_dir` false a missing stateDir is left alone (a dry run
// such as --check-config creates nothing). Returns true when all loaded.
bool load_certificates(const config::Config& config, certs::CertificateStore& store,
                       bool create_state_dir, std::vector<config::Problem>& problems);

}  // namespace ringgate::core
