#include "core/fleet_sync.hpp"

#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <utility>

#include "certs/durable_file.hpp"
#include "certs/pem.hpp"
#include "config/json_reader.hpp"
#include "core/fleet_codec.hpp"
#include "core/log.hpp"
#include "files/read_file.hpp"

namespace ringgate::core {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kSerialName = "serial";
constexpr int kCacheVersion = 1;
constexpr size_t kMaxCacheBytes = 256 * 1024 * 1024;
constexpr milliseconds kFirstBackoff{250};
constexpr milliseconds kMaxBackoff{5000};
constexpr std::string_view kKeyFilePath = "$.gateway.configSource.encryptionKeyFile";

std::string cache_path(const std::string& state_dir) {
  return state_dir + "/" + std::string(kFleetCacheFileName);
}

fleet::EtcdOptions etcd_options(const config::ConfigSource& source,
                                const certs::CertificateSet& file_certificates) {
  fleet::EtcdOptions options;
  options.endpoints = source.endpoints;
  options.ca_file = source.ca_file;
  if (!source.certificate_id.empty()) {
    if (auto certificate = file_certificates.get(source.certificate_id)) {
      std::string pem;
      if (certs::encode_pem(*certificate->certificate, pem)) {
        // The bundle holds the key, then the certificate and chain; each
        // reader takes the blocks it wants.
        options.client_certificate_pem = pem;
        options.client_key_pem = pem;
      }
      OPENSSL_cleanse(pem.data(), pem.size());
    }
  }
  return options;
}

std::optional<fleet::KeyRing> load_keys(const config::ConfigSource& source,
                                        std::vector<config::Problem>& problems) {
  std::vector<std::string> messages;
  std::optional<fleet::KeyRing> keys = fleet::KeyRing::load(source.encryption_key_file, messages);
  for (std::string& m : messages) problems.push_back({std::string(kKeyFilePath), std::move(m)});
  return keys;
}

// The relative key of `key`, or "" when it is outside `prefix`.
std::string relative_key(const std::string& key, const std::string& prefix) {
  if (key.size() <= prefix.size() || key.compare(0, prefix.size(), prefix) != 0) return "";
  return key.substr(prefix.size());
}

// Opens every resource value of `kvs` into `entries`; a value that does not
// open is a problem at its key.
void open_values(const std::map<std::string, fleet::KeyValue>& kvs, const std::string& prefix,
                 const fleet::KeyRing& keys, FleetEntries& entries,
                 std::vector<config::Problem>& problems) {
  for (const auto& [key, kv] : kvs) {
    const std::string relative = relative_key(key, prefix);
    FleetKey kind{};
    std::string id;
    if (!parse_fleet_key(relative, kind, id)) continue;
    fleet::SealResult opened = keys.open(kv.value, relative);
    if (opened.ok()) {
      entries[relative] = std::move(opened.text);
    } else {
      problems.push_back({"etcd " + key, opened.reason});
    }
  }
}

bool read_cache(const std::string& state_dir, const std::string& prefix, FleetStart& start,
                std::string& error) {
  const std::string path = cache_path(state_dir);
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0 && errno == ENOENT) {
    error = "no cache in " + state_dir;
    return false;
  }
  const files::FileResult file =
      files::read_regular_file(path, kMaxCacheBytes, files::Symlinks::kRefuse);
  if (!file.ok()) {
    error = file.message();
    return false;
  }
  const nlohmann::json document = nlohmann::json::parse(file.contents, nullptr, false);
  if (!document.is_object() || document.value("version", 0) != kCacheVersion ||
      !document.contains("kvs") || !document["kvs"].is_array()) {
    error = path + ": not a ringgate fleet cache";
    return false;
  }
  if (document.value("prefix", std::string()) != prefix) {
    error = path + ": holds prefix " + config::quote(document.value("prefix", std::string())) +
            ", not " + config::quote(prefix);
    return false;
  }
  start.kvs.clear();
  for (const nlohmann::json& entry : document["kvs"]) {
    if (!entry.is_object() || !entry.contains("key") || !entry["key"].is_string() ||
        !entry.contains("value") || !entry["value"].is_string()) {
      error = path + ": an entry is not {key, value, modRevision}";
      return false;
    }
    fleet::KeyValue kv;
    kv.key = entry["key"].get<std::string>();
    kv.value = entry["value"].get<std::string>();
    kv.mod_revision = entry.value("modRevision", int64_t{0});
    start.kvs[kv.key] = std::move(kv);
  }
  start.revision = document.value("revision", int64_t{0});
  return true;
}

}  // namespace

