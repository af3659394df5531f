#include "core/snapshot.hpp"

#include <netdb.h>

#include <cstring>
#include <map>

namespace ringgate::core {

bool resolve_address(const std::string& host, uint16_t port, BackendAddress& out,
                     std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  int rc = getaddrinfo(bare.c_str(), service.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    error = "cannot resolve \"" + host + "\": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&out.storage, result->ai_addr, result->ai_addrlen);
  out.length = result->ai_addrlen;
  freeaddrinfo(result);
  return true;
}

std::shared_ptr<const Snapshot> build_snapshot(std::shared_ptr<const config::Config> config,
                                               uint64_t generation,
                                               std::vector<config::Problem>& problems) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->config = config;
  snapshot->generation = generation;
  const config::Limits& limits = config->gateway.limits;
  snapshot->limits.max_header_bytes = limits.max_header_bytes;
  snapshot->limits.max_header_count = limits.max_header_count;
  snapshot->limits.max_url_bytes = limits.max_url_bytes;
  snapshot->limits.max_body_bytes = limits.max_body_bytes;

  std::vector<std::string> paths;
  std::map<std::string, uint32_t> pool_by_key;
  const size_t before = problems.size();
  for (const auto& [id, api] : config->apis) {
    const std::string where = "$.apis." + id + ".serviceUrl";
    std::string error;
    auto service = http::parse_service_url(api.service_url, error);
    if (!service) {
      problems.push_back({where, error});
      continue;
    }
    if (service->tls) {
      problems.push_back({where, "https backends are not supported by this build yet"});
      continue;
    }
    PoolKey key;
    key.origin = service->origin();
    const std::string key_text = key.to_string();
    auto [it, inserted] = pool_by_key.emplace(key_text, static_cast<uint32_t>(snapshot->pools.size()));
    if (inserted) {
      PoolSpec spec;
      spec.key = key;
      spec.key_text = key_text;
      if (!resolve_address(service->host, service->port, spec.address, error)) {
        problems.push_back({where, error});
        continue;
      }
      snapshot->pools.push_back(std::move(spec));
    }
    paths.push_back(api.path);
    snapshot->routes.push_back(RouteTarget{id, std::move(*service), it->second});
  }
  if (problems.size() != before) return nullptr;
  snapshot->router = http::Router(paths);
  return snapshot;
}

}  // namespace ringgate::core
