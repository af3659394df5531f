// The admin listener (DESIGN §5, §7): the bearer token on every route, the
// hostile-input rules (token before body, 1 MiB bodies, 64 sessions, an
// exclusive port), HEAD, /healthz, /metrics and /openapi.json.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

class Admin : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<ScriptedBackend>(ScriptedBackend::Mode::kAnswer);
    GatewayConfig o;
    o.apis = {{"api", "api", backend_->origin() + "/api"}};
    gateway_ = std::make_unique<GatewayUnderTest>(o);
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
  std::unique_ptr<GatewayUnderTest> gateway_;
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

// Every route of DESIGN §5 with a method it answers, plus a path nobody serves.
const std::vector<std::pair<std::string, std::string>> kRoutes = {
    {"GET", "/healthz"},
    {"GET", "/metrics"},
    {"GET", "/openapi.json"},
    {"GET", "/certificates"},
    {"PUT", "/certificates/c1"},
    {"DELETE", "/certificates/c1"},
    {"GET", "/backends"},
    {"PUT", "/backends/b1"},
    {"GET", "/apis"},
    {"PUT", "/apis/a1"},
    {"GET", "/apis/a1/policies/policy"},
    {"PUT", "/apis/a1/policies/policy"},
    {"GET", "/no-such-route"},
};

// A small JSON body for PUT, none for the others.
std::optional<std::string_view> body_for(const std::string& method) {
  if (method == "PUT") return std::string_view("{}");
  return std::nullopt;
}

std::string error_code(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  return json.value(nlohmann::json::json_pointer("/error/code"), std::string());
}

TEST_F(Admin, EveryRouteRefusesAMissingTokenWithWwwAuthenticateBearer) {
  for (const auto& [method, path] : kRoutes) {
    RawClient c(gateway_->admin_port());
    ASSERT_TRUE(c.send(make_request(method, path, {}, body_for(method))));
    auto r = c.read_response();
    ASSERT_TRUE(r) << method << " " << path << ": " << c.error();
    EXPECT_EQ(r->status, 401) << method << " " << path;
    EXPECT_EQ(r->header("WWW-Authenticate").value_or("").rfind("Bearer", 0), 0u)
        << method << " " << path;
  }
}

TEST_F(Admin, EveryRouteRefusesAWrongTokenWithWwwAuthenticateBearer) {
  for (const auto& [method, path] : kRoutes) {
    RawClient c(gateway_->admin_port());
    ASSERT_TRUE(
        c.send(make_request(method, path, {"Authorization: Bearer wrong"}, body_for(method))));
    auto r = c.read_response();
    ASSERT_TRUE(r) << method << " " << path << ": " << c.error();
    EXPECT_EQ(r->status, 401) << method << " " << path;
    EXPECT_EQ(r->header("WWW-Authenticate").value_or("").rfind("Bearer", 0), 0u)
        << method << " " << path;
    EXPECT_EQ(error_code(r->body), "Unauthorized") << r->body;
  }
}

TEST_F(Admin, UnauthenticatedUploadIsAnsweredBeforeItsBody) {
  RawClient c(gateway_->admin_port());
  // 50 MB announced, 4 KiB sent: the answer must not wait for the rest.
  std::string request =
      "PUT /certificates/big HTTP/1.1\r\nHost: admin\r\n"
      "Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n";
  request += std::string(4096, 'x');
  const auto start = Clock::now();
  ASSERT_TRUE(c.send(request));
  auto r = c.read_response(Millis(5000));
  ASSERT_TRUE(r) << c.error();
  EXPECT_LT(elapsed_ms(start), 1000);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_TRUE(c.wait_closed(Millis(3000)));
}

TEST_F(Admin, DeclaredUploadOverOneMebibyteIs413) {
  RawClient c(gateway_->admin_port());
  const std::string body(3 * 1024 * 1024, 'x');
  // The answer may come while the body is still going out; the send may then
  // fail when the gateway stops reading, which is the point.
  c.send(make_request("PUT", "/certificates/big", {bearer()}, body));
  auto r = c.read_response(Millis(5000));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 413);
}

TEST_F(Admin, ChunkedUploadOverOneMebibyteIs413) {
  RawClient c(gateway_->admin_port());
  std::string request = "PUT /certificates/big HTTP/1.1\r\nHost: admin\r\n" + bearer() +
                        "\r\nTransfer-Encoding: chunked\r\n\r\n";
  request += chunked_encoding(std::string(3 * 1024 * 1024, 'x'), 65536);
  c.send(request);
  auto r = c.read_response(Millis(5000));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 413);
}

TEST_F(Admin, SixtyFifthConnectionIsAnsweredBusyAndServiceResumesAfter) {
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 64; ++i) held.push_back(std::make_unique<RawClient>(gateway_->admin_port()));
  // Connections are accepted in the order they arrived: the 65th comes last.
  RawClient extra(gateway_->admin_port());
  auto busy = extra.read_response(Millis(5000));
  ASSERT_TRUE(busy) << extra.error();
  EXPECT_EQ(busy->status, 503);
  EXPECT_TRUE(extra.wait_closed(Millis(3000)));

  held.clear();
  EXPECT_TRUE(eventually(
      [&] {
        RawClient c(gateway_->admin_port());
        if (!c.send(make_request("GET", "/healthz", {bearer()}))) return false;
        auto r = c.read_response(Millis(2000));
        return r && r->status == 200;
      },
      Millis(5000)));
}

TEST_F(Admin, SecondInstanceOnTheSameAdminPortFailsNamingTheAddress) {
  TempDir dir;
  write_file(dir.file("admin.token"), "other-token\n", 0600);
  write_file(dir.file("ringgate.json"),
             gateway_config_json(GatewayConfig{}, 0, gateway_->admin_port(), "admin.token"));
  CommandResult r =
      run_command({ringgate_binary(), "--config", dir.file("ringgate.json")}, Millis(15000));
  ASSERT_TRUE(r.exit_code) << "a second ringgate kept running on a taken admin port";
  EXPECT_EQ(*r.exit_code, 1);
  const std::string address = "127.0.0.1:" + std::to_string(gateway_->admin_port());
  EXPECT_NE(r.err.find(address), std::string::npos) << r.err;
  EXPECT_EQ(admin_get("/healthz", {bearer()}).status, 200);
}

TEST_F(Admin, HeadHealthzHasHeadersButNoBody) {
  RawClient c(gateway_->admin_port());
  ASSERT_TRUE(c.send(make_request("HEAD", "/healthz", {bearer()})));
  auto r = c.read_response(Millis(5000), /*head_request=*/true);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("Content-Length"), std::to_string(std::string(R"({"status":"ok"})").size()));
  EXPECT_TRUE(c.wait_closed(Millis(3000)));
  EXPECT_EQ(c.unread(), "");
}

TEST_F(Admin, AnswersForbidSniffingAndCaching) {
  HttpResponse r = admin_get("/healthz", {bearer()});
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
}

TEST_F(Admin, OpenApiDocumentIsServedAsJson) {
  HttpResponse r = admin_get("/openapi.json", {bearer()});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type").value_or("").rfind("application/json", 0), 0u);
  const auto doc = nlohmann::json::parse(r.body, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.body.substr(0, 200);
  EXPECT_EQ(doc.value("openapi", "").rfind("3.", 0), 0u);
  EXPECT_TRUE(doc.at("paths").contains("/certificates/{id}"));
}

TEST_F(Admin, UnknownRouteIs404WithTheErrorEnvelope) {
  HttpResponse r = admin_get("/no-such-route", {bearer()});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r.body), "NotFound") << r.body;
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