bool load_fleet_start(const config::Gateway& gateway,
                      const certs::CertificateSet& file_certificates, bool dry_run, bool offline,
                      FleetStart& start, ManagedResources& managed, certs::CertificateSet& uploaded,
                      std::vector<config::Problem>& problems) {
  const config::ConfigSource& source = gateway.config_source;
  const size_t before = problems.size();
  std::optional<fleet::KeyRing> keys = load_keys(source, problems);
  if (!keys) return false;
  if (!offline) {
    fleet::EtcdClient client(etcd_options(source, file_certificates));
    fleet::RangeResult range = client.range_prefix(source.prefix);
    if (range.ok()) {
      start.revision = range.revision;
      for (fleet::KeyValue& kv : range.kvs) start.kvs[kv.key] = std::move(kv);
    } else if (dry_run) {
      problems.push_back({"$.gateway.configSource.endpoints", "etcd: " + range.error});
      return false;
    } else {
      start.error = range.error;
    }
  }
  if (offline || !start.error.empty()) {
    std::string error;
    start.from_cache = read_cache(gateway.state_dir, source.prefix, start, error);
    if (!start.from_cache && !offline) {
      RG_WARN(
          "etcd cannot be read (%s) and there is no usable cache (%s): starting without "
          "managed resources until etcd answers",
          start.error.c_str(), error.c_str());
    }
  }
  FleetEntries entries;
  open_values(start.kvs, source.prefix, *keys, entries, problems);
  if (problems.size() == before) {
    decode_fleet_state(entries, decode_certificate_pem, managed, uploaded, problems);
  }
  wipe_entries(entries);
  return problems.size() == before;
}

FleetSync::FleetSync(const config::Gateway& gateway, const certs::CertificateSet& file_certificates,
                     fleet::KeyRing keys, ManagedState& state)
    : state_(state),
      keys_(std::move(keys)),
      prefix_(gateway.config_source.prefix),
      serial_key_(prefix_ + std::string(kSerialName)),
      state_dir_(gateway.state_dir),
      client_(etcd_options(gateway.config_source, file_certificates)),
      watch_(client_.options()),
      last_in_sync_(Clock::now()) {
  state_.set_backing(this);
}

FleetSync::~FleetSync() { state_.set_backing(nullptr); }

void FleetSync::adopt(FleetStart start) {
  mirror_ = std::move(start.kvs);
  revision_ = start.revision;
  full_read_revision_ = start.from_cache ? 0 : start.revision;
  applied_revision_ = start.revision;
  mirror_dirty_ = false;
  certificates_.clear();
  need_full_read_ = revision_ == 0;
  if (!start.from_cache && start.error.empty()) {
    save_cache();
    last_in_sync_ = Clock::now();
  } else {
    last_error_ = start.error;
  }
  watch_.stop();
  connected_ = false;
  backoff_ = milliseconds(0);
  reconnect();
}

void FleetSync::collect(std::vector<pollfd>& fds) const { watch_.collect(fds); }

int FleetSync::next_timeout_ms() const {
  int timeout = watch_.next_timeout_ms();  // -1: nothing due
  const auto until = [&timeout](Clock::time_point at) {
    const auto left = std::chrono::duration_cast<milliseconds>(at - Clock::now()).count();
    const int due = static_cast<int>(std::max<int64_t>(0, left));
    timeout = timeout < 0 ? due : std::min(timeout, due);
  };
  if (reconnect_pending_) until(reconnect_at_);
  if (connected_) until(next_watch_check_);
  return timeout;
}

bool FleetSync::owns(int fd) const { return watch_.owns(fd); }

void FleetSync::handle(const pollfd& ready) { watch_.handle(ready); }

