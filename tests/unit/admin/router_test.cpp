#include "admin/router.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "admin/openapi.hpp"
#include "admin_test_support.hpp"

namespace ringgate::admin {
namespace {

using testing::bearer;
using testing::FakeResources;
using testing::HeadParser;
using testing::request_head;

std::optional<std::string> header(const AdminResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (http::equals_ignore_case(n, name)) return v;
  }
  return std::nullopt;
}

std::string error_code(const AdminResponse& r) {
  return nlohmann::json::parse(r.body).at("error").at("code").get<std::string>();
}

class AdminRouter : public ::testing::Test {
 protected:
  AdminRouter() : router_(testing::admin_settings(), [] { return std::string("up 1\n"); }) {
    router_.set_resources(&resources_);
  }

  AdminResponse route(std::string_view raw_head, std::string_view body = {}) {
    return router_.route(heads_.parse(raw_head), body);
  }

  FakeResources resources_;
  Router router_;
  HeadParser heads_;
};

TEST_F(AdminRouter, PassesMethodPathQueryIfMatchAndBodyToTheResources) {
  resources_.answer = AdminResponse{};
  const std::string body = R"({"properties":{"path":"orders"}})";
  const std::string length = "Content-Length: " + std::to_string(body.size());
  route(request_head("PUT", "/apis/orders?api-version=2022-08-01",
                     {bearer(), "If-Match: \"7\"", length}),
        body);
  ASSERT_EQ(resources_.calls, 1);
  EXPECT_EQ(resources_.method, "PUT");
  EXPECT_EQ(resources_.path, "/apis/orders");
  EXPECT_EQ(resources_.query, "api-version=2022-08-01");
  EXPECT_EQ(resources_.if_match, "\"7\"");
  EXPECT_EQ(resources_.body, body);
}

TEST_F(AdminRouter, LeavesIfMatchUnsetWhenNotSent) {
  resources_.answer = AdminResponse{};
  route(request_head("DELETE", "/apis/orders", {bearer()}));
  ASSERT_EQ(resources_.calls, 1);
  EXPECT_EQ(resources_.if_match, std::nullopt);
  EXPECT_EQ(resources_.query, "");
}

TEST_F(AdminRouter, ReturnsTheResourcesAnswerWithItsHeaders) {
  AdminResponse answer;
  answer.status = 201;
  answer.body = R"({"id":"/apis/orders"})";
  answer.headers = {{"ETag", "\"1\""}};
  resources_.answer = answer;
  const AdminResponse r = route(request_head("PUT", "/apis/orders", {bearer()}));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, answer.body);
  EXPECT_EQ(header(r, "ETag"), "\"1\"");
}

TEST_F(AdminRouter, ResourcesSeeHeadAsGet) {
  resources_.answer = AdminResponse{};
  route(request_head("HEAD", "/certificates", {bearer()}));
  EXPECT_EQ(resources_.method, "GET");
}

TEST_F(AdminRouter, AnswersNotFoundEnvelopeWhenTheResourcesDecline) {
  const AdminResponse r = route(request_head("GET", "/nothing-here", {bearer()}));
  EXPECT_EQ(resources_.calls, 1);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "NotFound");
}

TEST_F(AdminRouter, AnswersNotFoundEnvelopeWithoutResources) {
  router_.set_resources(nullptr);
  const AdminResponse r = route(request_head("GET", "/certificates", {bearer()}));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "NotFound");
}

TEST_F(AdminRouter, TurnsAnExceptionFromTheResourcesIntoAnInternalError) {
  resources_.fail = true;
  const AdminResponse r = route(request_head("GET", "/certificates", {bearer()}));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(error_code(r), "InternalError");
}

TEST_F(AdminRouter, RefusesAMissingTokenWithWwwAuthenticateBearer) {
  const AdminResponse r = route(request_head("GET", "/certificates"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_code(r), "Unauthorized");
  EXPECT_EQ(header(r, "WWW-Authenticate").value_or("").rfind("Bearer", 0), 0u);
  EXPECT_EQ(resources_.calls, 0);
}

TEST_F(AdminRouter, RefusesAWrongTokenBeforeTheResources) {
  const AdminResponse r =
      route(request_head("DELETE", "/certificates/c1", {"Authorization: Bearer s3cret-tokeN"}));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(header(r, "WWW-Authenticate").value_or("").rfind("Bearer", 0), 0u);
  EXPECT_EQ(resources_.calls, 0);
}

TEST_F(AdminRouter, RefusesAnotherAuthenticationScheme) {
  const AdminResponse r =
      route(request_head("GET", "/healthz", {"Authorization: Basic czNjcmV0LXRva2Vu"}));
  EXPECT_EQ(r.status, 401);
}

TEST_F(AdminRouter, AcceptsTheBearerSchemeNameInAnyCase) {
  const AdminResponse r =
      route(request_head("GET", "/healthz", {"Authorization: bEaReR s3cret-token"}));
  EXPECT_EQ(r.status, 200);
}

TEST_F(AdminRouter, RefusesEveryoneWhenNoTokenIsConfigured) {
  config::Admin settings = testing::admin_settings();
  settings.token.clear();
  router_.update(settings);
  EXPECT_EQ(route(request_head("GET", "/healthz", {"Authorization: Bearer "})).status, 401);
}

TEST_F(AdminRouter, ScreensAContentLengthOverOneMebibyteAs413) {
  const std::optional<AdminResponse> r = router_.screen(
      heads_.parse(request_head("PUT", "/certificates/c1", {bearer(), "Content-Length: 1048577"})));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_code(*r), "PayloadTooLarge");
}

