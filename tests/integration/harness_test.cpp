// The harness checked on its own, against nginx and the scripted backend
// directly (no ringgate): when a gateway test fails, these say whether the
// harness or the gateway is at fault.
#include "harness.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ringgate::itest {
namespace {

#define REQUIRE_NGINX()                                                                 \
  do {                                                                                  \
    if (!NginxBackend::available()) GTEST_SKIP() << "nginx or its echo module missing"; \
  } while (0)

TEST(Harness, FreePortIsBindableOnLoopback) {
  uint16_t port = free_port();
  ASSERT_GT(port, 0);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  EXPECT_FALSE(port_accepts(port));
}

TEST(Harness, TempDirIsRemovedAtTheEnd) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    write_file(dir.file("a.txt"), "hello");
    EXPECT_EQ(read_file(dir.file("a.txt")), "hello");
  }
  if (std::getenv("RINGGATE_ITEST_KEEP") == nullptr) {
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
  }
}

TEST(Harness, ProcessCapturesOutputAndExitCode) {
  TempDir dir;
  Process p({"/bin/sh", "-c", "echo out; echo err >&2; echo $HARNESS_X; exit 3"}, dir.path(), "sh",
            {"HARNESS_X=from-env"});
  EXPECT_EQ(p.wait_exit(Millis(5000)), 3);
  EXPECT_EQ(p.stdout_text(), "out\nfrom-env\n");
  EXPECT_EQ(p.stderr_text(), "err\n");
}

TEST(Harness, ProcessStopsBySignalAndReportsIt) {
  TempDir dir;
  Process p({"sleep", "30"}, dir.path(), "sleep");
  EXPECT_TRUE(p.running());
  EXPECT_GT(p.rss_kib(), 0);
  EXPECT_GE(p.cpu_ticks(), 0);
  EXPECT_EQ(p.wait_exit(Millis(50)), std::nullopt);
  p.stop(SIGTERM);
  EXPECT_EQ(p.wait_exit(Millis(5000)), 128 + SIGTERM);
  EXPECT_FALSE(p.running());
}

TEST(Harness, ProcessThatCannotStartThrows) {
  TempDir dir;
  EXPECT_THROW(Process({"/nonexistent/program"}, dir.path(), "x"), std::runtime_error);
}

TEST(Harness, RunCommandTimesOut) {
  auto start = Clock::now();
  CommandResult r = run_command({"sleep", "30"}, Millis(200));
  EXPECT_EQ(r.exit_code, std::nullopt);
  EXPECT_LT(elapsed_ms(start), 5000);
}

TEST(Harness, ParsesWrkSummary) {
  const std::string text =
      "Running 3s test @ http://127.0.0.1:1/\n"
      "  1 threads and 32 connections\n"
      "  12345 requests in 3.00s, 1.23MB read\n"
      "  Socket errors: connect 4, read 3, write 2, timeout 1\n"
      "  Non-2xx or 3xx responses: 7\n"
      "Requests/sec:   4115.00\n";
  WrkSummary s = parse_wrk_output(text);
  EXPECT_TRUE(s.parsed);
  EXPECT_EQ(s.requests, 12345u);
  EXPECT_EQ(s.connect_errors, 4u);
  EXPECT_EQ(s.read_errors, 3u);
  EXPECT_EQ(s.write_errors, 2u);
  EXPECT_EQ(s.timeouts, 1u);
  EXPECT_EQ(s.non_2xx_3xx, 7u);
  EXPECT_DOUBLE_EQ(s.requests_per_sec, 4115.0);
}

TEST(Harness, ChunkedEncodingFramesEveryByte) {
  EXPECT_EQ(chunked_encoding("hello world", 5), "5\r\nhello\r\n5\r\n worl\r\n1\r\nd\r\n0\r\n\r\n");
  EXPECT_EQ(chunked_encoding("", 5), "0\r\n\r\n");
}

