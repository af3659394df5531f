// Requests at maxPerKey wait for a backend connection instead of failing:
// ringgate with one connection per key in front of a real nginx whose /slow
// location holds that connection for a second.
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

class PoolWait : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxBackend::available()) GTEST_SKIP() << "nginx or its echo module missing";
    nginx_ = std::make_unique<NginxBackend>();
  }

  // One key (both APIs share nginx's origin), one connection for it, none
  // opened ahead of a request; `pool` adds or overrides settings.
  void start_gateway(const std::map<std::string, uint64_t>& pool) {
    GatewayConfig o;
    o.apis = {{"slow", "slow", nginx_->origin() + "/slow"},
              {"api", "api", nginx_->origin() + "/api"}};
    o.pool = {{"minIdle", 0}, {"maxPerKey", 1}};
    for (const auto& [name, value] : pool) o.pool[name] = value;
    gateway_ = std::make_unique<GatewayUnderTest>(o);
  }

  double metric(std::string_view name) {
    RawClient c(gateway_->admin_port());
    if (!c.send(make_request("GET", "/metrics",
                             {"Authorization: Bearer " + gateway_->admin_token()}))) {
      return -1;
    }
    auto r = c.read_response(Millis(3000));
    return r ? metric_value(r->body, name).value_or(-1) : -1;
  }

  // Sends GET `target` on `client` and reads the response on another thread.
  static std::future<std::optional<HttpResponse>> request(RawClient& client,
                                                          const std::string& target) {
    EXPECT_TRUE(client.send(make_request("GET", target))) << client.error();
    return std::async(std::launch::async,
                      [&client] { return client.read_response(Millis(10000)); });
  }

  // The one connection is carrying a /slow request.
  void occupy_the_connection(RawClient& client, std::future<std::optional<HttpResponse>>& busy) {
    busy = request(client, "/slow/busy");
    ASSERT_TRUE(
        eventually([&] { return metric("ringgate_pool_open_connections") == 1; }, Millis(3000)));
  }

  std::unique_ptr<NginxBackend> nginx_;
  std::unique_ptr<GatewayUnderTest> gateway_;
};

TEST_F(PoolWait, SecondRequestAtMaxPerKeyWaitsAndGoesOutOnTheFreedConnection) {
  start_gateway({{"waitTimeoutMs", 5000}});
  RawClient first(gateway_->port());
  std::future<std::optional<HttpResponse>> busy;
  occupy_the_connection(first, busy);

  RawClient second(gateway_->port());
  auto waited = request(second, "/api/second");

  auto r1 = busy.get();
  auto r2 = waited.get();
  ASSERT_TRUE(r1) << first.error();
  ASSERT_TRUE(r2) << second.error();
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r2->status, 200) << r2->body;
  // nginx's $connection_requests: the second request was the connection's second.
  EXPECT_EQ(r2->header("X-Echo-Requests").value_or("<none>"), "2");
  EXPECT_EQ(metric("ringgate_pool_connects_total"), 1);
}

TEST_F(PoolWait, RequestBeyondMaxWaitingIs503AtOnce) {
  start_gateway({{"maxWaiting", 1}, {"waitTimeoutMs", 5000}});
  RawClient first(gateway_->port());
  std::future<std::optional<HttpResponse>> busy;
  occupy_the_connection(first, busy);
  RawClient second(gateway_->port());
  auto waited = request(second, "/api/second");
  ASSERT_TRUE(
      eventually([&] { return metric("ringgate_pool_waiting_requests") == 1; }, Millis(3000)));

  RawClient third(gateway_->port());
  const auto start = Clock::now();
  ASSERT_TRUE(third.send(make_request("GET", "/api/third"))) << third.error();
  auto refused = third.read_response(Millis(10000));
  const long long took = elapsed_ms(start);

  ASSERT_TRUE(refused) << third.error();
  EXPECT_EQ(refused->status, 503);
  EXPECT_LT(took, 500);
  auto r2 = waited.get();
  ASSERT_TRUE(r2) << second.error();
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(metric("ringgate_pool_wait_list_full_total"), 1);
  auto r1 = busy.get();
  ASSERT_TRUE(r1) << first.error();
  EXPECT_EQ(r1->status, 200);
}

TEST_F(PoolWait, WaitLongerThanWaitTimeoutIs503) {
  constexpr long long kWaitMs = 300;
  start_gateway({{"waitTimeoutMs", kWaitMs}});
  RawClient first(gateway_->port());
  std::future<std::optional<HttpResponse>> busy;
  occupy_the_connection(first, busy);

  RawClient second(gateway_->port());
  const auto start = Clock::now();
  auto waited = request(second, "/api/second");
  auto r2 = waited.get();
  const long long took = elapsed_ms(start);

  ASSERT_TRUE(r2) << second.error();
  EXPECT_EQ(r2->status, 503);
  EXPECT_GE(took, kWaitMs * 8 / 10);
  EXPECT_LT(took, 900) << "the wait outlasted waitTimeoutMs";
  EXPECT_EQ(metric("ringgate_pool_wait_timeouts_total"), 1);
  auto r1 = busy.get();
  ASSERT_TRUE(r1) << first.error();
  EXPECT_EQ(r1->status, 200);
}

TEST_F(PoolWait, ClientThatClosesWhileWaitingLeavesTheWaitList) {
  start_gateway({{"waitTimeoutMs", 5000}});
  RawClient first(gateway_->port());
  std::future<std::optional<HttpResponse>> busy;
  occupy_the_connection(first, busy);
  {
    RawClient gone(gateway_->port());
    ASSERT_TRUE(gone.send(make_request("GET", "/api/gone"))) << gone.error();
    ASSERT_TRUE(
        eventually([&] { return metric("ringgate_pool_waiting_requests") == 1; }, Millis(3000)));
  }
  EXPECT_TRUE(
      eventually([&] { return metric("ringgate_pool_waiting_requests") == 0; }, Millis(500)));
  auto r1 = busy.get();
  ASSERT_TRUE(r1) << first.error();
  EXPECT_EQ(r1->status, 200);
  // The freed connection went idle instead of to the request that left.
  EXPECT_TRUE(
      eventually([&] { return metric("ringgate_pool_idle_connections") == 1; }, Millis(1000)));
}

}  // namespace
}  // namespace ringgate::itest
