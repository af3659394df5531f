// Specification of where worker threads run (gateway.cpuAffinity): which CPU
// each worker is pinned to, or why none is.
#include "core/cpu_plan.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ringgate::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Mode = config::CpuAffinity::Mode;

const config::CpuAffinity kAuto{Mode::kAuto, {}};
const config::CpuAffinity kNone{Mode::kNone, {}};

config::CpuAffinity listed(std::vector<int> cpus) { return {Mode::kList, std::move(cpus)}; }

TEST(CpuPlan, AutoLeavesALoneWorkerUnpinnedOnAnUnrestrictedTwoCpuHost) {
  const CpuPlan plan = plan_worker_cpus(kAuto, 1, {0, 1}, 2);

  EXPECT_THAT(plan.cpus, ElementsAre(-1));
  EXPECT_FALSE(plan.pinned());
  EXPECT_THAT(plan.reason, HasSubstr("1 worker on a host with 2 CPUs it does not own"));
}

TEST(CpuPlan, AutoPinsOneWorkerPerCpuWhenWorkersMatchTheAllowedCpus) {
  const CpuPlan plan = plan_worker_cpus(kAuto, 4, {0, 1, 2, 3}, 4);

  EXPECT_THAT(plan.cpus, ElementsAre(0, 1, 2, 3));
  EXPECT_EQ(plan.reason, "auto: one worker per CPU");
}

TEST(CpuPlan, AutoPinsToTheRestrictedSetInOrder) {
  const CpuPlan plan = plan_worker_cpus(kAuto, 1, {2, 3}, 4);

  EXPECT_THAT(plan.cpus, ElementsAre(2));
  EXPECT_EQ(plan.reason, "auto: the process was given CPUs 2-3 of 4 online");
}

TEST(CpuPlan, AutoPinsALoneWorkerToTheOneCpuTasksetLeftIt) {
  const CpuPlan plan = plan_worker_cpus(kAuto, 1, {1}, 2);

  EXPECT_THAT(plan.cpus, ElementsAre(1));
}

TEST(CpuPlan, AutoDoesNotPinMoreWorkersThanAllowedCpus) {
  const CpuPlan plan = plan_worker_cpus(kAuto, 3, {2, 3}, 4);

  EXPECT_THAT(plan.cpus, ElementsAre(-1, -1, -1));
  EXPECT_EQ(plan.reason, "auto: 3 workers for CPUs 2-3, more workers than CPUs");
}

TEST(CpuPlan, AutoDoesNotPinWhenTheAllowedCpusAreUnknown) {
  const CpuPlan plan = plan_worker_cpus(kAuto, 2, {}, 2);

  EXPECT_THAT(plan.cpus, ElementsAre(-1, -1));
  EXPECT_THAT(plan.reason, HasSubstr("unknown"));
}

TEST(CpuPlan, NoneNeverPinsEvenWithOneWorkerPerCpu) {
  const CpuPlan plan = plan_worker_cpus(kNone, 2, {0, 1}, 2);

  EXPECT_THAT(plan.cpus, ElementsAre(-1, -1));
  EXPECT_EQ(plan.summary(), "not pinned (cpuAffinity: none)");
}

TEST(CpuPlan, ListPinsWorkerIToTheIthCpuRoundRobin) {
  const CpuPlan plan = plan_worker_cpus(listed({3, 1}), 5, {0, 1, 2, 3}, 4);

  EXPECT_THAT(plan.cpus, ElementsAre(3, 1, 3, 1, 3));
}

TEST(CpuPlan, ListPinsALoneWorkerEvenOnAnUnrestrictedHost) {
  const CpuPlan plan = plan_worker_cpus(listed({1}), 1, {0, 1}, 2);

  EXPECT_THAT(plan.cpus, ElementsAre(1));
}

TEST(CpuPlan, SummaryNamesEachWorkersCpuAndTheReason) {
  const CpuPlan plan = plan_worker_cpus(kAuto, 2, {0, 1}, 2);

  EXPECT_EQ(plan.summary(), "pinned to CPUs 0,1 (auto: one worker per CPU)");
}

TEST(CpuPlan, SummaryOfALoneWorkerNamesItsCpu) {
  const CpuPlan plan = plan_worker_cpus(listed({1}), 1, {0, 1}, 2);

  EXPECT_EQ(plan.summary(), "pinned to CPU 1 (as listed in cpuAffinity)");
}

TEST(CpuPlan, SummaryOfAnUnpinnedPlanSaysWhy) {
  const CpuPlan plan = plan_worker_cpus(kAuto, 1, {0, 1}, 2);

  EXPECT_THAT(plan.summary(), HasSubstr("not pinned (auto: 1 worker on a host with 2 CPUs"));
}

}  // namespace
}  // namespace ringgate::core