void FleetSync::tick() {
  watch_.on_timeout();
  take_watch_batch();
  if (connected_ && Clock::now() >= next_watch_check_) check_watch();
  if (reconnect_pending_ && Clock::now() >= reconnect_at_) {
    reconnect_pending_ = false;
    reconnect();
  }
}

void FleetSync::take_watch_batch() {
  fleet::EtcdWatch::Batch batch = watch_.take();
  if (batch.established) {
    if (!connected_)
      RG_INFO("etcd: watching %s from revision %lld", prefix_.c_str(),
              static_cast<long long>(revision_ + 1));
    connected_ = true;
    backoff_ = milliseconds(0);
    next_watch_check_ = Clock::now() + kWatchCheckInterval;
    undelivered_serial_ = 0;
  }
  for (fleet::EtcdWatch::Event& event : batch.events) {
    // A full read already holds everything up to its revision.
    if (event.kv.mod_revision <= full_read_revision_) continue;
    auto it = mirror_.find(event.kv.key);
    if (event.type == fleet::EtcdWatch::Event::Type::kPut) {
      if (it != mirror_.end() && it->second.mod_revision >= event.kv.mod_revision) continue;
      mirror_[event.kv.key] = std::move(event.kv);
      mirror_dirty_ = true;
    } else if (it != mirror_.end() && it->second.mod_revision <= event.kv.mod_revision) {
      mirror_.erase(it);
      mirror_dirty_ = true;
    }
  }
  revision_ = std::max(revision_, batch.revision);
  if (connected_ && batch.ended.empty()) last_in_sync_ = Clock::now();
  if (mirror_dirty_) {
    std::string error;
    apply_mirror(error);
  }
  if (batch.compact_revision > 0) {
    RG_WARN("etcd: revision %lld was compacted (oldest kept %lld): reading %s in full",
            static_cast<long long>(revision_ + 1), static_cast<long long>(batch.compact_revision),
            prefix_.c_str());
    need_full_read_ = true;
    watch_.stop();
    connected_ = false;
    reconnect();
    return;
  }
  if (!batch.ended.empty()) {
    if (connected_) last_in_sync_ = Clock::now();
    schedule_reconnect(batch.ended);
  }
}

void FleetSync::check_watch() {
  next_watch_check_ = Clock::now() + kWatchCheckInterval;
  const fleet::RangeResult serial = client_.range(serial_key_);
  if (!serial.ok()) {
    ++errors_total_;  // the watch may still be fine; the next check tells
    return;
  }
  const int64_t in_etcd = serial.kvs.empty() ? 0 : serial.kvs.front().mod_revision;
  auto seen = mirror_.find(serial_key_);
  const int64_t delivered = seen == mirror_.end() ? 0 : seen->second.mod_revision;
  if (in_etcd <= delivered) {
    undelivered_serial_ = 0;
    last_in_sync_ = Clock::now();
    return;
  }
  // One interval of grace: the write may simply be on its way. A watch that
  // delivered what was missing last time is fine, even if more is now.
  if (undelivered_serial_ == 0 || delivered >= undelivered_serial_) {
    undelivered_serial_ = in_etcd;
    return;
  }
  const std::string reason = "the watch on " + watch_.endpoint() + " has not delivered revision " +
                             std::to_string(undelivered_serial_) +
                             " (member frozen or cut off from its cluster?)";
  undelivered_serial_ = 0;
  watch_.stop();
  schedule_reconnect(reason);
}

void FleetSync::schedule_reconnect(const std::string& reason) {
  if (connected_ || last_error_ != reason) {
    RG_WARN("etcd: %s; serving revision %lld meanwhile, retrying", reason.c_str(),
            static_cast<long long>(applied_revision_));
  }
  connected_ = false;
  last_error_ = reason;
  ++errors_total_;
  backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
  reconnect_at_ = Clock::now() + backoff_;
  reconnect_pending_ = true;
}

void FleetSync::reconnect() {
  if (need_full_read_) {
    std::string error;
    refresh(error);  // starts the watch, or schedules the next try
    return;
  }
  watch_.start(prefix_, revision_ + 1);
}