TEST_F(AdminRouter, ScreenAdmitsABodyOfExactlyOneMebibyte) {
  EXPECT_FALSE(router_.screen(heads_.parse(
      request_head("PUT", "/certificates/c1", {bearer(), "Content-Length: 1048576"}))));
}

TEST_F(AdminRouter, ScreenChecksTheTokenBeforeTheSize) {
  const std::optional<AdminResponse> r = router_.screen(
      heads_.parse(request_head("PUT", "/certificates/c1", {"Content-Length: 52428800"})));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(AdminRouter, ServesStaticFilesWithoutTheTokenAndWithTheConsoleHeaders) {
  router_.set_static_files({{"/", {"text/html; charset=utf-8", "<h1>console</h1>"}}});
  const AdminResponse r = route(request_head("GET", "/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, "<h1>console</h1>");
  EXPECT_EQ(header(r, "Content-Security-Policy"), std::string(kConsoleContentSecurityPolicy));
  EXPECT_EQ(header(r, "X-Frame-Options"), "DENY");
}

TEST_F(AdminRouter, ConsolePolicyAllowsNoInlineScript) {
  const std::string_view csp = kConsoleContentSecurityPolicy;
  EXPECT_NE(csp.find("script-src 'self'"), std::string_view::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string_view::npos);
  EXPECT_EQ(csp.find("unsafe-eval"), std::string_view::npos);
}

TEST_F(AdminRouter, ServesStaticFilesToGetAndHeadOnly) {
  router_.set_static_files({{"/app.js", {"text/javascript", "export {};"}}});
  EXPECT_EQ(route(request_head("HEAD", "/app.js?v=1")).status, 200);
  EXPECT_EQ(route(request_head("PUT", "/app.js")).status, 401);
}

TEST_F(AdminRouter, HealthAndMetricsNeedTheTokenByDefault) {
  EXPECT_EQ(route(request_head("GET", "/healthz")).status, 401);
  EXPECT_EQ(route(request_head("GET", "/metrics")).status, 401);
}

TEST_F(AdminRouter, PublicHealthAndMetricsOpensThoseTwoOnly) {
  router_.update(testing::admin_settings(/*public_health_and_metrics=*/true));
  EXPECT_EQ(route(request_head("GET", "/healthz")).status, 200);
  const AdminResponse metrics = route(request_head("GET", "/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body, "up 1\n");
  EXPECT_EQ(route(request_head("GET", "/openapi.json")).status, 401);
  EXPECT_EQ(route(request_head("GET", "/certificates")).status, 401);
}

TEST_F(AdminRouter, HealthzAnswersStatusOk) {
  const AdminResponse r = route(request_head("GET", "/healthz", {bearer()}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body), nlohmann::json({{"status", "ok"}}));
}

TEST_F(AdminRouter, MetricsArePrometheusText) {
  const AdminResponse r = route(request_head("GET", "/metrics", {bearer()}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4");
  EXPECT_EQ(r.body, "up 1\n");
}

TEST_F(AdminRouter, ServesTheOpenApiDocumentAsJson) {
  const AdminResponse r = route(request_head("GET", "/openapi.json", {bearer()}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, openapi_document());
  EXPECT_EQ(resources_.calls, 0);
}

TEST_F(AdminRouter, OwnRoutesRefuseOtherMethodsWith405) {
  for (const char* path : {"/healthz", "/metrics", "/openapi.json"}) {
    const AdminResponse r = route(request_head("POST", path, {bearer(), "Content-Length: 0"}));
    EXPECT_EQ(r.status, 405) << path;
    EXPECT_EQ(header(r, "Allow"), "GET, HEAD") << path;
  }
  EXPECT_EQ(resources_.calls, 0);
}

TEST(MalformedRequest, KeepsTheParsersStatusInTheEnvelope) {
  const AdminResponse r = malformed_request_response(431, "header section too large");
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(error_code(r), "RequestHeaderFieldsTooLarge");
}

}  // namespace
}  // namespace ringgate::admin
