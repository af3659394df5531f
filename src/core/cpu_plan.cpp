#include "core/cpu_plan.hpp"

#include "config/cpus.hpp"

namespace ringgate::core {
namespace {

std::string plural(size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

CpuPlan unpinned(uint32_t workers, std::string reason) {
  return CpuPlan{std::vector<int>(workers, -1), std::move(reason)};
}

// Worker i on cpus[i % size].
CpuPlan round_robin(uint32_t workers, const std::vector<int>& cpus, std::string reason) {
  CpuPlan plan{{}, std::move(reason)};
  plan.cpus.reserve(workers);
  for (uint32_t w = 0; w < workers; ++w) plan.cpus.push_back(cpus[w % cpus.size()]);
  return plan;
}

CpuPlan plan_auto(uint32_t workers, const std::vector<int>& allowed, int online) {
  if (allowed.empty()) return unpinned(workers, "auto: the CPUs this process may use are unknown");
  const std::string set = (allowed.size() == 1 ? "CPU " : "CPUs ") + config::cpu_ranges(allowed);
  if (workers > allowed.size()) {
    return unpinned(
        workers, "auto: " + plural(workers, "worker") + " for " + set + ", more workers than CPUs");
  }
  if (allowed.size() < static_cast<size_t>(online)) {
    return round_robin(
        workers, allowed,
        "auto: the process was given " + set + " of " + std::to_string(online) + " online");
  }
  if (workers == allowed.size()) return round_robin(workers, allowed, "auto: one worker per CPU");
  return unpinned(workers, "auto: " + plural(workers, "worker") + " on a host with " +
                               plural(allowed.size(), "CPU") +
                               " it does not own; restrict it with taskset or list CPUs in "
                               "gateway.cpuAffinity to pin");
}

}  // namespace

std::string CpuPlan::summary() const {
  if (!pinned()) return "not pinned (" + reason + ")";
  std::string list;
  for (int cpu : cpus) {
    if (!list.empty()) list += ',';
    list += std::to_string(cpu);
  }
  return (cpus.size() == 1 ? "pinned to CPU " : "pinned to CPUs ") + list + " (" + reason + ")";
}

CpuPlan plan_worker_cpus(const config::CpuAffinity& affinity, uint32_t workers,
                         const std::vector<int>& allowed, int online) {
  switch (affinity.mode) {
    case config::CpuAffinity::Mode::kNone:
      return unpinned(workers, "cpuAffinity: none");
    case config::CpuAffinity::Mode::kList:
      return round_robin(workers, affinity.cpus, "as listed in cpuAffinity");
    case config::CpuAffinity::Mode::kAuto:
      break;
  }
  return plan_auto(workers, allowed, online);
}

}  // namespace ringgate::core
