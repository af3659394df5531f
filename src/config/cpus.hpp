// The host's CPUs as this process sees them, for gateway.cpuAffinity: which
// ones it may run on and how to write a set of them.
#pragma once

#include <string>
#include <vector>

namespace ringgate::config {

// The CPUs the calling thread may run on (sched_getaffinity: what taskset or
// a cgroup cpuset left it), ascending; empty when the kernel does not say.
// Called on the control thread, whose mask is the process's own: workers pin
// themselves, never it.
std::vector<int> allowed_cpus();

// How many CPUs are online (sysconf), at least 1.
int online_cpu_count();

// An ascending list of CPUs as ranges, the way taskset and
// /proc/PID/status write them: {0, 1, 2, 5, 7, 8} → "0-2,5,7-8"; {} → "".
std::string cpu_ranges(const std::vector<int>& cpus);

}  // namespace ringgate::config
