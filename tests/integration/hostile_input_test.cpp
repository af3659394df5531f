// Hostile client input (issue 2, acceptance 3): each request gets the right 4xx,
// the connection is closed, and the backend (a recording ScriptedBackend) never
// sees the request smuggled behind it.
#include <gtest/gtest.h>

#include <memory>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

// What a desynchronised parser would take for a second request.
constexpr std::string_view kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: gw.test\r\n\r\n";

constexpr uint64_t kMaxBodyBytes = 1024;
constexpr uint64_t kClientHeaderMs = 500;

class HostileInput : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<ScriptedBackend>(ScriptedBackend::Mode::kAnswer);
    GatewayConfig o;
    o.apis = {{"api", "api", backend_->origin() + "/api"}};
    o.limits = {{"maxBodyBytes", kMaxBodyBytes}};
    o.timeouts = {{"clientHeaderMs", kClientHeaderMs}};
    gateway_ = std::make_unique<GatewayUnderTest>(o);
  }

  // Sends `bytes` in one write; expects `status` and then the connection closed.
  void expect_rejected(const std::string& bytes, int status) {
    RawClient c(gateway_->port());
    // A write may fail part-way when ringgate answers and closes early; the
    // answer is still readable.
    c.send(bytes);
    auto r = c.read_response(Millis(5000));
    ASSERT_TRUE(r) << "no response: " << c.error();
    EXPECT_EQ(r->status, status) << r->reason << "\n" << r->body;
    EXPECT_TRUE(c.wait_closed(Millis(3000))) << "connection left open after a " << status;
  }

  void expect_backend_saw_no_smuggled_request() {
    EXPECT_EQ(backend_->received().find("/smuggled"), std::string::npos) << "backend received:\n"
                                                                         << backend_->received();
  }

  void expect_backend_saw_nothing() {
    EXPECT_EQ(backend_->requests_seen(), 0u) << "backend received:\n" << backend_->received();
  }

  std::unique_ptr<ScriptedBackend> backend_;
  std::unique_ptr<GatewayUnderTest> gateway_;
};

TEST_F(HostileInput, ContentLengthWithTransferEncodingIs400) {
  expect_rejected(
      "POST /api/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
          std::string(kSmuggled),
      400);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, TwoDifferentContentLengthsAre400) {
  expect_rejected("POST /api/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 0\r\nContent-Length: " +
                      std::to_string(kSmuggled.size()) + "\r\n\r\n" + std::string(kSmuggled),
                  400);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, ChunkedNotLastTransferEncodingIs400) {
  expect_rejected(
      "POST /api/a HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
      "0\r\n\r\n" +
          std::string(kSmuggled),
      400);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, ObsFoldIs400) {
  expect_rejected("GET /api/a HTTP/1.1\r\nHost: gw.test\r\nX-Folded: first\r\n second\r\n\r\n" +
                      std::string(kSmuggled),
                  400);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, BareCrIs400) {
  expect_rejected(
      "GET /api/a HTTP/1.1\r\nHost: gw.test\r\nX-Bare: a\rb\r\n\r\n" + std::string(kSmuggled), 400);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, BareLfLineEndingsAre400) {
  expect_rejected("GET /api/a HTTP/1.1\nHost: gw.test\n\n" + std::string(kSmuggled), 400);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, BareLfInsideHeadIs400) {
  expect_rejected(
      "GET /api/a HTTP/1.1\r\nHost: gw.test\nX-After-Lf: 1\r\n\r\n" + std::string(kSmuggled), 400);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, SpaceBeforeColonIs400) {
  expect_rejected(
      "POST /api/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\n"
      "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" +
          std::string(kSmuggled),
      400);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, InvalidChunkSizeIs400) {
  expect_rejected(
      "POST /api/a HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "zz\r\nhello\r\n0\r\n\r\n" +
          std::string(kSmuggled),
      400);
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, OverflowingChunkSizeIs400) {
  expect_rejected(
      "POST /api/a HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "fffffffffffffffffffff1\r\nhello\r\n0\r\n\r\n" +
          std::string(kSmuggled),
      400);
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, HeaderBlockOverLimitIs431) {
  // Default maxHeaderBytes is 16384.
  expect_rejected(
      make_request("GET", "/api/a", {"X-Big: " + std::string(20000, 'a')}) + std::string(kSmuggled),
      431);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, UrlOverLimitIs414) {
  // Default maxUrlBytes is 8192; the head stays under maxHeaderBytes (16384).
  expect_rejected(make_request("GET", "/api/" + std::string(9000, 'u')) + std::string(kSmuggled),
                  414);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, BodyOverLimitIs413) {
  // Only the head is sent: the answer must not wait for the body.
  expect_rejected("POST /api/a HTTP/1.1\r\nHost: gw.test\r\nContent-Length: " +
                      std::to_string(kMaxBodyBytes * 4) + "\r\n\r\n",
                  413);
  expect_backend_saw_nothing();
}

TEST_F(HostileInput, ChunkedBodyOverLimitIs413) {
  std::string body(kMaxBodyBytes * 4, 'b');
  expect_rejected(make_request("POST", "/api/a", {"Transfer-Encoding: chunked"}) +
                      chunked_encoding(body, 512) + std::string(kSmuggled),
                  413);
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, TenThousandHeadersAre431) {
  std::vector<std::string> headers;
  for (int i = 0; i < 10000; ++i) headers.push_back("X-H" + std::to_string(i) + ": v");
  expect_rejected(make_request("GET", "/api/a", headers) + std::string(kSmuggled), 431);
  expect_backend_saw_nothing();
  expect_backend_saw_no_smuggled_request();
}

TEST_F(HostileInput, SlowlorisGets408AndClose) {
  RawClient c(gateway_->port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send("GET /api/a HTTP/1.1\r\nHost: gw.test\r\n"));
  // Trickle a header byte every 100 ms; the head never completes.
  std::optional<HttpResponse> r;
  std::string trickle = "X-Slow: ";
  for (int i = 0; i < 40 && !r && !c.peer_closed(); ++i) {
    c.send(std::string(1, trickle[static_cast<size_t>(i) % trickle.size()]));
    r = c.read_response(Millis(100));
  }
  if (!r && !c.peer_closed()) r = c.read_response(Millis(2000));
  long long took = elapsed_ms(start);
  ASSERT_TRUE(r) << "no 408 after " << took << " ms: " << c.error();
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c.wait_closed(Millis(1000)));
  took = elapsed_ms(start);
  EXPECT_GE(took, static_cast<long long>(kClientHeaderMs) * 8 / 10) << "closed too early";
  // ~2x the timeout, with a little room for a loaded (or sanitized) machine.
  EXPECT_LE(took, static_cast<long long>(kClientHeaderMs) * 2 + 250);
  expect_backend_saw_nothing();
}

TEST_F(HostileInput, ValidRequestAfterRejectionsStillWorks) {
  expect_rejected("GET /api/a HTTP/1.1\nHost: gw.test\n\n", 400);
  RawClient c(gateway_->port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/fine")));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, ScriptedBackend::answer_body("GET /api/fine HTTP/1.1"));
}

}  // namespace
}  // namespace ringgate::itest
