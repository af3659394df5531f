#include "admin/openapi.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace ringgate::admin {
namespace {

using nlohmann::json;

const json& document() {
  static const json doc = json::parse(openapi_document());
  return doc;
}

// Every "$ref" value anywhere in `node`.
void collect_refs(const json& node, std::vector<std::string>& refs) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string()) refs.push_back(value.get<std::string>());
      collect_refs(value, refs);
    }
  } else if (node.is_array()) {
    for (const json& item : node) collect_refs(item, refs);
  }
}

// Follows a local reference ("#/components/…"); nullptr when it dangles.
const json* resolve(const std::string& ref) {
  if (ref.rfind("#/", 0) != 0) return nullptr;
  const json::json_pointer pointer(ref.substr(1));
  return document().contains(pointer) ? &document().at(pointer) : nullptr;
}

// The node itself, or what its $ref points at.
const json& deref(const json& node) {
  if (node.contains("$ref")) {
    const json* target = resolve(node.at("$ref").get<std::string>());
    if (target != nullptr) return *target;
  }
  return node;
}

const json& operation(const std::string& path, const std::string& method) {
  return document().at("paths").at(path).at(method);
}

// The `code` values a response's examples name.
std::set<std::string> error_codes(const json& response) {
  std::set<std::string> codes;
  const json& examples = deref(response).at("content").at("application/json").at("examples");
  for (const auto& [name, example] : examples.items()) {
    codes.insert(example.at("value").at("error").at("code").get<std::string>());
  }
  return codes;
}

TEST(OpenApi, IsOpenApi3Json) {
  ASSERT_TRUE(json::accept(openapi_document()));
  EXPECT_EQ(document().at("openapi").get<std::string>().rfind("3.", 0), 0u);
  EXPECT_TRUE(document().at("info").contains("title"));
  EXPECT_TRUE(document().at("info").contains("version"));
}

TEST(OpenApi, DescribesEveryRouteWithItsMethods) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> routes = {
      {"/certificates", {"get"}},
      {"/certificates/{id}", {"get", "put", "delete"}},
      {"/backends", {"get"}},
      {"/backends/{id}", {"get", "put", "delete"}},
      {"/apis", {"get"}},
      {"/apis/{id}", {"get", "put", "delete"}},
      {"/apis/{id}/policies/policy", {"get", "put", "delete"}},
      {"/healthz", {"get"}},
      {"/metrics", {"get"}},
      {"/openapi.json", {"get"}},
  };
  const json& paths = document().at("paths");
  EXPECT_EQ(paths.size(), routes.size());
  for (const auto& [path, methods] : routes) {
    ASSERT_TRUE(paths.contains(path)) << path;
    for (const std::string& method : methods) {
      EXPECT_TRUE(paths.at(path).contains(method)) << method << " " << path;
    }
  }
}

TEST(OpenApi, EveryRefResolves) {
  std::vector<std::string> refs;
  collect_refs(document(), refs);
  ASSERT_FALSE(refs.empty());
  for (const std::string& ref : refs) EXPECT_NE(resolve(ref), nullptr) << ref;
}

TEST(OpenApi, OperationIdsAreUnique) {
  std::set<std::string> seen;
  for (const auto& [path, item] : document().at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters") continue;
      EXPECT_TRUE(seen.insert(op.at("operationId").get<std::string>()).second)
          << method << " " << path;
    }
  }
}

TEST(OpenApi, RequiresTheBearerTokenEverywhereButHealthAndMetrics) {
  const json& scheme = document().at("components").at("securitySchemes").at("bearer");
  EXPECT_EQ(scheme.at("type"), "http");
  EXPECT_EQ(scheme.at("scheme"), "bearer");
  EXPECT_EQ(document().at("security"), json::parse(R"([{"bearer":[]}])"));
  EXPECT_EQ(operation("/healthz", "get").at("security"), json::parse(R"([{},{"bearer":[]}])"));
  EXPECT_EQ(operation("/metrics", "get").at("security"), json::parse(R"([{},{"bearer":[]}])"));
  EXPECT_FALSE(operation("/openapi.json", "get").contains("security"));
}

