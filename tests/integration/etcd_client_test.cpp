// EtcdClient against a real 3-member etcd cluster: reads, transactions and
// failover when members die.
#include <gtest/gtest.h>

#include "etcd_test_support.hpp"

namespace ringgate::itest {
namespace {

using fleet::Compare;
using fleet::EtcdClient;
using fleet::Operation;

class EtcdClientTest : public EtcdClusterTest {};

TEST_F(EtcdClientTest, RangePrefix_EmptyThenEveryPutInKeyOrder) {
  EtcdClient client(options());
  std::string prefix = test_prefix();

  fleet::RangeResult empty = client.range_prefix(prefix);
  ASSERT_TRUE(empty.ok()) << empty.error;
  EXPECT_TRUE(empty.kvs.empty());
  EXPECT_GT(empty.revision, 0);

  int64_t first = put(client, prefix + "b", "two");
  int64_t second = put(client, prefix + "a", "one");
  put(client, prefix.substr(0, prefix.size() - 1) + "0", "outside the prefix");
  ASSERT_GT(second, first);

  fleet::RangeResult full = client.range_prefix(prefix);
  ASSERT_TRUE(full.ok()) << full.error;
  ASSERT_EQ(full.kvs.size(), 2u);
  EXPECT_EQ(full.kvs[0].key, prefix + "a");
  EXPECT_EQ(full.kvs[0].value, "one");
  EXPECT_EQ(full.kvs[0].mod_revision, second);
  EXPECT_EQ(full.kvs[0].create_revision, second);
  EXPECT_EQ(full.kvs[0].version, 1);
  EXPECT_EQ(full.kvs[1].key, prefix + "b");
  EXPECT_EQ(full.kvs[1].mod_revision, first);
  EXPECT_GE(full.revision, second + 1);
}

TEST_F(EtcdClientTest, Range_BinaryKeysAndValuesRoundTrip) {
  EtcdClient client(options());
  std::string key = test_prefix() + std::string("k\0\xff\x80", 4);
  std::string value;
  for (int i = 0; i < 256; ++i) value += static_cast<char>(i);
  value += std::string(1000, '\0');  // every padding case and a long run of NULs
  for (size_t cut : {value.size(), value.size() - 1, value.size() - 2, size_t{0}}) {
    put(client, key, value.substr(0, cut));
    fleet::RangeResult got = client.range(key);
    ASSERT_TRUE(got.ok()) << got.error;
    ASSERT_EQ(got.kvs.size(), 1u);
    EXPECT_EQ(got.kvs[0].key, key);
    EXPECT_EQ(got.kvs[0].value, value.substr(0, cut)) << "length " << cut;
  }
}

TEST_F(EtcdClientTest, Range_OneKeyOrNothing) {
  EtcdClient client(options());
  std::string prefix = test_prefix();
  put(client, prefix + "key", "v");
  put(client, prefix + "key2", "w");

  fleet::RangeResult one = client.range(prefix + "key");
  ASSERT_TRUE(one.ok()) << one.error;
  ASSERT_EQ(one.kvs.size(), 1u);
  EXPECT_EQ(one.kvs[0].value, "v");

  fleet::RangeResult none = client.range(prefix + "absent");
  ASSERT_TRUE(none.ok()) << none.error;
  EXPECT_TRUE(none.kvs.empty());
}

TEST_F(EtcdClientTest, Txn_ModRevisionCompareChoosesBranch) {
  EtcdClient client(options());
  std::string key = test_prefix() + "entity";
  int64_t created = put(client, key, "v1");

  Compare stale{key, "", Compare::Target::kModRevision, Compare::Result::kEqual, created - 1};
  fleet::TxnResult refused = client.txn({stale}, {{Operation::Kind::kPut, key, "lost"}},
                                        {{Operation::Kind::kPut, key + ".conflict", "x"}});
  ASSERT_TRUE(refused.ok()) << refused.error;
  EXPECT_FALSE(refused.succeeded);
  EXPECT_EQ(client.range(key).kvs.at(0).value, "v1");
  EXPECT_EQ(client.range(key + ".conflict").kvs.size(), 1u) << "the failure branch ran";

  int64_t now = client.range(key).kvs.at(0).mod_revision;
  Compare current{key, "", Compare::Target::kModRevision, Compare::Result::kEqual, now};
  fleet::TxnResult applied = client.txn({current}, {{Operation::Kind::kPut, key, "v2"}});
  ASSERT_TRUE(applied.ok()) << applied.error;
  EXPECT_TRUE(applied.succeeded);
  fleet::RangeResult after = client.range(key);
  EXPECT_EQ(after.kvs.at(0).value, "v2");
  EXPECT_EQ(after.kvs.at(0).mod_revision, applied.revision);
  EXPECT_EQ(after.kvs.at(0).version, 2);
}

TEST_F(EtcdClientTest, Txn_VersionZeroMeansAbsent) {
  EtcdClient client(options());
  std::string key = test_prefix() + "new";
  Compare absent{key, "", Compare::Target::kVersion, Compare::Result::kEqual, 0};

  fleet::TxnResult create = client.txn({absent}, {{Operation::Kind::kPut, key, "first"}});
  ASSERT_TRUE(create.ok()) << create.error;
  EXPECT_TRUE(create.succeeded);

  fleet::TxnResult again = client.txn({absent}, {{Operation::Kind::kPut, key, "second"}});
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_FALSE(again.succeeded);
  EXPECT_EQ(again.revision, create.revision) << "a failed branch with no writes changes nothing";
  EXPECT_EQ(client.range(key).kvs.at(0).value, "first");
}

TEST_F(EtcdClientTest, Txn_RangeCompareCoversEveryKeyUnderPrefix) {
  EtcdClient client(options());
  std::string users = test_prefix() + "users/";
  Compare none_in_use{users, fleet::prefix_range_end(users), Compare::Target::kVersion,
                      Compare::Result::kEqual, 0};
  std::string target = test_prefix() + "backend";
  put(client, target, "b");

  fleet::TxnResult unused = client.txn({none_in_use}, {{Operation::Kind::kDelete, target, ""}});
  ASSERT_TRUE(unused.ok()) << unused.error;
  EXPECT_TRUE(unused.succeeded) << "no key under the prefix: every version is 0";
  EXPECT_TRUE(client.range(target).kvs.empty());

  put(client, target, "b");
  put(client, users + "api1", "uses backend");
  fleet::TxnResult in_use = client.txn({none_in_use}, {{Operation::Kind::kDelete, target, ""}});
  ASSERT_TRUE(in_use.ok()) << in_use.error;
  EXPECT_FALSE(in_use.succeeded);
  EXPECT_EQ(client.range(target).kvs.size(), 1u);
}

TEST_F(EtcdClientTest, Txn_DeleteRemovesOnlyThatKey) {
  EtcdClient client(options());
  std::string prefix = test_prefix();
  put(client, prefix + "a", "1");
  put(client, prefix + "ab", "2");
  int64_t deleted_at = remove(client, prefix + "a");

  fleet::RangeResult left = client.range_prefix(prefix);
  ASSERT_TRUE(left.ok()) << left.error;
  ASSERT_EQ(left.kvs.size(), 1u);
  EXPECT_EQ(left.kvs[0].key, prefix + "ab");
  EXPECT_GE(left.revision, deleted_at);
}

TEST_F(EtcdClientTest, Failover_DeadFirstEndpointIsSkipped) {
  fleet::EtcdOptions with_dead = options();
  with_dead.endpoints.insert(with_dead.endpoints.begin(),
                             "http://127.0.0.1:" + std::to_string(free_port()));
  EtcdClient client(with_dead);
  std::string key = test_prefix() + "k";
  put(client, key, "v");
  EXPECT_EQ(client.preferred_endpoint(), 1u)
      << "the next request starts from the one that answered";
  fleet::RangeResult got = client.range(key);
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.kvs.at(0).value, "v");
  EXPECT_EQ(client.check(), "");
}

TEST_F(EtcdClientTest, Failover_LeaderKilledRequestsGoOn) {
  size_t leader = cluster().leader();
  // The leader first, so the client is talking to it when it dies.
  fleet::EtcdOptions leader_first;
  leader_first.endpoints.push_back(cluster().endpoint(leader));
  for (size_t i = 0; i < cluster().size(); ++i) {
    if (i != leader) leader_first.endpoints.push_back(cluster().endpoint(i));
  }
  EtcdClient client(leader_first);
  std::string key = test_prefix() + "k";
  put(client, key, "before");

  cluster().kill(leader);
  fleet::TxnResult after = client.txn({}, {{Operation::Kind::kPut, key, "after"}});
  ASSERT_TRUE(after.ok()) << after.error;
  EXPECT_NE(client.preferred_endpoint(), 0u);
  fleet::RangeResult got = client.range(key);
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.kvs.at(0).value, "after");
  EXPECT_EQ(got.kvs.at(0).version, 2);
  EXPECT_EQ(client.check(), "");
}

