// The access log (DESIGN §7) and the rate-limited error log of the data path
// (DESIGN §4.8), end to end: ringgate with gateway.accessLog.path set, real
// clients and backends, the log file read back and parsed as JSON.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <cstdio>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

// The fields DESIGN §7 lists, in the order ringgate writes them.
const std::vector<std::string> kFields = {"time",
                                          "requestId",
                                          "clientIp",
                                          "method",
                                          "url",
                                          "apiId",
                                          "backendUrl",
                                          "responseCode",
                                          "backendResponseCode",
                                          "requestSize",
                                          "responseSize",
                                          "totalTimeUs",
                                          "backendTimeUs",
                                          "clientCertificateThumbprint",
                                          "poolReused",
                                          "transport",
                                          "lastError"};

// One access-log line, parsed; `problem` says why it could not be.
struct AccessLine {
  std::string raw;
  std::string problem;
  std::vector<std::string> keys;
  std::map<std::string, std::string> text;  // string fields
  std::map<std::string, int64_t> number;    // integer fields
  bool pool_reused = false;

  const std::string& str(const std::string& key) const {
    static const std::string kMissing = "<missing>";
    auto it = text.find(key);
    return it == text.end() ? kMissing : it->second;
  }
  int64_t num(const std::string& key) const {
    auto it = number.find(key);
    return it == number.end() ? -1 : it->second;
  }
};

AccessLine parse_line(const std::string& raw) {
  AccessLine line;
  line.raw = raw;
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(raw).get(object) != simdjson::SUCCESS) {
    line.problem = "not a JSON object";
    return line;
  }
  for (auto [key, value] : object) {
    line.keys.emplace_back(key);
    std::string_view s;
    int64_t n = 0;
    bool b = false;
    if (value.get(s) == simdjson::SUCCESS) {
      line.text[std::string(key)] = std::string(s);
    } else if (value.get(n) == simdjson::SUCCESS) {
      line.number[std::string(key)] = n;
    } else if (value.get(b) == simdjson::SUCCESS) {
      line.pool_reused = b;
    }
  }
  return line;
}

std::vector<AccessLine> read_lines(const std::string& path) {
  std::vector<AccessLine> lines;
  std::istringstream in(read_file(path));
  std::string raw;
  while (std::getline(in, raw)) lines.push_back(parse_line(raw));
  return lines;
}

// The access log once it holds at least `n` lines (the writer thread flushes
// every 50 ms), or whatever it holds after `timeout`.
std::vector<AccessLine> wait_for_lines(const std::string& path, size_t n,
                                       Millis timeout = Millis(5000)) {
  const auto deadline = Clock::now() + timeout;
  std::vector<AccessLine> lines = read_lines(path);
  while (lines.size() < n && Clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(20));
    lines = read_lines(path);
  }
  return lines;
}

std::string describe(const std::vector<AccessLine>& lines) {
  std::string out;
  for (const AccessLine& line : lines) out += line.raw + "\n";
  return out.empty() ? "(no lines)" : out;
}

// A gateway with one API on nginx, one on a port where nothing listens, and
// the access log in its own directory.
class AccessLog : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NginxBackend::available()) GTEST_SKIP() << "nginx or its echo module missing";
    nginx_ = std::make_unique<NginxBackend>();
    dead_port_ = free_port();
    GatewayConfig o;
    o.apis = {{"orders", "orders", nginx_->origin() + "/api"},
              {"down", "down", "http://127.0.0.1:" + std::to_string(dead_port_) + "/api"}};
    o.timeouts = {{"backendConnectMs", 1000}};
    o.access_log_path = log_path();
    gateway_ = std::make_unique<GatewayUnderTest>(o);
  }

  std::string log_path() const { return logs_.file("access.log"); }

  // Sends `request` on a fresh connection and returns the response.
  HttpResponse exchange(const std::string& request) {
    RawClient client(gateway_->port());
    EXPECT_TRUE(client.send(request)) << client.error();
    auto r = client.read_response(Millis(10000));
    EXPECT_TRUE(r) << client.error();
    return r.value_or(HttpResponse{});
  }

  TempDir logs_;
  std::unique_ptr<NginxBackend> nginx_;
  uint16_t dead_port_ = 0;
  std::unique_ptr<GatewayUnderTest> gateway_;
};

