#include "core/gateway.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <thread>

#include "admin/admin_server.hpp"
#include "admin/console_files.hpp"
#include "admin/resources.hpp"
#include "config/cpus.hpp"
#include "core/cpu_plan.hpp"
#include "core/fleet_sync.hpp"
#include "core/log.hpp"
#include "core/privileges.hpp"
#include "core/service_notify.hpp"
#include "core/snapshot.hpp"
#include "files/owner.hpp"
#include "files/unique_fd.hpp"
#include "net/listener.hpp"
#include "tls/ktls.hpp"

namespace ringgate::core {

void report_problems(const std::string& what, const std::vector<config::Problem>& problems) {
  RG_ERROR("%s: %zu problem%s", what.c_str(), problems.size(), problems.size() == 1 ? "" : "s");
  for (const config::Problem& p : problems) RG_ERROR("  %s: %s", p.path.c_str(), p.message.c_str());
}

Gateway::Gateway(std::string config_path) : config_path_(std::move(config_path)) {}

Gateway::~Gateway() = default;

void Gateway::publish_certificate_metrics() {
  std::vector<CertificateExpiry> expiries;
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  for (const certs::StoredCertificate& c : state_->certificates().list()) {
    const certs::CertificateInfo& info = c.certificate->info();
    expiries.push_back({c.id, info.thumbprint, info.not_after});
    if (info.not_after - now < 30 * 86400) {
      RG_WARN("certificate %s (%s, %s) expires %s", c.id.c_str(), info.subject.c_str(),
              info.thumbprint.c_str(), info.expiration_date.c_str());
    }
  }
  metrics_->set_certificates(std::move(expiries));
}

// logrotate's postrotate `kill -USR1`: the file was renamed; lines written
// from now on go to a new file under the configured name.
void Gateway::reopen_access_log() {
  const std::string& path = log_writer_->access_log_path();
  if (path.empty() || path == "-") {
    RG_INFO("SIGUSR1: no access log file to reopen");
    return;
  }
  std::string error;
  if (log_writer_->reopen_access_log(error)) {
    RG_INFO("SIGUSR1: reopened the access log %s", path.c_str());
  } else {
    RG_ERROR("SIGUSR1: %s; still writing to the previous file", error.c_str());
  }
}

bool Gateway::reload() {
  std::vector<config::Problem> problems;
  Prepared prepared = prepare(config_path_, generation_ + 1, false, problems);
  if (problems.empty() &&
      !(prepared.config->gateway.config_source == config_->gateway.config_source)) {
    // Which store the admin API writes to is chosen at start: switching it
    // under running watches and pending answers is not worth the risk.
    problems.push_back({"$.gateway.configSource",
                        "changed; the store of managed resources is chosen at start: restart "
                        "ringgate to switch it"});
  }
  if (problems.empty()) {
    // A file that cannot be opened rejects the reload before anything changed.
    const std::string& log_path = prepared.config->gateway.access_log.path;
    std::string log_error;
    if (log_path != log_writer_->access_log_path() &&
        !log_writer_->open_access_log(log_path, log_error)) {
      problems.push_back({"$.gateway.accessLog.path", log_error});
    }
  }
  if (!problems.empty()) {
    report_problems("reload of " + config_path_ + " rejected; still serving the previous config",
                    problems);
    bump(metrics_->reload_failures_total);
    return false;
  }
  if (!attach_listeners(*prepared.config, *prepared.snapshot)) {
    std::string ignored;
    if (log_writer_->access_log_path() != config_->gateway.access_log.path) {
      log_writer_->open_access_log(config_->gateway.access_log.path, ignored);  // the running one's
    }
    bump(metrics_->reload_failures_total);
    return false;
  }
  warn_restart_only_changes(prepared.config->gateway);
  const std::shared_ptr<const Snapshot> snapshot = prepared.snapshot;
  for (const std::string& gone : listeners_->retain_only(prepared.config->gateway.listeners)) {
    RG_INFO("reload: no longer listening on %s", gone.c_str());
  }
  ++generation_;
  config_ = prepared.config;
  const std::shared_ptr<FleetStart> fleet = prepared.fleet;
  state_->reset(std::move(prepared));
  if (fleet_ && fleet) fleet_->adopt(std::move(*fleet));
  publish_certificate_metrics();
  shared_->snapshots.publish(snapshot);
  for (auto& w : workers_) w->wake();
  bump(metrics_->reloads_total);
  RG_INFO("reload: config generation %llu is live (%zu APIs)",
          static_cast<unsigned long long>(generation_), config_->apis.size());
  return true;
}

// Worker threads are made and pinned once: what decides them is read at
// start only, and a reload that changes it says so instead of pretending.
void Gateway::warn_restart_only_changes(const config::Gateway& next) const {
  if (next.workers != started_workers_) {
    RG_WARN("reload: $.gateway.workers changed from %u to %u; takes effect at restart",
            started_workers_, next.workers);
  }
  if (next.cpu_affinity != started_cpu_affinity_) {
    RG_WARN("reload: $.gateway.cpuAffinity changed; takes effect at restart");
  }
}

void Gateway::start_fleet(FleetStart& start) {
  std::vector<config::Problem> problems;
  std::vector<std::string> messages;
  std::optional<fleet::KeyRing> keys =
      fleet::KeyRing::load(config_->gateway.config_source.encryption_key_file, messages);
  if (!keys) {
    // prepare() opened every value with it a moment ago.
    for (const std::string& m : messages) RG_ERROR("%s", m.c_str());
    return;
  }
  fleet_ = std::make_unique<FleetSync>(config_->gateway, state_->certificates().contents(),
                                       std::move(*keys), *state_);
  RG_INFO("config source: etcd %s, prefix %s, %s revision %lld",
          config_->gateway.config_source.endpoints.front().c_str(),
          config_->gateway.config_source.prefix.c_str(), start.from_cache ? "cached" : "read at",
          static_cast<long long>(start.revision));
  fleet_->adopt(std::move(start));
}

void Gateway::publish_change(const std::shared_ptr<const Snapshot>& snapshot) {
  generation_ = snapshot->generation;
  config_ = snapshot->config;
  publish_certificate_metrics();
  shared_->snapshots.publish(snapshot);
  for (auto& w : workers_) w->wake();
  RG_INFO("admin: config generation %llu is live (%zu APIs)",
          static_cast<unsigned long long>(generation_), config_->apis.size());
}

void Gateway::attach_resources(admin::AdminServer& admin) {
  resources_ = std::make_unique<admin::Resources>(
      *state_, [this](uint64_t generation, const std::vector<std::string>& keys) {
        return metrics_->live_everywhere(generation, keys);
      });
  admin.set_resources(resources_.get());
}

bool Gateway::attach_listeners(const config::Config& config, Snapshot& snapshot) {
  std::string error;
  std::vector<std::vector<int>> fds;
  if (!listeners_->prepare(config.gateway.listeners, fds, error)) {
    RG_ERROR("%s%s", error.c_str(), workers_.empty() ? "" : "; still serving the previous config");
    return false;
  }
  for (const config::Listener& listener : config.gateway.listeners) {
    config::SocketAddress address = listener.address;
    address.port = listeners_->port_of(listener);
    RG_INFO("listening on %s (%s)", address.to_string().c_str(), listener.tls ? "TLS" : "plain");
  }
  snapshot.listener_fds = std::move(fds);
  return true;
}

// Raises the descriptor limit to its hard limit and says when even that
// cannot hold every connection the config allows.
void raise_descriptor_limit(const config::Config& config, uint32_t workers) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  // Each client connection may hold a backend connection as well, and every
  // pool keeps minIdle spares per worker.
  const uint64_t pools = config.apis.size();
  const uint64_t needed = uint64_t{workers} * (2 * uint64_t{config.gateway.limits.max_connections} +
                                               pools * config.gateway.pool.min_idle) +
                          64;
  if (limit.rlim_cur != RLIM_INFINITY && needed > limit.rlim_cur) {
    RG_WARN(
        "descriptor limit %llu is below what maxConnections %u x %u workers (plus a backend "
        "connection each and %llu pooled spares) may need: %llu; accepting pauses when it runs "
        "out (raise LimitNOFILE / ulimit -n, or lower maxConnections)",
        static_cast<unsigned long long>(limit.rlim_cur), config.gateway.limits.max_connections,
        workers, static_cast<unsigned long long>(pools * config.gateway.pool.min_idle * workers),
        static_cast<unsigned long long>(needed));
  }
}

