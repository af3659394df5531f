#include "core/snapshot.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <map>

namespace ringgate::core {
namespace {

// The backend entity that applies to `url`: the longest `url` prefix ending
// on a boundary (end, '/', '?').
const std::pair<const std::string, config::Backend>* backend_for(const config::Config& config,
                                                                 const std::string& url) {
  const std::pair<const std::string, config::Backend>* best = nullptr;
  for (const auto& entry : config.backends) {
    const std::string& prefix = entry.second.url;
    if (url.compare(0, prefix.size(), prefix) != 0) continue;
    if (url.size() > prefix.size() && prefix.back() != '/' && url[prefix.size()] != '/' &&
        url[prefix.size()] != '?') {
      continue;
    }
    if (best == nullptr || prefix.size() > best->second.url.size()) best = &entry;
  }
  return best;
}

std::string validation_profile(bool chain, bool name, const std::string& ca_file) {
  std::string profile = chain ? "chain" : "nochain";
  profile += name ? "+name" : "+noname";
  if (!ca_file.empty()) profile += ";ca=" + ca_file;
  return profile;
}

std::vector<http::HeaderEdit> to_edits(const std::vector<policy::SetHeader>& headers) {
  std::vector<http::HeaderEdit> edits;
  for (const policy::SetHeader& h : headers) {
    http::HeaderEdit edit;
    edit.name = h.name;
    edit.values = h.values;
    switch (h.action) {
      case policy::HeaderAction::kOverride:
        edit.action = http::HeaderEditAction::kOverride;
        break;
      case policy::HeaderAction::kSkip:
        edit.action = http::HeaderEditAction::kSkip;
        break;
      case policy::HeaderAction::kAppend:
        edit.action = http::HeaderEditAction::kAppend;
        break;
      case policy::HeaderAction::kDelete:
        edit.action = http::HeaderEditAction::kDelete;
        break;
    }
    edits.push_back(std::move(edit));
  }
  return edits;
}

}  // namespace

bool load_certificates(const config::Config& config, certs::CertificateStore& store,
                       bool create_state_dir, std::vector<config::Problem>& problems) {
  const size_t before = problems.size();
  const std::string& dir = config.gateway.state_dir;
  if (!dir.empty() && (create_state_dir || ::access(dir.c_str(), F_OK) == 0)) {
    std::string error;
    if (!store.open(config.gateway.state_dir, error)) {
      problems.push_back({"$.gateway.stateDir", error});
    }
  }
  for (const auto& [id, cert] : config.certificates) {
    const certs::PfxResult result = store.load_from_files(id, cert.pfx_file, cert.password_file);
    if (result.error != certs::PfxError::kNone) {
      problems.push_back({"$.certificates." + id, result.message});
    }
  }
  return problems.size() == before;
}

std::shared_ptr<Snapshot> build_snapshot(std::shared_ptr<const config::Config> config,
                                         const certs::CertificateStore& store, uint64_t generation,
                                         std::vector<config::Problem>& problems) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->config = config;
  snapshot->generation = generation;
  const config::Limits& limits = config->gateway.limits;
  snapshot->limits.max_header_bytes = limits.max_header_bytes;
  snapshot->limits.max_header_count = limits.max_header_count;
  snapshot->limits.max_url_bytes = limits.max_url_bytes;
  snapshot->limits.max_body_bytes = limits.max_body_bytes;
  const size_t before = problems.size();

  for (size_t i = 0; i < config->gateway.listeners.size(); ++i) {
    const config::Listener& listener = config->gateway.listeners[i];
    ListenerTls tls;
    if (listener.tls) {
      const std::string where = "$.gateway.listeners[" + std::to_string(i) + "].tls";
      auto contexts = std::make_shared<tls::ServerContexts>();
      for (const std::string& id : listener.tls->certificate_ids) {
        auto stored = store.get(id);
        if (!stored) {
          problems.push_back({where, "no certificate \"" + id + "\""});
          continue;
        }
        const certs::LoadedCertificate& cert = *stored->certificate;
        std::string error;
        auto ctx = tls::make_server_context(cert.key(), cert.certificate(), cert.chain(), error);
        if (!ctx) {
          problems.push_back({where, "certificate \"" + id + "\": " + error});
          continue;
        }
        contexts->add(ctx);
      }
      tls.contexts = std::move(contexts);
    }
    snapshot->listener_tls.push_back(std::move(tls));
  }

