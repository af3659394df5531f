// Proxying through ringgate to a real nginx backend (issue 2, acceptance 2).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

constexpr const char* kNotFoundBody = R"({"statusCode":404,"message":"Resource not found"})";

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// One nginx and one ringgate with these APIs:
//   api    /api...     -> nginx /api...     (echo)
//   orders /orders...  -> nginx /api...     (rewrite)
//   admin-orders /orders/admin... -> nginx /api/admin-area...
//   body   /body/...   -> nginx /body/...   (echoes the request body)
//   slow   /slow/...   -> nginx /slow/...   (1 s)
//   big    /big/...    -> nginx /big/...    (static 16 MiB file)
class Proxy : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxBackend::available()) GTEST_SKIP() << "nginx or its echo module missing";
    nginx_ = std::make_unique<NginxBackend>(nginx_options());
    GatewayConfig o;
    const std::string origin = nginx_->origin();
    o.apis = {{"api", "api", origin + "/api"},
              {"orders", "orders", origin + "/api"},
              {"admin-orders", "orders/admin", origin + "/api/admin-area"},
              {"body", "body", origin + "/body"},
              {"slow", "slow", origin + "/slow"},
              {"big", "big", origin + "/big"}};
    gateway_ = std::make_unique<GatewayUnderTest>(o);
  }

  virtual NginxOptions nginx_options() const { return {}; }

  // Sends `request` on a fresh connection and reads the final response.
  HttpResponse exchange(const std::string& request, bool head = false) {
    RawClient c(gateway_->port());
    EXPECT_TRUE(c.send(request)) << c.error();
    auto r = c.read_final_response(Millis(10000), head);
    if (!r) {
      ADD_FAILURE() << "no response: " << c.error();
      return {};
    }
    return *r;
  }

  std::string nginx_host() const { return "127.0.0.1:" + std::to_string(nginx_->port()); }

  std::unique_ptr<NginxBackend> nginx_;
  std::unique_ptr<GatewayUnderTest> gateway_;
};

TEST_F(Proxy, ForwardsGet) {
  HttpResponse r = exchange(make_request("GET", "/api/items"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Method"), "GET");
  EXPECT_EQ(r.header("X-Echo-Uri"), "/api/items");
}

TEST_F(Proxy, LoopCountersCountTurnsCompletionsAndRingEnters) {
  auto metrics = [&] {
    RawClient c(gateway_->admin_port());
    EXPECT_TRUE(c.send(
        make_request("GET", "/metrics", {"Authorization: Bearer " + gateway_->admin_token()})));
    auto r = c.read_response();
    return r ? r->body : std::string();
  };
  const std::string before = metrics();
  RawClient c(gateway_->port());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.send(make_request("GET", "/api/items"))) << c.error();
    auto r = c.read_final_response(Millis(10000));
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
  }
  const std::string after = metrics();
  auto grew = [&](const char* name) {
    return metric_value(after, name).value_or(0) - metric_value(before, name).value_or(0);
  };
  // Each request is at least a receive from the client, a send to and a
  // receive from the backend, and a send to the client.
  EXPECT_GE(grew("ringgate_loop_cqes_total"), 80);
  EXPECT_GE(grew("ringgate_loop_turns_total"), 20);
  EXPECT_GE(grew("ringgate_ring_enters_total"), grew("ringgate_loop_turns_total"));
}

