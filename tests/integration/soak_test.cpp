// Soak (issue 2, acceptance 8): 60 s of wrk at 256 keep-alive connections
// through ringgate to nginx — no errors, and RSS flat after a 10 s warm-up.
// Its own executable in meson suite 'soak' (tools/test runs it in the release
// build only).
#include <gtest/gtest.h>

#include <iostream>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

constexpr int kSeconds = 60;
constexpr int kSampleEverySeconds = 5;
constexpr int kWarmUpSeconds = 10;

TEST(Soak, SixtySecondsAt256ConnectionsIsErrorFreeWithFlatRss) {
  if (!NginxBackend::available()) GTEST_SKIP() << "nginx or its echo module missing";
  if (!is_executable("/usr/bin/wrk")) GTEST_SKIP() << "wrk missing";
  NginxBackend nginx;
  GatewayConfig o;
  o.apis = {{"api", "api", nginx.origin() + "/api"}};
  GatewayUnderTest gateway(o);

  TempDir dir;
  auto start = Clock::now();
  Process wrk({"/usr/bin/wrk", "-t2", "-c256", "-d" + std::to_string(kSeconds) + "s", "--timeout",
               "5s", gateway.url("/api/soak")},
              dir.path(), "wrk");

  // (seconds since start, RSS KiB), sampled while wrk runs.
  std::vector<std::pair<int, long>> samples;
  for (int t = kSampleEverySeconds; t < kSeconds; t += kSampleEverySeconds) {
    std::this_thread::sleep_until(start + std::chrono::seconds(t));
    ASSERT_TRUE(gateway.process().running()) << "ringgate died under load";
    samples.emplace_back(t, gateway.process().rss_kib());
  }
  std::optional<int> wrk_code = wrk.wait_exit(Millis((kSeconds + 30) * 1000));
  ASSERT_TRUE(wrk_code) << "wrk did not finish";
  samples.emplace_back(static_cast<int>(elapsed_ms(start) / 1000), gateway.process().rss_kib());
  ASSERT_EQ(*wrk_code, 0) << wrk.stderr_text();

  std::cout << "wrk:\n" << wrk.stdout_text() << "RSS samples (s: KiB):";
  for (const auto& [t, kib] : samples) std::cout << " " << t << ":" << kib;
  std::cout << "\n";

  WrkSummary s = parse_wrk_output(wrk.stdout_text());
  ASSERT_TRUE(s.parsed) << wrk.stdout_text();
  EXPECT_GT(s.requests, 0u);
  EXPECT_EQ(s.non_2xx_3xx, 0u) << wrk.stdout_text();
  EXPECT_EQ(s.connect_errors, 0u) << wrk.stdout_text();
  EXPECT_EQ(s.read_errors, 0u) << wrk.stdout_text();
  EXPECT_EQ(s.write_errors, 0u) << wrk.stdout_text();
  EXPECT_EQ(s.timeouts, 0u) << wrk.stdout_text();

  long baseline = -1;
  for (const auto& [t, kib] : samples) {
    if (t >= kWarmUpSeconds) {
      baseline = kib;
      break;
    }
  }
  ASSERT_GT(baseline, 0);
  long last = samples.back().second;
  EXPECT_LE(last, baseline * 12 / 10 + 4 * 1024)
      << "RSS grew from " << baseline << " KiB after warm-up to " << last << " KiB";

  // Still serving after the run.
  RawClient c(gateway.port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/after-soak")));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace ringgate::itest
