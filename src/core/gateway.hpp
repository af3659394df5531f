// The control thread: loads the config, starts the workers, serves the admin
// API, and turns signals into actions (SIGHUP reload, SIGTERM/SIGINT drain
// and stop). Owns everything the workers share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "certs/store.hpp"
#include "core/metrics.hpp"
#include "core/worker.hpp"
#include "net/listener.hpp"
#include "ringgate/config.hpp"

namespace ringgate::core {

class Gateway {
 public:
  explicit Gateway(std::string config_path);
  ~Gateway();

  // Runs until SIGTERM/SIGINT; returns the process exit code (0 after a clean
  // drain, 1 when the config is invalid or a listener cannot be opened).
  int run();

 private:
  bool reload();
  // Fills snapshot.listener_fds, opening sockets for listeners not open yet.
  bool attach_listeners(const config::Config& config, Snapshot& snapshot);
  void publish_certificate_metrics();

  std::string config_path_;
  std::shared_ptr<const config::Config> config_;
  uint64_t generation_ = 0;
  std::unique_ptr<certs::CertificateStore> store_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<WorkerShared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<net::ListenerSockets> listeners_;
};

// Prints every problem as "path: message" lines to stderr.
void report_problems(const std::string& what, const std::vector<config::Problem>& problems);

// Everything --check-config and a (re)load do before serving: parse and
// validate the file, load every certificate, parse every policy, resolve
// backends. Returns the snapshot, or null with every problem appended.
struct Prepared {
  std::shared_ptr<const config::Config> config;
  std::unique_ptr<certs::CertificateStore> store;
  std::shared_ptr<Snapshot> snapshot;  // listener_fds not filled in yet
};
// `dry_run`: create nothing on disk (no stateDir).
Prepared prepare(const std::string& config_path, uint64_t generation, bool dry_run,
                 std::vector<config::Problem>& problems);

}  // namespace ringgate::core
