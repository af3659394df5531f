#include "http/router.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parse_support.hpp"

namespace ringgate::http {
namespace {

using testing::cat;

// The API index `target` routes to, or -1.
int route(const Router& r, std::string_view target) {
  auto m = r.match(target);
  return m ? static_cast<int>(m->api_index) : -1;
}

TEST(Router, MatchesWholeSegmentsOnly) {
  Router r({"orders"});
  EXPECT_EQ(route(r, "/orders"), 0);
  EXPECT_EQ(route(r, "/orders/"), 0);
  EXPECT_EQ(route(r, "/orders/1"), 0);
  EXPECT_EQ(route(r, "/orders?x=1"), 0);
  EXPECT_EQ(route(r, "/ordersx"), -1);
  EXPECT_EQ(route(r, "/order"), -1);
  EXPECT_EQ(route(r, "/x/orders"), -1);
}

TEST(Router, ReportsRemainderAndQuery) {
  Router r({"orders"});
  auto m = r.match("/orders/1/items?x=2&y");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->remainder, "/1/items");
  EXPECT_TRUE(m->has_query);
  EXPECT_EQ(m->query, "x=2&y");

  m = r.match("/orders");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->remainder, "");
  EXPECT_FALSE(m->has_query);

  m = r.match("/orders/");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->remainder, "/");
}

TEST(Router, DistinguishesEmptyQueryFromNoQuery) {
  Router r({"orders"});
  auto m = r.match("/orders?");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->has_query);
  EXPECT_EQ(m->query, "");
}

TEST(Router, QuestionMarkEndsThePathForMatching) {
  Router r({"a/b"});
  EXPECT_EQ(route(r, "/a?/b"), -1);
  EXPECT_EQ(route(r, "/a/b?c/d"), 0);
}

TEST(Router, LongestMatchWins) {
  Router r({"v1", "v1/orders", "v1/orders/special"});
  EXPECT_EQ(route(r, "/v1/orders/special/9"), 2);
  EXPECT_EQ(route(r, "/v1/orders/specialx"), 1);
  EXPECT_EQ(route(r, "/v1/orders/1"), 1);
  EXPECT_EQ(route(r, "/v1/customers"), 0);
  EXPECT_EQ(route(r, "/v1"), 0);
  auto m = r.match("/v1/orders/specialx");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->remainder, "/specialx");
}

TEST(Router, LongestMatchDoesNotDependOnOrder) {
  Router r({"v1/orders/special", "v1", "v1/orders"});
  EXPECT_EQ(route(r, "/v1/orders/special/9"), 0);
  EXPECT_EQ(route(r, "/v1/orders/1"), 2);
  EXPECT_EQ(route(r, "/v1/x"), 1);
}

TEST(Router, EmptyPathMatchesEverythingElse) {
  Router r({"orders", ""});
  EXPECT_EQ(route(r, "/orders/1"), 0);
  EXPECT_EQ(route(r, "/anything/else"), 1);
  EXPECT_EQ(route(r, "/"), 1);
  auto m = r.match("/a/b?q");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->remainder, "/a/b");
  EXPECT_EQ(m->query, "q");
}

TEST(Router, IgnoresConfiguredLeadingAndTrailingSlashes) {
  Router r({"/orders/", "//v2/items//"});
  EXPECT_EQ(route(r, "/orders/1"), 0);
  EXPECT_EQ(route(r, "/v2/items"), 1);
  EXPECT_EQ(route(r, "/"), -1);
}

TEST(Router, SlashOnlyPathMeansEverything) {
  Router r({"/"});
  EXPECT_EQ(route(r, "/x"), 0);
}

TEST(Router, RequiresOriginForm) {
  Router r({""});
  EXPECT_EQ(route(r, "/"), 0);
  EXPECT_EQ(route(r, "http://host/orders"), -1);
  EXPECT_EQ(route(r, "*"), -1);
  EXPECT_EQ(route(r, "host:443"), -1);
  EXPECT_EQ(route(r, ""), -1);
}