TEST(OpenApi, EveryOperationAnswers401) {
  for (const auto& [path, item] : document().at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters") continue;
      EXPECT_TRUE(op.at("responses").contains("401")) << method << " " << path;
    }
  }
}

TEST(OpenApi, CertificateShowsSubjectThumbprintAndExpiryNeverItsKey) {
  const json& certificate = document().at("components").at("schemas").at("Certificate");
  EXPECT_EQ(certificate.at("required"), json::parse(R"(["id","name","properties"])"));
  const json& properties = deref(certificate.at("properties").at("properties")).at("properties");
  EXPECT_TRUE(properties.contains("subject"));
  EXPECT_TRUE(properties.contains("thumbprint"));
  EXPECT_TRUE(properties.contains("expirationDate"));
  EXPECT_FALSE(properties.contains("data"));
  EXPECT_FALSE(properties.contains("password"));
}

TEST(OpenApi, CertificateUploadTakesDataAndPassword) {
  const json& body = deref(operation("/certificates/{id}", "put")
                               .at("requestBody")
                               .at("content")
                               .at("application/json")
                               .at("schema"));
  const json& properties = body.at("properties").at("properties").at("properties");
  EXPECT_TRUE(properties.contains("data"));
  EXPECT_TRUE(properties.contains("password"));
}

TEST(OpenApi, ListsAreValueAndCount) {
  for (const char* list : {"CertificateList", "BackendList", "ApiList"}) {
    const json& schema = document().at("components").at("schemas").at(list);
    EXPECT_EQ(schema.at("required"), json::parse(R"(["value","count"])")) << list;
    EXPECT_EQ(schema.at("properties").at("value").at("type"), "array") << list;
  }
}

TEST(OpenApi, ChangesTakeIfMatchAndEntitiesCarryAnETag) {
  const json& put = operation("/apis/{id}", "put");
  EXPECT_EQ(deref(put.at("parameters").at(0)).at("name"), "If-Match");
  EXPECT_EQ(deref(operation("/apis/{id}", "delete").at("parameters").at(0)).at("name"), "If-Match");
  EXPECT_TRUE(put.at("responses").at("200").at("headers").contains("ETag"));
  EXPECT_TRUE(
      operation("/apis/{id}", "get").at("responses").at("200").at("headers").contains("ETag"));
}

TEST(OpenApi, CertificateCallsNameTheirErrorCodes) {
  const json& put = operation("/certificates/{id}", "put").at("responses");
  EXPECT_EQ(error_codes(put.at("400")),
            (std::set<std::string>{"InvalidPassword", "ValidationError"}));
  EXPECT_EQ(error_codes(put.at("409")), (std::set<std::string>{"ManagedByConfigFile"}));
  EXPECT_TRUE(put.contains("412"));
  EXPECT_TRUE(put.contains("413"));
  const json& del = operation("/certificates/{id}", "delete").at("responses");
  EXPECT_EQ(error_codes(del.at("409")),
            (std::set<std::string>{"CertificateInUse", "ManagedByConfigFile"}));
  EXPECT_TRUE(del.contains("404"));
  EXPECT_TRUE(del.contains("412"));
}

TEST(OpenApi, ErrorsUseTheApimEnvelope) {
  const json& error = document().at("components").at("schemas").at("Error");
  EXPECT_EQ(error.at("required"), json::parse(R"(["error"])"));
  const json& inner = error.at("properties").at("error");
  EXPECT_EQ(inner.at("required"), json::parse(R"(["code","message","details"])"));
  EXPECT_TRUE(inner.at("properties").at("details").at("items").at("properties").contains("target"));
}

}  // namespace
}  // namespace ringgate::admin