bool FleetSync::refresh(std::string& error) {
  fleet::RangeResult range = client_.range_prefix(prefix_);
  if (!range.ok()) {
    error = "etcd: " + range.error;
    need_full_read_ = true;
    watch_.stop();
    schedule_reconnect(error);
    return false;
  }
  std::map<std::string, fleet::KeyValue> kvs;
  for (fleet::KeyValue& kv : range.kvs) kvs[kv.key] = std::move(kv);
  mirror_dirty_ = kvs.size() != mirror_.size() || revision_ == 0 ||
                  !std::equal(kvs.begin(), kvs.end(), mirror_.begin(), [](auto& a, auto& b) {
                    return a.first == b.first && a.second.mod_revision == b.second.mod_revision;
                  });
  mirror_ = std::move(kvs);
  revision_ = range.revision;
  full_read_revision_ = range.revision;
  need_full_read_ = false;
  if (mirror_dirty_ && !apply_mirror(error)) {
    error = "the shared store holds a state this gateway cannot apply: " + error;
  } else {
    error.clear();
    last_in_sync_ = Clock::now();
  }
  // A running watch delivers what follows; older events are skipped above.
  if (!watch_.running()) {
    connected_ = false;
    watch_.start(prefix_, revision_ + 1);
  }
  return error.empty();
}

bool FleetSync::apply_mirror(std::string& error) {
  mirror_dirty_ = false;
  std::vector<config::Problem> problems;
  FleetEntries entries;
  open_values(mirror_, prefix_, keys_, entries, problems);
  ManagedResources managed;
  certs::CertificateSet uploaded;
  if (problems.empty()) {
    decode_fleet_state(
        entries,
        [this](const std::string& key, const std::string& value, std::string& why) {
          return decode_certificate(key, value, why);
        },
        managed, uploaded, problems);
  }
  wipe_entries(entries);
  if (problems.empty()) {
    const ManagedState::Change change = state_.replace(std::move(managed), uploaded);
    problems = change.problems;
  }
  if (!problems.empty()) {
    error = problems.front().path + ": " + problems.front().message;
    if (problems.size() > 1) error += " (and " + std::to_string(problems.size() - 1) + " more)";
    if (apply_error_ != error) {
      RG_ERROR("etcd: revision %lld cannot be applied, still serving revision %lld: %s",
               static_cast<long long>(revision_), static_cast<long long>(applied_revision_),
               error.c_str());
    }
    apply_error_ = error;
    ++errors_total_;
    return false;
  }
  apply_error_.clear();
  applied_revision_ = revision_;
  save_cache();
  return true;
}

std::shared_ptr<const certs::LoadedCertificate> FleetSync::decode_certificate(
    const std::string& key, const std::string& value, std::string& error) {
  const std::string& sealed = mirror_.at(prefix_ + key).value;
  auto cached = certificates_.find(key);
  if (cached != certificates_.end() && cached->second.first == sealed) {
    return cached->second.second;
  }
  auto certificate = decode_certificate_pem(key, value, error);
  if (certificate) certificates_[key] = {sealed, certificate};
  return certificate;
}

