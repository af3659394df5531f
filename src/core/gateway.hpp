// The control thread: loads the config, starts the workers, serves the admin
// API, and turns signals into actions (SIGHUP reload, SIGTERM/SIGINT drain
// and stop, SIGUSR1 reopens the access log). Owns everything the workers
// share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "certs/store.hpp"
#include "core/log_writer.hpp"
#include "core/managed_state.hpp"
#include "core/metrics.hpp"
#include "core/worker.hpp"
#include "net/listener.hpp"
#include "ringgate/config.hpp"

namespace ringgate::admin {
class AdminServer;
class Resources;
}  // namespace ringgate::admin

namespace ringgate::core {

class FleetSync;
struct FleetStart;

class Gateway {
 public:
  explicit Gateway(std::string config_path);
  ~Gateway();

  // Runs until SIGTERM/SIGINT; returns the process exit code (0 after a clean
  // drain, 1 when the config is invalid or a listener cannot be opened).
  int run();

 private:
  bool reload();
  // Warns about the keys of `next` that differ from the ones the workers were
  // started with and that only a restart applies (workers, cpuAffinity).
  void warn_restart_only_changes(const config::Gateway& next) const;
  // Fills snapshot.listener_fds, opening sockets for listeners not open yet.
  bool attach_listeners(const config::Config& config, Snapshot& snapshot);
  void publish_certificate_metrics();
  void reopen_access_log();
  // Makes a snapshot an admin change produced live (ManagedState's PublishFn).
  void publish_change(const std::shared_ptr<const Snapshot>& snapshot);
  // Serves the management resources (certificates, backends, APIs, policies)
  // on `admin`.
  void attach_resources(admin::AdminServer& admin);
  // Waits (up to backendConnectMs) until every worker holds an idle
  // connection in each of the snapshot's pools; returns the STATUS= text
  // for the service manager, naming the pools that are not warm.
  std::string wait_for_warm_pools(const Snapshot& snapshot) const;
  // Starts following etcd from what prepare() read (gateway.configSource).
  void start_fleet(FleetStart& start);
  // What the gateway serves, for STATUS= lines.
  std::string serving_status() const;

  std::string config_path_;
  std::shared_ptr<const config::Config> config_;
  // What the workers were made and pinned with (read at start only).
  uint32_t started_workers_ = 0;
  config::CpuAffinity started_cpu_affinity_;
  uint64_t generation_ = 0;
  std::unique_ptr<ManagedState> state_;
  // gateway.configSource etcd: keeps state_ in step with the fleet; made
  // after state_ and gone before it.
  std::unique_ptr<FleetSync> fleet_;
  // Outlives the admin server and the responses it holds.
  std::unique_ptr<admin::Resources> resources_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<LogWriter> log_writer_;  // outlives the workers, which write to it
  std::unique_ptr<WorkerShared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<net::ListenerSockets> listeners_;
};

// Prints every problem as "path: message" lines to stderr.
void report_problems(const std::string& what, const std::vector<config::Problem>& problems);

}  // namespace ringgate::core