TEST_F(EtcdClientTest, Failover_NoEndpointAnsweringNamesEach) {
  fleet::EtcdOptions dead;
  dead.endpoints = {"http://127.0.0.1:" + std::to_string(free_port()),
                    "http://127.0.0.1:" + std::to_string(free_port())};
  EtcdClient client(dead);
  fleet::RangeResult got = client.range("/x");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error.find(dead.endpoints[0]), std::string::npos) << got.error;
  EXPECT_NE(got.error.find(dead.endpoints[1]), std::string::npos) << got.error;
  EXPECT_NE(client.check(), "");
}

TEST_F(EtcdClientTest, Errors_EtcdRefusalIsReturnedWithoutFailover) {
  EtcdClient client(options());
  std::string key = test_prefix() + "k";
  // etcd refuses a transaction that writes one key twice: its verdict on the
  // request, which no other member would change.
  fleet::TxnResult result =
      client.txn({}, {{Operation::Kind::kPut, key, "1"}, {Operation::Kind::kPut, key, "2"}});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error.find("duplicate key"), std::string::npos) << result.error;
  EXPECT_EQ(result.error.find("no etcd endpoint answered"), std::string::npos) << result.error;
  EXPECT_EQ(client.preferred_endpoint(), 0u);
}

TEST_F(EtcdClientTest, Check_HealthyClusterAnswers) {
  EtcdClient client(options());
  EXPECT_EQ(client.check(), "");
}

TEST_F(EtcdClientTest, Check_MemberWithoutQuorumIsNotHealthy) {
  cluster().kill(1);
  cluster().kill(2);
  fleet::EtcdOptions survivor;
  survivor.endpoints = {cluster().endpoint(0)};
  EtcdClient client(survivor);
  std::string problem;
  EXPECT_TRUE(eventually(
      [&] {
        problem = client.check();
        return problem.find("no leader") != std::string::npos;
      },
      Millis(5000)))
      << problem;
}

}  // namespace
}  // namespace ringgate::itest