TEST(Harness, NginxEchoesMethodUriAndHeaders) {
  REQUIRE_NGINX();
  NginxBackend nginx;
  RawClient c(nginx.port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/1?x=2", {"X-Forwarded-For: 203.0.113.7"})));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("X-Echo-Method"), "GET");
  EXPECT_EQ(r->header("X-Echo-Uri"), "/api/1?x=2");
  EXPECT_EQ(r->header("X-Echo-Host"), "gw.test");
  EXPECT_EQ(r->header("X-Echo-Xff"), "203.0.113.7");
  EXPECT_EQ(r->header("X-Echo-Requests"), "1");
  EXPECT_EQ(r->body, "method=GET uri=/api/1?x=2 host=gw.test xff=203.0.113.7\n");
}

TEST(Harness, NginxCountsRequestsPerConnection) {
  REQUIRE_NGINX();
  NginxBackend nginx;
  RawClient c(nginx.port());
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(c.send(make_request("GET", "/api/n")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->header("X-Echo-Requests"), std::to_string(i));
  }
}

TEST(Harness, NginxEchoesChunkedUploadOfOneMebibyte) {
  REQUIRE_NGINX();
  NginxBackend nginx;
  const std::string body = pattern_bytes(1 << 20, 7);
  RawClient c(nginx.port());
  ASSERT_TRUE(c.send(make_request("POST", "/body/upload", {"Transfer-Encoding: chunked"}) +
                     chunked_encoding(body, 65536 + 3)));
  auto r = c.read_final_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("X-Echo-Te"), "chunked");
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body);
}

TEST(Harness, NginxServesTheBigFileAndTheClientReadsItWhole) {
  REQUIRE_NGINX();
  NginxBackend nginx;
  RawClient c(nginx.port(), {.receive_buffer = 65536});
  ASSERT_TRUE(c.send(make_request("GET", "/big/big.bin")));
  auto r = c.read_response(Millis(30000));
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(r->body.size(), NginxBackend::kBigFileSize);
  EXPECT_TRUE(r->body == NginxBackend::big_file());
}

TEST(Harness, RawClientReadsHeadResponseWithoutBody) {
  REQUIRE_NGINX();
  NginxBackend nginx;
  RawClient c(nginx.port());
  ASSERT_TRUE(c.send(make_request("HEAD", "/big/big.bin") + make_request("GET", "/api/next")));
  auto head = c.read_response(Millis(5000), /*head_request=*/true);
  ASSERT_TRUE(head) << c.error();
  EXPECT_EQ(head->header("Content-Length"), std::to_string(NginxBackend::kBigFileSize));
  EXPECT_TRUE(head->body.empty());
  auto next = c.read_response();
  ASSERT_TRUE(next) << c.error();
  EXPECT_EQ(next->header("X-Echo-Uri"), "/api/next");
}

TEST(Harness, RawClientReadsPipelinedResponsesInOrder) {
  REQUIRE_NGINX();
  NginxBackend nginx;
  RawClient c(nginx.port());
  ASSERT_TRUE(c.send(make_request("GET", "/slow/1") + make_request("GET", "/api/2") +
                     make_request("GET", "/api/3")));
  for (const char* uri : {"/slow/1", "/api/2", "/api/3"}) {
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->header("X-Echo-Uri"), uri);
  }
}

TEST(Harness, RawClientDetectsServerClose) {
  REQUIRE_NGINX();
  NginxBackend nginx;
  RawClient c(nginx.port());
  ASSERT_TRUE(c.send(make_request("GET", "/api/x", {"Connection: close"})));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.wait_closed(Millis(3000)));
}

TEST(Harness, RawClientTimesOutOnSilence) {
  ScriptedBackend backend(ScriptedBackend::Mode::kNeverAnswer);
  RawClient c(backend.port());
  ASSERT_TRUE(c.send(make_request("GET", "/x")));
  auto start = Clock::now();
  EXPECT_FALSE(c.read_response(Millis(300)));
  EXPECT_GE(elapsed_ms(start), 250);
  EXPECT_FALSE(c.peer_closed());
  EXPECT_TRUE(backend.wait_for_requests(1, Millis(2000)));
}

TEST(Harness, NginxSlowLocationTakesAboutOneSecond) {
  REQUIRE_NGINX();
  NginxBackend nginx;
  RawClient c(nginx.port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send(make_request("GET", "/slow/x")));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body, "slow done\n");
  EXPECT_GE(elapsed_ms(start), 900);
}

