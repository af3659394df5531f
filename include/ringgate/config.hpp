// ringgate configuration: the immutable snapshot the control thread builds from
// the config file (DESIGN §6) and hands to every worker. Plain data; no parser
// types leak out of this header.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ringgate::config {

// "host:port" split and resolved to a numeric IPv4/IPv6 address.
struct SocketAddress {
  std::string host;  // literal as written, e.g. "127.0.0.1" or "::1"
  uint16_t port = 0;
  std::string to_string() const;
};

struct ListenerTls {
  std::string certificate_id;  // the default certificate (id in `certificates`)
  std::vector<std::string>
      certificate_ids;  // every certificate offered, chosen by SNI; default first
};

struct Listener {
  SocketAddress address;
  std::optional<ListenerTls> tls;
};

struct Admin {
  SocketAddress address{"127.0.0.1", 9901};
  std::string token_file;  // absolute path after loading; empty = no admin token configured
  std::string token;       // file contents, trimmed
  bool metrics_without_token = false;  // "publicHealthAndMetrics": /healthz and /metrics open
};

struct Limits {
  uint32_t max_header_bytes = 16384;
  uint32_t max_header_count = 100;
  uint32_t max_url_bytes = 8192;
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  uint32_t max_connections = 100000;
};

struct Timeouts {
  uint32_t client_header_ms = 10000;
  uint32_t client_idle_ms = 60000;
  uint32_t backend_connect_ms = 3000;
  uint32_t backend_response_ms = 30000;
  uint32_t drain_ms = 10000;
};

struct Pool {
  uint32_t min_idle = 4;
  uint32_t max_per_key = 1024;
  uint32_t idle_timeout_ms = 60000;
  // Requests that find max_per_key connections busy wait for one, first come
  // first served, at most this many per key per worker (0: none wait) and
  // at most wait_timeout_ms each; beyond either they get 503.
  uint32_t max_waiting = 256;
  uint32_t wait_timeout_ms = 1000;
};

struct AccessLog {
  std::string path;  // "-" = stdout, empty = off
};

// Whether TLS connections hand their record layer to the kernel.
enum class KtlsMode : uint8_t {
  kAuto,  // probe at start; use kTLS where the kernel has it
  kOff,   // never: every TLS connection stays on userspace OpenSSL
};

// Which CPU each worker thread runs on (gateway.cpuAffinity). kAuto pins only
// when the gateway may assume it owns the CPUs (core/cpu_plan.hpp has the
// rule); kNone leaves placement to the scheduler; kList pins worker i to
// cpus[i % cpus.size()].
struct CpuAffinity {
  enum class Mode : uint8_t { kAuto, kNone, kList };
  Mode mode = Mode::kAuto;
  std::vector<int> cpus;  // kList only: distinct CPUs this process may use, as written

  bool operator==(const CpuAffinity&) const = default;
};

// gateway.user: the account a gateway started as root switches to once its
// listeners are bound and its files open. Resolved when the config is read.
struct ServiceUser {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;

  bool operator==(const ServiceUser&) const = default;
};

// gateway.configSource: where the certificates, backends, APIs and policies
// made through the admin API are kept (DESIGN §13). kLocal: files in
// state_dir. kEtcd: under `prefix` in etcd, every value sealed with a key
// from encryption_key_file (fleet/sealed.hpp), with state_dir as the cache
// of the last state applied. The etcd fields are empty for kLocal.
struct ConfigSource {
  enum class Type : uint8_t { kLocal, kEtcd };
  Type type = Type::kLocal;
  // "http://host:port" / "https://host:port", scheme and host in lower case,
  // an IPv6 host in brackets; distinct, at least one.
  std::vector<std::string> endpoints;
  std::string prefix = "/ringgate/";  // starts and ends with '/'
  std::string ca_file;                // absolute; empty = the system store (https only)
  std::string certificate_id;         // client certificate (id in `certificates`); https only
  std::string encryption_key_file;    // absolute; checked (KeyRing::load) when the config is read

  bool operator==(const ConfigSource&) const = default;
};

struct Gateway {
  uint32_t workers = 0;  // 0 = one per CPU this process may use
  CpuAffinity cpu_affinity;
  KtlsMode ktls = KtlsMode::kAuto;  // read at start only
  std::optional<ServiceUser> user;  // read at start only
  std::vector<Listener> listeners;
  Admin admin;
  std::string state_dir;
  Limits limits;
  Timeouts timeouts;
  Pool pool;
  AccessLog access_log;
  ConfigSource config_source;
};

struct Certificate {
  std::string pfx_file;       // absolute
  std::string password_file;  // absolute, may be empty (no password)
};

struct BackendTls {
  bool validate_certificate_chain = true;
  bool validate_certificate_name = true;
};

struct Backend {
  std::string url;  // "http://host:port" or "https://host:port"
  BackendTls tls;
  std::string ca_file;  // absolute, may be empty (system store)
  // PEM certificates given inline (an entity made through the admin API);
  // used instead of ca_file when set.
  std::string ca_certificate;
};

struct Api {
  std::string path;         // without leading/trailing '/', may be empty (matches everything)
  std::string service_url;  // scheme://host:port[/base]
  std::string policy;       // APIM policy XML, may be empty
};

// A whole configuration as written in one file. Maps keep ids sorted so output
// and iteration are deterministic.
struct Config {
  std::string source_path;  // absolute path of the file it came from
  Gateway gateway;
  std::map<std::string, Certificate> certificates;
  std::map<std::string, Backend> backends;
  std::map<std::string, Api> apis;
};

// One problem found while loading: where (a JSON path such as
// "$.gateway.listeners[1].address") and what was expected versus found.
struct Problem {
  std::string path;
  std::string message;
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when problems is non-empty
  std::vector<Problem> problems;
};

// Reads and validates the file at `path`. Collects every problem rather than
// stopping at the first; relative file paths inside are resolved against the
// directory of `path`. Never throws.
LoadResult load_file(const std::string& path);

// Same, for a document already in memory; `base_dir` resolves relative paths.
LoadResult load_string(const std::string& json, const std::string& base_dir);

// Parses "host:port" / "[v6]:port". Returns nullopt with `error` set otherwise.
std::optional<SocketAddress> parse_socket_address(const std::string& text, std::string& error);

}  // namespace ringgate::config
