// Graceful stop (issue 2, acceptance 6; DESIGN §6): on SIGTERM/SIGINT ringgate
// stops accepting, finishes the requests in flight, and exits 0.
#include <gtest/gtest.h>

#include <iostream>
#include <memory>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

constexpr uint64_t kDrainMs = 5000;

// What is provable: requests the backend has already received when SIGTERM is
// sent are in flight by any definition, so each of them must get its 200. The
// wrk load around them shows the stop happens under load; its errors after the
// listener closes are expected (connection refused, keep-alive connections
// closed between requests), so only its timeouts are held against ringgate.
TEST(Shutdown, SigtermDuringLoadFinishesRequestsInFlightAndExitsZero) {
  if (!NginxBackend::available()) GTEST_SKIP() << "nginx or its echo module missing";
  if (!is_executable("/usr/bin/wrk")) GTEST_SKIP() << "wrk missing";
  NginxBackend nginx;
  ScriptedBackend slow(ScriptedBackend::Mode::kAnswerAfterDelay, Millis(1000));
  GatewayConfig o;
  o.apis = {{"load", "load", nginx.origin() + "/api"}, {"slow", "slow", slow.origin() + "/api"}};
  o.timeouts = {{"drainMs", kDrainMs}};
  GatewayUnderTest gateway(o);

  TempDir dir;
  Process wrk({"/usr/bin/wrk", "-t1", "-c32", "-d3s", gateway.url("/load/x")}, dir.path(), "wrk");
  std::this_thread::sleep_for(Millis(500));

  constexpr int kInFlight = 4;
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kInFlight; ++i) {
    clients.push_back(std::make_unique<RawClient>(gateway.port()));
    ASSERT_TRUE(clients.back()->send(make_request("GET", "/slow/" + std::to_string(i))));
  }
  ASSERT_TRUE(slow.wait_for_requests(kInFlight, Millis(5000)))
      << "only " << slow.requests_seen() << " slow requests reached the backend";
  ASSERT_EQ(slow.requests_answered(), 0u) << "the slow requests must still be in flight";

  gateway.process().stop(SIGTERM);
  auto sigterm_at = Clock::now();

  for (int i = 0; i < kInFlight; ++i) {
    auto r = clients[static_cast<size_t>(i)]->read_response(Millis(kDrainMs + 2000));
    ASSERT_TRUE(r) << "in-flight request " << i
                   << " lost: " << clients[static_cast<size_t>(i)]->error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, ScriptedBackend::answer_body("GET /api/" + std::to_string(i) + " HTTP/1.1"));
  }
  std::optional<int> code = gateway.process().wait_exit(Millis(kDrainMs + 3000));
  ASSERT_TRUE(code) << "ringgate still running " << elapsed_ms(sigterm_at) << " ms after SIGTERM";
  EXPECT_EQ(*code, 0);

  ASSERT_EQ(wrk.wait_exit(Millis(20000)), 0) << wrk.stderr_text();
  WrkSummary s = parse_wrk_output(wrk.stdout_text());
  std::cout << "wrk during shutdown:\n" << wrk.stdout_text();
  ASSERT_TRUE(s.parsed) << wrk.stdout_text();
  EXPECT_GT(s.requests, 0u);
  EXPECT_EQ(s.timeouts, 0u) << wrk.stdout_text();
}

TEST(Shutdown, StopsAcceptingWhileDraining) {
  ScriptedBackend slow(ScriptedBackend::Mode::kAnswerAfterDelay, Millis(1500));
  GatewayConfig o;
  o.apis = {{"slow", "slow", slow.origin() + "/api"}};
  o.timeouts = {{"drainMs", kDrainMs}};
  GatewayUnderTest gateway(o);

  RawClient in_flight(gateway.port());
  ASSERT_TRUE(in_flight.send(make_request("GET", "/slow/x")));
  ASSERT_TRUE(slow.wait_for_requests(1, Millis(5000)));
  gateway.process().stop(SIGTERM);
  std::this_thread::sleep_for(Millis(300));

  EXPECT_FALSE(port_accepts(gateway.port())) << "listener still accepting while draining";
  auto r = in_flight.read_response(Millis(kDrainMs));
  ASSERT_TRUE(r) << in_flight.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(gateway.process().wait_exit(Millis(kDrainMs + 3000)), 0);
}

TEST(Shutdown, IdleKeepAliveConnectionsDoNotDelayExit) {
  ScriptedBackend backend(ScriptedBackend::Mode::kAnswer);
  GatewayConfig o;
  o.apis = {{"api", "api", backend.origin() + "/api"}};
  o.timeouts = {{"drainMs", 10000}};
  GatewayUnderTest gateway(o);

  RawClient idle(gateway.port());
  ASSERT_TRUE(idle.send(make_request("GET", "/api/once")));
  ASSERT_TRUE(idle.read_response()) << idle.error();

  auto start = Clock::now();
  gateway.process().stop(SIGTERM);
  EXPECT_EQ(gateway.process().wait_exit(Millis(15000)), 0);
  EXPECT_LT(elapsed_ms(start), 3000) << "an idle keep-alive connection held up the exit";
  EXPECT_TRUE(idle.wait_closed(Millis(1000)));
}

TEST(Shutdown, SigintExitsZero) {
  ScriptedBackend backend(ScriptedBackend::Mode::kAnswer);
  GatewayConfig o;
  o.apis = {{"api", "api", backend.origin() + "/api"}};
  GatewayUnderTest gateway(o);
  gateway.process().stop(SIGINT);
  EXPECT_EQ(gateway.process().wait_exit(Millis(5000)), 0);
}

}  // namespace
}  // namespace ringgate::itest
