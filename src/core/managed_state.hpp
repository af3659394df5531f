// What the admin API manages on top of the config file (DESIGN §5, §6):
// backends, APIs and their policies made through the API and kept under
// stateDir, the certificate store, and the one way from all of them to a
// snapshot. Start, --check-config, SIGHUP and every admin change go through
// compose(), so a change is checked exactly as a config file would be.
// Control thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "certs/store.hpp"
#include "core/snapshot.hpp"
#include "ringgate/config.hpp"

namespace ringgate::core {

struct FleetStart;

// Backends and APIs made through the admin API. An API's policy is its
// `policy` ("" = none).
struct ManagedResources {
  std::map<std::string, config::Backend> backends;
  std::map<std::string, config::Api> apis;
};

// The JSON of one entity's properties as the admin API takes them (compact,
// keys sorted): what resources.json and a shared store hold per entity.
std::string backend_properties_json(const config::Backend& backend);
std::string api_properties_json(const config::Api& api);

// The certificates in `all` that were made through the admin API (not the
// config file's).
certs::CertificateSet uploaded_only(const certs::CertificateSet& all);

// The file under stateDir that holds them.
inline constexpr std::string_view kResourcesFileName = "resources.json";

// The document that file holds: {"backends": {id: properties}, "apis": {id:
// properties}, "policies": {id: "<policies>…"}}, each entity's properties
// as the admin API takes them; ids sorted, so equal resources give equal
// bytes.
std::string resources_document(const ManagedResources& resources);

// Reads `resources_document()` text. Every problem (unknown key, wrong type,
// bad URL, a policy for an API that does not exist) is appended with `where`
// before its JSON path; false when there was any.
bool parse_resources_document(std::string_view text, const std::string& where,
                              ManagedResources& resources, std::vector<config::Problem>& problems);

// Reads <state_dir>/resources.json into `resources`; a file that does not
// exist means none. A symlink in its place is refused (ringgate writes this
// file itself). Problems name the file; false when there was any.
bool load_resources(const std::string& state_dir, ManagedResources& resources,
                    std::vector<config::Problem>& problems);

// Deletes what a crash in the middle of save_resources() left behind: its
// temp files in `state_dir` (the file itself is the old or the new one).
void remove_unfinished_writes(const std::string& state_dir);

// Replaces <state_dir>/resources.json atomically (temp file, fsync, rename,
// fsync the directory), mode 0600: a policy may hold a Basic password. A
// crash at any moment leaves the old or the new file. False with `error`
// naming the step that failed; the old file is then untouched.
bool save_resources(const std::string& state_dir, const ManagedResources& resources,
                    std::string& error);

// The effective config: the config file's entities plus the managed ones.
// A managed entity whose id the config file declares too is left out (the
// file wins, as it does for certificates) and its "backends/<id>" or
// "apis/<id>" appended to `shadowed` when given. A managed backend url or
// API path that another entity already has is a problem at the managed
// entity's path ("$.apis.<id>.path").
std::shared_ptr<const config::Config> merge(const config::Config& file,
                                            const ManagedResources& managed,
                                            std::vector<config::Problem>& problems,
                                            std::vector<std::string>* shadowed = nullptr);

struct Composed {
  std::shared_ptr<const config::Config> config;  // the effective config
  std::shared_ptr<Snapshot> snapshot;            // listener_fds not filled in
};

// merge(), then build_snapshot() over the result: the one way from the
// inputs to a snapshot. Both null when any problem was appended. `previous`
// (the live snapshot, for an admin change) lends the TLS contexts of the
// pool keys it shares with the new one.
Composed compose(const config::Config& file, const ManagedResources& managed,
                 const certs::CertificateSet& certificates, uint64_t generation,
                 std::vector<config::Problem>& problems,
                 std::vector<std::string>* shadowed = nullptr, const Snapshot* previous = nullptr);

// The APIs, sorted by id, whose policy presents certificate `id`: by
// certificate-id, or by its thumbprint unless another certificate in
// `certificates` has the same thumbprint (the reference then still holds).
std::vector<std::string> apis_using_certificate(const config::Config& effective,
                                                const certs::CertificateSet& certificates,
                                                const std::string& id);

// Everything --check-config and a (re)load do before serving: read the
// config file, load every certificate (the file's and stateDir's), read the
// managed resources, compose. `snapshot` is null when there was a problem.
// Unless `dry_run`, unfinished writes in stateDir are deleted first.
// With gateway.configSource etcd the managed resources and uploaded
// certificates come from etcd (or the cache of it in stateDir), not from
// stateDir's files; `fleet` then holds what was read, for FleetSync.
struct Prepared {
  std::shared_ptr<const config::Config> file_config;
  std::unique_ptr<certs::CertificateStore> store;
  ManagedResources managed;
  std::shared_ptr<const config::Config> config;  // the effective config
  std::shared_ptr<Snapshot> snapshot;            // listener_fds not filled in yet
  std::shared_ptr<FleetStart> fleet;             // etcd: what it (or the cache) held
};
// `dry_run`: create nothing on disk (no stateDir). `offline`: do not ask
// etcd (--check-config --offline).
Prepared prepare(const std::string& config_path, uint64_t generation, bool dry_run,
                 std::vector<config::Problem>& problems, bool offline = false);

// Where accepted changes are kept when they are shared with other gateways
// (gateway.configSource etcd) instead of stateDir's files. Control thread.
class ManagedBacking {
 public:
  virtual ~ManagedBacking() = default;
  enum class Outcome {
    kStored,       // the store now holds the given state
    kStale,        // someone else changed the store since this gateway last read it
    kUnavailable,  // the store cannot be reached or refused; `error` says why
  };
  // Stores `managed` and `uploaded` (the certificates made through the admin
  // API) in place of what the store holds, if it still holds what this
  // gateway last applied.
  virtual Outcome store(const ManagedResources& managed, const certs::CertificateSet& uploaded,
                        std::string& error) = 0;
  // Reads what the store holds now and applies it (ManagedState::replace).
  // False, with `error`, when it cannot be reached.
  virtual bool refresh(std::string& error) = 0;
};

// The live management state. A change is tried on copies, composed, then
// persisted, and only then made current and handed to `publish`; a change
// with any problem, or one that cannot be stored, changes nothing.
class ManagedState {
 public:
  // Makes an accepted snapshot live on the workers. Called with the
  // snapshot already numbered (its generation one past the current one) and
  // its listener sockets carried over from the current one.
  using PublishFn = std::function<void(const std::shared_ptr<const Snapshot>&)>;

