// Defences an edge gateway needs against hostile clients and misbehaving
// backends, each driven through the real binary: timeouts that fire together,
// path escapes, retries, overload of file descriptors, reloads.
#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

// The status of GET /none on a fresh connection to `port` (0 when none came).
int probe_status(uint16_t port) {
  try {
    RawClient c(port);
    if (!c.send(make_request("GET", "/none"))) return 0;
    auto r = c.read_response(Millis(3000));
    return r ? r->status : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

// Clients that send a POST head, one body byte after a random pause, then
// stall: their body timers and the backend's response timers expire in the
// same wheel buckets and cancel one another from inside timer callbacks.
TEST(Hardening, TimeoutsFiringTogetherDoNotCrashTheWorker) {
  ScriptedBackend backend(ScriptedBackend::Mode::kNeverAnswer);
  GatewayConfig o;
  o.apis = {{"silent", "silent", backend.origin() + "/api"}};
  o.timeouts = {{"clientIdleMs", 400}, {"backendResponseMs", 400}};
  GatewayUnderTest gateway(o);

  constexpr int kClients = 80;
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([port = gateway.port(), i] {
      std::mt19937 random(static_cast<uint32_t>(i) * 7919u);
      std::this_thread::sleep_for(Millis(random() % 300));
      try {
        RawClient c(port);
        if (!c.send("POST /silent/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n")) return;
        std::this_thread::sleep_for(Millis(random() % 1500));
        if (!c.send("a")) return;
        c.wait_closed(Millis(3000));
      } catch (const std::exception&) {
        // A refused connection shows up below as a dead gateway.
      }
    });
  }
  for (auto& t : clients) t.join();
  ASSERT_TRUE(gateway.process().running()) << tail(gateway.process().stderr_text());
  RawClient probe(gateway.port());
  ASSERT_TRUE(probe.send(make_request("GET", "/none")));
  auto r = probe.read_response(Millis(5000));
  ASSERT_TRUE(r) << probe.error();
  EXPECT_EQ(r->status, 404);
}

class PathEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxBackend::available()) GTEST_SKIP() << "nginx with the echo module is not installed";
    backend_ = std::make_unique<NginxBackend>();
    GatewayConfig o;
    o.apis = {{"echo", "echo", backend_->origin() + "/api"}};
    gateway_ = std::make_unique<GatewayUnderTest>(o);
  }

  // Sends `target` as it is (no client-side normalisation) and returns the
  // response.
  HttpResponse get(std::string_view target) {
    RawClient c(gateway_->port());
    EXPECT_TRUE(c.send(make_request("GET", target)));
    auto r = c.read_response(Millis(5000));
    if (!r) {
      ADD_FAILURE() << target << ": " << c.error();
      return {};
    }
    return *r;
  }

  std::unique_ptr<NginxBackend> backend_;
  std::unique_ptr<GatewayUnderTest> gateway_;
};

TEST_F(PathEscape, DotSegmentsInsideTheApiAreResolvedBeforeForwarding) {
  HttpResponse r = get("/echo/a/../b");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Uri").value_or(""), "/api/b");
  r = get("/echo/a/./%2e/c?q=/../x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Uri").value_or(""), "/api/a/c?q=/../x");
}

