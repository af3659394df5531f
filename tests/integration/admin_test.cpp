// The admin listener (DESIGN §5, §7): /healthz and /metrics behind the bearer token.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

class Admin : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<ScriptedBackend>(ScriptedBackend::Mode::kAnswer);
    GatewayOptions o;
    o.apis = {{"api", "api", backend_->origin() + "/api"}};
    gateway_ = std::make_unique<Gateway>(o);
  }

  HttpResponse admin_get(const std::string& path, const std::vector<std::string>& headers) {
    RawClient c(gateway_->admin_port());
    EXPECT_TRUE(c.send(make_request("GET", path, headers)));
    auto r = c.read_response();
    if (!r) {
      ADD_FAILURE() << "no admin response: " << c.error();
      return {};
    }
    return *r;
  }

  std::string bearer() const { return "Authorization: Bearer " + gateway_->admin_token(); }

  std::unique_ptr<ScriptedBackend> backend_;
  std::unique_ptr<Gateway> gateway_;
};

TEST_F(Admin, HealthzWithTokenIs200) { EXPECT_EQ(admin_get("/healthz", {bearer()}).status, 200); }

TEST_F(Admin, HealthzWithoutTokenIs401) { EXPECT_EQ(admin_get("/healthz", {}).status, 401); }

TEST_F(Admin, WrongTokenIs401) {
  EXPECT_EQ(admin_get("/healthz", {"Authorization: Bearer not-the-token"}).status, 401);
  EXPECT_EQ(admin_get("/metrics", {"Authorization: Basic dXNlcjpwYXNz"}).status, 401);
}

TEST_F(Admin, MetricsWithoutTokenIs401) { EXPECT_EQ(admin_get("/metrics", {}).status, 401); }

TEST_F(Admin, MetricsArePrometheusTextWithRequestCounter) {
  RawClient client(gateway_->port());
  ASSERT_TRUE(client.send(make_request("GET", "/api/counted")));
  auto proxied = client.read_response();
  ASSERT_TRUE(proxied) << client.error();
  ASSERT_EQ(proxied->status, 200);

  HttpResponse r = admin_get("/metrics", {bearer()});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.header("Content-Type").value_or("").find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("ringgate_requests_total"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("# TYPE ringgate_requests_total counter"), std::string::npos) << r.body;
}

// Start-up says whether the record layer can move into the kernel, and why
// not: on a kernel without CONFIG_TLS, TCP_ULP "tls" is refused.
TEST_F(Admin, StartupLogsWhetherKernelTlsIsAvailable) {
  // The listener accepts (into its backlog) a moment before the line is out.
  const std::regex line(R"(kTLS: (available|unavailable) \((.+)\))");
  std::string log;
  std::smatch m;
  for (int i = 0; i < 100 && !std::regex_search(log, m, line); ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log = gateway_->process().stderr_text();
  }
  ASSERT_TRUE(std::regex_search(log, m, line)) << log;
  std::string ulps;
  std::getline(std::ifstream("/proc/sys/net/ipv4/tcp_available_ulp"), ulps);
  if (m[1] == "unavailable") {
    EXPECT_NE(m[2].str().find("TCP_ULP tls"), std::string::npos) << m[0];
    EXPECT_EQ(ulps.find("tls"), std::string::npos)
        << "the kernel lists tls but ringgate said " << m[0];
  }
}

}  // namespace
}  // namespace ringgate::itest
