// EtcdWatch against a real 3-member etcd cluster, driven by a poll loop as the
// control thread drives it: events in order, compaction, a member dying under
// the stream.
#include <gtest/gtest.h>

#include "etcd_test_support.hpp"

namespace ringgate::itest {
namespace {

using fleet::EtcdClient;
using fleet::EtcdWatch;
using fleet::WatchEvent;

class EtcdWatchTest : public EtcdClusterTest {};

bool has_events(const WatchLog& log, size_t n) { return log.events.size() >= n; }

TEST_F(EtcdWatchTest, EventsArriveInRevisionOrder) {
  EtcdClient client(options());
  std::string prefix = test_prefix();
  EtcdWatch watch(options());
  watch.start(prefix, 0);
  ASSERT_TRUE(watch.running());
  WatchLog log;
  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return l.established; }, Millis(5000)))
      << log.ended;

  int64_t r1 = put(client, prefix + "a", "1");
  int64_t r2 = put(client, prefix + "b", std::string("\0\xff", 2));
  put(client, test_prefix().substr(0, prefix.size() - 1) + "~", "outside");
  int64_t r3 = remove(client, prefix + "a");
  int64_t r4 = put(client, prefix + "b", "3");
  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return has_events(l, 4); }, Millis(5000)))
      << "got " << log.events.size() << " events; ended: " << log.ended;

  ASSERT_EQ(log.events.size(), 4u);
  EXPECT_EQ(log.events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(log.events[0].kv.key, prefix + "a");
  EXPECT_EQ(log.events[0].kv.value, "1");
  EXPECT_EQ(log.events[0].kv.mod_revision, r1);
  EXPECT_EQ(log.events[1].kv.value, std::string("\0\xff", 2));
  EXPECT_EQ(log.events[1].kv.mod_revision, r2);
  EXPECT_EQ(log.events[2].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(log.events[2].kv.key, prefix + "a");
  EXPECT_EQ(log.events[2].kv.mod_revision, r3);
  EXPECT_EQ(log.events[3].kv.mod_revision, r4);
  EXPECT_EQ(log.events[3].kv.version, 2);
  EXPECT_GE(log.revision, r4);
  EXPECT_TRUE(log.ended.empty()) << log.ended;
  EXPECT_TRUE(watch.running());

  watch.stop();
  EXPECT_FALSE(watch.running());
  std::vector<pollfd> fds;
  watch.collect(fds);
  EXPECT_TRUE(fds.empty());
}

TEST_F(EtcdWatchTest, StartRevisionReplaysHistory) {
  EtcdClient client(options());
  std::string prefix = test_prefix();
  int64_t r1 = put(client, prefix + "x", "1");
  int64_t r2 = put(client, prefix + "x", "2");
  EtcdWatch watch(options());
  watch.start(prefix, r1);
  WatchLog log;
  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return has_events(l, 2); }, Millis(5000)))
      << log.ended;
  EXPECT_TRUE(log.established);
  EXPECT_EQ(log.events[0].kv.mod_revision, r1);
  EXPECT_EQ(log.events[1].kv.mod_revision, r2);
}

TEST_F(EtcdWatchTest, CompactedStartReportsCompactRevision) {
  EtcdClient client(options());
  std::string prefix = test_prefix();
  int64_t old = put(client, prefix + "k", "1");
  put(client, prefix + "k", "2");
  int64_t now = cluster().current_revision();
  cluster().compact(now);

  EtcdWatch watch(options());
  watch.start(prefix, old);
  WatchLog log;
  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return !l.ended.empty(); }, Millis(5000)));
  EXPECT_EQ(log.compact_revision, now);
  EXPECT_TRUE(log.events.empty());
  EXPECT_FALSE(watch.running());
  EXPECT_NE(log.ended.find("cancel"), std::string::npos) << log.ended;
}

TEST_F(EtcdWatchTest, KilledMemberEndsStreamAndRestartLosesNothing) {
  EtcdClient client(options());
  std::string prefix = test_prefix();
  EtcdWatch watch(options());
  watch.start(prefix, 0);
  WatchLog log;
  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return l.established; }, Millis(5000)));
  int64_t r1 = put(client, prefix + "1", "one");
  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return has_events(l, 1); }, Millis(5000)));

  size_t member = 0;
  for (size_t i = 0; i < cluster().size(); ++i) {
    if (cluster().endpoint(i) == watch.endpoint()) member = i;
  }
  cluster().kill(member);
  auto killed_at = Clock::now();
  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return !l.ended.empty(); }, Millis(8000)))
      << "the stream outlived its member";
  EXPECT_LT(elapsed_ms(killed_at), 5000);
  EXPECT_FALSE(watch.running());

  // Writes while no stream is open must arrive once the watch resumes.
  int64_t r2 = put(client, prefix + "2", "two");
  int64_t r3 = remove(client, prefix + "1");
  int64_t last_seen = log.events.back().kv.mod_revision;
  ASSERT_EQ(last_seen, r1);
  watch.start(prefix, last_seen + 1);
  EXPECT_NE(watch.endpoint(), cluster().endpoint(member)) << "the restart left the dead member";
  WatchLog resumed;
  ASSERT_TRUE(drive_watch(
      watch, resumed, [](const WatchLog& l) { return has_events(l, 2); }, Millis(8000)))
      << resumed.ended;
  ASSERT_EQ(resumed.events.size(), 2u);
  EXPECT_EQ(resumed.events[0].kv.mod_revision, r2);
  EXPECT_EQ(resumed.events[0].kv.value, "two");
  EXPECT_EQ(resumed.events[1].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(resumed.events[1].kv.mod_revision, r3);
}

TEST_F(EtcdWatchTest, NoEndpointReachableEndsStream) {
  fleet::EtcdOptions dead;
  dead.endpoints = {"http://127.0.0.1:" + std::to_string(free_port())};
  EtcdWatch watch(dead);
  watch.start("/x/", 0);
  WatchLog log;
  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return !l.ended.empty(); }, Millis(5000)));
  EXPECT_NE(log.ended.find(dead.endpoints[0]), std::string::npos) << log.ended;
  EXPECT_FALSE(log.established);
}

}  // namespace
}  // namespace ringgate::itest
