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

// Clients that send a POST head, one body byte after a random pause, then
// stall: their body timers and the backend's response timers expire in the
// same wheel buckets and cancel one another from inside timer callbacks.
TEST(Hardening, TimeoutsFiringTogetherDoNotCrashTheWorker) {
  ScriptedBackend backend(ScriptedBackend::Mode::kNeverAnswer);
  GatewayOptions o;
  o.apis = {{"silent", "silent", backend.origin() + "/api"}};
  o.timeouts = {{"clientIdleMs", 400}, {"backendResponseMs", 400}};
  Gateway gateway(o);

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
    GatewayOptions o;
    o.apis = {{"echo", "echo", backend_->origin() + "/api"}};
    gateway_ = std::make_unique<Gateway>(o);
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
  std::unique_ptr<Gateway> gateway_;
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

}  // namespace
}  // namespace ringgate::itest
