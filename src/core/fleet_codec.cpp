#include "core/fleet_codec.hpp"

#include <openssl/crypto.h>
#include <simdjson.h>

#include "certs/pem.hpp"
#include "config/entities.hpp"
#include "config/json_reader.hpp"
#include "ringgate/resource_id.hpp"

namespace ringgate::core {
namespace {

constexpr std::string_view kCertificates = "certificates/";
constexpr std::string_view kBackends = "backends/";
constexpr std::string_view kApis = "apis/";
constexpr std::string_view kPolicySuffix = "/policy";

bool starts_with(const std::string& text, std::string_view prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Reads one JSON entity value with `read` (read_backend_properties or
// read_api_properties); problems are reported at the key.
template <typename Read>
auto read_json_entity(const std::string& key, const std::string& value, Read&& read,
                      std::vector<config::Problem>& problems)
    -> decltype(read(std::declval<simdjson::dom::element>(), std::string(),
                     std::declval<config::Problems&>())) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  config::Problems found;
  decltype(read(root, std::string(), found)) entity;
  if (simdjson::error_code error = parser.parse(value.data(), value.size()).get(root)) {
    found.add("$", std::string("invalid JSON: ") + simdjson::error_message(error));
  } else {
    entity = read(root, "$", found);
  }
  for (config::Problem& p : found.take()) {
    problems.push_back({key + ": " + p.path, std::move(p.message)});
  }
  return entity;
}

}  // namespace

void wipe_entries(FleetEntries& entries) {
  for (auto& [key, value] : entries) OPENSSL_cleanse(value.data(), value.size());
  entries.clear();
}

bool encode_fleet_state(const ManagedResources& managed, const certs::CertificateSet& uploaded,
                        FleetEntries& entries, std::string& error) {
  for (const certs::StoredCertificate& c : uploaded.list()) {
    std::string pem;
    if (!certs::encode_pem(*c.certificate, pem)) {
      OPENSSL_cleanse(pem.data(), pem.size());
      error = "cannot encode certificate " + config::quote(c.id);
      return false;
    }
    entries[std::string(kCertificates) + c.id] = std::move(pem);
  }
  for (const auto& [id, backend] : managed.backends) {
    entries[std::string(kBackends) + id] = backend_properties_json(backend);
  }
  for (const auto& [id, api] : managed.apis) {
    entries[std::string(kApis) + id] = api_properties_json(api);
    if (!api.policy.empty()) {
      entries[std::string(kApis) + id + std::string(kPolicySuffix)] = api.policy;
    }
  }
  return true;
}

bool parse_fleet_key(const std::string& key, FleetKey& kind, std::string& id) {
  if (starts_with(key, kCertificates)) {
    kind = FleetKey::kCertificate;
    id = key.substr(kCertificates.size());
  } else if (starts_with(key, kBackends)) {
    kind = FleetKey::kBackend;
    id = key.substr(kBackends.size());
  } else if (starts_with(key, kApis)) {
    id = key.substr(kApis.size());
    kind = FleetKey::kApi;
    const size_t slash = id.find('/');
    if (slash != std::string::npos) {
      if (id.substr(slash) != kPolicySuffix) return false;
      id.resize(slash);
      kind = FleetKey::kPolicy;
    }
  } else {
    return false;
  }
  return is_valid_resource_id(id);
}

std::shared_ptr<const certs::LoadedCertificate> decode_certificate_pem(const std::string& key,
                                                                       const std::string& value,
                                                                       std::string& error) {
  (void)key;
  certs::PfxResult decoded = certs::decode_pem(value);
  if (!decoded.ok()) {
    error = decoded.message;
    return nullptr;
  }
  return decoded.certificate;
}

bool decode_fleet_state(const FleetEntries& entries, const CertificateDecoder& decode_certificate,
                        ManagedResources& managed, certs::CertificateSet& uploaded,
                        std::vector<config::Problem>& problems) {
  const size_t before = problems.size();
  ManagedResources read;
  certs::CertificateSet certificates;
  std::map<std::string, const std::string*> policies;
  for (const auto& [key, value] : entries) {
    FleetKey kind{};
    std::string id;
    if (!parse_fleet_key(key, kind, id)) continue;
    switch (kind) {
      case FleetKey::kCertificate: {
        std::string error;
        auto certificate = decode_certificate(key, value, error);
        if (certificate) {
          certificates.insert(certs::StoredCertificate{id, std::move(certificate), false});
        } else {
          problems.push_back({key, error});
        }
        break;
      }
      case FleetKey::kBackend:
        if (auto backend =
                read_json_entity(key, value, config::read_backend_properties, problems)) {
          read.backends.emplace(id, std::move(*backend));
        }
        break;
      case FleetKey::kApi:
        if (auto api = read_json_entity(key, value, config::read_api_properties, problems)) {
          read.apis.emplace(id, std::move(*api));
        }
        break;
      case FleetKey::kPolicy:
        policies.emplace(id, &value);
        break;
    }
  }
  for (const auto& [id, xml] : policies) {
    auto api = read.apis.find(id);
    if (api == read.apis.end()) {
      problems.push_back({std::string(kApis) + id + std::string(kPolicySuffix),
                          "policy of API " + config::quote(id) + ", which does not exist"});
      continue;
    }
    api->second.policy = *xml;
  }
  if (problems.size() != before) return false;
  managed = std::move(read);
  uploaded = std::move(certificates);
  return true;
}

}  // namespace ringgate::core
