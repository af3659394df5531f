#include "core/snapshot.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <map>

#include "certs/durable_file.hpp"
#include "files/read_file.hpp"

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

constexpr size_t kMaxCaFileBytes = 16 * 1024 * 1024;
// Hex digits of the CA bundle's SHA-256 in the pool key: enough to tell
// bundles apart, short enough for a metrics label.
constexpr size_t kCaDigestChars = 16;

using CaBundles = std::map<std::string, std::shared_ptr<const tls::CaBundle>>;

// The trust anchors are named by their content, not their file: a bundle
// rotated in place gives a new key, so new connections, while connections
// made under the old one drain.
std::string validation_profile(bool chain, bool name, const tls::CaBundle* ca) {
  std::string profile = chain ? "chain" : "nochain";
  profile += name ? "+name" : "+noname";
  if (chain && ca != nullptr) profile += ";ca=sha256:" + ca->sha256().substr(0, kCaDigestChars);
  return profile;
}

bool has_ca(const config::Backend& backend) {
  return !backend.ca_certificate.empty() || !backend.ca_file.empty();
}

// Each backend entity's CA certificates (inline, or its caFile), read and
// parsed once per snapshot (whether or not an API uses them: a broken bundle
// is a broken config). Entities without any are absent.
CaBundles load_ca_bundles(const config::Config& config, std::vector<config::Problem>& problems) {
  CaBundles bundles;
  for (const auto& [id, backend] : config.backends) {
    if (!has_ca(backend)) continue;
    std::string error;
    std::shared_ptr<const tls::CaBundle> bundle;
    if (!backend.ca_certificate.empty()) {
      bundle = tls::CaBundle::parse(backend.ca_certificate, error);
      if (!bundle) problems.push_back({"$.backends." + id + ".caCertificate", error});
    } else {
      const std::string where = "$.backends." + id + ".caFile";
      const files::FileResult file = files::read_regular_file(backend.ca_file, kMaxCaFileBytes);
      if (!file.ok()) {
        problems.push_back({where, file.message()});
        continue;
      }
      bundle = tls::CaBundle::parse(file.contents, error);
      if (!bundle) problems.push_back({where, "\"" + backend.ca_file + "\" " + error});
    }
    if (bundle) bundles.emplace(id, std::move(bundle));
  }
  return bundles;
}

std::vector<ListenerTls> build_listener_tls(const config::Config& config,
                                            const certs::CertificateSet& store,
                                            std::vector<config::Problem>& problems) {
  std::vector<ListenerTls> listeners;
  for (size_t i = 0; i < config.gateway.listeners.size(); ++i) {
    const config::Listener& listener = config.gateway.listeners[i];
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
          std::string message = "certificate \"" + id + "\": ";
          message += error;
          problems.push_back({where, std::move(message)});
          continue;
        }
        contexts->add(ctx);
      }
      tls.contexts = std::move(contexts);
    }
    listeners.push_back(std::move(tls));
  }
  return listeners;
}

// What an https pool is made from besides its address: the backend entity
// whose url prefixes the backend URL, its CA bundle, the policy's client
// certificate.
struct TlsPoolInputs {
  const config::Backend* backend = nullptr;  // null: default validation, system store
  std::shared_ptr<const tls::CaBundle> ca;   // null: the system store
  bool ca_missing = false;                   // the backend's caFile did not load
  std::optional<certs::StoredCertificate> client_certificate;

  tls::ClientProfile profile() const {
    tls::ClientProfile profile;
    if (backend != nullptr) {
      profile.verify_chain = backend->tls.validate_certificate_chain;
      profile.verify_name = backend->tls.validate_certificate_name;
    }
    profile.ca = ca;
    if (client_certificate) {
      const certs::LoadedCertificate& cert = *client_certificate->certificate;
      profile.key = cert.key();
      profile.certificate = cert.certificate();
      profile.chain = cert.chain();
    }
    return profile;
  }
};

TlsPoolInputs tls_pool_inputs(const config::Config& config, const certs::CertificateSet& store,
                              const CaBundles& ca_bundles, const std::string& url,
                              const policy::Policy& pol) {
  TlsPoolInputs in;
  if (const auto* backend = backend_for(config, url)) {
    in.backend = &backend->second;
    if (auto ca = ca_bundles.find(backend->first); ca != ca_bundles.end()) in.ca = ca->second;
    in.ca_missing = has_ca(backend->second) && !in.ca;
  }
  if (!pol.certificate_id.empty()) in.client_certificate = store.get(pol.certificate_id);
  if (!pol.certificate_thumbprint.empty())
    in.client_certificate = store.find_by_thumbprint(pol.certificate_thumbprint);
  return in;
}

