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

// Three timers due in the same bucket, fired by one advance().
struct SameBucket {
  TimerWheel wheel{0, 8, 64};
  TimerNode a, b, c;
  SameBucket() {
    a.owner = 1;
    b.owner = 2;
    c.owner = 3;
    wheel.arm(a, 0, 100);
    wheel.arm(b, 0, 100);
    wheel.arm(c, 0, 100);
  }
};

TEST(TimerWheel, CallbackMayCancelASiblingDueInTheSameBucket) {
  SameBucket t;
  std::vector<uint32_t> fired;
  t.wheel.advance(200, [&](TimerNode& node) {
    fired.push_back(node.owner);
    if (node.owner == 1) t.wheel.cancel(t.b);
  });
  EXPECT_EQ(fired, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(t.wheel.armed_count(), 0u);
}

TEST(TimerWheel, CallbackMayRearmASiblingIntoAnotherBucket) {
  SameBucket t;
  std::vector<uint32_t> fired;
  auto record = [&](TimerNode& node) {
    fired.push_back(node.owner);
    if (node.owner == 1) t.wheel.arm(t.b, 200, 300);
  };
  t.wheel.advance(200, record);
  EXPECT_EQ(fired, (std::vector<uint32_t>{1, 3}));
  EXPECT_TRUE(t.b.armed());
  EXPECT_EQ(t.wheel.armed_count(), 1u);
  fired.clear();
  t.wheel.advance(499, record);
  EXPECT_TRUE(fired.empty());
  t.wheel.advance(500, record);
  EXPECT_EQ(fired, (std::vector<uint32_t>{2}));
  EXPECT_EQ(t.wheel.armed_count(), 0u);
}

TEST(TimerWheel, CallbackMayRearmASiblingIntoTheSameBucket) {
  // 100 and 100 + 64 buckets * 8 ms land in the same bucket, a turn apart.
  SameBucket t;
  std::vector<uint32_t> fired;
  auto record = [&](TimerNode& node) {
    fired.push_back(node.owner);
    if (node.owner == 1 && fired.size() == 1) t.wheel.arm(t.c, 100, 512);
  };
  t.wheel.advance(100, record);
  EXPECT_EQ(fired, (std::vector<uint32_t>{1, 2}));
  EXPECT_TRUE(t.c.armed());
  fired.clear();
  t.wheel.advance(611, record);
  EXPECT_TRUE(fired.empty());
  t.wheel.advance(612, record);
  EXPECT_EQ(fired, (std::vector<uint32_t>{3}));
}

TEST(TimerWheel, CallbackMayRearmItselfAndCancelEverySibling) {
  SameBucket t;
  std::vector<uint32_t> fired;
  auto record = [&](TimerNode& node) {
    fired.push_back(node.owner);
    if (node.owner == 1 && fired.size() == 1) {
      t.wheel.cancel(t.b);
      t.wheel.cancel(t.c);
      t.wheel.arm(t.a, 200, 50);
    }
  };
  t.wheel.advance(200, record);
  EXPECT_EQ(fired, (std::vector<uint32_t>{1}));
  EXPECT_EQ(t.wheel.armed_count(), 1u);
  t.wheel.advance(250, record);
  EXPECT_EQ(fired, (std::vector<uint32_t>{1, 1}));
  EXPECT_EQ(t.wheel.armed_count(), 0u);
}

TEST(TimerWheel, ManyCallbacksCancellingAndRearmingSiblingsStayConsistent) {
  // Random cancel/re-arm storms from inside callbacks, checked against the
  // wheel's own count and against every node's armed() flag.
  TimerWheel wheel(0, 8, 16);
  std::vector<TimerNode> nodes(64);
  uint32_t seed = 12345;
  auto next_random = [&] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 16;
  };
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    nodes[i].owner = i;
    wheel.arm(nodes[i], 0, next_random() % 200);
  }
  uint64_t now = 0;
  size_t fired = 0;
  for (int round = 0; round < 400; ++round) {
    now += next_random() % 20;
    wheel.advance(now, [&](TimerNode& node) {
      ++fired;
      EXPECT_LE(node.deadline_ms, now);
      TimerNode& other = nodes[next_random() % nodes.size()];
      switch (next_random() % 3) {
        case 0:
          wheel.cancel(other);
          break;
        case 1:
          wheel.arm(other, now, next_random() % 300);
          break;
        default:
          wheel.arm(node, now, next_random() % 300);
          break;
      }
    });
    size_t armed = 0;
    for (const TimerNode& n : nodes) armed += n.armed() ? 1 : 0;
    ASSERT_EQ(armed, wheel.armed_count());
  }
  EXPECT_GT(fired, 100u);
}

}  // namespace
}  // namespace ringgate::core