TEST_F(Proxy, ForwardsPostWithBody) {
  HttpResponse r = exchange(make_request("POST", "/body/items", {"Content-Type: text/plain"},
                                         std::string_view("a posted body")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Method"), "POST");
  EXPECT_EQ(r.header("X-Echo-Uri"), "/body/items");
  EXPECT_EQ(r.body, "a posted body");
}

TEST_F(Proxy, ForwardsPutWithBody) {
  HttpResponse r =
      exchange(make_request("PUT", "/body/items/7", {}, std::string_view("{\"v\":7}")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Method"), "PUT");
  EXPECT_EQ(r.body, "{\"v\":7}");
}

TEST_F(Proxy, ForwardsDelete) {
  HttpResponse r = exchange(make_request("DELETE", "/api/items/7"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Method"), "DELETE");
  EXPECT_EQ(r.header("X-Echo-Uri"), "/api/items/7");
}

TEST_F(Proxy, ForwardsQueryStringUnchanged) {
  HttpResponse r = exchange(make_request("GET", "/api/search?q=a%20b&tag=x&tag=y&empty="));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Uri"), "/api/search?q=a%20b&tag=x&tag=y&empty=");
}

TEST_F(Proxy, RewritesUrlAndQuery) {
  HttpResponse r = exchange(make_request("GET", "/orders/1?x=2"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Uri"), "/api/1?x=2");
}

TEST_F(Proxy, RewritesBareApiPath) {
  HttpResponse r = exchange(make_request("GET", "/orders"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Uri"), "/api");
  HttpResponse q = exchange(make_request("GET", "/orders?x=1"));
  EXPECT_EQ(q.header("X-Echo-Uri"), "/api?x=1");
}

TEST_F(Proxy, LongestApiPathWins) {
  HttpResponse r = exchange(make_request("GET", "/orders/admin/5"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Uri"), "/api/admin-area/5");
}

TEST_F(Proxy, UnknownPathGets404Json) {
  HttpResponse r = exchange(make_request("GET", "/nowhere/1"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(trim_newlines(r.body), kNotFoundBody);
  EXPECT_NE(r.header("Content-Type").value_or("").find("application/json"), std::string::npos);
}

TEST_F(Proxy, PathMatchesWholeSegmentsOnly) {
  HttpResponse r = exchange(make_request("GET", "/ordersx/1"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(trim_newlines(r.body), kNotFoundBody);
  HttpResponse bare = exchange(make_request("GET", "/ordersx"));
  EXPECT_EQ(bare.status, 404);
}

TEST_F(Proxy, SetsHostToTheBackend) {
  HttpResponse r = exchange(make_request("GET", "/api/host"));
  EXPECT_EQ(r.header("X-Echo-Host"), nginx_host());
}

TEST_F(Proxy, AddsXForwardedFor) {
  HttpResponse r = exchange(make_request("GET", "/api/xff"));
  EXPECT_EQ(r.header("X-Echo-Xff"), "127.0.0.1");
}

TEST_F(Proxy, AppendsClientAddressToExistingXForwardedFor) {
  HttpResponse r = exchange(make_request("GET", "/api/xff", {"X-Forwarded-For: 203.0.113.7"}));
  std::string xff = r.header("X-Echo-Xff").value_or("");
  EXPECT_EQ(xff.rfind("203.0.113.7", 0), 0u) << xff;
  ASSERT_GE(xff.size(), 9u);
  EXPECT_EQ(xff.substr(xff.size() - 9), "127.0.0.1") << xff;
}

TEST_F(Proxy, AddsXForwardedProtoAndHost) {
  HttpResponse r = exchange(make_request("GET", "/api/xfp"));
  EXPECT_EQ(r.header("X-Echo-Xfp"), "http");
  EXPECT_EQ(r.header("X-Echo-Xfh"), "gw.test");
}

TEST_F(Proxy, RemovesHopByHopHeaders) {
  HttpResponse r = exchange(
      make_request("GET", "/api/hop",
                   {"Connection: keep-alive, X-Hop", "X-Hop: secret", "Keep-Alive: timeout=5"}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo-Hop"), std::nullopt);
}

TEST_F(Proxy, StreamsChunkedUploadOfOneMebibyte) {
  const std::string body = pattern_bytes(1 << 20, 11);
  RawClient c(gateway_->port());
  ASSERT_TRUE(c.send(make_request("POST", "/body/upload", {"Transfer-Encoding: chunked"}) +
                     chunked_encoding(body, 32768 + 5)))
      << c.error();
  auto r = c.read_final_response(Millis(30000));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body) << "the backend did not receive the exact bytes sent";
}

TEST_F(Proxy, StreamsContentLengthUploadOfFourMebibytes) {
  const std::string body = pattern_bytes(4 << 20, 12);
  RawClient c(gateway_->port());
  ASSERT_TRUE(c.send(make_request("PUT", "/body/upload", {}, body))) << c.error();
  auto r = c.read_final_response(Millis(30000));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body) << "the backend did not receive the exact bytes sent";
}

TEST_F(Proxy, HonoursExpectContinue) {
  RawClient c(gateway_->port());
  ASSERT_TRUE(
      c.send("POST /body/expect HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\n"
             "Expect: 100-continue\r\n\r\n"));
  auto interim = c.read_response(Millis(3000));
  ASSERT_TRUE(interim) << "no 100 Continue: " << c.error();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.send("hello"));
  auto r = c.read_final_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

TEST_F(Proxy, StreamsSixteenMebibyteResponseWithoutBufferingIt) {
  // Warm up so that buffers, pools and the backend connection exist already.
  EXPECT_EQ(exchange(make_request("GET", "/api/warm")).status, 200);
  long before = gateway_->process().rss_kib();
  ASSERT_GT(before, 0);

  // A slow reader: a small receive buffer and no reads for a second, so the
  // kernel cannot absorb the body and ringgate must stop reading from nginx.
  RawClient c(gateway_->port(), {.receive_buffer = 65536});
  ASSERT_TRUE(c.send(make_request("GET", "/big/big.bin")));
  std::this_thread::sleep_for(Millis(1000));
  long stalled = gateway_->process().rss_kib();
  auto r = c.read_response(Millis(60000));
  ASSERT_TRUE(r) << c.error();
  long after = gateway_->process().rss_kib();

  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(r->body.size(), NginxBackend::kBigFileSize);
  EXPECT_TRUE(r->body == NginxBackend::big_file());
  const long limit_kib = 8 * 1024;
  EXPECT_LT(stalled - before, limit_kib) << "RSS before " << before << " KiB, stalled " << stalled;
  EXPECT_LT(after - before, limit_kib) << "RSS before " << before << " KiB, after " << after;
}

TEST_F(Proxy, AnswersPipelinedRequestsInOrder) {
  RawClient c(gateway_->port());
  // The first one takes a second at the backend: the later ones must wait for it.
  ASSERT_TRUE(c.send(make_request("GET", "/slow/first") + make_request("GET", "/api/second") +
                     make_request("GET", "/api/third")));
  for (const char* uri : {"/slow/first", "/api/second", "/api/third"}) {
    auto r = c.read_response(Millis(10000));
    ASSERT_TRUE(r) << "waiting for " << uri << ": " << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("X-Echo-Uri"), uri);
  }
}

// A client that half-closes after its requests (shutdown(SHUT_WR), as
// `nc -N` does) gets every answer, the slow first one included, then the
// close.
TEST_F(Proxy, AnswersPipelinedRequestsOfAClientThatHalfClosed) {
  RawClient c(gateway_->port());
  ASSERT_TRUE(c.send(make_request("GET", "/slow/first") + make_request("GET", "/api/second")));
  c.shutdown_write();
  for (const char* uri : {"/slow/first", "/api/second"}) {
    auto r = c.read_response(Millis(10000));
    ASSERT_TRUE(r) << "waiting for " << uri << ": " << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("X-Echo-Uri"), uri);
  }
  EXPECT_TRUE(c.wait_closed(Millis(3000))) << "connection still open after the client's EOF";
}

TEST_F(Proxy, HeadKeepsContentLengthAndSendsNoBody) {
  RawClient c(gateway_->port());
  ASSERT_TRUE(c.send(make_request("HEAD", "/big/big.bin")));
  auto head = c.read_response(Millis(10000), /*head_request=*/true);
  ASSERT_TRUE(head) << c.error();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), std::to_string(NginxBackend::kBigFileSize));
  // No body bytes may follow: the next response on the connection parses cleanly.
  ASSERT_TRUE(c.send(make_request("GET", "/api/after-head")));
  auto next = c.read_response();
  ASSERT_TRUE(next) << c.error();
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->header("X-Echo-Uri"), "/api/after-head");
}

TEST_F(Proxy, ClosesAfterConnectionClose) {
  RawClient c(gateway_->port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/bye", {"Connection: close"})));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.wait_closed(Millis(3000))) << "connection still open after Connection: close";
  EXPECT_EQ(c.unread(), "");
}

TEST_F(Proxy, KeepsClientConnectionAlive) {
  RawClient c(gateway_->port());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(make_request("GET", "/api/k" + std::to_string(i)))) << c.error();
    auto r = c.read_response();
    ASSERT_TRUE(r) << "request " << i << ": " << c.error();
    EXPECT_EQ(r->header("X-Echo-Uri"), "/api/k" + std::to_string(i));
  }
}

TEST_F(Proxy, ReusesBackendConnections) {
  RawClient c(gateway_->port());
  int most_requests_on_one_backend_connection = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.send(make_request("GET", "/api/reuse")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    most_requests_on_one_backend_connection =
        std::max(most_requests_on_one_backend_connection,
                 std::stoi(r->header("X-Echo-Requests").value_or("0")));
  }
  EXPECT_GE(most_requests_on_one_backend_connection, 2);
}

class ProxyShortBackendKeepAlive : public Proxy {
 protected:
  NginxOptions nginx_options() const override { return {.keepalive_timeout_s = 1}; }
};

// nginx closes idle keep-alive connections after 1 s. A POST with a body is
// not replayable, so this passes only when ringgate notices the closed idle
// connection instead of sending on it.
TEST_F(ProxyShortBackendKeepAlive, DiscardsIdleConnectionsTheBackendClosed) {
  HttpResponse first = exchange(make_request("POST", "/body/a", {}, std::string_view("one")));
  EXPECT_EQ(first.status, 200);
  std::this_thread::sleep_for(Millis(1600));
  HttpResponse second = exchange(make_request("POST", "/body/b", {}, std::string_view("two")));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "two");
}

}  // namespace
}  // namespace ringgate::itest
