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

TEST(Pool, AcquireTakesTheMostRecentlyUsedIdleConnection) {
  Pool pool("k");
  pool.on_open_started(false);
  pool.on_open_started(false);
  pool.put_idle(1);
  pool.put_idle(2);
  const Acquisition a = pool.acquire(2);
  EXPECT_EQ(a.outcome, Acquired::kReady);
  EXPECT_EQ(a.connection, 2u);
  EXPECT_EQ(pool.idle_count(), 1u);
}

TEST(Pool, AcquireLetsTheCallerConnectBelowMaxPerKey) {
  Pool pool("k");
  pool.on_open_started(false);
  EXPECT_EQ(pool.acquire(2).outcome, Acquired::kPending);
  pool.on_open_started(false);
  EXPECT_EQ(pool.acquire(2).outcome, Acquired::kOverflow);
}

TEST(Pool, AcquireNewPassesOverIdleConnections) {
  Pool pool("k");
  pool.on_open_started(false);
  pool.put_idle(1);
  EXPECT_EQ(pool.acquire_new(2).outcome, Acquired::kPending);
  EXPECT_EQ(pool.acquire_new(1).outcome, Acquired::kOverflow);
  EXPECT_EQ(pool.idle_count(), 1u);
}

TEST(Pool, QueuesWaitersInOrderAtMaxPerKey) {
  Pool pool("k");
  pool.on_open_started(false);
  EXPECT_TRUE(pool.wait(10, 8));
  EXPECT_TRUE(pool.wait(11, 8));
  EXPECT_TRUE(pool.wait(12, 8));
  EXPECT_EQ(pool.waiting(), 3u);
  EXPECT_EQ(pool.next_waiter(), 10u);
  EXPECT_EQ(pool.next_waiter(), 11u);
  EXPECT_EQ(pool.next_waiter(), 12u);
  EXPECT_EQ(pool.next_waiter(), kNoWaiter);
}

TEST(Pool, RefusesWaitersBeyondTheBound) {
  Pool pool("k");
  EXPECT_TRUE(pool.wait(10, 2));
  EXPECT_TRUE(pool.wait(11, 2));
  EXPECT_FALSE(pool.wait(12, 2));
  EXPECT_EQ(pool.waiting(), 2u);
}

TEST(Pool, ZeroMaxWaitingRefusesEveryWaiter) {
  Pool pool("k");
  EXPECT_FALSE(pool.wait(10, 0));
  EXPECT_EQ(pool.waiting(), 0u);
}

TEST(Pool, ReleasedConnectionGoesToTheFirstWaiterNotTheIdleSet) {
  Pool pool("k");
  pool.on_open_started(false);
  pool.wait(10, 8);
  pool.wait(11, 8);
  EXPECT_EQ(pool.release(1), 10u);
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_EQ(pool.waiting(), 1u);
}

TEST(Pool, ReleasedConnectionBecomesIdleWhenNobodyWaits) {
  Pool pool("k");
  pool.on_open_started(false);
  EXPECT_EQ(pool.release(1), kNoWaiter);
  EXPECT_EQ(pool.acquire(1).connection, 1u);
}

TEST(Pool, ClosedConnectionAdmitsTheFirstWaiterToConnect) {
  Pool pool("k");
  pool.on_open_started(false);
  pool.wait(10, 8);
  pool.wait(11, 8);
  EXPECT_EQ(pool.on_closed(1), 10u);
  EXPECT_EQ(pool.open(), 0u);
  EXPECT_EQ(pool.waiting(), 1u);
}

TEST(Pool, ClosedConnectionAdmitsNobodyWhileStillAtMaxPerKey) {
  Pool pool("k");
  for (int i = 0; i < 3; ++i) pool.on_open_started(false);
  pool.wait(10, 8);
  EXPECT_EQ(pool.on_closed(2), kNoWaiter);
  EXPECT_EQ(pool.waiting(), 1u);
  EXPECT_EQ(pool.on_closed(2), 10u);
}

TEST(Pool, CancelledWaiterLeavesTheListAndKeepsTheOthersInOrder) {
  Pool pool("k");
  pool.wait(10, 8);
  pool.wait(11, 8);
  pool.wait(12, 8);
  EXPECT_TRUE(pool.cancel_wait(11));
  EXPECT_FALSE(pool.cancel_wait(11));
  EXPECT_EQ(pool.next_waiter(), 10u);
  EXPECT_EQ(pool.next_waiter(), 12u);
}

TEST(Pool, CancelledWaiterFreesItsPlaceUnderTheBound) {
  Pool pool("k");
  pool.wait(10, 1);
  EXPECT_FALSE(pool.wait(11, 1));
  pool.cancel_wait(10);
  EXPECT_TRUE(pool.wait(11, 1));
}

TEST(Pool, NewRequestQueuesBehindWaitersEvenWithRoom) {
  Pool pool("k");
  pool.on_open_started(false);
  pool.wait(10, 8);
  EXPECT_EQ(pool.acquire(4).outcome, Acquired::kOverflow);
  EXPECT_EQ(pool.admit_waiter(4), 10u);
  EXPECT_EQ(pool.acquire(4).outcome, Acquired::kPending);
}

TEST(Pool, DeadKeyIsNotRefilled) {
  Pool pool("k");
  pool.live = false;
  EXPECT_EQ(pool.refill_count(4, 100, 0), 0u);
}

}  // namespace
}  // namespace ringgate::upstream
