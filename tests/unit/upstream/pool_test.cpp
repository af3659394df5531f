#include "upstream/pool.hpp"

#include <gtest/gtest.h>

namespace ringgate::upstream {
namespace {

TEST(Pool, TakesMostRecentlyUsedIdleFirst) {
  Pool pool("k");
  pool.put_idle(1);
  pool.put_idle(2);
  EXPECT_EQ(pool.take_idle(), 2u);
  EXPECT_EQ(pool.take_idle(), 1u);
  EXPECT_EQ(pool.take_idle(), kNoConnection);
}

TEST(Pool, RemoveIdleForgetsOnlyThatConnection) {
  Pool pool("k");
  pool.put_idle(1);
  pool.put_idle(2);
  pool.put_idle(3);
  EXPECT_TRUE(pool.remove_idle(2));
  EXPECT_FALSE(pool.remove_idle(2));
  EXPECT_EQ(pool.idle_count(), 2u);
  EXPECT_EQ(pool.take_idle(), 3u);
  EXPECT_EQ(pool.take_idle(), 1u);
}

TEST(Pool, RefillsUpToMinIdleCountingSparesInFlight) {
  Pool pool("k");
  EXPECT_EQ(pool.refill_count(4, 100, 0), 4u);
  pool.on_open_started(true);
  pool.on_open_started(true);
  EXPECT_EQ(pool.refill_count(4, 100, 0), 2u);
  pool.on_spare_ready();
  pool.put_idle(7);
  EXPECT_EQ(pool.refill_count(4, 100, 0), 2u);
}

TEST(Pool, RefillNeverPassesMaxOpen) {
  Pool pool("k");
  for (int i = 0; i < 3; ++i) pool.on_open_started(false);
  EXPECT_EQ(pool.refill_count(4, 4, 0), 1u);
  pool.on_open_started(false);
  EXPECT_EQ(pool.refill_count(4, 4, 0), 0u);
}

TEST(Pool, ConnectFailuresBackOffAndSuccessResets) {
  Pool pool("k");
  pool.on_connect_failure(1000);
  EXPECT_EQ(pool.refill_count(2, 10, 1100), 0u);
  EXPECT_EQ(pool.refill_count(2, 10, 1250), 2u);
  pool.on_connect_failure(2000);
  EXPECT_EQ(pool.retry_at_ms(), 2500u);
  pool.on_connect_success();
  EXPECT_EQ(pool.refill_count(2, 10, 0), 2u);
}

TEST(Pool, EachConnectFailureDoublesTheBackOff) {
  Pool pool("k");
  uint64_t expected = 250;
  for (int i = 0; i < 5; ++i) {
    pool.on_connect_failure(10000);
    EXPECT_EQ(pool.retry_at_ms(), 10000 + expected) << "after failure " << i + 1;
    expected *= 2;
  }
}

TEST(Pool, BackOffStopsGrowingAtThirtySeconds) {
  Pool pool("k");
  for (int i = 0; i < 40; ++i) pool.on_connect_failure(1000);
  EXPECT_EQ(pool.retry_at_ms(), 1000u + 30000u);
  EXPECT_EQ(pool.refill_count(2, 10, 1000 + 29999), 0u);
  EXPECT_EQ(pool.refill_count(2, 10, 1000 + 30000), 2u);
}

TEST(Pool, SuccessAfterLongBackOffStartsOverAtTheShortestDelay) {
  Pool pool("k");
  for (int i = 0; i < 40; ++i) pool.on_connect_failure(0);
  pool.on_connect_success();
  EXPECT_EQ(pool.retry_at_ms(), 0u);
  pool.on_connect_failure(5000);
  EXPECT_EQ(pool.retry_at_ms(), 5250u);
}

TEST(Pool, DeadKeyIsNotRefilled) {
  Pool pool("k");
  pool.live = false;
  EXPECT_EQ(pool.refill_count(4, 100, 0), 0u);
}

}  // namespace
}  // namespace ringgate::upstream