TEST(Router, IsCaseSensitive) {
  Router r({"Orders"});
  EXPECT_EQ(route(r, "/Orders"), 0);
  EXPECT_EQ(route(r, "/orders"), -1);
}

TEST(Router, MatchesTheRawUndecodedPath) {
  Router r({"orders", "a%2Fb"});
  EXPECT_EQ(route(r, "/ord%65rs"), -1);
  EXPECT_EQ(route(r, "/a%2Fb/1"), 1);
  EXPECT_EQ(route(r, "/a/b"), -1);
}

TEST(Router, NoRoutesMatchNothing) {
  Router empty;
  EXPECT_EQ(route(empty, "/"), -1);
  Router none(std::vector<std::string>{});
  EXPECT_EQ(route(none, "/x"), -1);
}

TEST(Router, FirstOfDuplicatePathsWins) {
  Router r({"a", "b", "a"});
  EXPECT_EQ(route(r, "/a"), 0);
  EXPECT_EQ(r.size(), 2u);
}

TEST(Router, KeepsEmptySegmentsInTheRemainder) {
  Router r({"orders"});
  auto m = r.match("/orders//1");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->remainder, "//1");
}

TEST(Router, MatchesDeepRoutes) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += cat("s", std::to_string(i), "/");
  deep.pop_back();
  Router r({"s0", deep});
  EXPECT_EQ(route(r, cat("/", deep, "/tail")), 1);
  EXPECT_EQ(route(r, cat("/", deep.substr(0, deep.size() - 4))), 0);
}

TEST(Router, RoutesTenThousandApisToTheirOwnIndex) {
  std::vector<std::string> paths;
  for (int i = 0; i < 10000; ++i) {
    paths.push_back(cat("svc", std::to_string(i % 100), "/api", std::to_string(i)));
  }
  Router r(paths);
  EXPECT_EQ(r.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    std::string target = cat("/svc", std::to_string(i % 100), "/api", std::to_string(i), "/x?y=1");
    ASSERT_EQ(route(r, target), i) << target;
  }
  EXPECT_EQ(route(r, "/svc1/api2"), -1);
  EXPECT_EQ(route(r, "/svc1"), -1);
}

// ---- service URLs ---------------------------------------------------------

ServiceUrl parse_ok(std::string_view url) {
  std::string error;
  auto parsed = parse_service_url(url, error);
  EXPECT_TRUE(parsed) << url << ": " << error;
  return parsed.value_or(ServiceUrl{});
}

std::string parse_error(std::string_view url) {
  std::string error;
  auto parsed = parse_service_url(url, error);
  EXPECT_FALSE(parsed) << url;
  return error;
}

TEST(ServiceUrl, ParsesHttpsWithPortAndPath) {
  ServiceUrl u = parse_ok("https://be.example:9443/api");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "be.example");
  EXPECT_EQ(u.port, 9443);
  EXPECT_EQ(u.base_path, "/api");
  EXPECT_EQ(u.host_header, "be.example:9443");
  EXPECT_EQ(u.origin(), "https://be.example:9443");
}

TEST(ServiceUrl, DefaultPortIsLeftOutOfHostHeader) {
  ServiceUrl u = parse_ok("https://be.example");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.host_header, "be.example");
  EXPECT_EQ(u.base_path, "");
  EXPECT_EQ(u.origin(), "https://be.example:443");

  ServiceUrl h = parse_ok("http://10.0.0.1/");
  EXPECT_FALSE(h.tls);
  EXPECT_EQ(h.port, 80);
  EXPECT_EQ(h.host_header, "10.0.0.1");
  EXPECT_EQ(h.base_path, "");

  ServiceUrl explicit_default = parse_ok("http://a:80");
  EXPECT_EQ(explicit_default.host_header, "a");
}

TEST(ServiceUrl, BracketsIpv6) {
  ServiceUrl u = parse_ok("https://[::1]:8443/v1/");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.host_header, "[::1]:8443");
  EXPECT_EQ(u.base_path, "/v1");
  EXPECT_EQ(u.origin(), "https://[::1]:8443");
  EXPECT_EQ(parse_ok("http://[2001:db8::2]").host_header, "[2001:db8::2]");
}

