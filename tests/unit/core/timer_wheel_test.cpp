#include "core/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ringgate::core {
namespace {

std::vector<uint32_t> advance(TimerWheel& wheel, uint64_t now) {
  std::vector<uint32_t> fired;
  wheel.advance(now, [&](TimerNode& node) { fired.push_back(node.owner); });
  return fired;
}

TEST(TimerWheel, FiresNotBeforeDeadline) {
  TimerWheel wheel(1000, 8, 64);
  TimerNode node;
  node.owner = 7;
  wheel.arm(node, 1000, 100);
  EXPECT_TRUE(advance(wheel, 1099).empty());
  EXPECT_EQ(advance(wheel, 1100), std::vector<uint32_t>{7});
  EXPECT_FALSE(node.armed());
  EXPECT_EQ(wheel.armed_count(), 0u);
}

TEST(TimerWheel, CancelledTimerNeverFires) {
  TimerWheel wheel(0, 8, 64);
  TimerNode node;
  wheel.arm(node, 0, 50);
  wheel.cancel(node);
  EXPECT_EQ(wheel.armed_count(), 0u);
  EXPECT_TRUE(advance(wheel, 1000).empty());
}

TEST(TimerWheel, RearmMovesTheDeadline) {
  TimerWheel wheel(0, 8, 64);
  TimerNode node;
  node.owner = 1;
  wheel.arm(node, 0, 50);
  wheel.arm(node, 40, 50);
  EXPECT_EQ(wheel.armed_count(), 1u);
  EXPECT_TRUE(advance(wheel, 60).empty());
  EXPECT_EQ(advance(wheel, 90), std::vector<uint32_t>{1});
}

TEST(TimerWheel, DeadlinesBeyondOneTurnWaitExtraRounds) {
  TimerWheel wheel(0, 8, 16);  // one turn = 128 ms
  TimerNode node;
  node.owner = 3;
  wheel.arm(node, 0, 1000);
  for (uint64_t t = 8; t < 1000; t += 8) ASSERT_TRUE(advance(wheel, t).empty()) << t;
  EXPECT_EQ(advance(wheel, 1000), std::vector<uint32_t>{3});
}

TEST(TimerWheel, FiresEveryExpiredTimerAfterALongGap) {
  TimerWheel wheel(0, 8, 16);
  std::vector<TimerNode> nodes(5);
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    nodes[i].owner = i;
    wheel.arm(nodes[i], 0, 10 + i * 300);
  }
  auto fired = advance(wheel, 5000);
  EXPECT_EQ(fired.size(), 5u);
}

TEST(TimerWheel, CallbackMayRearmTheFiredNode) {
  TimerWheel wheel(0, 8, 64);
  TimerNode node;
  int count = 0;
  wheel.arm(node, 0, 10);
  wheel.advance(20, [&](TimerNode& n) {
    ++count;
    wheel.arm(n, 20, 100);
  });
  EXPECT_EQ(count, 1);
  EXPECT_TRUE(node.armed());
  EXPECT_EQ(wheel.armed_count(), 1u);
}

TEST(TimerWheel, NextWaitIsMinusOneWhenEmpty) {
  TimerWheel wheel(0, 8, 64);
  EXPECT_EQ(wheel.next_wait_ms(0), -1);
  TimerNode node;
  wheel.arm(node, 0, 100);
  EXPECT_GE(wheel.next_wait_ms(0), 1);
  EXPECT_LE(wheel.next_wait_ms(0), 8);
}

}  // namespace
}  // namespace ringgate::core
