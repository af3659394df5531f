// Running as a service (DESIGN §6): the service manager's notify protocol
// (READY, RELOADING with MONOTONIC_USEC, STOPPING, STATUS) on a socket the
// test binds itself, and gateway.user: a gateway started as root runs every
// thread as that user once its listeners are bound.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

uint64_t monotonic_usec() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
}

// One notify message: its KEY=value lines.
using Message = std::map<std::string, std::string>;

// A datagram socket standing in for the service manager's.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("cannot bind the notify socket " + path);
    }
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }

  // The next message, or nullopt after `timeout`.
  std::optional<Message> next(Millis timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return std::nullopt;
    Message message;
    std::istringstream lines(std::string(buffer, static_cast<size_t>(n)));
    std::string line;
    while (std::getline(lines, line)) {
      const size_t eq = line.find('=');
      if (eq != std::string::npos) message[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return message;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// ringgate on a config with one API on a port nothing listens on, started
// by the test itself so that it sees READY the moment it is sent.
class ServiceNotify : public ::testing::Test {
 protected:
  void SetUp() override {
    write_file(dir_.file("admin.token"), std::string(kToken) + "\n", 0600);
    GatewayConfig config;
    config.apis.push_back({"api", "api", "http://127.0.0.1:9/base", ""});
    config.pool = {{"minIdle", 0}};
    write_config(config);
    notify_ = std::make_unique<NotifySocket>(dir_.file("notify.sock"));
  }

  static constexpr std::string_view kToken = "notify-test-token";

  std::string config_path() const { return dir_.file("ringgate.json"); }
  void write_config(const GatewayConfig& config) {
    write_file(config_path(), gateway_config_json(config, 0, free_port(), "admin.token"));
  }

  void start() {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{ringgate_binary(), "--config", config_path()}, dir_.path(),
        "ringgate", std::vector<std::string>{"NOTIFY_SOCKET=" + notify_->path()});
  }

  TempDir dir_;
  std::unique_ptr<NotifySocket> notify_;
  std::unique_ptr<Process> process_;
};

TEST_F(ServiceNotify, ReadyOnceTheListenersAnswer) {
  start();
  const std::optional<Message> ready = notify_->next(Millis(15000));
  ASSERT_TRUE(ready.has_value()) << process_->stderr_text();
  // Checked the moment READY arrives: both ports take connections already.
  const LoggedPorts ports = logged_ports(process_->stderr_text());
  EXPECT_TRUE(port_accepts(ports.listener));
  EXPECT_TRUE(port_accepts(ports.admin));
  EXPECT_EQ(ready->count("READY"), 1u);
  EXPECT_EQ(ready->at("READY"), "1");
  EXPECT_THAT(ready->at("STATUS"), StartsWith("serving 1 APIs on 1 listeners"));
  EXPECT_EQ(process_->terminate(SIGTERM, Millis(15000)), 0);
}

TEST_F(ServiceNotify, ReadyOnceEveryWorkerHoldsWarmConnections) {
  if (!NginxBackend::available()) GTEST_SKIP() << "nginx is not installed";
  NginxBackend backend;
  GatewayConfig config;
  config.workers = 2;
  config.apis.push_back({"api", "api", backend.origin(), ""});
  config.pool = {{"minIdle", 3}};
  write_config(config);
  start();
  ASSERT_TRUE(notify_->next(Millis(15000)).has_value()) << process_->stderr_text();

  RawClient admin(logged_ports(process_->stderr_text()).admin);
  ASSERT_TRUE(admin.send(
      make_request("GET", "/metrics", {"Authorization: Bearer " + std::string(kToken)})));
  const std::optional<HttpResponse> metrics = admin.read_response(Millis(5000));
  ASSERT_TRUE(metrics.has_value());
  // minIdle per key per worker, there when READY was sent.
  EXPECT_GE(metric_value(metrics->body, "ringgate_pool_idle_connections").value_or(0), 6);
  EXPECT_EQ(process_->terminate(SIGTERM, Millis(15000)), 0);
}

TEST_F(ServiceNotify, ReadyWaitsUpToBackendConnectMsForAPoolThatCannotWarm) {
  // A backend that completes TCP handshakes (the kernel does) and never
  // answers the TLS one: its pool cannot warm.
  const int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&address), size), 0);
  ASSERT_EQ(::listen(silent, 64), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &size), 0);
  GatewayConfig config;
  config.apis.push_back(
      {"api", "api", "https://127.0.0.1:" + std::to_string(ntohs(address.sin_port)), ""});
  config.pool = {{"minIdle", 1}};
  config.timeouts = {{"backendConnectMs", 800}};
  write_config(config);

  const auto started = Clock::now();
  start();
  const std::optional<Message> ready = notify_->next(Millis(15000));
  const auto waited = std::chrono::duration_cast<Millis>(Clock::now() - started);
  ::close(silent);
  ASSERT_TRUE(ready.has_value()) << process_->stderr_text();
  EXPECT_GE(waited.count(), 700);
  EXPECT_THAT(ready->at("STATUS"), HasSubstr("1 of 1 backend pools not warm yet"));
  EXPECT_EQ(process_->terminate(SIGTERM, Millis(15000)), 0);
}