TEST(ServiceUrl, SchemeIsCaseInsensitive) { EXPECT_TRUE(parse_ok("HTTPS://a").tls); }

TEST(ServiceUrl, RejectsOtherSchemes) {
  EXPECT_NE(parse_error("ftp://a/b").find("http:// or https://"), std::string::npos);
  parse_error("a.example/b");
  parse_error("");
}

TEST(ServiceUrl, RejectsUserinfoQueryAndFragment) {
  EXPECT_NE(parse_error("https://user:pw@a/").find("user"), std::string::npos);
  EXPECT_NE(parse_error("https://a/p?x=1").find("query"), std::string::npos);
  EXPECT_NE(parse_error("https://a/p#f").find("fragment"), std::string::npos);
}

TEST(ServiceUrl, RejectsBadPorts) {
  EXPECT_NE(parse_error("https://a:0").find("from 1 to 65535"), std::string::npos);
  parse_error("https://a:65536");
  parse_error("https://a:");
  parse_error("https://a:8x");
  parse_error("https://a:-1");
}

TEST(ServiceUrl, RejectsBadHosts) {
  parse_error("https://");
  parse_error("https:///api");
  parse_error("https://a b/");
  parse_error("https://999.1.1.1/");
  parse_error("https://[::1/");
  parse_error("https://[zz::1]/");
  parse_error("https://[::1]x/");
}

TEST(ServiceUrl, RejectsUnencodedPathCharacters) {
  parse_error("https://a/b c");
  parse_error("https://a/\"x\"");
}

// ---- backend targets --------------------------------------------------------

std::string backend_target(std::string_view base, std::string_view remainder,
                           std::string_view query, bool has_query) {
  std::string out;
  append_backend_target(out, base, RouteMatch{0, remainder, query, has_query});
  return out;
}

TEST(BackendTarget, JoinsBasePathRemainderAndQuery) {
  struct Row {
    std::string_view base, remainder, query;
    bool has_query;
    std::string_view expected;
  };
  const Row rows[] = {
      {"/api", "/1", "x=2", true, "/api/1?x=2"},
      {"/api", "", "", false, "/api"},
      {"", "", "", false, "/"},
      {"", "/a/b", "", false, "/a/b"},
      {"/api", "/", "", false, "/api/"},
      {"", "", "q=1", true, "/?q=1"},
      {"/api", "", "", true, "/api?"},
      {"/api/", "/1", "", false, "/api/1"},
      {"/", "", "", false, "/"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(backend_target(row.base, row.remainder, row.query, row.has_query), row.expected)
        << row.base << " + " << row.remainder;
  }
}

TEST(BackendTarget, AppendsToExistingContent) {
  std::string out = "GET ";
  append_backend_target(out, "/api", RouteMatch{0, "/x", "", false});
  EXPECT_EQ(out, "GET /api/x");
}

TEST(BackendTarget, RewritesRequestsAsTheDesignExampleSays) {
  // DESIGN §4.3: path "orders", serviceUrl https://be:9443/api.
  Router router({"orders"});
  std::string error;
  auto service = parse_service_url("https://be:9443/api", error);
  ASSERT_TRUE(service) << error;
  struct Row {
    std::string_view client, backend;
  };
  const Row rows[] = {
      {"/orders/1?x=2", "/api/1?x=2"}, {"/orders", "/api"},
      {"/orders/", "/api/"},           {"/orders?x", "/api?x"},
      {"/orders/a/b/c", "/api/a/b/c"},
  };
  for (const Row& row : rows) {
    auto m = router.match(row.client);
    ASSERT_TRUE(m) << row.client;
    std::string out;
    append_backend_target(out, service->base_path, *m);
    EXPECT_EQ(out, row.backend) << row.client;
  }
}

}  // namespace
}  // namespace ringgate::http
