#include "core/managed_state.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <utility>

#include "certs/durable_file.hpp"
#include "config/entities.hpp"
#include "config/json_reader.hpp"
#include "core/fleet_sync.hpp"
#include "core/log.hpp"
#include "core/privileges.hpp"
#include "files/owner.hpp"
#include "files/read_file.hpp"
#include "policy/policy.hpp"

namespace ringgate::core {
namespace {

constexpr int kResourcesVersion = 1;
constexpr size_t kMaxResourcesBytes = 64 * 1024 * 1024;
constexpr mode_t kResourcesFileMode = 0600;

std::string resources_path(const std::string& state_dir) {
  return state_dir + "/" + std::string(kResourcesFileName);
}

nlohmann::json backend_json(const config::Backend& backend) {
  nlohmann::json properties = {
      {"url", backend.url},
      {"tls",
       {{"validateCertificateChain", backend.tls.validate_certificate_chain},
        {"validateCertificateName", backend.tls.validate_certificate_name}}}};
  if (!backend.ca_certificate.empty()) properties["caCertificate"] = backend.ca_certificate;
  return properties;
}

// Calls `read(id, value, path)` for each member of the id-keyed object
// `value` whose id is valid; others are problems.
template <typename Read>
void for_each_entity(simdjson::dom::element value, const std::string& path,
                     config::Problems& problems, Read&& read) {
  std::optional<simdjson::dom::object> object = config::as_object(value, path, problems);
  if (!object) return;
  for (simdjson::dom::key_value_pair field : *object) {
    const std::string entity_path = config::member_path(path, field.key);
    if (!is_valid_resource_id(field.key)) {
      problems.add(entity_path, invalid_resource_id_message(field.key));
      continue;
    }
    read(std::string(field.key), field.value, entity_path);
  }
}

void read_resources(simdjson::dom::element root, ManagedResources& resources,
                    config::Problems& problems) {
  std::optional<config::ObjectReader> top =
      config::ObjectReader::open(root, "$", {"version", "backends", "apis", "policies"}, problems);
  if (!top) return;
  uint32_t version = 0;
  if (top->require("version")) top->read("version", version, kResourcesVersion, kResourcesVersion);
  if (auto backends = top->find("backends")) {
    for_each_entity(*backends, "$.backends", problems,
                    [&](std::string id, simdjson::dom::element value, const std::string& path) {
                      if (auto backend = config::read_backend_properties(value, path, problems)) {
                        resources.backends.emplace(std::move(id), std::move(*backend));
                      }
                    });
  }
  if (auto apis = top->find("apis")) {
    for_each_entity(*apis, "$.apis", problems,
                    [&](std::string id, simdjson::dom::element value, const std::string& path) {
                      if (auto api = config::read_api_properties(value, path, problems)) {
                        resources.apis.emplace(std::move(id), std::move(*api));
                      }
                    });
  }
  if (auto policies = top->find("policies")) {
    for_each_entity(
        *policies, "$.policies", problems,
        [&](const std::string& id, simdjson::dom::element value, const std::string& path) {
          std::optional<std::string> xml = config::as_string(value, path, problems);
          if (!xml) return;
          auto api = resources.apis.find(id);
          if (api == resources.apis.end()) {
            problems.add(path, "policy of API " + config::quote(id) + ", which is not in $.apis");
            return;
          }
          api->second.policy = std::move(*xml);
        });
  }
}

// Whether `policy` presents a client certificate by `id`, or by `thumbprint`.
bool policy_names_certificate(const std::string& policy_xml, const std::string& id,
                              const std::string* thumbprint) {
  if (policy_xml.empty()) return false;
  const policy::PolicyResult parsed = policy::parse_policy(policy_xml);
  if (!parsed.problems.empty()) return false;
  if (parsed.policy.certificate_id == id) return true;
  if (thumbprint == nullptr || parsed.policy.certificate_thumbprint.empty()) return false;
  const std::string& named = parsed.policy.certificate_thumbprint;
  return named.size() == thumbprint->size() &&
         std::equal(named.begin(), named.end(), thumbprint->begin(), [](char a, char b) {
           return std::toupper(static_cast<unsigned char>(a)) ==
                  std::toupper(static_cast<unsigned char>(b));
         });
}

nlohmann::json api_json(const config::Api& api) {
  return {{"path", api.path}, {"serviceUrl", api.service_url}};
}

std::string compact(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string backend_properties_json(const config::Backend& backend) {
  return compact(backend_json(backend));
}

std::string api_properties_json(const config::Api& api) { return compact(api_json(api)); }

certs::CertificateSet uploaded_only(const certs::CertificateSet& all) {
  certs::CertificateSet uploaded;
  for (certs::StoredCertificate& c : all.list()) {
    if (!c.from_config_file) uploaded.insert(std::move(c));
  }
  return uploaded;
}

std::string resources_document(const ManagedResources& resources) {
  nlohmann::json backends = nlohmann::json::object();
  for (const auto& [id, backend] : resources.backends) backends[id] = backend_json(backend);
  nlohmann::json apis = nlohmann::json::object();
  nlohmann::json policies = nlohmann::json::object();
  for (const auto& [id, api] : resources.apis) {
    apis[id] = api_json(api);
    if (!api.policy.empty()) policies[id] = api.policy;
  }
  const nlohmann::json document = {{"version", kResourcesVersion},
                                   {"backends", std::move(backends)},
                                   {"apis", std::move(apis)},
                                   {"policies", std::move(policies)}};
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool parse_resources_document(std::string_view text, const std::string& where,
                              ManagedResources& resources, std::vector<config::Problem>& problems) {
  config::Problems found;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ManagedResources read;
  if (simdjson::error_code error = parser.parse(text.data(), text.size()).get(root)) {
    found.add("$", std::string("invalid JSON: ") + simdjson::error_message(error));
  } else {
    read_resources(root, read, found);
  }
  if (!found.empty()) {
    for (config::Problem& p : found.take()) problems.push_back({where + ": " + p.path, p.message});
    return false;
  }
  resources = std::move(read);
  return true;
}

bool load_resources(const std::string& state_dir, ManagedResources& resources,
                    std::vector<config::Problem>& problems) {
  const std::string path = resources_path(state_dir);
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0 && errno == ENOENT) {
    resources = ManagedResources();
    return true;
  }
  const files::FileResult file =
      files::read_regular_file(path, kMaxResourcesBytes, files::Symlinks::kRefuse);
  if (!file.ok()) {
    problems.push_back({"$.gateway.stateDir", file.message()});
    return false;
  }
  return parse_resources_document(file.contents, path, resources, problems);
}

void remove_unfinished_writes(const std::string& state_dir) {
  const std::string prefix = std::string(certs::kTempFilePrefix) + std::string(kResourcesFileName);
  std::error_code ec;
  for (std::filesystem::directory_iterator it(state_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::string error;
    if (!certs::remove_file_durably(state_dir, name, error)) RG_WARN("%s", error.c_str());
  }
}

bool save_resources(const std::string& state_dir, const ManagedResources& resources,
                    std::string& error) {
  return certs::write_file_atomically(state_dir, std::string(kResourcesFileName),
                                      resources_document(resources), kResourcesFileMode, error);
}

std::shared_ptr<const config::Config> merge(const config::Config& file,
                                            const ManagedResources& managed,
                                            std::vector<config::Problem>& problems,
                                            std::vector<std::string>* shadowed) {
  auto effective = std::make_shared<config::Config>(file);
  const size_t before = problems.size();
  std::map<std::string, std::string> backend_by_url;
  for (const auto& [id, backend] : file.backends) backend_by_url.emplace(backend.url, id);
  for (const auto& [id, backend] : managed.backends) {
    if (file.backends.contains(id)) {
      if (shadowed != nullptr) shadowed->push_back("backends/" + id);
      continue;
    }
    auto [owner, inserted] = backend_by_url.emplace(backend.url, id);
    if (!inserted) {
      problems.push_back({"$.backends." + id + ".url", "url " + config::quote(backend.url) +
                                                           " is already used by backend " +
                                                           config::quote(owner->second)});
      continue;
    }
    effective->backends.emplace(id, backend);
  }
  std::map<std::string, std::string> api_by_path;
  for (const auto& [id, api] : file.apis) api_by_path.emplace(api.path, id);
  for (const auto& [id, api] : managed.apis) {
    if (file.apis.contains(id)) {
      if (shadowed != nullptr) shadowed->push_back("apis/" + id);
      continue;
    }
    auto [owner, inserted] = api_by_path.emplace(api.path, id);
    if (!inserted) {
      problems.push_back({"$.apis." + id + ".path", "path " + config::quote(api.path) +
                                                        " is already used by API " +
                                                        config::quote(owner->second)});
      continue;
    }
    effective->apis.emplace(id, api);
  }
  if (problems.size() != before) return nullptr;
  return effective;
}

Composed compose(const config::Config& file, const ManagedResources& managed,
                 const certs::CertificateSet& certificates, uint64_t generation,
                 std::vector<config::Problem>& problems, std::vector<std::string>* shadowed,
                 const Snapshot* previous) {
  Composed composed;
  std::shared_ptr<const config::Config> effective = merge(file, managed, problems, shadowed);
  if (!effective) return composed;
  composed.snapshot = build_snapshot(effective, certificates, generation, problems, previous);
  if (composed.snapshot) composed.config = std::move(effective);
  return composed;
}

std::vector<std::string> apis_using_certificate(const config::Config& effective,
                                                const certs::CertificateSet& certificates,
                                                const std::string& id) {
  std::vector<std::string> users;
  const std::optional<certs::StoredCertificate> certificate = certificates.get(id);
  const std::string* thumbprint = nullptr;
  if (certificate) {
    const std::string& own = certificate->certificate->info().thumbprint;
    bool shared = false;
    for (const certs::StoredCertificate& other : certificates.list()) {
      shared |= other.id != id && other.certificate->info().thumbprint == own;
    }
    if (!shared) thumbprint = &own;
  }
  for (const auto& [api_id, api] : effective.apis) {
    if (policy_names_certificate(api.policy, id, thumbprint)) users.push_back(api_id);
  }
  return users;
}

Prepared prepare(const std::string& config_path, uint64_t generation, bool dry_run,
                 std::vector<config::Problem>& problems, bool offline) {
  Prepared prepared;
  config::LoadResult loaded = config::load_file(config_path);
  problems.insert(problems.end(), loaded.problems.begin(), loaded.problems.end());
  if (!loaded.config) return prepared;
  // Decided before the state dir is opened: whose it must be.
  files::set_file_owner(state_owner(loaded.config->gateway));
  prepared.file_config = loaded.config;
  prepared.store = std::make_unique<certs::CertificateStore>();
  std::string error;
  if (!certs::ensure_providers(error)) RG_WARN("OpenSSL providers: %s", error.c_str());
  const size_t before = problems.size();
  load_certificates(*loaded.config, *prepared.store, !dry_run, problems);
  const std::string& state_dir = loaded.config->gateway.state_dir;
  if (problems.size() == before && !dry_run) remove_unfinished_writes(state_dir);
  if (loaded.config->gateway.config_source.type == config::ConfigSource::Type::kEtcd) {
    if (problems.size() == before) {
      prepared.fleet = std::make_shared<FleetStart>();
      certs::CertificateSet uploaded;
      load_fleet_start(loaded.config->gateway, prepared.store->contents(), dry_run, offline,
                       *prepared.fleet, prepared.managed, uploaded, problems);
      prepared.store->replace_uploaded(uploaded);
    }
  } else if (problems.size() == before) {
    load_resources(state_dir, prepared.managed, problems);
  }
  if (problems.size() != before) return prepared;
  std::vector<std::string> shadowed;
  Composed composed = compose(*loaded.config, prepared.managed, prepared.store->contents(),
                              generation, problems, &shadowed);
  for (const std::string& entity : shadowed) {
    RG_WARN("%s made through the admin API is shadowed by the config file's entity of that id",
            entity.c_str());
  }
  prepared.config = std::move(composed.config);
  prepared.snapshot = std::move(composed.snapshot);
  return prepared;
}

ManagedState::ManagedState(PublishFn publish) : publish_(std::move(publish)) {}

void ManagedState::reset(Prepared prepared) {
  file_config_ = std::move(prepared.file_config);
  store_ = std::move(prepared.store);
  managed_ = std::move(prepared.managed);
  current_ = std::move(prepared.snapshot);
}

ManagedState::Change ManagedState::put_certificate(
    const std::string& id, std::shared_ptr<const certs::LoadedCertificate> certificate,
    bool& created) {
  created = false;
  certs::CertificateSet next = store_->contents();
  next.insert(certs::StoredCertificate{id, certificate, false});
  if (backing_ != nullptr) {
    const bool existed = store_->get(id).has_value();
    Change change = apply_backed(managed_, next);
    created = change.ok() && !existed;
    return change;
  }
  return apply(managed_, next, [&](std::string& error) {
    const certs::PfxResult stored = store_->put(id, certificate, created);
    if (!stored.ok()) error = stored.message;
    return stored.ok();
  });
}

ManagedState::Change ManagedState::remove_certificate(const std::string& id) {
  certs::CertificateSet next = store_->contents();
  next.erase(id);
  if (backing_ != nullptr) return apply_backed(managed_, next);
  return apply(managed_, next, [&](std::string& error) { return store_->remove(id, &error); });
}

ManagedState::Change ManagedState::set_resources(ManagedResources next) {
  if (backing_ != nullptr) {
    Change change = apply_backed(next, store_->contents());
    if (change.ok()) managed_ = std::move(next);
    return change;
  }
  Change change = apply(next, store_->contents(), [&](std::string& error) {
    return save_resources(file_config_->gateway.state_dir, next, error);
  });
  if (change.ok()) managed_ = std::move(next);
  return change;
}

ManagedState::Change ManagedState::apply_backed(const ManagedResources& managed,
                                                const certs::CertificateSet& next) {
  const certs::CertificateSet uploaded = uploaded_only(next);
  ManagedBacking::Outcome outcome = ManagedBacking::Outcome::kStored;
  Change change = apply(managed, next, [&](std::string& error) {
    outcome = backing_->store(managed, uploaded, error);
    return outcome == ManagedBacking::Outcome::kStored;
  });
  change.stale = outcome == ManagedBacking::Outcome::kStale;
  change.unavailable = outcome == ManagedBacking::Outcome::kUnavailable;
  if (change.ok()) store_->replace_uploaded(uploaded);
  return change;
}

bool ManagedState::refresh(std::string& error) {
  return backing_ == nullptr || backing_->refresh(error);
}

ManagedState::Change ManagedState::replace(ManagedResources managed,
                                           const certs::CertificateSet& uploaded) {
  const certs::CertificateSet next = store_->contents().with_uploaded(uploaded);
  Change change = apply(managed, next, [](std::string&) { return true; });
  if (change.ok()) {
    store_->replace_uploaded(uploaded);
    managed_ = std::move(managed);
  }
  return change;
}

ManagedState::Change ManagedState::apply(const ManagedResources& managed,
                                         const certs::CertificateSet& certificates,
                                         const PersistFn& persist) {
  Change change;
  Composed composed = compose(*file_config_, managed, certificates, current_->generation + 1,
                              change.problems, nullptr, current_.get());
  if (!composed.snapshot) return change;
  if (!persist(change.storage_error)) return change;
  // The config file's listeners are unchanged: the workers keep their sockets.
  composed.snapshot->listener_fds = current_->listener_fds;
  std::set<std::string> before;
  for (const PoolSpec& pool : current_->pools) before.insert(pool.key_text);
  for (const PoolSpec& pool : composed.snapshot->pools) {
    if (!before.contains(pool.key_text)) change.new_pool_keys.push_back(pool.key_text);
  }
  current_ = composed.snapshot;
  change.snapshot = current_;
  publish_(current_);
  return change;
}

}  // namespace ringgate::core
