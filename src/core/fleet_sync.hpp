// A gateway of a fleet (DESIGN §13): gateway.configSource etcd makes an etcd
// cluster the store of what the admin API manages, shared by every gateway.
//
// Each value under the prefix is the fleet_codec plaintext sealed with the
// key file's current key (AES-256-GCM, the relative key as associated data),
// so nothing secret is readable from etcd without the key file. Besides the
// resources the prefix holds one plain key, `serial`, which every write
// replaces in the same transaction that compares its mod_revision with the
// one this gateway last saw: a write decided on a view another gateway has
// since changed (a delete checked for users just before a reference to the
// certificate was added elsewhere) is refused by etcd, and the admin request
// is decided again on a fresh read.
//
// Every gateway watches the prefix from the revision it last applied and
// turns what arrives into a snapshot through ManagedState::replace(), the
// path admin changes take. A compacted revision means a full read, then the
// watch again. What was last applied is cached (sealed, as etcd holds it) in
// stateDir/fleet-cache.json, so a gateway that starts while etcd is down
// serves it. etcd is never on the data path: while it cannot be reached the
// workers keep the last snapshot, admin writes answer 503, /healthz says
// degraded. All of this runs on the control thread; etcd requests block it
// for at most the client's timeouts.
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/managed_state.hpp"
#include "fleet/etcd_client.hpp"
#include "fleet/etcd_watch.hpp"
#include "fleet/sealed.hpp"
#include "ringgate/config.hpp"

namespace ringgate::core {

// The cache's file name in stateDir.
inline constexpr std::string_view kFleetCacheFileName = "fleet-cache.json";

// What the shared store held when the config was (re)loaded.
struct FleetStart {
  std::map<std::string, fleet::KeyValue> kvs;  // by full key, values as stored (sealed)
  int64_t revision = 0;                        // etcd revision they are as of (0: unknown)
  bool from_cache = false;                     // etcd could not be read: stateDir's cache
  std::string error;                           // why etcd could not be read
};

// For prepare(): reads the prefix from etcd (unless `offline`), or else the
// cache, and decodes it into `managed` and `uploaded`. `file_certificates`
// holds the config file's certificates (gateway.configSource.certificateId
// names one). A value that does not open or decode is a problem at its key;
// so is an unreachable cluster when `dry_run` and not `offline`
// (--check-config). False when there was any problem.
bool load_fleet_start(const config::Gateway& gateway,
                      const certs::CertificateSet& file_certificates, bool dry_run, bool offline,
                      FleetStart& start, ManagedResources& managed, certs::CertificateSet& uploaded,
                      std::vector<config::Problem>& problems);

class FleetSync final : public ManagedBacking {
 public:
  // `state` must outlive this object; it is given this object as its backing.
  FleetSync(const config::Gateway& gateway, const certs::CertificateSet& file_certificates,
            fleet::KeyRing keys, ManagedState& state);
  ~FleetSync() override;

  // Takes over what prepare() read (which `state` now runs) and starts
  // watching from the revision after it.
  void adopt(FleetStart start);

  // The control thread's poll loop: the watch's descriptors, the time until
  // something is due, a ready descriptor, and the work of each turn (events
  // that arrived, reconnecting with back-off).
  void collect(std::vector<pollfd>& fds) const;
  int next_timeout_ms() const;
  bool owns(int fd) const;
  void handle(const pollfd& ready);
  void tick();

  // How often a running watch is checked against etcd (a linearizable read
  // of `serial`): a member that is frozen or cut off from its cluster keeps
  // a watch open that delivers nothing, and keepalives do not notice.
  static constexpr std::chrono::milliseconds kWatchCheckInterval{3000};

  Outcome store(const ManagedResources& managed, const certs::CertificateSet& uploaded,
                std::string& error) override;
  bool refresh(std::string& error) override;

  // "" while the watch runs and the last revision applied; otherwise why not.
  std::string degraded_reason() const;
  // ringgate_config_sync_* in Prometheus text.
  std::string render_metrics() const;

 private:
  using Clock = std::chrono::steady_clock;

  // Applies the mirror to `state_` if it changed since the last apply.
  bool apply_mirror(std::string& error);
  void save_cache();
  void schedule_reconnect(const std::string& reason);
  void reconnect();
  void take_watch_batch();
  void check_watch();
  std::shared_ptr<const certs::LoadedCertificate> decode_certificate(const std::string& key,
                                                                     const std::string& value,
                                                                     std::string& error);

  ManagedState& state_;
  fleet::KeyRing keys_;
  std::string prefix_;
  std::string serial_key_;
  std::string state_dir_;
  fleet::EtcdClient client_;
  fleet::EtcdWatch watch_;

  std::map<std::string, fleet::KeyValue> mirror_;  // the prefix as etcd holds it
  int64_t revision_ = 0;                           // the revision the mirror is as of
  int64_t applied_revision_ = 0;                   // the revision `state_` runs
  int64_t full_read_revision_ = 0;                 // of the last full read
  bool mirror_dirty_ = false;                      // changed since last applied
  // Decoded certificates by key, with the sealed value they came from.
  std::map<std::string, std::pair<std::string, std::shared_ptr<const certs::LoadedCertificate>>>
      certificates_;

  bool connected_ = false;       // the watch is established
  bool need_full_read_ = false;  // the watch's revision was compacted, or never read
  std::string last_error_;
  std::string apply_error_;
  Clock::time_point reconnect_at_{};
  bool reconnect_pending_ = false;
  std::chrono::milliseconds backoff_{0};
  Clock::time_point last_in_sync_;
  Clock::time_point next_watch_check_{};
  // A write (serial's mod_revision) etcd holds that the watch had not
  // delivered at the last check; 0 when none.
  int64_t undelivered_serial_ = 0;
  uint64_t errors_total_ = 0;
};

}  // namespace ringgate::core
