#include "harness_etcd.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace ringgate::itest {
namespace {

constexpr const char* kEtcd = "/usr/bin/etcd";
constexpr const char* kEtcdctl = "/usr/bin/etcdctl";

std::string scheme(const EtcdClusterOptions& options) { return options.tls ? "https" : "http"; }

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

void run_openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = run_command(argv);
  if (result.exit_code != 0) {
    throw std::runtime_error("openssl " + join(args, " ") + " failed: " + result.err);
  }
}

}  // namespace

TestCert etcd_member_certificate(const TestCert& ca, const TempDir& dir) {
  TestCert cert;
  cert.cert_pem = dir.file("etcd-member.pem");
  cert.key_pem = dir.file("etcd-member.key");
  cert.subject = "CN=etcd-member";
  std::string csr = dir.file("etcd-member.csr");
  std::string ext = dir.file("etcd-member.ext");
  write_file(ext,
             "basicConstraints=CA:FALSE\n"
             "keyUsage=critical,digitalSignature,keyEncipherment\n"
             "extendedKeyUsage=serverAuth,clientAuth\n"
             "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run_openssl({"req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
               "-subj", "/CN=etcd-member", "-keyout", cert.key_pem, "-out", csr});
  run_openssl({"x509", "-req", "-in", csr, "-CA", ca.cert_pem, "-CAkey", ca.key_pem, "-set_serial",
               "4242", "-days", "30", "-sha256", "-extfile", ext, "-out", cert.cert_pem});
  return cert;
}

bool EtcdCluster::available() { return is_executable(kEtcd) && is_executable(kEtcdctl); }

EtcdCluster::EtcdCluster(EtcdClusterOptions options) : options_(std::move(options)) {
  if (options_.members == 0) throw std::runtime_error("an etcd cluster needs a member");
  // Ports come from the kernel and may be taken again before etcd binds them:
  // one more try on fresh ports covers that race.
  if (!start_members()) {
    for (auto& member : members_) member.process.reset();
    if (!start_members()) throw std::runtime_error("etcd members could not bind:\n" + logs());
  }
  wait_healthy();
}

EtcdCluster::~EtcdCluster() = default;

bool EtcdCluster::start_members() {
  members_.clear();
  members_.resize(options_.members);
  for (size_t i = 0; i < members_.size(); ++i) {
    // (Appending, not "m" + to_string: GCC 12 at -O3 warns falsely about that.)
    members_[i].name = std::string("m").append(std::to_string(i));
    members_[i].client_port = free_port();
    members_[i].peer_port = free_port();
  }
  for (size_t i = 0; i < members_.size(); ++i) launch(i, "new");
  // A member that could not bind exits within a moment of starting.
  bool bound = !eventually(
      [&] {
        for (size_t i = 0; i < members_.size(); ++i) {
          if (bind_failed(i)) return true;
        }
        return false;
      },
      Millis(1500));
  return bound;
}

bool EtcdCluster::bind_failed(size_t i) const {
  return log(i).find("address already in use") != std::string::npos;
}

std::string EtcdCluster::initial_cluster() const {
  std::vector<std::string> peers;
  for (const auto& member : members_) {
    peers.push_back(member.name + "=http://127.0.0.1:" + std::to_string(member.peer_port));
  }
  return join(peers, ",");
}

void EtcdCluster::launch(size_t i, const std::string& cluster_state) {
  Member& member = members_[i];
  std::string client_url = endpoint(i);
  std::string peer_url = "http://127.0.0.1:" + std::to_string(member.peer_port);
  std::vector<std::string> argv = {kEtcd,
                                   "--name",
                                   member.name,
                                   "--data-dir",
                                   dir_.file(member.name + ".data"),
                                   "--listen-client-urls",
                                   client_url,
                                   "--advertise-client-urls",
                                   client_url,
                                   "--listen-peer-urls",
                                   peer_url,
                                   "--initial-advertise-peer-urls",
                                   peer_url,
                                   "--initial-cluster",
                                   initial_cluster(),
                                   "--initial-cluster-state",
                                   cluster_state,
                                   "--initial-cluster-token",
                                   "ringgate-itest",
                                   "--heartbeat-interval",
                                   "50",
                                   "--election-timeout",
                                   "500",
                                   "--logger",
                                   "zap",
                                   "--log-outputs",
                                   "stderr"};
  if (options_.tls) {
    argv.insert(argv.end(),
                {"--cert-file", options_.server.cert_pem, "--key-file", options_.server.key_pem,
                 "--trusted-ca-file", options_.client_ca_file, "--client-cert-auth"});
  }
  ++member.runs;
  member.process = std::make_unique<Process>(argv, dir_.path(),
                                             member.name + ".run" + std::to_string(member.runs));
}

std::vector<std::string> EtcdCluster::client_urls() const {
  std::vector<std::string> urls;
  for (size_t i = 0; i < members_.size(); ++i) urls.push_back(endpoint(i));
  return urls;
}

std::string EtcdCluster::endpoint(size_t i) const {
  return scheme(options_) + "://127.0.0.1:" + std::to_string(members_.at(i).client_port);
}

