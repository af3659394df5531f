// Where ringgate's worker threads run (gateway.cpuAffinity, DESIGN §3): read
// back from the kernel, /proc/PID/task/TID/status, for real processes.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

// The value of `Cpus_allowed_list:` in a /proc status file ("0-1"), or "".
std::string cpus_allowed_list(const std::string& status_path) {
  const std::string status = read_file(status_path);
  const std::string key = "Cpus_allowed_list:";
  const size_t at = status.find(key);
  if (at == std::string::npos) return "";
  const size_t begin = status.find_first_not_of(" \t", at + key.size());
  const size_t end = status.find('\n', begin);
  return status.substr(begin, end - begin);
}

// Each ringgate worker thread of `pid` by name ("ringgate-w0") → the CPUs it
// may run on, as /proc writes them.
std::map<std::string, std::string> worker_cpus(pid_t pid) {
  std::map<std::string, std::string> workers;
  for (const ThreadStatus& fields : thread_status(pid)) {
    const auto name = fields.find("Name");
    const auto cpus = fields.find("Cpus_allowed_list");
    if (name == fields.end() || cpus == fields.end()) continue;
    if (name->second.starts_with("ringgate-w")) workers[name->second] = cpus->second;
  }
  return workers;
}

// Waits until `count` worker threads have named themselves (they pin
// themselves first) and returns their CPUs.
std::map<std::string, std::string> started_worker_cpus(GatewayUnderTest& gateway, size_t count) {
  std::map<std::string, std::string> workers;
  eventually(
      [&] {
        workers = worker_cpus(gateway.process().pid());
        return workers.size() == count;
      },
      Millis(5000));
  return workers;
}

bool cpu0_allowed() {
  const std::string own = cpus_allowed_list("/proc/self/status");
  return own == "0" || own.rfind("0-", 0) == 0 || own.rfind("0,", 0) == 0;
}

TEST(WorkerAffinity, NoneLeavesEveryWorkerOnAllTheCpusTheProcessMayUse) {
  GatewayConfig o;
  o.workers = 2;
  o.cpu_affinity = R"("none")";
  GatewayUnderTest gateway(o);

  const std::string inherited = cpus_allowed_list("/proc/self/status");
  const std::map<std::string, std::string> workers = started_worker_cpus(gateway, 2);
  EXPECT_EQ(workers, (std::map<std::string, std::string>{{"ringgate-w0", inherited},
                                                         {"ringgate-w1", inherited}}));
}

TEST(WorkerAffinity, ListPinsEveryWorkerToTheListedCpu) {
  if (!cpu0_allowed()) GTEST_SKIP() << "this process may not use CPU 0";
  GatewayConfig o;
  o.workers = 2;
  o.cpu_affinity = "[0]";
  GatewayUnderTest gateway(o);

  const std::map<std::string, std::string> workers = started_worker_cpus(gateway, 2);
  EXPECT_EQ(workers,
            (std::map<std::string, std::string>{{"ringgate-w0", "0"}, {"ringgate-w1", "0"}}));
}

TEST(WorkerAffinity, StartupLogSaysWhereWorkersRun) {
  if (!cpu0_allowed()) GTEST_SKIP() << "this process may not use CPU 0";
  GatewayConfig o;
  o.cpu_affinity = "[0]";
  GatewayUnderTest gateway(o);

  EXPECT_TRUE(eventually(
      [&] {
        return gateway.process().stderr_text().find(
                   "workers: 1, pinned to CPU 0 (as listed in cpuAffinity)") != std::string::npos;
      },
      Millis(5000)))
      << tail(gateway.process().stderr_text());
}

TEST(WorkerAffinity, StartupLogSaysWhyWorkersAreNotPinned) {
  GatewayConfig o;
  o.cpu_affinity = R"("none")";
  GatewayUnderTest gateway(o);

  EXPECT_TRUE(eventually(
      [&] {
        return gateway.process().stderr_text().find("workers: 1, not pinned (cpuAffinity: none)") !=
               std::string::npos;
      },
      Millis(5000)))
      << tail(gateway.process().stderr_text());
}

TEST(WorkerAffinity, ReloadThatChangesItWarnsAndKeepsWorkersWhereTheyAre) {
  if (!cpu0_allowed()) GTEST_SKIP() << "this process may not use CPU 0";
  GatewayConfig o;
  o.cpu_affinity = "[0]";
  GatewayUnderTest gateway(o);
  ASSERT_EQ(started_worker_cpus(gateway, 1).at("ringgate-w0"), "0");

  o.cpu_affinity = R"("none")";
  write_file(gateway.config_path(),
             gateway_config_json(o, gateway.port(), gateway.admin_port(), "admin.token"));
  gateway.process().stop(SIGHUP);

  ASSERT_TRUE(eventually(
      [&] {
        return gateway.process().stderr_text().find("reload: config generation") !=
               std::string::npos;
      },
      Millis(10000)))
      << tail(gateway.process().stderr_text());
  EXPECT_NE(gateway.process().stderr_text().find(
                "reload: $.gateway.cpuAffinity changed; takes effect at restart"),
            std::string::npos);
  EXPECT_EQ(worker_cpus(gateway.process().pid()).at("ringgate-w0"), "0");
}

}  // namespace
}  // namespace ringgate::itest