// Fills the TLS parts of `spec` and its key for a backend at `host`.
void describe_tls_pool(const std::string& host, const TlsPoolInputs& in, PoolSpec& spec) {
  spec.tls = true;
  spec.sni = host;
  if (spec.sni.size() > 2 && spec.sni.front() == '[')
    spec.sni = spec.sni.substr(1, spec.sni.size() - 2);
  // An IP literal is not sent as SNI (RFC 6066 §3); the name check then
  // looks at the certificate's IP addresses.
  in6_addr ignored{};
  const bool ip_literal = inet_pton(AF_INET, spec.sni.c_str(), &ignored) == 1 ||
                          inet_pton(AF_INET6, spec.sni.c_str(), &ignored) == 1;
  if (!ip_literal) spec.key.sni = spec.sni;
  const tls::ClientProfile profile = in.profile();
  spec.key.validation_profile =
      validation_profile(profile.verify_chain, profile.verify_name, profile.ca.get());
  if (in.client_certificate) {
    spec.key.thumbprint = in.client_certificate->certificate->info().thumbprint;
  }
}

// The client context of a new https pool key. On failure returns null and
// sets `problem`: its path relative to the API ("…policy" when the client
// certificate is at fault) and the message.
std::shared_ptr<SSL_CTX> make_pool_context(const TlsPoolInputs& in, config::Problem& problem) {
  std::string error;
  std::shared_ptr<SSL_CTX> ctx = tls::make_client_context(in.profile(), error);
  if (ctx) return ctx;
  if (in.client_certificate) {
    problem = {".policy", "client certificate \"" + in.client_certificate->id + "\": " + error};
  } else {
    problem = {".serviceUrl", "cannot set up TLS to the backend: " + error};
  }
  return nullptr;
}

// The context `previous` built for pool key `key_text`, if any. The key names
// everything the context is made from (origin, SNI, validation settings, the
// CA bundle's content, the client certificate's thumbprint), and workers keep
// a key's pool, context included, across snapshots anyway.
std::shared_ptr<SSL_CTX> context_of(const Snapshot* previous, const std::string& key_text) {
  if (previous == nullptr) return nullptr;
  for (const PoolSpec& pool : previous->pools) {
    if (pool.key_text == key_text) return pool.tls_context;
  }
  return nullptr;
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
  const bool shared = config.gateway.config_source.type == config::ConfigSource::Type::kEtcd;
  if (!dir.empty() && (create_state_dir || ::access(dir.c_str(), F_OK) == 0)) {
    std::string error;
    // With etcd the uploaded certificates are kept there; stateDir only
    // holds the cache of it.
    const bool ok =
        shared ? certs::make_private_directory(dir, certs::DirectoryOrigin::kOperator, error)
               : store.open(dir, error);
    if (!ok) problems.push_back({"$.gateway.stateDir", error});
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
                                         const certs::CertificateSet& store, uint64_t generation,
                                         std::vector<config::Problem>& problems,
                                         const Snapshot* previous) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->config = config;
  snapshot->generation = generation;
  const config::Limits& limits = config->gateway.limits;
  snapshot->limits.max_header_bytes = limits.max_header_bytes;
  snapshot->limits.max_header_count = limits.max_header_count;
  snapshot->limits.max_url_bytes = limits.max_url_bytes;
  snapshot->limits.max_body_bytes = limits.max_body_bytes;
  const size_t before = problems.size();

  snapshot->listener_tls = build_listener_tls(*config, store, problems);
  const CaBundles ca_bundles = load_ca_bundles(*config, problems);

  std::vector<std::string> paths;
  std::map<std::string, uint32_t> pool_by_key;
  // Keys whose pool could not be set up, with why: every API on one gets the problem.
  std::map<std::string, config::Problem> failed_keys;
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
    TlsPoolInputs tls_inputs;
    if (service->tls) {
      tls_inputs = tls_pool_inputs(*config, store, ca_bundles, url, pol);
      if (tls_inputs.ca_missing) continue;  // its caFile did not load: reported at the backend
      describe_tls_pool(service->host, tls_inputs, spec);
    } else if (!pol.certificate_id.empty() || !pol.certificate_thumbprint.empty()) {
      problems.push_back(
          {where + ".policy", "authentication-certificate needs an https backend, not " + url});
      continue;
    }
    spec.key_text = spec.key.to_string();

    if (auto failed = failed_keys.find(spec.key_text); failed != failed_keys.end()) {
      problems.push_back({where + failed->second.path, failed->second.message});
      continue;
    }
    auto [it, inserted] =
        pool_by_key.emplace(spec.key_text, static_cast<uint32_t>(snapshot->pools.size()));
    if (inserted) {
      // A new key: its context and address, made once however many APIs share it.
      config::Problem failure;
      if (spec.tls) spec.tls_context = context_of(previous, spec.key_text);
      if (spec.tls && !spec.tls_context) spec.tls_context = make_pool_context(tls_inputs, failure);
      if ((!spec.tls || spec.tls_context) &&
          !net::resolve_address(service->host, service->port, false, spec.address, error)) {
        failure = {".serviceUrl", error};
      }
      if (!failure.path.empty()) {
        problems.push_back({where + failure.path, failure.message});
        failed_keys.emplace(spec.key_text, std::move(failure));
        pool_by_key.erase(it);
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
    route.response_timeout_ms = pol.forward_timeout_seconds != 0
                                    ? pol.forward_timeout_seconds * 1000
                                    : config->gateway.timeouts.backend_response_ms;
    paths.push_back(api.path);
    snapshot->routes.push_back(std::move(route));
  }
  if (problems.size() != before) return nullptr;
  snapshot->router = http::Router(paths);
  return snapshot;
}

}  // namespace ringgate::core
