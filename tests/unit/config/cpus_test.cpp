// Specification of how ringgate reads and writes sets of CPUs.
#include "config/cpus.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace ringgate::config {
namespace {

TEST(CpuRanges, WritesRunsOfConsecutiveCpusAsRanges) {
  EXPECT_EQ(cpu_ranges({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
}

TEST(CpuRanges, WritesALoneCpuAsItsNumber) { EXPECT_EQ(cpu_ranges({3}), "3"); }

TEST(CpuRanges, WritesNoCpusAsEmpty) { EXPECT_EQ(cpu_ranges({}), ""); }

TEST(AllowedCpus, AreAscendingAndAtMostTheOnlineCount) {
  const std::vector<int> allowed = allowed_cpus();

  ASSERT_FALSE(allowed.empty());
  EXPECT_TRUE(std::is_sorted(allowed.begin(), allowed.end()));
  EXPECT_LE(allowed.size(), static_cast<size_t>(online_cpu_count()));
}

}  // namespace
}  // namespace ringgate::config
