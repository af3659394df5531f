// Integration-test harness, gateway part: ringgate itself, started on a
// config written for the test, with its ports read back from its log.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "harness_base.hpp"
#include "harness_tls.hpp"

namespace ringgate::itest {

// ---------------------------------------------------------------------------
// GatewayUnderTest: ringgate (`$RINGGATE_BIN --config <file>`) with a config
// written for the test (DESIGN §6) into its own temp dir. The listener listens
// on 127.0.0.1 port 0 and the port the kernel chose is read back from
// ringgate's start-up log ("listening on …"). The admin API cannot be given
// port 0 (the config refuses it): it gets a free port, another one if that was
// taken before ringgate bound it, and the log ("admin API on …") must name it. The admin
// token is written to admin.token next to the config; each certificate's PFX and
// password file are copied into the gateway's dir, so a test may overwrite them
// (rotation) without touching the shared PKI.

struct CertificateEntry {
  std::string id;
  TestPfx pfx;
};

struct BackendEntity {
  std::string id;
  std::string url;  // "https://127.0.0.1:<port>"
  bool validate_certificate_chain = true;
  bool validate_certificate_name = true;
  std::string ca_file;  // "" leaves caFile out (system store)
};

struct ApiRoute {
  // A route with no policy is written the usual way: {"id", "path", "http://…"}.
  ApiRoute(std::string id, std::string path, std::string service_url, std::string policy = {})
      : id(std::move(id)),
        path(std::move(path)),
        service_url(std::move(service_url)),
        policy(std::move(policy)) {}

  std::string id;
  std::string path;         // e.g. "orders"
  std::string service_url;  // e.g. "http://127.0.0.1:1234/api"
  std::string policy;       // APIM policy XML; "" leaves it out
};

struct GatewayConfig {
  unsigned workers = 1;
  std::vector<CertificateEntry> certificates;  // empty: the section is omitted
  std::vector<BackendEntity> backends;         // empty: the section is omitted
  std::vector<ApiRoute> apis;
  // The JSON value of gateway.listeners[0].tls, e.g. {"certificateId": "edge"};
  // "" makes a plain HTTP listener.
  std::string listener_tls_json;
  // Overrides, by their JSON key in gateway.limits / .timeouts / .pool
  // (e.g. {"maxHeaderBytes", 4096}); sections left empty are omitted.
  std::map<std::string, uint64_t> limits;
  std::map<std::string, uint64_t> timeouts;
  std::map<std::string, uint64_t> pool;
  std::string access_log_path;  // gateway.accessLog.path; empty: key omitted
  std::string cpu_affinity;     // gateway.cpuAffinity as JSON ("\"none\"", "[0]"); empty: omitted
  // gateway.user; empty: omitted. When set, the test directory is handed to
  // that user as a deployment would (what the gateway re-reads or writes
  // after switching belongs to it).
  std::string user;
  std::string config_source_json;  // the JSON value of gateway.configSource; empty: omitted
  std::vector<std::string> env;    // extra "NAME=value" for ringgate's environment
  // Put before ringgate's command line, e.g. {"/usr/bin/prlimit", "--nofile=96:96"}:
  // a launcher that execs ringgate in its own process.
  std::vector<std::string> launcher;
};

// `<policies><inbound><authentication-certificate certificate-id="ID"/></inbound></policies>`
std::string certificate_id_policy(std::string_view certificate_id);
// The same with thumbprint="…".
std::string thumbprint_policy(std::string_view thumbprint);

// The config document for `config` with the listener on 127.0.0.1:`port` and
// the admin API on 127.0.0.1:`admin_port` (0: the kernel picks); certificate
// file paths and `token_file` are written as given.
std::string gateway_config_json(const GatewayConfig& config, uint16_t port, uint16_t admin_port,
                                const std::string& token_file);

// Sum of every sample of metric `name` in Prometheus text whose label block
// contains `label_filter` (all samples when it is empty); nullopt when there
// is no such sample.
std::optional<double> metric_value(const std::string& metrics_text, std::string_view name,
                                   std::string_view label_filter = {});

class GatewayUnderTest {
 public:
  // The listener's address as the config names it (reload tests that rewrite
  // the listener list keep it by naming it the same way).
  static constexpr std::string_view kListenAddress = "127.0.0.1:0";

  // Starts ringgate and waits (up to 15 s) until it has logged the ports it
  // listens on and both accept connections; throws with its stderr if it
  // exits (but for a taken admin port, tried three times) or times out.
  explicit GatewayUnderTest(GatewayConfig config);
  // Expects exit 0 on SIGTERM (the contract of DESIGN §6, and where the
  // sanitizer builds report leaks); dumps config and logs when the test failed.
  ~GatewayUnderTest();
  GatewayUnderTest(const GatewayUnderTest&) = delete;
  GatewayUnderTest& operator=(const GatewayUnderTest&) = delete;

  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  const std::string& admin_token() const { return token_; }
  // "http://127.0.0.1:<port><path>"
  std::string url(std::string_view path) const;
  const std::string& config_path() const { return config_path_; }
  // gateway.stateDir: where admin changes are persisted.
  std::string state_dir() const;
  Process& process() { return *process_; }

  // SIGKILL (no drain, nothing flushed), then a new ringgate on the same
  // config and state dir, its addresses pinned to the ports read back before
  // (port() and admin_port() stay valid), waited for as the constructor does.
  // Its logs go to ringgate-2.stderr and so on; process() is the new one.
  void kill_and_restart();

  // One admin API request with the bearer token (and Content-Type JSON when
  // there is a body); a response with status 0 when none came (the failure
  // is recorded). Waits up to 20 s: a change is answered once it is live.
  HttpResponse admin(const std::string& method, const std::string& path,
                     const std::string& body = {}, const std::vector<std::string>& headers = {});

  // Where the copy of certificate `id`'s files lives (for rotation tests).
  std::string pfx_path(std::string_view id) const;
  std::string password_path(std::string_view id) const;

  // GET /metrics from the admin API with the bearer token; "" when it fails.
  std::string metrics();
  // metric_value over metrics().
  std::optional<double> metric(std::string_view name, std::string_view label_filter = {});

  // One request on a fresh plain connection to the listener; a response with
  // status 0 when none came (the failure is recorded).
  HttpResponse get(const std::string& target);

  // Polls stderr (every 20 ms) until a line matches `pattern` (std::regex_search);
  // false after `timeout`.
  bool wait_for_log(const std::regex& pattern, Millis timeout = Millis(3000));

 private:
  // chown -R of the test directory to `user` (gateway.user's deployment).
  void hand_over_to(const std::string& user);
  // Starts ringgate on the config file as it is and reads its ports back;
  // throws AdminPortTaken (harness_gateway.cpp) when admin_port_ was taken.
  void start();

  GatewayConfig config_;
  TempDir dir_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::string token_;
  std::string config_path_;
  int starts_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace ringgate::itest