  std::vector<std::string> paths;
  std::map<std::string, uint32_t> pool_by_key;
  for (const auto& [id, api] : config->apis) {
    const std::string where = "$.apis." + id;
    const policy::PolicyResult parsed = policy::parse_policy(api.policy);
    std::vector<policy::PolicyProblem> policy_problems = parsed.problems;
    if (policy_problems.empty()) {
      policy::check_references(
          parsed.policy,
          [&](std::string_view cert_id) { return store.get(std::string(cert_id)).has_value(); },
          [&](std::string_view thumbprint) {
            return store.find_by_thumbprint(thumbprint).has_value();
          },
          [&](std::string_view backend_id) {
            return config->backends.count(std::string(backend_id)) > 0;
          },
          policy_problems);
    }
    if (!policy_problems.empty()) {
      for (const auto& p : policy_problems)
        problems.push_back({where + ".policy", policy::describe(p)});
      continue;
    }
    const policy::Policy& pol = parsed.policy;

    // The backend URL: serviceUrl, unless the policy points elsewhere.
    std::string url = api.service_url;
    if (!pol.backend_base_url.empty()) url = pol.backend_base_url;
    if (!pol.backend_id.empty()) url = config->backends.at(pol.backend_id).url;
    std::string error;
    auto service = http::parse_service_url(url, error);
    if (!service) {
      problems.push_back({where + ".serviceUrl", error});
      continue;
    }

    PoolSpec spec;
    spec.key.origin = service->origin();
    if (service->tls) {
      spec.tls = true;
      spec.sni = service->host;
      if (spec.sni.size() > 2 && spec.sni.front() == '[')
        spec.sni = spec.sni.substr(1, spec.sni.size() - 2);
      if (const auto* backend = backend_for(*config, url)) {
        spec.verify_chain = backend->second.tls.validate_certificate_chain;
        spec.verify_name = backend->second.tls.validate_certificate_name;
        spec.ca_file = backend->second.ca_file;
      }
      std::optional<certs::StoredCertificate> cert;
      if (!pol.certificate_id.empty()) cert = store.get(pol.certificate_id);
      if (!pol.certificate_thumbprint.empty())
        cert = store.find_by_thumbprint(pol.certificate_thumbprint);
      if (cert) spec.client_certificate = cert->certificate;
      // An IP literal is not sent as SNI (RFC 6066 §3); the name check then
      // looks at the certificate's IP addresses.
      in6_addr ignored{};
      const bool ip_literal = inet_pton(AF_INET, spec.sni.c_str(), &ignored) == 1 ||
                              inet_pton(AF_INET6, spec.sni.c_str(), &ignored) == 1;
      if (!ip_literal) spec.key.sni = spec.sni;
      spec.key.validation_profile =
          validation_profile(spec.verify_chain, spec.verify_name, spec.ca_file);
      if (spec.client_certificate) spec.key.thumbprint = spec.client_certificate->info().thumbprint;
    } else if (!pol.certificate_id.empty() || !pol.certificate_thumbprint.empty()) {
      problems.push_back(
          {where + ".policy", "authentication-certificate needs an https backend, not " + url});
      continue;
    }
    spec.key_text = spec.key.to_string();

    auto [it, inserted] =
        pool_by_key.emplace(spec.key_text, static_cast<uint32_t>(snapshot->pools.size()));
    if (inserted) {
      if (!net::resolve_address(service->host, service->port, false, spec.address, error)) {
        problems.push_back({where + ".serviceUrl", error});
        continue;
      }
      snapshot->pools.push_back(std::move(spec));
    }

    RouteTarget route;
    route.api_id = id;
    route.service = std::move(*service);
    route.pool = it->second;
    route.request_edits = to_edits(pol.inbound_headers);
    if (pol.basic) {
      route.request_edits.push_back(
          {"Authorization",
           http::HeaderEditAction::kOverride,
           {"Basic " + policy::basic_authorization_value(pol.basic->first, pol.basic->second)}});
    }
    route.response_edits = to_edits(pol.outbound_headers);
    route.response_timeout_ms = pol.forward_timeout_seconds * 1000;
    paths.push_back(api.path);
    snapshot->routes.push_back(std::move(route));
  }
  if (problems.size() != before) return nullptr;
  snapshot->router = http::Router(paths);
  return snapshot;
}

}  // namespace ringgate::core
