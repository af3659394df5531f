// Which CPU each worker thread is pinned to, decided once at start from
// gateway.cpuAffinity and what the host allows. Pure: the caller reads the
// allowed CPUs and the online count (config/cpus.hpp) and applies the plan.
//
// The rule for "auto": pin worker i to the i-th allowed CPU when there are no
// more workers than allowed CPUs and either
//   - the process was given a restricted set (fewer allowed CPUs than online:
//     taskset, a cgroup cpuset), so the operator has set those CPUs aside, or
//   - there is one worker per allowed CPU, so the gateway takes the machine.
// Otherwise nothing is pinned: fewer workers than CPUs on an unrestricted
// host means the rest of the machine runs other programs (a load generator,
// a backend, other services), and a worker pinned to CPU 0 would queue
// behind them while other CPUs idle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ringgate/config.hpp"

namespace ringgate::core {

struct CpuPlan {
  std::vector<int> cpus;  // per worker: the CPU it is pinned to, or -1 (not pinned)
  std::string reason;     // why, in a few words: "auto: one worker per allowed CPU"

  bool pinned() const { return !cpus.empty() && cpus.front() >= 0; }
  // For the start-up log: "pinned to CPUs 0,1 (…reason…)" or "not pinned (…reason…)".
  std::string summary() const;
};

// The plan for `workers` (≥ 1) workers under `affinity`, given the CPUs this
// process may use (ascending; empty when unknown) and the number online.
// Either every worker is pinned or none is. A kList affinity is taken as
// validated (its CPUs allowed); worker i gets cpus[i % size].
CpuPlan plan_worker_cpus(const config::CpuAffinity& affinity, uint32_t workers,
                         const std::vector<int>& allowed, int online);

}  // namespace ringgate::core