TEST_F(AccessLog, EveryRequestGetsExactlyOneLine) {
  EXPECT_EQ(exchange(make_request("GET", "/orders/1")).status, 200);
  EXPECT_EQ(exchange(make_request("GET", "/nothing/here")).status, 404);
  EXPECT_EQ(exchange("GET /orders/1 HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").status, 400);
  EXPECT_EQ(exchange(make_request("GET", "/down/1")).status, 502);

  std::vector<AccessLine> lines = wait_for_lines(log_path(), 4);
  std::this_thread::sleep_for(Millis(300));  // a fifth line would be a bug
  lines = read_lines(log_path());
  ASSERT_EQ(lines.size(), 4u) << describe(lines);
  std::vector<int64_t> codes;
  for (const AccessLine& line : lines) {
    EXPECT_EQ(line.problem, "") << line.raw;
    EXPECT_EQ(line.keys, kFields) << line.raw;
    codes.push_back(line.num("responseCode"));
  }
  EXPECT_EQ(codes, (std::vector<int64_t>{200, 404, 400, 502}));
}

TEST_F(AccessLog, ProxiedRequestLineNamesApiUrlBackendAndSizes) {
  const std::string request = make_request("GET", "/orders/1?x=2", {"X-Request-Id: client-id-7"});
  HttpResponse r = exchange(request);
  ASSERT_EQ(r.status, 200);

  std::vector<AccessLine> lines = wait_for_lines(log_path(), 1);
  ASSERT_EQ(lines.size(), 1u) << describe(lines);
  const AccessLine& line = lines[0];
  EXPECT_TRUE(
      std::regex_match(line.str("time"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << line.raw;
  EXPECT_EQ(line.str("requestId"), "client-id-7");
  EXPECT_EQ(line.str("clientIp"), "127.0.0.1");
  EXPECT_EQ(line.str("method"), "GET");
  EXPECT_EQ(line.str("url"), "/orders/1?x=2");
  EXPECT_EQ(line.str("apiId"), "orders");
  EXPECT_EQ(line.str("backendUrl"), nginx_->origin() + "/api/1?x=2");
  EXPECT_EQ(line.num("responseCode"), 200);
  EXPECT_EQ(line.num("backendResponseCode"), 200);
  EXPECT_EQ(line.num("requestSize"), static_cast<int64_t>(request.size()));
  EXPECT_GT(line.num("responseSize"), static_cast<int64_t>(r.body.size()));
  EXPECT_GE(line.num("totalTimeUs"), line.num("backendTimeUs"));
  EXPECT_GT(line.num("backendTimeUs"), 0);
  EXPECT_EQ(line.str("clientCertificateThumbprint"), "");
  EXPECT_EQ(line.str("transport"), "plain");
  EXPECT_EQ(line.str("lastError"), "");
  EXPECT_EQ(r.header("X-Echo-Request-Id").value_or(""), "client-id-7")
      << "the client's id reaches the backend unchanged";
}

TEST_F(AccessLog, GeneratedRequestIdIsLoggedAndForwardedToTheBackend) {
  HttpResponse r = exchange(make_request("GET", "/orders/2"));
  ASSERT_EQ(r.status, 200);

  std::vector<AccessLine> lines = wait_for_lines(log_path(), 1);
  ASSERT_EQ(lines.size(), 1u) << describe(lines);
  const std::string& id = lines[0].str("requestId");
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{16}"))) << lines[0].raw;
  EXPECT_EQ(r.header("X-Echo-Request-Id").value_or("<none>"), id);
  EXPECT_EQ(r.header_count("X-Echo-Request-Id"), 1u);
}

TEST_F(AccessLog, UnroutedRequestIsLoggedAs404WithoutApiOrBackend) {
  ASSERT_EQ(exchange(make_request("GET", "/nothing/here?q=1")).status, 404);

  std::vector<AccessLine> lines = wait_for_lines(log_path(), 1);
  ASSERT_EQ(lines.size(), 1u) << describe(lines);
  const AccessLine& line = lines[0];
  EXPECT_EQ(line.num("responseCode"), 404);
  EXPECT_EQ(line.str("url"), "/nothing/here?q=1");
  EXPECT_EQ(line.str("apiId"), "");
  EXPECT_EQ(line.str("backendUrl"), "");
  EXPECT_EQ(line.num("backendResponseCode"), 0);
  EXPECT_EQ(line.num("backendTimeUs"), 0);
  EXPECT_NE(line.str("lastError"), "");
}

TEST_F(AccessLog, MalformedRequestIsLoggedAs400WithTheReason) {
  ASSERT_EQ(exchange("GET /orders/1 HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").status, 400);

  std::vector<AccessLine> lines = wait_for_lines(log_path(), 1);
  ASSERT_EQ(lines.size(), 1u) << describe(lines);
  const AccessLine& line = lines[0];
  EXPECT_EQ(line.num("responseCode"), 400);
  EXPECT_EQ(line.str("apiId"), "");
  EXPECT_NE(line.str("requestId"), "");
  EXPECT_NE(line.str("lastError"), "");
  EXPECT_GT(line.num("requestSize"), 0);
}

TEST_F(AccessLog, DeadBackendIsLoggedAs502WithTheConnectFailure) {
  ASSERT_EQ(exchange(make_request("GET", "/down/1")).status, 502);

  std::vector<AccessLine> lines = wait_for_lines(log_path(), 1);
  ASSERT_EQ(lines.size(), 1u) << describe(lines);
  const AccessLine& line = lines[0];
  EXPECT_EQ(line.num("responseCode"), 502);
  EXPECT_EQ(line.num("backendResponseCode"), 0);
  EXPECT_EQ(line.str("apiId"), "down");
  EXPECT_EQ(line.str("backendUrl"), "http://127.0.0.1:" + std::to_string(dead_port_) + "/api/1");
  EXPECT_NE(line.str("lastError").find("connect to"), std::string::npos) << line.raw;
  EXPECT_NE(line.str("lastError").find("failed"), std::string::npos) << line.raw;
}

TEST_F(AccessLog, Sigusr1AfterARenameSendsNewLinesToANewFile) {
  ASSERT_EQ(exchange(make_request("GET", "/orders/before")).status, 200);
  ASSERT_EQ(wait_for_lines(log_path(), 1).size(), 1u);
  const std::string rotated = logs_.file("access.log.1");
  ASSERT_EQ(std::rename(log_path().c_str(), rotated.c_str()), 0);

  gateway_->process().stop(SIGUSR1);
  // The control thread creates the new file before the writer switches to
  // it; from then on every line goes there.
  const auto deadline = Clock::now() + Millis(5000);
  struct stat info {};
  while (::stat(log_path().c_str(), &info) != 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(10));
  }
  ASSERT_EQ(::stat(log_path().c_str(), &info), 0) << "no new access log after SIGUSR1";
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  ASSERT_EQ(exchange(make_request("GET", "/orders/after")).status, 200);

  std::vector<AccessLine> fresh = wait_for_lines(log_path(), 1);
  ASSERT_EQ(fresh.size(), 1u) << describe(fresh);
  EXPECT_EQ(fresh[0].str("url"), "/orders/after");
  std::vector<AccessLine> old = read_lines(rotated);
  ASSERT_EQ(old.size(), 1u) << describe(old);
  EXPECT_EQ(old[0].str("url"), "/orders/before");
}

// Thousands of failures a second give a handful of error lines: the first of
// each distinct message per second, then "N more like this" summaries.
TEST(ErrorLog, DeadBackendUnderFullLoadLogsAHandfulOfLines) {
  if (!is_executable("/usr/bin/wrk")) GTEST_SKIP() << "wrk missing";
  const uint16_t dead_port = free_port();
  GatewayConfig o;
  o.apis = {{"down", "down", "http://127.0.0.1:" + std::to_string(dead_port) + "/api"}};
  GatewayUnderTest gateway(o);

  TempDir dir;
  Process wrk({"/usr/bin/wrk", "-t1", "-c16", "-d2s", gateway.url("/down/x")}, dir.path(), "wrk");
  ASSERT_EQ(wrk.wait_exit(Millis(20000)), 0) << wrk.stderr_text();
  WrkSummary s = parse_wrk_output(wrk.stdout_text());
  ASSERT_TRUE(s.parsed) << wrk.stdout_text();
  ASSERT_GE(s.non_2xx_3xx, 500u) << "too little load to show the limit:\n" << wrk.stdout_text();

  // Summaries still pending when the load stopped are written at the next
  // loop turn past their second.
  std::this_thread::sleep_for(Millis(1500));
  std::istringstream log(gateway.process().stderr_text());
  std::string line;
  size_t connect_failed = 0;
  size_t summaries = 0;
  uint64_t summarised = 0;
  while (std::getline(log, line)) {
    if (line.find("connect to") == std::string::npos) continue;
    unsigned long long n = 0;
    const size_t more = line.find(" more like this: ");
    if (more != std::string::npos) {
      ++summaries;
      const size_t start = line.rfind(' ', more - 1) + 1;
      n = std::stoull(line.substr(start, more - start));
      summarised += n;
    } else {
      ++connect_failed;
    }
  }
  const std::string tail_text = tail(gateway.process().stderr_text());
  EXPECT_GE(connect_failed, 1u) << tail_text;
  EXPECT_LE(connect_failed, 8u) << tail_text;
  EXPECT_GE(summaries, 1u) << tail_text;
  EXPECT_LE(summaries, 8u) << tail_text;
  EXPECT_GE(summarised + connect_failed, s.non_2xx_3xx / 2)
      << "the summaries account for the failures\n"
      << tail_text;
}

}  // namespace
}  // namespace ringgate::itest