  explicit ManagedState(PublishFn publish);

  // Takes over a successful prepare() whose snapshot the workers already
  // run (listener_fds attached).
  void reset(Prepared prepared);

  const config::Config& file_config() const { return *file_config_; }
  const config::Config& effective() const { return *current_->config; }
  const ManagedResources& managed() const { return managed_; }
  const certs::CertificateStore& certificates() const { return *store_; }
  const std::shared_ptr<const Snapshot>& current() const { return current_; }

  struct Change {
    std::vector<config::Problem> problems;     // the effective config was refused
    std::string storage_error;                 // it could not be persisted
    std::shared_ptr<const Snapshot> snapshot;  // accepted: now live
    // Pool keys of the new snapshot that the previous one did not have.
    std::vector<std::string> new_pool_keys;
    // With a backing: the store moved on since this gateway read it
    // (refresh, then try again), or could not be reached (storage_error).
    bool stale = false;
    bool unavailable = false;
    bool ok() const { return snapshot != nullptr; }
  };

  // Keeps changes in `backing` (not owned; null: stateDir's files) from now on.
  void set_backing(ManagedBacking* backing) { backing_ = backing; }
  bool has_backing() const { return backing_ != nullptr; }
  // ManagedBacking::refresh(); true without a backing.
  bool refresh(std::string& error);

  // Makes `managed` and `uploaded` (certificates made through the admin API)
  // current without storing them: they come from the shared store. A config
  // file certificate of the same id wins over an uploaded one.
  Change replace(ManagedResources managed, const certs::CertificateSet& uploaded);

  // Adds or replaces uploaded certificate `id` (the caller has checked that
  // the config file does not declare it). `created` says which.
  Change put_certificate(const std::string& id,
                         std::shared_ptr<const certs::LoadedCertificate> certificate,
                         bool& created);
  Change remove_certificate(const std::string& id);
  // Replaces the managed backends and APIs with `next`.
  Change set_resources(ManagedResources next);

 private:
  using PersistFn = std::function<bool(std::string& error)>;
  Change apply(const ManagedResources& managed, const certs::CertificateSet& certificates,
               const PersistFn& persist);
  // Applies a change to the uploaded certificates through the backing.
  Change apply_backed(const ManagedResources& managed, const certs::CertificateSet& next);

  PublishFn publish_;
  ManagedBacking* backing_ = nullptr;
  std::shared_ptr<const config::Config> file_config_;
  std::unique_ptr<certs::CertificateStore> store_;
  ManagedResources managed_;
  std::shared_ptr<const Snapshot> current_;
};

}  // namespace ringgate::core
