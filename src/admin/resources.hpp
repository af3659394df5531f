// The management resources behind the admin listener (DESIGN §5):
// certificates, backends, APIs and their policies, shaped like Azure API
// Management's.
//
//   GET    /certificates                  {"value": [...], "count": N}
//   GET    /certificates/{id}             the entity, with its ETag
//   PUT    /certificates/{id}             {"properties": {"data", "password"}}: 201 / 200
//   DELETE /certificates/{id}             200; 409 CertificateInUse naming the APIs
//   GET    /backends, /backends/{id}; PUT, DELETE /backends/{id}
//   GET    /apis, /apis/{id};         PUT, DELETE /apis/{id}
//   GET, PUT, DELETE /apis/{id}/policies/policy
//
// Every change goes through core::ManagedState: composed with the config
// file and checked as a config file is (400 with every problem in details,
// and nothing changes), persisted under stateDir, then published to the
// workers. Its answer is held (a deferred AdminResponse) until every worker
// runs the new snapshot and holds an idle connection for each pool key the
// change added, or backendConnectMs has passed, so the next request is served
// by what the answer describes. Entities declared in the config file are
// read-only here (409 ManagedByConfigFile). Every entity answer carries an
// ETag (a quoted hash of its JSON, the same across restarts); an If-Match
// that does not match is answered 412 PreconditionFailed before anything
// changes.
//
// With a shared store (gateway.configSource etcd) a change is stored there
// first: 503 StoreUnavailable when it cannot be reached, and a change decided
// on a view another gateway has moved past is decided again on a fresh one.
//
// An uploaded PFX and its password are never returned, logged or kept: the
// key is taken out of the PFX and every buffer that held either is wiped.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "admin/resource_api.hpp"
#include "core/managed_state.hpp"

namespace ringgate::admin {

class Resources final : public ResourceApi {
 public:
  // Whether a published change is live: every worker runs snapshot
  // `generation` (or a later one) and holds an idle connection for each of
  // `pool_keys`. Called on the control thread between loop turns.
  using LiveFn =
      std::function<bool(uint64_t generation, const std::vector<std::string>& pool_keys)>;
  // Steady-clock milliseconds, the clock AdminResponse::wait_deadline_ms is on.
  using NowFn = std::function<long long()>;

  // `state` must outlive this object and every response it handed out.
  Resources(core::ManagedState& state, LiveFn live, NowFn now = {});

  std::optional<AdminResponse> handle(const AdminRequest& request) override;

 private:
  struct Route;

  std::optional<AdminResponse> route(const AdminRequest& request);
  AdminResponse list_certificates() const;
  AdminResponse get_certificate(const std::string& id) const;
  AdminResponse put_certificate(const std::string& id, const AdminRequest& request);
  AdminResponse delete_certificate(const std::string& id, const AdminRequest& request);

  AdminResponse list_backends() const;
  AdminResponse get_backend(const std::string& id) const;
  AdminResponse put_backend(const std::string& id, const AdminRequest& request);
  AdminResponse delete_backend(const std::string& id, const AdminRequest& request);

  AdminResponse list_apis() const;
  AdminResponse get_api(const std::string& id) const;
  AdminResponse put_api(const std::string& id, const AdminRequest& request);
  AdminResponse delete_api(const std::string& id, const AdminRequest& request);

  AdminResponse get_policy(const std::string& id) const;
  AdminResponse put_policy(const std::string& id, const AdminRequest& request);
  AdminResponse delete_policy(const std::string& id, const AdminRequest& request);

  // The answer to a change ManagedState accepted or refused. `entity` is the
  // body of a successful answer (null: none) and `status` its code;
  // `route` maps the effective config's paths of problems with the entity
  // being changed to paths in the request body.
  AdminResponse changed(const core::ManagedState::Change& change, int status,
                        const std::optional<std::string>& entity_json, const Route& route);

  // How often a change refused as stale (ManagedState::Change::stale) is
  // decided again on a refreshed view before answering 409.
  static constexpr int kMaxStaleAttempts = 8;

  core::ManagedState& state_;
  bool stale_ = false;  // the last change routed was refused as stale
  LiveFn live_;
  NowFn now_;
};

// The ETag of an entity whose JSON is `entity_json`: the first 128 bits of
// its SHA-256 in hex, quoted.
std::string entity_tag(const std::string& entity_json);

// Whether an If-Match header value lets a change go ahead: "*" when the
// entity exists, or a comma-separated list holding its current tag (strong
// comparison, RFC 9110 §13.1.1). No current entity matches nothing but an
// absent header.
bool if_match_allows(std::string_view header, const std::optional<std::string>& current_tag);

}  // namespace ringgate::admin