FleetSync::Outcome FleetSync::store(const ManagedResources& managed,
                                    const certs::CertificateSet& uploaded, std::string& error) {
  FleetEntries target;
  if (!encode_fleet_state(managed, uploaded, target, error)) {
    wipe_entries(target);
    return Outcome::kUnavailable;
  }
  std::vector<fleet::Operation> operations;
  for (const auto& [relative, plaintext] : target) {
    const std::string key = prefix_ + relative;
    auto current = mirror_.find(key);
    bool same = false;
    if (current != mirror_.end()) {
      fleet::SealResult opened = keys_.open(current->second.value, relative);
      // A value sealed with an older key is rewritten with the current one.
      same = opened.ok() && opened.text == plaintext && opened.key_id == keys_.current_id();
      OPENSSL_cleanse(opened.text.data(), opened.text.size());
    }
    if (same) continue;
    fleet::SealResult sealed = keys_.seal(plaintext, relative);
    if (!sealed.ok()) {
      wipe_entries(target);
      error = "cannot seal " + key + ": " + sealed.reason;
      return Outcome::kUnavailable;
    }
    operations.push_back({fleet::Operation::Kind::kPut, key, std::move(sealed.text)});
  }
  for (const auto& [key, kv] : mirror_) {
    const std::string relative = relative_key(key, prefix_);
    FleetKey kind{};
    std::string id;
    if (parse_fleet_key(relative, kind, id) && !target.contains(relative)) {
      operations.push_back({fleet::Operation::Kind::kDelete, key, std::string()});
    }
  }
  wipe_entries(target);
  if (operations.empty()) return Outcome::kStored;
  auto serial = mirror_.find(serial_key_);
  const int64_t seen = serial == mirror_.end() ? 0 : serial->second.mod_revision;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  operations.push_back({fleet::Operation::Kind::kPut, serial_key_,
                        std::string(host) + " pid " + std::to_string(::getpid())});
  const fleet::TxnResult result =
      client_.txn({{serial_key_, "", fleet::Compare::Target::kModRevision,
                    fleet::Compare::Result::kEqual, seen}},
                  operations);
  if (!result.ok()) {
    error = "etcd: " + result.error;
    ++errors_total_;
    return Outcome::kUnavailable;
  }
  if (!result.succeeded) return Outcome::kStale;
  for (fleet::Operation& op : operations) {
    if (op.kind == fleet::Operation::Kind::kDelete) {
      mirror_.erase(op.key);
      continue;
    }
    fleet::KeyValue kv;
    kv.key = op.key;
    kv.value = std::move(op.value);
    kv.mod_revision = result.revision;
    mirror_[op.key] = std::move(kv);
  }
  // The state itself is applied by ManagedState once this returns.
  revision_ = std::max(revision_, result.revision);
  applied_revision_ = revision_;
  apply_error_.clear();
  save_cache();
  return Outcome::kStored;
}

void FleetSync::save_cache() {
  if (state_dir_.empty()) return;
  nlohmann::json kvs = nlohmann::json::array();
  for (const auto& [key, kv] : mirror_) {
    kvs.push_back({{"key", key}, {"value", kv.value}, {"modRevision", kv.mod_revision}});
  }
  const nlohmann::json document = {{"version", kCacheVersion},
                                   {"prefix", prefix_},
                                   {"revision", applied_revision_},
                                   {"kvs", std::move(kvs)}};
  std::string error;
  if (!certs::write_file_atomically(
          state_dir_, std::string(kFleetCacheFileName),
          document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 0600, error)) {
    RG_WARN("etcd: cannot cache revision %lld in %s: %s", static_cast<long long>(applied_revision_),
            state_dir_.c_str(), error.c_str());
  }
}

std::string FleetSync::degraded_reason() const {
  if (!apply_error_.empty()) {
    return "etcd revision " + std::to_string(revision_) + " cannot be applied (" + apply_error_ +
           "); serving revision " + std::to_string(applied_revision_);
  }
  if (connected_) return "";
  std::string reason = "etcd cannot be reached";
  if (!last_error_.empty()) reason += " (" + last_error_ + ")";
  return reason + "; serving revision " + std::to_string(applied_revision_) +
         "; admin changes are refused until it answers";
}

std::string FleetSync::render_metrics() const {
  const double lag = connected_ && apply_error_.empty()
                         ? 0.0
                         : std::chrono::duration<double>(Clock::now() - last_in_sync_).count();
  std::string out;
  out += "# HELP ringgate_config_sync_revision The etcd revision this gateway's config is as of.\n";
  out += "# TYPE ringgate_config_sync_revision gauge\n";
  out += "ringgate_config_sync_revision " + std::to_string(applied_revision_) + "\n";
  out +=
      "# HELP ringgate_config_sync_lag_seconds Seconds since this gateway was last known to "
      "hold etcd's current state (0 while the watch runs).\n";
  out += "# TYPE ringgate_config_sync_lag_seconds gauge\n";
  char number[32];
  std::snprintf(number, sizeof number, "%.3f", lag);
  out += "ringgate_config_sync_lag_seconds " + std::string(number) + "\n";
  out +=
      "# HELP ringgate_config_sync_errors_total etcd requests, watches and revisions that "
      "failed.\n";
  out += "# TYPE ringgate_config_sync_errors_total counter\n";
  out += "ringgate_config_sync_errors_total " + std::to_string(errors_total_) + "\n";
  return out;
}

}  // namespace ringgate::core