TEST(Harness, CurlReachesNginx) {
  REQUIRE_NGINX();
  NginxBackend nginx;
  CommandResult r = curl({"-X", "PUT", "-D", "-", nginx.origin() + "/api/curl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("X-Echo-Method: PUT"), std::string::npos) << r.out;
}

TEST(Harness, WrkAgainstNginxReportsNoErrors) {
  REQUIRE_NGINX();
  if (!is_executable("/usr/bin/wrk")) GTEST_SKIP() << "wrk missing";
  NginxBackend nginx;
  CommandResult r =
      run_command({"/usr/bin/wrk", "-t1", "-c8", "-d1s", nginx.origin() + "/api/w"}, Millis(20000));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WrkSummary s = parse_wrk_output(r.out);
  ASSERT_TRUE(s.parsed) << r.out;
  EXPECT_GT(s.requests, 0u);
  EXPECT_EQ(s.non_2xx_3xx, 0u) << r.out;
  EXPECT_EQ(s.connect_errors + s.read_errors + s.write_errors + s.timeouts, 0u) << r.out;
}

TEST(Harness, ScriptedBackendAnswersAndRecordsRawBytes) {
  ScriptedBackend backend(ScriptedBackend::Mode::kAnswer);
  RawClient c(backend.port());
  std::string chunked =
      make_request("POST", "/a", {"Transfer-Encoding: chunked"}) + chunked_encoding("hello", 2);
  std::string with_length = make_request("PUT", "/b", {}, std::string_view("xyz"));
  ASSERT_TRUE(c.send(chunked + with_length));
  auto first = c.read_response();
  ASSERT_TRUE(first) << c.error();
  EXPECT_EQ(first->body, ScriptedBackend::answer_body("POST /a HTTP/1.1"));
  auto second = c.read_response();
  ASSERT_TRUE(second) << c.error();
  EXPECT_EQ(second->body, ScriptedBackend::answer_body("PUT /b HTTP/1.1"));
  EXPECT_EQ(backend.received(), chunked + with_length);
  EXPECT_EQ(backend.requests_seen(), 2u);
  EXPECT_EQ(backend.requests_answered(), 2u);
}

TEST(Harness, ScriptedBackendClosesWhenAConnectionIsReused) {
  ScriptedBackend backend(ScriptedBackend::Mode::kCloseOnSecondRequest);
  RawClient c(backend.port());
  ASSERT_TRUE(c.send(make_request("GET", "/1")));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(c.send(make_request("GET", "/2")));
  EXPECT_FALSE(c.read_response(Millis(3000)));
  EXPECT_TRUE(c.peer_closed());
  EXPECT_EQ(backend.closed_on_reuse(), 1u);

  RawClient fresh(backend.port());
  ASSERT_TRUE(fresh.send(make_request("GET", "/3")));
  auto again = fresh.read_response();
  ASSERT_TRUE(again) << fresh.error();
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(backend.connections_accepted(), 2u);
}

TEST(Harness, ScriptedBackendAnswersAfterTheDelay) {
  ScriptedBackend backend(ScriptedBackend::Mode::kAnswerAfterDelay, Millis(300));
  RawClient c(backend.port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send(make_request("GET", "/late")));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_GE(elapsed_ms(start), 280);
  EXPECT_EQ(r->body, ScriptedBackend::answer_body("GET /late HTTP/1.1"));
}

TEST(Harness, GatewayConfigNamesEverySection) {
  GatewayConfig o;
  o.apis = {{"orders", "orders", "http://127.0.0.1:1/api"}};
  o.limits = {{"maxHeaderBytes", 4096}};
  o.timeouts = {{"clientHeaderMs", 500}};
  std::string json = gateway_config_json(o, 1000, 1001, "admin.token");
  EXPECT_NE(json.find("\"listeners\": [{\"address\": \"127.0.0.1:1000\"}]"), std::string::npos);
  EXPECT_NE(json.find("\"address\": \"127.0.0.1:1001\", \"tokenFile\": \"admin.token\""),
            std::string::npos);
  EXPECT_NE(json.find("\"limits\": {\"maxHeaderBytes\": 4096}"), std::string::npos);
  EXPECT_NE(json.find("\"timeouts\": {\"clientHeaderMs\": 500}"), std::string::npos);
  EXPECT_EQ(json.find("\"pool\""), std::string::npos);
  EXPECT_NE(json.find("\"orders\": {\"path\": \"orders\", \"serviceUrl\": "
                      "\"http://127.0.0.1:1/api\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace ringgate::itest