bool EtcdCluster::running(size_t i) {
  auto& process = members_.at(i).process;
  return process != nullptr && process->running();
}

void EtcdCluster::kill(size_t i) {
  auto& process = members_.at(i).process;
  if (process == nullptr) return;
  process->stop(SIGKILL);
  process->wait_exit(Millis(5000));
}

void EtcdCluster::freeze(size_t i) {
  if (auto& process = members_.at(i).process) ::kill(process->pid(), SIGSTOP);
}

void EtcdCluster::thaw(size_t i) {
  if (auto& process = members_.at(i).process) ::kill(process->pid(), SIGCONT);
}

void EtcdCluster::stop(size_t i) {
  auto& process = members_.at(i).process;
  if (process != nullptr) process->terminate(SIGTERM, Millis(10000));
}

void EtcdCluster::restart(size_t i) {
  if (running(i)) return;
  launch(i, "existing");
  wait_healthy();
}

void EtcdCluster::stop_all() {
  for (size_t i = 0; i < members_.size(); ++i) stop(i);
}

void EtcdCluster::restart_all() {
  for (size_t i = 0; i < members_.size(); ++i) {
    if (!running(i)) launch(i, "existing");
  }
  wait_healthy();
}

void EtcdCluster::wait_healthy(Millis timeout) {
  CommandResult last;
  bool healthy = eventually(
      [&] {
        last = etcdctl_result({"endpoint", "health"}, Millis(5000));
        return last.exit_code == 0;
      },
      timeout, Millis(100));
  if (!healthy) {
    throw std::runtime_error("etcd cluster not healthy: " + last.out + last.err + "\n" + logs());
  }
}

size_t EtcdCluster::leader(Millis timeout) {
  std::optional<size_t> found;
  std::string last;
  eventually(
      [&] {
        CommandResult status = etcdctl_result({"endpoint", "status", "-w", "json"});
        last = status.out + status.err;
        auto parsed = nlohmann::json::parse(status.out, nullptr, false);
        if (!parsed.is_array()) return false;
        for (const auto& entry : parsed) {
          const auto& s = entry.value("Status", nlohmann::json::object());
          if (!s.contains("header") || !s.contains("leader")) continue;
          if (s["leader"] != s["header"].value("member_id", nlohmann::json())) continue;
          std::string url = entry.value("Endpoint", "");
          for (size_t i = 0; i < members_.size(); ++i) {
            if (endpoint(i) == url) found = i;
          }
        }
        return found.has_value();
      },
      timeout, Millis(100));
  if (!found) throw std::runtime_error("no etcd leader: " + last);
  return *found;
}

int64_t EtcdCluster::current_revision() {
  auto parsed =
      nlohmann::json::parse(etcdctl({"endpoint", "status", "-w", "json"}), nullptr, false);
  int64_t revision = 0;
  if (parsed.is_array()) {
    for (const auto& entry : parsed) {
      auto s = entry.value("Status", nlohmann::json::object());
      if (s.contains("header")) {
        revision = std::max(revision, s["header"].value("revision", int64_t{0}));
      }
    }
  }
  if (revision == 0) throw std::runtime_error("no etcd member reported a revision");
  return revision;
}

void EtcdCluster::compact(int64_t revision) { etcdctl({"compact", std::to_string(revision)}); }

std::vector<std::string> EtcdCluster::etcdctl_argv(const std::vector<std::string>& args) {
  std::vector<std::string> endpoints;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (running(i)) endpoints.push_back(endpoint(i));
  }
  std::vector<std::string> argv = {kEtcdctl, "--endpoints=" + join(endpoints, ","),
                                   "--dial-timeout=2s", "--command-timeout=5s"};
  if (options_.tls) {
    argv.insert(argv.end(), {"--cacert=" + options_.server_ca_file,
                             "--cert=" + options_.etcdctl_client.cert_pem,
                             "--key=" + options_.etcdctl_client.key_pem});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

CommandResult EtcdCluster::etcdctl_result(const std::vector<std::string>& args, Millis timeout) {
  return run_command(etcdctl_argv(args), timeout, {"ETCDCTL_API=3"});
}

std::string EtcdCluster::etcdctl(const std::vector<std::string>& args) {
  CommandResult result = etcdctl_result(args);
  if (result.exit_code != 0) {
    throw std::runtime_error("etcdctl " + join(args, " ") + " failed: " + result.err);
  }
  return result.out;
}

std::string EtcdCluster::log(size_t i) const {
  const Member& member = members_.at(i);
  std::string text;
  for (int run = 1; run <= member.runs; ++run) {
    text += read_file(dir_.file(member.name + ".run" + std::to_string(run) + ".stderr"));
  }
  return text;
}

std::string EtcdCluster::logs() const {
  std::string text;
  for (size_t i = 0; i < members_.size(); ++i) {
    text += "--- " + members_[i].name + " log (tail):\n" + tail(log(i), 2000) + "\n";
  }
  return text;
}

}  // namespace ringgate::itest
