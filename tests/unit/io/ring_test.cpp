#include "io/ring.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace ringgate::io {
namespace {

TEST(Ring, SubmitsQueuedEntriesWhenTheQueueIsFullInsteadOfFailing) {
  Ring ring;
  std::string error;
  ASSERT_TRUE(ring.init(8, error)) << error;
  // Five times the SQ's size, never submitted by hand: every submission must
  // find a slot because a full SQ is handed to the kernel first.
  constexpr int kSubmissions = 40;
  for (int i = 0; i < kSubmissions; ++i) {
    ASSERT_TRUE(ring.cancel(0xdead0000u + i, static_cast<uint64_t>(i) + 1)) << i;
  }
  int completions = 0;
  while (completions < kSubmissions) {
    ASSERT_GE(ring.submit_and_wait(1000), 0);
    completions += static_cast<int>(ring.drain([](const io_uring_cqe& cqe) {
      EXPECT_EQ(cqe.res, -ENOENT);  // nothing carried those tags
    }));
  }
  EXPECT_EQ(completions, kSubmissions);
}

TEST(Ring, RefusesSubmissionsItCannotQueue) {
  Ring broken;  // never initialised: no SQ at all
  EXPECT_EQ(broken.get_sqe(), nullptr);
  EXPECT_FALSE(broken.cancel(1, 2));
  EXPECT_FALSE(broken.recv_select(0, 16, 0, 3));
  EXPECT_FALSE(broken.send(0, "x", 1, 4));
}

}  // namespace
}  // namespace ringgate::io