TEST_F(PathEscape, DotSegmentsLeavingTheApiNeverReachItsBackend) {
  // The backend serves /body/ too: a request that escaped /api would get
  // its 200 there. The gateway routes the normalised path instead, and no
  // API has that one.
  for (std::string_view target :
       {"/echo/../body/x", "/echo/%2e%2e/body/x", "/echo/.%2e/body/x", "/echo/%2E%2E/body/x",
        "/echo/a/../../body/x", "/echo//../body/x"}) {
    HttpResponse r = get(target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_NE(r.body.find("Resource not found"), std::string::npos) << target << ": " << r.body;
  }
}

TEST_F(PathEscape, EncodedSeparatorsBackslashNulAndClimbsAboveRootAre400) {
  for (std::string_view target :
       {"/echo/..%2fsecret", "/echo/..%2Fsecret", "/echo/..%5csecret", "/echo/..\\secret",
        "/echo/a%00", "/../echo/x", "/echo/%zz", "/echo/../../x"}) {
    HttpResponse r = get(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_FALSE(r.header("X-Echo-Uri")) << target;
  }
}

// ---------------------------------------------------------------------------
// Listeners follow the config file on SIGHUP, matched by address.

class ListenerReload : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestPki::available()) GTEST_SKIP() << "openssl is not installed";
    GatewayConfig o;
    o.certificates = {{"edge", TestPki::shared().edge_a_pfx}};
    gateway_ = std::make_unique<GatewayUnderTest>(o);
    plain_port_ = gateway_->port();
    config_ = read_file(gateway_->config_path());
  }

  // Rewrites the config's listener list to `listeners_json` and reloads;
  // waits until the reload counted as done.
  void reload_with(const std::string& listeners_json) {
    const std::string from = "\"listeners\": [" + plain_listener() + "]";
    const size_t at = config_.find(from);
    ASSERT_NE(at, std::string::npos) << config_;
    std::string next = config_;
    next.replace(at, from.size(), "\"listeners\": " + listeners_json);
    write_file(gateway_->config_path(), next);
    const double before = gateway_->metric("ringgate_config_reloads_total").value_or(0);
    gateway_->process().stop(SIGHUP);
    ASSERT_TRUE(eventually(
        [&] { return gateway_->metric("ringgate_config_reloads_total").value_or(0) > before; },
        Millis(10000)))
        << tail(gateway_->process().stderr_text());
  }

  // The first listener as the config names it: kept by a reload that names it the same.
  static std::string plain_listener() {
    return "{\"address\": \"" + std::string(GatewayUnderTest::kListenAddress) + "\"}";
  }

  static std::string tls_listener(uint16_t port) {
    return "{\"address\": \"127.0.0.1:" + std::to_string(port) +
           "\", \"tls\": {\"certificateId\": \"edge\"}}";
  }

  static std::string listener_list(const std::vector<std::string>& listeners) {
    std::string json = "[";
    for (const std::string& l : listeners) {
      if (json.size() > 1) json += ", ";
      json += l;
    }
    json += ']';
    return json;
  }

  // The status of GET /none over HTTPS on `port` (0 when TLS failed).
  static int https_status(uint16_t port) {
    CommandResult r = curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                            TestPki::shared().ca.cert_pem, "--resolve",
                            "a.test:" + std::to_string(port) + ":127.0.0.1",
                            "https://a.test:" + std::to_string(port) + "/none"});
    return r.exit_code == 0 ? std::atoi(r.out.c_str()) : 0;
  }

  std::unique_ptr<GatewayUnderTest> gateway_;
  uint16_t plain_port_ = 0;
  std::string config_;
};

TEST_F(ListenerReload, AddedListenerOpensWithItsOwnTlsSetting) {
  const uint16_t tls_port = free_port();
  reload_with(listener_list({plain_listener(), tls_listener(tls_port)}));
  EXPECT_EQ(https_status(tls_port), 404);
  EXPECT_EQ(probe_status(plain_port_), 404);
}

TEST_F(ListenerReload, ListenerKeepsItsTlsWhenAnotherBeforeItIsRemoved) {
  const uint16_t tls_port = free_port();
  reload_with(listener_list({plain_listener(), tls_listener(tls_port)}));
  ASSERT_EQ(https_status(tls_port), 404);
  // The TLS listener moves from the second place to the first.
  reload_with(listener_list({tls_listener(tls_port)}));
  EXPECT_EQ(https_status(tls_port), 404);
  EXPECT_TRUE(eventually([&] { return !port_accepts(plain_port_); }, Millis(3000)))
      << "the removed listener still accepts";
}

// ---------------------------------------------------------------------------
// Out of file descriptors: accepting pauses instead of spinning a core.

TEST(DescriptorExhaustion, AcceptingPausesAndResumesWithoutSpinning) {
  if (!is_executable("/usr/bin/prlimit")) GTEST_SKIP() << "prlimit (util-linux) is not installed";
  GatewayConfig o;
  o.pool = {{"minIdle", 0}};
  // Soft and hard limit alike: the gateway cannot raise it.
  o.launcher = {"/usr/bin/prlimit", "--nofile=96:96"};
  GatewayUnderTest gateway(o);

  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 150; ++i) held.push_back(std::make_unique<RawClient>(gateway.port()));
  std::this_thread::sleep_for(Millis(500));
  const long long ticks_before = gateway.process().cpu_ticks();
  std::this_thread::sleep_for(Millis(2000));
  const long long ticks = gateway.process().cpu_ticks() - ticks_before;
  // A spinning accept loop burns ~200 ticks (100 Hz) in 2 s.
  EXPECT_LT(ticks, 40) << "CPU ticks in 2 s while out of descriptors";
  ASSERT_TRUE(gateway.process().running()) << tail(gateway.process().stderr_text());

  held.clear();
  EXPECT_TRUE(eventually([&] { return probe_status(gateway.port()) == 404; }, Millis(5000)));
  EXPECT_GE(gateway.metric("ringgate_accept_pauses_total").value_or(0), 1) << gateway.metrics();
}

