// What the etcd client tests share: a fixture that starts one real 3-member
// cluster per test suite (members a test killed are restarted after it), and a
// small poll loop that drives an EtcdWatch the way the control thread does.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fleet/etcd_client.hpp"
#include "fleet/etcd_watch.hpp"
#include "harness_etcd.hpp"

namespace ringgate::itest {

class EtcdClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    start_error() = "";
    if (!EtcdCluster::available()) return;
    try {
      cluster_holder() = std::make_unique<EtcdCluster>(suite_options());
    } catch (const std::exception& e) {
      start_error() = e.what();
    }
  }
  static void TearDownTestSuite() { cluster_holder().reset(); }

  void SetUp() override {
    if (!EtcdCluster::available()) GTEST_SKIP() << "etcd (etcd-server, etcd-client) not installed";
    ASSERT_TRUE(cluster_holder() != nullptr) << "etcd cluster did not start: " << start_error();
  }
  void TearDown() override {
    if (cluster_holder() != nullptr) cluster_holder()->restart_all();
  }

  static EtcdCluster& cluster() { return *cluster_holder(); }

  // Options reaching every member, in member order.
  static fleet::EtcdOptions options() {
    fleet::EtcdOptions out;
    out.endpoints = cluster().client_urls();
    return out;
  }

  // A key prefix no other test uses: "/itest/<Test>/".
  static std::string test_prefix() {
    return std::string("/itest/") +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  }

  // The cluster a suite runs on (3 members, plain http unless a suite says).
  static EtcdClusterOptions& suite_options() {
    static EtcdClusterOptions options;
    return options;
  }

 private:
  static std::unique_ptr<EtcdCluster>& cluster_holder() {
    static std::unique_ptr<EtcdCluster> cluster;
    return cluster;
  }
  static std::string& start_error() {
    static std::string error;
    return error;
  }
};

// Everything a watch delivered over several take()s.
struct WatchLog {
  std::vector<fleet::WatchEvent> events;
  int64_t revision = 0;
  bool established = false;
  int64_t compact_revision = 0;
  std::string ended;

  void add(fleet::EtcdWatch::Batch batch) {
    for (auto& event : batch.events) events.push_back(std::move(event));
    revision = std::max(revision, batch.revision);
    established = established || batch.established;
    if (batch.compact_revision > 0) compact_revision = batch.compact_revision;
    if (!batch.ended.empty()) ended = batch.ended;
  }
};

// Runs the control thread's loop over `watch` until `done(log)` holds or
// `timeout` passes; returns whether `done` held. Takes into `log`.
inline bool drive_watch(fleet::EtcdWatch& watch, WatchLog& log,
                        const std::function<bool(const WatchLog&)>& done, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  std::vector<pollfd> fds;
  while (Clock::now() < deadline) {
    fds.clear();
    watch.collect(fds);
    int wait = watch.next_timeout_ms();
    if (wait < 0 || wait > 50) wait = 50;
    int ready = ::poll(fds.data(), fds.size(), wait);
    for (int i = 0; ready > 0 && i < static_cast<int>(fds.size()); ++i) {
      if (fds[i].revents != 0 && watch.owns(fds[i].fd)) watch.handle(fds[i]);
    }
    watch.on_timeout();
    log.add(watch.take());
    if (done(log)) return true;
  }
  return false;
}

// Plain puts and deletes through the client under test, asserting each works.
inline int64_t put(fleet::EtcdClient& client, const std::string& key, const std::string& value) {
  fleet::TxnResult result = client.txn({}, {{fleet::Operation::Kind::kPut, key, value}});
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_TRUE(result.succeeded);
  return result.revision;
}

inline int64_t remove(fleet::EtcdClient& client, const std::string& key) {
  fleet::TxnResult result = client.txn({}, {{fleet::Operation::Kind::kDelete, key, ""}});
  EXPECT_TRUE(result.ok()) << result.error;
  return result.revision;
}

}  // namespace ringgate::itest