std::string Gateway::serving_status() const {
  return "serving " + std::to_string(config_->apis.size()) + " APIs on " +
         std::to_string(config_->gateway.listeners.size()) + " listeners, config generation " +
         std::to_string(generation_);
}

std::string Gateway::wait_for_warm_pools(const Snapshot& snapshot) const {
  std::vector<std::string> keys;
  if (config_->gateway.pool.min_idle > 0) {
    for (const auto& pool : snapshot.pools) keys.push_back(pool.key_text);
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(config_->gateway.timeouts.backend_connect_ms);
  while (!metrics_->live_everywhere(snapshot.generation, keys) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  size_t cold = 0;
  for (const std::string& key : keys) cold += metrics_->live_everywhere(0, {key}) ? 0 : 1;
  std::string status = serving_status();
  if (cold > 0) {
    status += "; " + std::to_string(cold) + " of " + std::to_string(keys.size()) +
              " backend pools not warm yet (backend unreachable?)";
  }
  return status;
}

// The web console (DESIGN §10) on the admin listener, from the binary itself.
static void serve_console(admin::AdminServer& admin) {
  admin.set_static_files(admin::console_files());
}

int Gateway::run() {
  // Connected before anything else, while the socket's path is reachable.
  std::string notify_error;
  ServiceNotifier notifier(notify_error);
  if (!notify_error.empty()) RG_WARN("%s; not notifying the service manager", notify_error.c_str());
  std::vector<config::Problem> problems;
  Prepared prepared = prepare(config_path_, ++generation_, false, problems);
  if (!problems.empty()) {
    report_problems(config_path_, problems);
    return 1;
  }
  config_ = prepared.config;

  // `workers: 0` means one per CPU this process may use (taskset, cgroup
  // cpusets); gateway.cpuAffinity says whether and where they are pinned.
  const std::vector<int> allowed = config::allowed_cpus();
  uint32_t workers = config_->gateway.workers;
  if (workers == 0) workers = allowed.empty() ? 1 : static_cast<uint32_t>(allowed.size());
  const CpuPlan cpu_plan =
      plan_worker_cpus(config_->gateway.cpu_affinity, workers, allowed, config::online_cpu_count());
  RG_INFO("workers: %u, %s", workers, cpu_plan.summary().c_str());
  started_workers_ = config_->gateway.workers;
  started_cpu_affinity_ = config_->gateway.cpu_affinity;
  metrics_ = std::make_unique<Metrics>(workers);
  raise_descriptor_limit(*config_, workers);

  // Signals are handled by the control thread alone: block them before any
  // worker thread exists so every thread inherits the mask.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const files::UniqueFd signals(signalfd(-1, &mask, SFD_CLOEXEC));
  const int signal_fd = signals.get();

  // One SO_REUSEPORT socket per listener per worker. With port 0 the first
  // socket learns the kernel's port and the rest share it.
  listeners_ = std::make_unique<net::ListenerSockets>(workers);
  if (!attach_listeners(*config_, *prepared.snapshot)) return 1;
  shared_ = std::make_unique<WorkerShared>();
  shared_->metrics = metrics_.get();
  // The log writer starts before the workers (once signals are blocked, as
  // for every thread but this one) and stops after them, so every line a
  // worker queues is written.
  log_writer_ = std::make_unique<LogWriter>(workers, LogWriter::Options{});
  std::string log_error;
  if (!log_writer_->open_access_log(config_->gateway.access_log.path, log_error)) {
    RG_ERROR("$.gateway.accessLog.path: %s", log_error.c_str());
    return 1;
  }
  const std::string& log_path = config_->gateway.access_log.path;
  if (::geteuid() == 0 && config_->gateway.user && !log_path.empty() && log_path != "-") {
    // Written by gateway.user from now on, and rotated as its file.
    const files::Owner owner = files::file_owner();  // gateway.user, set by prepare()
    if (::chown(log_path.c_str(), owner.uid, owner.gid) != 0) {
      RG_WARN("$.gateway.accessLog.path: cannot hand %s to %s: %s", log_path.c_str(),
              config_->gateway.user->name.c_str(), std::strerror(errno));
    }
  }
  log_writer_->start();
  shared_->logs = log_writer_.get();
  if (!config_->gateway.access_log.path.empty()) {
    RG_INFO("access log: %s", config_->gateway.access_log.path == "-"
                                  ? "stdout"
                                  : config_->gateway.access_log.path.c_str());
  }
  shared_->snapshots.publish(prepared.snapshot);
  const std::shared_ptr<FleetStart> prepared_fleet = prepared.fleet;
  state_ = std::make_unique<ManagedState>(
      [this](const std::shared_ptr<const Snapshot>& snapshot) { publish_change(snapshot); });
  state_->reset(std::move(prepared));
  publish_certificate_metrics();

  if (prepared_fleet) start_fleet(*prepared_fleet);
  admin::AdminServer admin(config_->gateway.admin, [this] {
    return metrics_->render() + (fleet_ ? fleet_->render_metrics() : std::string());
  });
  admin.set_health([this] { return fleet_ ? fleet_->degraded_reason() : std::string(); });
  attach_resources(admin);
  std::string error;
  if (!admin.start(error)) {
    RG_ERROR("admin: %s", error.c_str());
    return 1;
  }
  if (!net::is_loopback(config_->gateway.admin.address.host)) {
    RG_WARN("admin API listens on %s, which is not loopback",
            config_->gateway.admin.address.to_string().c_str());
  }
  RG_INFO("admin API on %s:%u", config_->gateway.admin.address.host.c_str(), admin.port());
  serve_console(admin);

  if (config_->gateway.ktls == config::KtlsMode::kOff) {
    RG_INFO("kTLS: off (gateway.ktls is \"off\"): every TLS connection stays on userspace TLS");
    shared_->ktls_available = false;
  } else {
    const tls::KtlsSupport ktls = tls::probe_ktls();
    RG_INFO("kTLS: %s (%s)", ktls.available ? "available" : "unavailable", ktls.detail.c_str());
    shared_->ktls_available = ktls.available;
  }

  // Everything that needs root is done: listeners bound, files open, kTLS
  // probed (which may load the kernel's tls module).
  const PrivilegeDrop dropped = drop_privileges(config_->gateway);
  if (!dropped.ok) {
    RG_ERROR("%s", dropped.message.c_str());
    return 1;
  }
  if (dropped.warning) {
    RG_WARN("%s", dropped.message.c_str());
  } else if (!dropped.message.empty()) {
    RG_INFO("%s", dropped.message.c_str());
  }

  for (uint32_t w = 0; w < workers; ++w) {
    workers_.push_back(std::make_unique<Worker>(w, *shared_, cpu_plan.cpus[w]));
    const std::string failure = workers_.back()->start();
    if (!failure.empty()) {
      RG_ERROR("worker %u: %s", w, failure.c_str());
      shared_->stopping.store(true);
      for (auto& started : workers_) started->wake();
      workers_.clear();
      return 1;
    }
  }
  RG_INFO("ringgate %s ready", RINGGATE_VERSION);
  if (notifier.enabled()) notifier.ready(wait_for_warm_pools(*shared_->snapshots.get()));

  bool running = true;
  std::vector<pollfd> polled;
  while (running) {
    polled.clear();
    polled.push_back({signal_fd, POLLIN, 0});
    admin.collect(polled);
    int timeout = admin.next_timeout_ms();
    if (fleet_) {
      fleet_->collect(polled);
      const int due = fleet_->next_timeout_ms();
      if (due >= 0 && (timeout < 0 || due < timeout)) timeout = due;
    }
    const int n = ::poll(polled.data(), polled.size(), timeout);
    if (n < 0 && errno != EINTR) break;
    for (const pollfd& p : polled) {
      if (p.revents == 0) continue;
      if (fleet_ && fleet_->owns(p.fd)) {
        fleet_->handle(p);
      } else if (p.fd == signal_fd) {
        signalfd_siginfo info{};
        if (::read(signal_fd, &info, sizeof info) != sizeof info) continue;
        if (info.ssi_signo == SIGHUP) {
          RG_INFO("SIGHUP: reloading %s", config_path_.c_str());
          notifier.reloading("reloading " + config_path_);
          if (reload()) {
            admin.update(config_->gateway.admin);
            notifier.ready(serving_status());
          } else {
            notifier.ready("reload rejected (see the log); " + serving_status());
          }
        } else if (info.ssi_signo == SIGUSR1) {
          reopen_access_log();
        } else {
          RG_INFO("%s: draining (up to %u ms)", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT",
                  config_->gateway.timeouts.drain_ms);
          notifier.stopping("draining (up to " +
                            std::to_string(config_->gateway.timeouts.drain_ms) + " ms)");
          running = false;
        }
      } else {
        admin.handle(p);
      }
    }
    if (fleet_) fleet_->tick();
  }
  fleet_.reset();
  shared_->stopping.store(true, std::memory_order_release);
  for (auto& w : workers_) w->wake();
  for (auto& w : workers_) w->join();
  workers_.clear();
  log_writer_->stop();
  RG_INFO("stopped");
  return 0;
}

}  // namespace ringgate::core