// ---------------------------------------------------------------------------
// Backend response timeouts: <forward-request timeout>, counted from the end
// of the request.

std::string forward_timeout_policy(int seconds) {
  return "<policies><inbound><base/></inbound><backend><forward-request timeout=\"" +
         std::to_string(seconds) + "\"/></backend></policies>";
}

TEST(ResponseTimeout, ForwardRequestTimeoutOverridesTheGatewayDefault) {
  ScriptedBackend backend(ScriptedBackend::Mode::kNeverAnswer);
  GatewayConfig o;
  o.apis = {{"silent", "silent", backend.origin() + "/api", forward_timeout_policy(1)}};
  o.timeouts = {{"backendResponseMs", 20000}};
  GatewayUnderTest gateway(o);
  const auto start = Clock::now();
  HttpResponse r = gateway.get("/silent/x");
  const long long took = elapsed_ms(start);
  EXPECT_EQ(r.status, 504);
  EXPECT_GE(took, 900);
  EXPECT_LE(took, 4000) << "the 20 s gateway default was used instead of the policy's 1 s";
}

// A request body trickled over longer than the response timeout: the timer
// only starts once the whole request has gone to the backend.
void expect_slow_upload_succeeds(uint16_t port) {
  RawClient c(port);
  ASSERT_TRUE(c.send("POST /upload/x HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\n"));
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(Millis(300));
    ASSERT_TRUE(c.send("b")) << "byte " << i << ": " << c.error();
  }
  auto r = c.read_response(Millis(5000));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST(ResponseTimeout, SlowUploadLongerThanBackendResponseMsSucceeds) {
  ScriptedBackend backend(ScriptedBackend::Mode::kAnswer);
  GatewayConfig o;
  o.apis = {{"upload", "upload", backend.origin() + "/api"}};
  o.timeouts = {{"backendResponseMs", 1000}, {"clientIdleMs", 2000}};
  GatewayUnderTest gateway(o);
  expect_slow_upload_succeeds(gateway.port());
}

TEST(ResponseTimeout, SlowUploadLongerThanForwardRequestTimeoutSucceeds) {
  ScriptedBackend backend(ScriptedBackend::Mode::kAnswer);
  GatewayConfig o;
  o.apis = {{"upload", "upload", backend.origin() + "/api", forward_timeout_policy(1)}};
  o.timeouts = {{"clientIdleMs", 2000}};
  GatewayUnderTest gateway(o);
  expect_slow_upload_succeeds(gateway.port());
}

// ---------------------------------------------------------------------------
// Retries: a pooled connection the backend closed as it was reused.

TEST(Retry, PostWithoutBodyIsNotReplayedOnAFreshConnection) {
  ScriptedBackend backend(ScriptedBackend::Mode::kCloseOnSecondRequest);
  GatewayConfig o;
  o.apis = {{"flaky", "flaky", backend.origin() + "/api"}};
  o.pool = {{"minIdle", 0}};  // the second request reuses the first one's connection
  GatewayUnderTest gateway(o);
  RawClient c(gateway.port());
  ASSERT_TRUE(c.send("POST /flaky/1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto first = c.read_response(Millis(5000));
  ASSERT_TRUE(first) << c.error();
  ASSERT_EQ(first->status, 200);
  RawClient second_client(gateway.port());
  ASSERT_TRUE(second_client.send("POST /flaky/2 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto second = second_client.read_response(Millis(5000));
  ASSERT_TRUE(second) << second_client.error();
  EXPECT_EQ(second->status, 502);
  EXPECT_EQ(backend.closed_on_reuse(), 1u);
  EXPECT_EQ(backend.requests_seen(), 2u) << "the POST was sent twice";
}

}  // namespace
}  // namespace ringgate::itest
