// Backend failures (issue 2, acceptance 4): down → 502, silent → 504, a kept-alive
// connection closed just as it is reused → the retry still gets a 200.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

bool looks_like_json_object(const std::string& body) {
  size_t first = body.find_first_not_of(" \r\n\t");
  size_t last = body.find_last_not_of(" \r\n\t");
  return first != std::string::npos && body[first] == '{' && body[last] == '}';
}

TEST(BackendFailure, BackendDownIs502WithinConnectTimeout) {
  constexpr uint64_t kConnectMs = 1000;
  uint16_t dead_port = free_port();  // nothing listens there
  GatewayConfig o;
  o.apis = {{"down", "down", "http://127.0.0.1:" + std::to_string(dead_port) + "/api"}};
  o.timeouts = {{"backendConnectMs", kConnectMs}};
  GatewayUnderTest gateway(o);

  RawClient c(gateway.port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send(make_request("GET", "/down/x")));
  auto r = c.read_response(Millis(10000));
  long long took = elapsed_ms(start);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 502);
  EXPECT_TRUE(looks_like_json_object(r->body)) << r->body;
  EXPECT_LE(took, static_cast<long long>(kConnectMs) + 500);
}

TEST(BackendFailure, BackendThatNeverAnswersIs504) {
  constexpr uint64_t kResponseMs = 500;
  ScriptedBackend backend(ScriptedBackend::Mode::kNeverAnswer);
  GatewayConfig o;
  o.apis = {{"silent", "silent", backend.origin() + "/api"}};
  o.timeouts = {{"backendResponseMs", kResponseMs}};
  GatewayUnderTest gateway(o);

  RawClient c(gateway.port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send(make_request("GET", "/silent/x")));
  auto r = c.read_response(Millis(10000));
  long long took = elapsed_ms(start);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 504);
  EXPECT_TRUE(looks_like_json_object(r->body)) << r->body;
  EXPECT_GE(took, static_cast<long long>(kResponseMs) * 8 / 10);
  EXPECT_LE(took, static_cast<long long>(kResponseMs) * 2 + 500);
  EXPECT_GE(backend.requests_seen(), 1u);
}

TEST(BackendFailure, ReusedConnectionClosedByBackendIsRetried) {
  ScriptedBackend backend(ScriptedBackend::Mode::kCloseOnSecondRequest);
  GatewayConfig o;
  o.apis = {{"flaky", "flaky", backend.origin() + "/api"}};
  // No pre-opened connections: the second request must go over the connection
  // the first one used, which the backend then drops.
  o.pool = {{"minIdle", 0}};
  GatewayUnderTest gateway(o);

  RawClient c(gateway.port());
  for (int i = 1; i <= 3; ++i) {
    std::string target = "/flaky/" + std::to_string(i);
    ASSERT_TRUE(c.send(make_request("GET", target))) << c.error();
    auto r = c.read_response(Millis(10000));
    ASSERT_TRUE(r) << "request " << i << ": " << c.error();
    EXPECT_EQ(r->status, 200) << "request " << i << "\n" << r->body;
    EXPECT_EQ(r->body, ScriptedBackend::answer_body("GET /api/" + std::to_string(i) + " HTTP/1.1"));
  }
  // The backend hung up on a reused connection at least once, and every
  // request was answered anyway.
  EXPECT_GE(backend.closed_on_reuse(), 1u);
  EXPECT_EQ(backend.requests_answered(), 3u);
}

TEST(BackendFailure, FailedTlsHandshakesBackThePoolOff) {
  // Every connection is accepted and closed before the TLS handshake ends:
  // without a back-off the pool would reconnect as fast as the loop turns.
  ScriptedBackend backend(ScriptedBackend::Mode::kCloseAtOnce);
  const std::string origin = "https://127.0.0.1:" + std::to_string(backend.port());
  GatewayConfig o;
  o.backends = {{"be", origin, false, false, ""}};
  o.apis = {{"a", "a", origin + "/api", ""}};
  o.pool = {{"minIdle", 4}};
  GatewayUnderTest gateway(o);

  std::this_thread::sleep_for(Millis(5000));
  const std::optional<double> connects = gateway.metric("ringgate_pool_connects_total");
  ASSERT_TRUE(connects) << gateway.metrics();
  EXPECT_GE(*connects, 4);
  // The 4 spares fail together (the 4th failure backs off 2 s), 4 more then
  // fail (30 s): 8, where each failure retrying at once would make thousands.
  EXPECT_LT(*connects, 30) << gateway.metrics();
  EXPECT_LT(backend.connections_accepted(), 30u);
  EXPECT_GE(gateway.metric("ringgate_pool_backoffs_total").value_or(0), 1) << gateway.metrics();
}

TEST(BackendFailure, PlainBackendThatClosesAtOnceBacksThePoolOff) {
  // The TCP connect succeeds, so only the close before any request tells
  // the pool that this backend is of no use.
  ScriptedBackend backend(ScriptedBackend::Mode::kCloseAtOnce);
  GatewayConfig o;
  o.apis = {{"a", "a", backend.origin() + "/api", ""}};
  o.pool = {{"minIdle", 4}};
  GatewayUnderTest gateway(o);

  std::this_thread::sleep_for(Millis(5000));
  const std::optional<double> connects = gateway.metric("ringgate_pool_connects_total");
  ASSERT_TRUE(connects) << gateway.metrics();
  EXPECT_GE(*connects, 4);
  EXPECT_LT(*connects, 40) << gateway.metrics();
  EXPECT_LT(backend.connections_accepted(), 40u);
}

}  // namespace
}  // namespace ringgate::itest
