#include "admin/resources.hpp"

#include <openssl/evp.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "admin/bodies.hpp"
#include "certs/pfx.hpp"
#include "config/entities.hpp"
#include "core/log.hpp"
#include "tls/context.hpp"

namespace ringgate::admin {
namespace {

using nlohmann::json;

// How the effective config's JSON paths of one entity read in a request
// body: "$.apis.<id>.serviceUrl" is "$.properties.serviceUrl" to whoever
// PUT /apis/<id>.
struct FieldMap {
  std::string_view config_field;
  std::string_view body_path;
};

std::string dump(const json& value) {
  // Invalid UTF-8 (a certificate subject may hold any bytes) is replaced, not thrown.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

long long steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

json certificate_entity(const certs::StoredCertificate& stored) {
  const certs::CertificateInfo& info = stored.certificate->info();
  return {{"id", "/certificates/" + stored.id},
          {"name", stored.id},
          {"properties",
           {{"subject", info.subject},
            {"thumbprint", info.thumbprint},
            {"expirationDate", info.expiration_date}}}};
}

json backend_entity(const std::string& id, const config::Backend& backend) {
  json properties = {{"url", backend.url},
                     {"tls",
                      {{"validateCertificateChain", backend.tls.validate_certificate_chain},
                       {"validateCertificateName", backend.tls.validate_certificate_name}}}};
  if (!backend.ca_certificate.empty()) properties["caCertificate"] = backend.ca_certificate;
  return {{"id", "/backends/" + id}, {"name", id}, {"properties", std::move(properties)}};
}

json api_entity(const std::string& id, const config::Api& api) {
  return {{"id", "/apis/" + id},
          {"name", id},
          {"properties", {{"path", api.path}, {"serviceUrl", api.service_url}}}};
}

json policy_entity(const std::string& api_id, const std::string& xml) {
  return {{"id", "/apis/" + api_id + "/policies/policy"},
          {"name", "policy"},
          {"properties", {{"format", "xml"}, {"value", xml}}}};
}

AdminResponse entity_response(int status, const std::string& entity_json) {
  AdminResponse r;
  r.status = status;
  r.body = entity_json;
  r.headers.emplace_back("ETag", entity_tag(entity_json));
  return r;
}

AdminResponse list_response(json values) {
  AdminResponse r;
  const size_t count = values.size();
  r.body = dump({{"value", std::move(values)}, {"count", count}});
  return r;
}

std::optional<std::string> tag_of(const std::optional<json>& entity) {
  if (!entity) return std::nullopt;
  return entity_tag(dump(*entity));
}

AdminResponse not_found(std::string_view what, const std::string& id) {
  return error_response(404, "NotFound", "no " + std::string(what) + " " + config::quote(id));
}

AdminResponse bad_id(const std::string& id) {
  return error_response(400, "ValidationError", "One or more fields contain incorrect values",
                        {{"name", invalid_resource_id_message(id)}});
}

AdminResponse invalid_body(const std::vector<ErrorDetail>& details) {
  return error_response(400, "ValidationError", "One or more fields contain incorrect values",
                        details);
}

AdminResponse managed_by_config_file(std::string_view what, const std::string& id) {
  return error_response(409, "ManagedByConfigFile",
                        std::string(what) + " " + config::quote(id) +
                            " is declared in the config file and is read-only here; change it "
                            "there and reload (SIGHUP)");
}

AdminResponse precondition_failed(const std::optional<std::string>& current) {
  return error_response(412, "PreconditionFailed",
                        current ? "If-Match does not match the current ETag " + *current
                                : std::string("If-Match was sent but there is no such entity"));
}

AdminResponse method_not_allowed(std::string_view path, std::string_view allow) {
  AdminResponse r =
      error_response(405, "MethodNotAllowed", std::string(path) + " answers " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

AdminResponse store_unavailable(const std::string& error) {
  AdminResponse r = error_response(
      503, "StoreUnavailable",
      "the shared configuration store (gateway.configSource) cannot take the change, so nothing "
      "changed; the gateways keep serving what they have: " +
          error);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

bool precondition_holds(const AdminRequest& request, const std::optional<std::string>& tag) {
  return !request.if_match || if_match_allows(*request.if_match, tag);
}

// What PUT /certificates/{id} answers for a PFX that does not load.
AdminResponse certificate_refused(const certs::PfxResult& result) {
  if (result.error == certs::PfxError::kInvalidPassword) {
    return error_response(400, "InvalidPassword", result.message,
                          {{"$.properties.password", result.message}});
  }
  return error_response(400, "ValidationError", result.message,
                        {{"$.properties.data", result.message}});
}

// Whether OpenSSL will present this certificate: a key too weak for the
// security level is refused when a context is built with it.
std::optional<std::string> unusable_as_client_certificate(
    const certs::LoadedCertificate& certificate) {
  tls::ClientProfile profile;
  profile.verify_chain = false;
  profile.verify_name = false;
  profile.key = certificate.key();
  profile.certificate = certificate.certificate();
  profile.chain = certificate.chain();
  std::string error;
  if (tls::make_client_context(profile, error)) return std::nullopt;
  return error;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path.front() != '/') return parts;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

// The entity a change is about, for mapping problem paths into the body.
struct Resources::Route {
  std::string_view collection;  // "apis"
  const std::string& id;
  std::vector<FieldMap> fields;

  std::string target(const std::string& path) const {
    const std::string prefix = "$." + std::string(collection) + "." + id + ".";
    if (path.rfind(prefix, 0) != 0) return path;
    const std::string_view field = std::string_view(path).substr(prefix.size());
    for (const FieldMap& f : fields) {
      if (field == f.config_field) return std::string(f.body_path);
    }
    return path;
  }
};

std::string entity_tag(const std::string& entity_json) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(entity_json.data(), entity_json.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "\"";
  for (unsigned int i = 0; i < 16 && i < length; ++i) {
    tag += kHex[digest[i] >> 4];
    tag += kHex[digest[i] & 0xf];
  }
  return tag + "\"";
}

bool if_match_allows(std::string_view header, const std::optional<std::string>& current_tag) {
  constexpr std::string_view kSpace = " \t";
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const size_t begin = item.find_first_not_of(kSpace);
    if (begin == std::string_view::npos) continue;
    item = item.substr(begin, item.find_last_not_of(kSpace) - begin + 1);
    if (!current_tag) continue;
    if (item == "*" || item == *current_tag) return true;
  }
  return false;
}

Resources::Resources(core::ManagedState& state, LiveFn live, NowFn now)
    : state_(state), live_(std::move(live)), now_(now ? std::move(now) : NowFn(steady_now_ms)) {}

std::optional<AdminResponse> Resources::handle(const AdminRequest& request) {
  std::optional<AdminResponse> response;
  // With a shared store, a change made from a view another gateway has since
  // moved past is refused by the store; the view is refreshed and the
  // request decided again (preconditions, in-use checks and all) on it.
  for (int attempt = 1;; ++attempt) {
    stale_ = false;
    response = route(request);
    if (!stale_ || attempt == kMaxStaleAttempts) break;
    std::string error;
    if (!state_.refresh(error)) {
      response = store_unavailable(error);
      break;
    }
  }
  // Changes are logged by method, path and status: never a body.
  if (response && request.method != "GET") {
    RG_INFO("admin: %.*s %.*s: %d", static_cast<int>(request.method.size()), request.method.data(),
            static_cast<int>(request.path.size()), request.path.data(), response->status);
  }
  return response;
}

std::optional<AdminResponse> Resources::route(const AdminRequest& request) {
  const std::vector<std::string_view> parts = split_path(request.path);
  if (parts.empty() || parts.size() > 4) return std::nullopt;
  for (std::string_view part : parts) {
    if (part.empty()) return std::nullopt;
  }
  const std::string_view method = request.method;
  const std::string id = parts.size() > 1 ? std::string(parts[1]) : std::string();
  const std::string_view collection = parts[0];
  if (collection != "certificates" && collection != "backends" && collection != "apis") {
    return std::nullopt;
  }
  if (parts.size() == 1) {
    if (method != "GET") return method_not_allowed(request.path, "GET, HEAD");
    if (collection == "certificates") return list_certificates();
    if (collection == "backends") return list_backends();
    return list_apis();
  }
  if (parts.size() == 4) {
    if (collection != "apis" || parts[2] != "policies" || parts[3] != "policy") return std::nullopt;
    if (method == "GET") return get_policy(id);
    if (method == "PUT") return put_policy(id, request);
    if (method == "DELETE") return delete_policy(id, request);
    return method_not_allowed(request.path, "GET, HEAD, PUT, DELETE");
  }
  if (parts.size() != 2) return std::nullopt;
  if (method != "GET" && method != "PUT" && method != "DELETE") {
    return method_not_allowed(request.path, "GET, HEAD, PUT, DELETE");
  }
  if (collection == "certificates") {
    if (method == "GET") return get_certificate(id);
    if (method == "PUT") return put_certificate(id, request);
    return delete_certificate(id, request);
  }
  if (collection == "backends") {
    if (method == "GET") return get_backend(id);
    if (method == "PUT") return put_backend(id, request);
    return delete_backend(id, request);
  }
  if (method == "GET") return get_api(id);
  if (method == "PUT") return put_api(id, request);
  return delete_api(id, request);
}

AdminResponse Resources::changed(const core::ManagedState::Change& change, int status,
                                 const std::optional<std::string>& entity_json,
                                 const Route& route) {
  if (change.stale) {
    stale_ = true;
    return error_response(409, "Conflict",
                          "the shared configuration store kept changing under this request; "
                          "nothing changed, try again");
  }
  if (change.unavailable) return store_unavailable(change.storage_error);
  if (!change.storage_error.empty()) {
    return error_response(500, "InternalError",
                          "the change could not be stored under gateway.stateDir, so nothing "
                          "changed: " +
                              change.storage_error);
  }
  if (!change.ok()) {
    std::vector<ErrorDetail> details;
    details.reserve(change.problems.size());
    for (const config::Problem& p : change.problems) {
      details.push_back({route.target(p.path), p.message});
    }
    return error_response(
        400, "ValidationError",
        "the change was refused, so nothing changed: the configuration it makes has " +
            std::to_string(details.size()) + (details.size() == 1 ? " problem" : " problems"),
        details);
  }
  AdminResponse r;
  if (entity_json) r = entity_response(status, *entity_json);
  const config::Config& effective = *change.snapshot->config;
  std::vector<std::string> keys;
  if (effective.gateway.pool.min_idle > 0) keys = change.new_pool_keys;
  const uint64_t generation = change.snapshot->generation;
  r.ready = [live = live_, generation, keys] { return live(generation, keys); };
  r.wait_deadline_ms = now_() + effective.gateway.timeouts.backend_connect_ms;
  return r;
}

// ---- certificates

AdminResponse Resources::list_certificates() const {
  json values = json::array();
  for (const certs::StoredCertificate& c : state_.certificates().list()) {
    values.push_back(certificate_entity(c));
  }
  return list_response(std::move(values));
}

AdminResponse Resources::get_certificate(const std::string& id) const {
  const std::optional<certs::StoredCertificate> stored = state_.certificates().get(id);
  if (!stored) return not_found("certificate", id);
  return entity_response(200, dump(certificate_entity(*stored)));
}

AdminResponse Resources::put_certificate(const std::string& id, const AdminRequest& request) {
  if (!is_valid_resource_id(id)) return bad_id(id);
  if (state_.file_config().certificates.contains(id)) {
    return managed_by_config_file("certificate", id);
  }
  std::optional<json> current;
  if (auto stored = state_.certificates().get(id)) current = certificate_entity(*stored);
  if (!precondition_holds(request, tag_of(current))) return precondition_failed(tag_of(current));

  std::shared_ptr<const certs::LoadedCertificate> certificate;
  {
    CertificateUpload upload;
    std::vector<ErrorDetail> details;
    if (!read_certificate_body(request.body, upload, details)) return invalid_body(details);
    certs::PfxResult loaded = certs::load_pfx(upload.pfx(), upload.password());
    if (!loaded.ok()) return certificate_refused(loaded);
    certificate = std::move(loaded.certificate);
  }  // the PFX and the password are wiped here, before anything is stored
  if (std::optional<std::string> refused = unusable_as_client_certificate(*certificate)) {
    return error_response(400, "ValidationError", *refused, {{"$.properties.data", *refused}});
  }
  bool created = false;
  core::ManagedState::Change change = state_.put_certificate(id, certificate, created);
  const std::string entity = dump(certificate_entity({id, certificate, false}));
  return changed(change, created ? 201 : 200, entity, Route{"certificates", id, {}});
}

AdminResponse Resources::delete_certificate(const std::string& id, const AdminRequest& request) {
  const std::optional<certs::StoredCertificate> stored = state_.certificates().get(id);
  if (!stored) return not_found("certificate", id);
  if (stored->from_config_file) return managed_by_config_file("certificate", id);
  const std::optional<std::string> tag = tag_of(certificate_entity(*stored));
  if (!precondition_holds(request, tag)) return precondition_failed(tag);
  const std::vector<std::string> users =
      core::apis_using_certificate(state_.effective(), state_.certificates().contents(), id);
  if (!users.empty()) {
    std::string names;
    std::vector<ErrorDetail> details;
    for (const std::string& api : users) {
      names += (names.empty() ? "" : ", ") + api;
      details.push_back(
          {"/apis/" + api + "/policies/policy",
           "presents certificate " + config::quote(id) + " (authentication-certificate)"});
    }
    return error_response(409, "CertificateInUse",
                          "certificate " + config::quote(id) + " is used by the policies of: " +
                              names + "; remove it from them first",
                          details);
  }
  return changed(state_.remove_certificate(id), 200, std::nullopt, Route{"certificates", id, {}});
}

// ---- backends

AdminResponse Resources::list_backends() const {
  json values = json::array();
  for (const auto& [id, backend] : state_.effective().backends) {
    values.push_back(backend_entity(id, backend));
  }
  return list_response(std::move(values));
}

AdminResponse Resources::get_backend(const std::string& id) const {
  const auto& backends = state_.effective().backends;
  auto it = backends.find(id);
  if (it == backends.end()) return not_found("backend", id);
  return entity_response(200, dump(backend_entity(id, it->second)));
}

AdminResponse Resources::put_backend(const std::string& id, const AdminRequest& request) {
  if (!is_valid_resource_id(id)) return bad_id(id);
  if (state_.file_config().backends.contains(id)) return managed_by_config_file("backend", id);
  core::ManagedResources next = state_.managed();
  auto existing = next.backends.find(id);
  std::optional<json> current;
  if (existing != next.backends.end()) current = backend_entity(id, existing->second);
  if (!precondition_holds(request, tag_of(current))) return precondition_failed(tag_of(current));
  std::vector<ErrorDetail> details;
  std::optional<config::Backend> backend = read_backend_body(request.body, details);
  if (!backend) return invalid_body(details);
  const bool created = existing == next.backends.end();
  const std::string entity = dump(backend_entity(id, *backend));
  next.backends[id] = std::move(*backend);
  return changed(
      state_.set_resources(std::move(next)), created ? 201 : 200, entity,
      Route{"backends",
            id,
            {{"url", "$.properties.url"}, {"caCertificate", "$.properties.caCertificate"}}});
}

AdminResponse Resources::delete_backend(const std::string& id, const AdminRequest& request) {
  if (state_.file_config().backends.contains(id)) return managed_by_config_file("backend", id);
  core::ManagedResources next = state_.managed();
  auto existing = next.backends.find(id);
  if (existing == next.backends.end()) return not_found("backend", id);
  const std::optional<std::string> tag = tag_of(backend_entity(id, existing->second));
  if (!precondition_holds(request, tag)) return precondition_failed(tag);
  next.backends.erase(existing);
  return changed(state_.set_resources(std::move(next)), 200, std::nullopt,
                 Route{"backends", id, {}});
}

// ---- APIs

AdminResponse Resources::list_apis() const {
  json values = json::array();
  for (const auto& [id, api] : state_.effective().apis) values.push_back(api_entity(id, api));
  return list_response(std::move(values));
}

AdminResponse Resources::get_api(const std::string& id) const {
  const auto& apis = state_.effective().apis;
  auto it = apis.find(id);
  if (it == apis.end()) return not_found("API", id);
  return entity_response(200, dump(api_entity(id, it->second)));
}

AdminResponse Resources::put_api(const std::string& id, const AdminRequest& request) {
  if (!is_valid_resource_id(id)) return bad_id(id);
  if (state_.file_config().apis.contains(id)) return managed_by_config_file("API", id);
  core::ManagedResources next = state_.managed();
  auto existing = next.apis.find(id);
  std::optional<json> current;
  if (existing != next.apis.end()) current = api_entity(id, existing->second);
  if (!precondition_holds(request, tag_of(current))) return precondition_failed(tag_of(current));
  std::vector<ErrorDetail> details;
  std::optional<config::Api> api = read_api_body(request.body, details);
  if (!api) return invalid_body(details);
  const bool created = existing == next.apis.end();
  // The policy is an entity of its own: replacing the API keeps it.
  if (!created) api->policy = existing->second.policy;
  const std::string entity = dump(api_entity(id, *api));
  next.apis[id] = std::move(*api);
  return changed(
      state_.set_resources(std::move(next)), created ? 201 : 200, entity,
      Route{
          "apis", id, {{"path", "$.properties.path"}, {"serviceUrl", "$.properties.serviceUrl"}}});
}

AdminResponse Resources::delete_api(const std::string& id, const AdminRequest& request) {
  if (state_.file_config().apis.contains(id)) return managed_by_config_file("API", id);
  core::ManagedResources next = state_.managed();
  auto existing = next.apis.find(id);
  if (existing == next.apis.end()) return not_found("API", id);
  const std::optional<std::string> tag = tag_of(api_entity(id, existing->second));
  if (!precondition_holds(request, tag)) return precondition_failed(tag);
  next.apis.erase(existing);
  return changed(state_.set_resources(std::move(next)), 200, std::nullopt, Route{"apis", id, {}});
}

// ---- policies

AdminResponse Resources::get_policy(const std::string& id) const {
  const auto& apis = state_.effective().apis;
  auto it = apis.find(id);
  if (it == apis.end()) return not_found("API", id);
  if (it->second.policy.empty()) return not_found("policy for API", id);
  return entity_response(200, dump(policy_entity(id, it->second.policy)));
}

AdminResponse Resources::put_policy(const std::string& id, const AdminRequest& request) {
  if (state_.file_config().apis.contains(id)) return managed_by_config_file("API", id);
  core::ManagedResources next = state_.managed();
  auto api = next.apis.find(id);
  if (api == next.apis.end()) return not_found("API", id);
  std::optional<json> current;
  if (!api->second.policy.empty()) current = policy_entity(id, api->second.policy);
  if (!precondition_holds(request, tag_of(current))) return precondition_failed(tag_of(current));
  std::vector<ErrorDetail> details;
  std::optional<std::string> xml = read_policy_body(request.body, details);
  if (!xml) return invalid_body(details);
  const bool created = api->second.policy.empty();
  const std::string entity = dump(policy_entity(id, *xml));
  api->second.policy = std::move(*xml);
  return changed(state_.set_resources(std::move(next)), created ? 201 : 200, entity,
                 Route{"apis", id, {{"policy", "$.properties.value"}}});
}

AdminResponse Resources::delete_policy(const std::string& id, const AdminRequest& request) {
  if (state_.file_config().apis.contains(id)) return managed_by_config_file("API", id);
  core::ManagedResources next = state_.managed();
  auto api = next.apis.find(id);
  if (api == next.apis.end()) return not_found("API", id);
  if (api->second.policy.empty()) return not_found("policy for API", id);
  const std::optional<std::string> tag = tag_of(policy_entity(id, api->second.policy));
  if (!precondition_holds(request, tag)) return precondition_failed(tag);
  api->second.policy.clear();
  return changed(state_.set_resources(std::move(next)), 200, std::nullopt, Route{"apis", id, {}});
}

}  // namespace ringgate::admin