TEST_F(ServiceNotify, ReloadingThenReadyAroundASighupAndStoppingOnSigterm) {
  start();
  ASSERT_TRUE(notify_->next(Millis(15000)).has_value()) << process_->stderr_text();

  const uint64_t before = monotonic_usec();
  process_->stop(SIGHUP);
  std::optional<Message> reloading = notify_->next(Millis(10000));
  ASSERT_TRUE(reloading.has_value());
  EXPECT_EQ(reloading->count("READY"), 0u);
  EXPECT_EQ((*reloading)["RELOADING"], "1");
  // MONOTONIC_USEC is CLOCK_MONOTONIC when the reload began.
  const uint64_t stamp = std::stoull((*reloading)["MONOTONIC_USEC"]);
  EXPECT_GE(stamp, before);
  EXPECT_LE(stamp, monotonic_usec());
  std::optional<Message> reloaded = notify_->next(Millis(10000));
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_EQ((*reloaded)["READY"], "1");
  EXPECT_THAT((*reloaded)["STATUS"], HasSubstr("config generation 2"));

  // A reload that is rejected ends with READY too: the old config serves.
  write_file(config_path(), "{\"gateway\": {\"workers\": \"four\"}}");
  process_->stop(SIGHUP);
  reloading = notify_->next(Millis(10000));
  ASSERT_TRUE(reloading.has_value());
  EXPECT_EQ((*reloading)["RELOADING"], "1");
  reloaded = notify_->next(Millis(10000));
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_EQ((*reloaded)["READY"], "1");
  EXPECT_THAT((*reloaded)["STATUS"], StartsWith("reload rejected"));

  process_->stop(SIGTERM);
  std::optional<Message> stopping = notify_->next(Millis(10000));
  ASSERT_TRUE(stopping.has_value());
  EXPECT_EQ((*stopping)["STOPPING"], "1");
  EXPECT_THAT((*stopping)["STATUS"], StartsWith("draining"));
  EXPECT_EQ(process_->wait_exit(Millis(15000)), 0);
}

const passwd* service_account() { return ::getpwnam("nobody"); }

