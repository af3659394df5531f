// Integration-test harness, etcd part: a real N-member etcd cluster
// (/usr/bin/etcd, Debian's etcd-server 3.4) on 127.0.0.1, ports from the
// kernel, data in a TempDir, tuned for tests (50 ms heartbeats, 500 ms
// elections). Members are driven one by one (kill, stop, restart with the same
// data and ports) to script failover; etcdctl (ETCDCTL_API=3) answers
// questions about the cluster. Failures throw std::runtime_error with the
// member logs' tails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness_base.hpp"
#include "harness_tls.hpp"

namespace ringgate::itest {

struct EtcdClusterOptions {
  size_t members = 3;
  // When set, the members serve https on their client URLs with this
  // certificate (SAN IP:127.0.0.1) and require client certificates signed by
  // `client_ca_file`; etcdctl then presents `etcdctl_client` and trusts
  // `server_ca_file`. Peer traffic stays plain http.
  bool tls = false;
  TestCert server;
  std::string server_ca_file;
  std::string client_ca_file;
  TestCert etcdctl_client;
};

// A certificate for etcd members' https client URLs, signed by `ca`, in `dir`:
// SAN IP:127.0.0.1 and DNS:localhost, with both serverAuth and clientAuth. etcd
// 3.4's JSON gateway dials its own gRPC server presenting the member's server
// certificate, so with --client-cert-auth a serverAuth-only certificate makes
// every gateway request fail ("HTTP 503: connection closed"). Throws with
// openssl's stderr when a step fails.
TestCert etcd_member_certificate(const TestCert& ca, const TempDir& dir);

class EtcdCluster {
 public:
  // Starts every member and waits (up to ~20 s) until each is healthy. A
  // member that cannot bind its ports (another process took one) makes the
  // whole cluster start again once on new ports.
  explicit EtcdCluster(EtcdClusterOptions options = {});
  // Kills every member (SIGKILL, by PID).
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // True when /usr/bin/etcd and /usr/bin/etcdctl are installed.
  static bool available();

  size_t size() const { return members_.size(); }
  // Every member's client URL ("http://127.0.0.1:PORT"), in member order.
  std::vector<std::string> client_urls() const;
  std::string endpoint(size_t i) const;
  // Whether member i's process is running.
  bool running(size_t i);

  // The index of the member the running members agree leads; throws when none
  // does within `timeout`.
  size_t leader(Millis timeout = Millis(10000));

  // SIGKILL to member i (its data stays).
  void kill(size_t i);
  // SIGSTOP / SIGCONT to member i: frozen, its sockets stay open and its
  // kernel still answers TCP keepalives, but it says nothing.
  void freeze(size_t i);
  void thaw(size_t i);
  // SIGTERM to member i and waits for it to exit.
  void stop(size_t i);
  // Starts member i again on its data dir and ports and waits until it is
  // healthy (it rejoins the cluster). Does nothing to a running member.
  void restart(size_t i);
  void stop_all();
  // Starts every member that is not running and waits until all are healthy.
  void restart_all();
  // Waits until every running member reports healthy; throws after `timeout`.
  void wait_healthy(Millis timeout = Millis(20000));

  // The cluster's revision now (from a running member's status).
  int64_t current_revision();
  // Compacts the key space up to `revision` (etcdctl compact).
  void compact(int64_t revision);

  // Runs etcdctl with `args` against every running member and returns its
  // stdout; throws with stderr when it fails.
  std::string etcdctl(const std::vector<std::string>& args);
  // The same, without throwing.
  CommandResult etcdctl_result(const std::vector<std::string>& args,
                               Millis timeout = Millis(10000));

  // Member i's log (every run of it), for failure messages.
  std::string log(size_t i) const;
  // The tails of every member's log.
  std::string logs() const;

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    int runs = 0;
    std::unique_ptr<Process> process;
  };

  // Picks ports and starts every member; false when one could not bind.
  bool start_members();
  void launch(size_t i, const std::string& cluster_state);
  std::string initial_cluster() const;
  std::vector<std::string> etcdctl_argv(const std::vector<std::string>& args);
  bool bind_failed(size_t i) const;

  EtcdClusterOptions options_;
  TempDir dir_;
  std::vector<Member> members_;
};

}  // namespace ringgate::itest