TEST(ServiceUser, EveryThreadRunsAsGatewayUserAfterAStartAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: the test starts ringgate as root";
  const passwd* nobody = service_account();
  if (nobody == nullptr) GTEST_SKIP() << "no user \"nobody\" on this machine";
  GatewayConfig config;
  config.user = "nobody";
  config.workers = 2;
  config.access_log_path = "access.log";
  config.apis.push_back({"api", "api", "http://127.0.0.1:9/base", ""});
  GatewayUnderTest gateway(config);
  ASSERT_TRUE(gateway.wait_for_log(std::regex("running as user nobody")));
  // Every worker has started (and named itself) once ready is logged.
  ASSERT_TRUE(gateway.wait_for_log(std::regex("ringgate \\S+ ready")));

  const std::string uid = std::to_string(nobody->pw_uid);
  const std::string gid = std::to_string(nobody->pw_gid);
  const auto threads = thread_status(gateway.process().pid());
  int workers = 0;
  for (const ThreadStatus& fields : threads) {
    const std::string& name = fields.at("Name");
    // Real, effective, saved and filesystem ids alike.
    EXPECT_EQ(fields.at("Uid"), uid + "\t" + uid + "\t" + uid + "\t" + uid) << name;
    EXPECT_EQ(fields.at("Gid"), gid + "\t" + gid + "\t" + gid + "\t" + gid) << name;
    if (name.starts_with("ringgate-w") || name.starts_with("ringgate-log")) {
      workers += name.starts_with("ringgate-w") ? 1 : 0;
      EXPECT_EQ(fields.at("CapEff"), "0000000000000000") << name;
    } else if (name == "ringgate") {
      // The control thread keeps one capability: binding ports below 1024
      // for listeners a reload adds.
      EXPECT_EQ(fields.at("CapEff"), "0000000000000400") << name;
      EXPECT_EQ(fields.at("CapPrm"), "0000000000000400") << name;
    }
  }
  EXPECT_EQ(workers, 2);

  // What the gateway writes after the switch belongs to the user: an admin
  // change lands in the state dir.
  const HttpResponse made =
      gateway.admin("PUT", "/backends/b", R"({"properties": {"url": "https://127.0.0.1:9443"}})");
  EXPECT_EQ(made.status, 201) << made.body;
  struct stat info {};
  ASSERT_EQ(::stat((gateway.state_dir() + "/resources.json").c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, nobody->pw_uid);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  // The access log ringgate opened as root is the user's to write and rotate.
  ASSERT_EQ(
      ::stat((std::filesystem::path(gateway.config_path()).parent_path() / "access.log").c_str(),
             &info),
      0);
  EXPECT_EQ(info.st_uid, nobody->pw_uid);

  // And a reload re-reads the config, token and state dir as that user.
  gateway.process().stop(SIGHUP);
  EXPECT_TRUE(gateway.wait_for_log(std::regex("reload: config generation \\d+ is live")))
      << gateway.process().stderr_text();
  EXPECT_EQ(gateway.get("/api/x").status, 502);
}

TEST(ServiceUser, RootWithoutGatewayUserWarnsAtStart) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: the warning is for a start as root";
  GatewayConfig config;
  config.apis.push_back({"api", "api", "http://127.0.0.1:9/base", ""});
  GatewayUnderTest gateway(config);
  EXPECT_TRUE(gateway.wait_for_log(std::regex(R"(warn running as root: set \$\.gateway\.user)")))
      << gateway.process().stderr_text();
}

// Not root at all: a user given CAP_NET_BIND_SERVICE (systemd's
// AmbientCapabilities) binds :443; without it the start fails and says why.
TEST(ServiceUser, AnUnprivilegedUserWithTheBindCapabilityListensOn443) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start ringgate as another user";
  if (!is_executable("/usr/bin/setpriv")) GTEST_SKIP() << "setpriv (util-linux) is missing";
  if (port_accepts(443)) GTEST_SKIP() << "something already listens on 127.0.0.1:443";
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  write_file(dir.file("admin.token"), "bind-test-token\n", 0644);
  GatewayConfig config;
  write_file(dir.file("ringgate.json"),
             gateway_config_json(config, 443, free_port(), "admin.token"));
  ::mkdir(dir.file("state").c_str(), 0700);
  const passwd* nobody = service_account();
  if (nobody == nullptr) GTEST_SKIP() << "no user \"nobody\" on this machine";
  ASSERT_EQ(::chown(dir.file("state").c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  const std::vector<std::string> as_nobody = {"/usr/bin/setpriv", "--reuid=nobody",
                                              "--regid=" + std::to_string(nobody->pw_gid),
                                              "--clear-groups"};

  std::vector<std::string> argv = as_nobody;
  argv.insert(argv.end(), {"--inh-caps=+net_bind_service", "--ambient-caps=+net_bind_service",
                           ringgate_binary(), "--config", dir.file("ringgate.json")});
  Process with(argv, dir.path(), "with-capability");
  const auto deadline = Clock::now() + Millis(10000);
  while (!port_accepts(443) && with.running() && Clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(20));
  }
  EXPECT_TRUE(port_accepts(443)) << with.stderr_text();
  EXPECT_EQ(with.terminate(SIGTERM, Millis(15000)), 0);

  argv = as_nobody;
  argv.insert(argv.end(), {ringgate_binary(), "--config", dir.file("ringgate.json")});
  Process without(argv, dir.path(), "without-capability");
  EXPECT_EQ(without.wait_exit(Millis(10000)), 1);
  EXPECT_THAT(without.stderr_text(),
              HasSubstr("127.0.0.1:443: Permission denied (a port below 1024 needs root or "
                        "CAP_NET_BIND_SERVICE)"));
}

}  // namespace
}  // namespace ringgate::itest
