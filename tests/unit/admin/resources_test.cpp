// Specification of the management resources (DESIGN §5) without a listener:
// what each route answers, how bodies are validated (every problem with its
// JSON path), ETags and If-Match, the rule that a certificate in use cannot
// be deleted, and that a change's answer waits until the change is live.
#include "admin/resources.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../certs/test_material.hpp"
#include "admin/bodies.hpp"
#include "policy/policy.hpp"

namespace ringgate::admin {
namespace {

using certs::test_support::kPassword;
using certs::test_support::material;
using certs::test_support::read_binary;
using certs::test_support::run_command;
using certs::test_support::TempDir;
using certs::test_support::write_binary;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr const char* kTlsBackend = "https://127.0.0.1:9443";

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) |
                       (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string upload_body(const std::string& pfx, const std::string& password = kPassword) {
  return json{{"properties", {{"data", base64(pfx)}, {"password", password}}}}.dump();
}

std::string certificate_policy(const std::string& id) {
  return "<policies><inbound><authentication-certificate certificate-id=\"" + id +
         "\"/></inbound></policies>";
}

std::string policy_body(const std::string& xml) {
  return json{{"properties", {{"format", "xml"}, {"value", xml}}}}.dump();
}

std::string api_body(const std::string& path, const std::string& service_url) {
  return json{{"properties", {{"path", path}, {"serviceUrl", service_url}}}}.dump();
}

std::optional<std::string> header(const AdminResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

json body_of(const AdminResponse& r) { return json::parse(r.body); }

std::string error_code(const AdminResponse& r) {
  return body_of(r).at("error").at("code").get<std::string>();
}

// The (target, message) pairs of an error's details.
std::vector<std::pair<std::string, std::string>> details_of(const AdminResponse& r) {
  std::vector<std::pair<std::string, std::string>> details;
  const json body = body_of(r);
  for (const json& d : body.at("error").at("details")) {
    details.emplace_back(d.at("target").get<std::string>(), d.at("message").get<std::string>());
  }
  return details;
}

std::vector<std::string> targets_of(const AdminResponse& r) {
  std::vector<std::string> targets;
  for (const auto& [target, message] : details_of(r)) targets.push_back(target);
  return targets;
}

class ResourcesTest : public ::testing::Test {
 protected:
  ResourcesTest() {
    write_binary(dir_.path() + "/client.pass", std::string(kPassword) + "\n");
    write_binary(dir_.path() + "/client.pfx", material().billing_aes_pfx);
    write_binary(dir_.path() + "/ringgate.json", R"({
      "gateway": {"listeners": [{"address": "127.0.0.1:0"}], "stateDir": "state",
                  "timeouts": {"backendConnectMs": 1500}},
      "certificates": {"file-cert": {"pfxFile": "client.pfx", "passwordFile": "client.pass"}},
      "backends": {"file-backend": {"url": "https://127.0.0.1:9000"}},
      "apis": {"file-api": {"path": "file", "serviceUrl": "http://127.0.0.1:9000",
                            "policy": "<policies><inbound><base/></inbound></policies>"}}})");
    restart();
  }

  // A fresh state and resources over what the state dir holds now, as after
  // a restart of the gateway.
  void restart() {
    std::vector<config::Problem> problems;
    core::Prepared prepared = core::prepare(dir_.path() + "/ringgate.json", 1, false, problems);
    if (!prepared.snapshot) {
      std::string text;
      for (const config::Problem& p : problems) text += p.path + ": " + p.message + "\n";
      throw std::runtime_error(text);
    }
    state_ = std::make_unique<core::ManagedState>([](const auto&) {});
    state_->reset(std::move(prepared));
    resources_ = std::make_unique<Resources>(
        *state_,
        [this](uint64_t generation, const std::vector<std::string>& keys) {
          asked_generation_ = generation;
          asked_keys_ = keys;
          return live_;
        },
        [this] { return now_; });
  }

  AdminResponse call(std::string_view method, std::string_view path, std::string_view body = {},
                     std::optional<std::string_view> if_match = std::nullopt) {
    AdminRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.if_match = if_match;
    std::optional<AdminResponse> r = resources_->handle(request);
    if (!r) {
      ADD_FAILURE() << method << " " << path << " was not taken as a route";
      return {};
    }
    return std::move(*r);
  }

  void upload(const std::string& id, const std::string& pfx) {
    AdminResponse r = call("PUT", "/certificates/" + id, upload_body(pfx));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  void make_api(const std::string& id, const std::string& path, const std::string& policy = "") {
    AdminResponse r = call("PUT", "/apis/" + id, api_body(path, std::string(kTlsBackend) + "/api"));
    ASSERT_EQ(r.status, 201) << r.body;
    if (policy.empty()) return;
    r = call("PUT", "/apis/" + id + "/policies/policy", policy_body(policy));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  TempDir dir_;
  std::unique_ptr<core::ManagedState> state_;
  std::unique_ptr<Resources> resources_;
  bool live_ = true;
  long long now_ = 1000;
  uint64_t asked_generation_ = 0;
  std::vector<std::string> asked_keys_;
};

// ---- certificates

TEST_F(ResourcesTest, Certificates_UploadAnswers201WithSubjectThumbprintAndExpiry) {
  AdminResponse r = call("PUT", "/certificates/orders", upload_body(material().orders_aes_pfx));

  EXPECT_EQ(r.status, 201) << r.body;
  const json entity = body_of(r);
  EXPECT_EQ(entity.at("id"), "/certificates/orders");
  EXPECT_EQ(entity.at("name"), "orders");
  EXPECT_EQ(entity.at("properties").at("thumbprint"), material().orders_thumbprint);
  EXPECT_EQ(entity.at("properties").at("subject"), "CN=orders-client, O=Contoso");
  EXPECT_EQ(entity.at("properties").at("expirationDate"), material().orders_expiration);
  EXPECT_EQ(header(r, "ETag"), entity_tag(r.body));
}

TEST_F(ResourcesTest, Certificates_LegacyRc2PfxLoadsToo) {
  AdminResponse r = call("PUT", "/certificates/legacy", upload_body(material().orders_legacy_pfx));

  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(ResourcesTest, Certificates_SameUploadAgainAnswers200) {
  upload("orders", material().orders_aes_pfx);

  EXPECT_EQ(call("PUT", "/certificates/orders", upload_body(material().orders_aes_pfx)).status,
            200);
}

TEST_F(ResourcesTest, Certificates_WrongPasswordIsInvalidPasswordAndNothingIsStored) {
  AdminResponse r =
      call("PUT", "/certificates/orders", upload_body(material().orders_aes_pfx, "wrong"));

  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "InvalidPassword");
  EXPECT_THAT(targets_of(r), ElementsAre("$.properties.password"));
  EXPECT_EQ(call("GET", "/certificates/orders").status, 404);
}

TEST_F(ResourcesTest, Certificates_BytesThatAreNotAPfxAreAValidationErrorAtData) {
  const std::string body =
      json{{"properties", {{"data", base64("this is no PKCS#12 file at all")}, {"password", "x"}}}}
          .dump();

  AdminResponse r = call("PUT", "/certificates/orders", body);

  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "ValidationError");
  EXPECT_THAT(targets_of(r), ElementsAre("$.properties.data"));
}

TEST_F(ResourcesTest, Certificates_PfxWithoutAPrivateKeyIsAValidationError) {
  AdminResponse r = call("PUT", "/certificates/orders", upload_body(material().no_key_pfx));

  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "ValidationError");
}

TEST_F(ResourcesTest, Certificates_KeyTooWeakForTheSecurityLevelIsAValidationError) {
  const std::string key = dir_.path() + "/weak.key";
  const std::string crt = dir_.path() + "/weak.crt";
  const std::string pfx = dir_.path() + "/weak.pfx";
  run_command("openssl req -x509 -newkey rsa:512 -nodes -subj /CN=weak -days 30 -keyout " + key +
              " -out " + crt + " 2>/dev/null");
  run_command("openssl pkcs12 -export -inkey " + key + " -in " + crt + " -out " + pfx +
              " -passout 'pass:" + kPassword + "' 2>/dev/null");

  AdminResponse r = call("PUT", "/certificates/weak", upload_body(read_binary(pfx)));

  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "ValidationError");
  EXPECT_THAT(r.body, HasSubstr("too weak"));
}

TEST_F(ResourcesTest, Certificates_DataThatIsNotBase64IsAValidationErrorAtData) {
  AdminResponse r = call("PUT", "/certificates/orders", R"({"properties":{"data":"%%%"}})");

  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(targets_of(r), ElementsAre("$.properties.data"));
}

TEST_F(ResourcesTest, Certificates_NoAnswerCarriesTheDataOrThePassword) {
  upload("orders", material().orders_aes_pfx);
  const std::string data = base64(material().orders_aes_pfx);

  for (const AdminResponse& r :
       {call("GET", "/certificates"), call("GET", "/certificates/orders"),
        call("PUT", "/certificates/orders", upload_body(material().orders_aes_pfx)),
        call("PUT", "/certificates/x", upload_body(material().orders_aes_pfx, "not-it"))}) {
    EXPECT_THAT(r.body, Not(HasSubstr(kPassword)));
    EXPECT_THAT(r.body, Not(HasSubstr("not-it")));
    EXPECT_THAT(r.body, Not(HasSubstr(data.substr(0, 40))));
  }
}

TEST_F(ResourcesTest, Certificates_ListShowsUploadedAndConfigFileOnes) {
  upload("orders", material().orders_aes_pfx);

  const json list = body_of(call("GET", "/certificates"));

  EXPECT_EQ(list.at("count"), 2);
  EXPECT_EQ(list.at("value").at(0).at("name"), "file-cert");
  EXPECT_EQ(list.at("value").at(1).at("name"), "orders");
}

TEST_F(ResourcesTest, Certificates_ConfigFileOnesAreReadOnly) {
  AdminResponse put =
      call("PUT", "/certificates/file-cert", upload_body(material().orders_aes_pfx));
  AdminResponse del = call("DELETE", "/certificates/file-cert");

  EXPECT_EQ(put.status, 409);
  EXPECT_EQ(error_code(put), "ManagedByConfigFile");
  EXPECT_EQ(del.status, 409);
  EXPECT_EQ(error_code(del), "ManagedByConfigFile");
}

TEST_F(ResourcesTest, Certificates_DeleteOfOneInUseIsCertificateInUseNamingEveryApi) {
  upload("orders", material().orders_aes_pfx);
  make_api("orders", "orders", certificate_policy("orders"));
  make_api("by-thumbprint", "other",
           "<policies><inbound><authentication-certificate thumbprint=\"" +
               material().orders_thumbprint + "\"/></inbound></policies>");

  AdminResponse r = call("DELETE", "/certificates/orders");

  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error_code(r), "CertificateInUse");
  EXPECT_THAT(body_of(r).at("error").at("message").get<std::string>(),
              HasSubstr("by-thumbprint, orders"));
  EXPECT_THAT(targets_of(r),
              ElementsAre("/apis/by-thumbprint/policies/policy", "/apis/orders/policies/policy"));
  EXPECT_EQ(call("GET", "/certificates/orders").status, 200);
}

TEST_F(ResourcesTest, Certificates_DeleteOnceNoPolicyUsesItAnswers200ThenGetIs404) {
  upload("orders", material().orders_aes_pfx);
  make_api("orders", "orders", certificate_policy("orders"));
  ASSERT_EQ(call("DELETE", "/apis/orders/policies/policy").status, 200);

  EXPECT_EQ(call("DELETE", "/certificates/orders").status, 200);
  EXPECT_EQ(call("GET", "/certificates/orders").status, 404);
}

TEST_F(ResourcesTest, Certificates_DeleteOfAnUnknownIdIs404) {
  AdminResponse r = call("DELETE", "/certificates/nothing");

  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_code(r), "NotFound");
}

// ---- body validation

TEST_F(ResourcesTest, Bodies_UnknownKeysAreNamedByTheirJsonPath) {
  AdminResponse r = call("PUT", "/apis/orders",
                         R"({"properties":{"path":"orders","serviceUrl":"http://127.0.0.1:1",
                             "colour":"red"},"tags":[]})");

  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "ValidationError");
  EXPECT_THAT(targets_of(r), ElementsAre("$.tags", "$.properties.colour"));
}

TEST_F(ResourcesTest, Bodies_WrongTypesAreNamedWithWhatWasFound) {
  AdminResponse r = call("PUT", "/backends/be",
                         R"({"properties":{"url":42,"tls":{"validateCertificateChain":"no"}}})");

  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(details_of(r),
              ElementsAre(std::pair<std::string, std::string>{"$.properties.url",
                                                              "expected a string, found number 42"},
                          std::pair<std::string, std::string>{
                              "$.properties.tls.validateCertificateChain",
                              "expected true or false, found string \"no\""}));
}

TEST_F(ResourcesTest, Bodies_MissingRequiredKeysAreEachNamed) {
  AdminResponse r = call("PUT", "/apis/orders", R"({"properties":{}})");

  EXPECT_THAT(targets_of(r), ElementsAre("$.properties.path", "$.properties.serviceUrl"));
}

TEST_F(ResourcesTest, Bodies_InvalidJsonIsAProblemAtTheRoot) {
  AdminResponse r = call("PUT", "/apis/orders", R"({"properties":)");

  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(targets_of(r), ElementsAre("$")) << r.body;
}

TEST_F(ResourcesTest, Bodies_BadUrlIsNamedWithTheReason) {
  AdminResponse r = call("PUT", "/backends/be", R"({"properties":{"url":"https://h:99999"}})");

  EXPECT_THAT(
      details_of(r),
      ElementsAre(std::pair<std::string, std::string>{
          "$.properties.url",
          "expected an http:// or https:// URL (the port must be a number from 1 to 65535), "
          "found \"https://h:99999\""}));
}

TEST_F(ResourcesTest, Ids_AnInvalidIdInAPutIsAValidationErrorNamingIt) {
  AdminResponse r = call("PUT", "/apis/-leading-dash", api_body("x", "http://127.0.0.1:1"));

  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(targets_of(r), ElementsAre("name"));
}

TEST_F(ResourcesTest, Ids_EightyCharactersAreAllowedAndEightyOneAreNot) {
  EXPECT_EQ(
      call("PUT", "/apis/" + std::string(80, 'a'), api_body("a", "http://127.0.0.1:1")).status,
      201);
  EXPECT_EQ(
      call("PUT", "/apis/" + std::string(81, 'b'), api_body("b", "http://127.0.0.1:1")).status,
      400);
}

// ---- ETags and If-Match

TEST_F(ResourcesTest, ETag_IsTheSameAfterARestart) {
  make_api("orders", "orders");
  const auto before = header(call("GET", "/apis/orders"), "ETag");

  restart();

  EXPECT_EQ(header(call("GET", "/apis/orders"), "ETag"), before);
}

TEST_F(ResourcesTest, ETag_ChangesWithTheEntity) {
  make_api("orders", "orders");
  const auto before = header(call("GET", "/apis/orders"), "ETag");

  ASSERT_EQ(call("PUT", "/apis/orders", api_body("orders/v2", "http://127.0.0.1:1")).status, 200);

  EXPECT_NE(header(call("GET", "/apis/orders"), "ETag"), before);
}

TEST_F(ResourcesTest, IfMatch_AStaleTagIs412AndNothingChanges) {
  make_api("orders", "orders");

  AdminResponse r =
      call("PUT", "/apis/orders", api_body("moved", "http://127.0.0.1:1"), "\"0000\"");

  EXPECT_EQ(r.status, 412);
  EXPECT_EQ(error_code(r), "PreconditionFailed");
  EXPECT_EQ(body_of(call("GET", "/apis/orders")).at("properties").at("path"), "orders");
}

TEST_F(ResourcesTest, IfMatch_TheCurrentTagLetsTheChangeThrough) {
  make_api("orders", "orders");
  const std::string tag = *header(call("GET", "/apis/orders"), "ETag");

  EXPECT_EQ(call("PUT", "/apis/orders", api_body("moved", "http://127.0.0.1:1"), tag).status, 200);
  EXPECT_EQ(call("DELETE", "/apis/orders", {}, tag).status, 412);
}

TEST_F(ResourcesTest, IfMatch_StarNeedsAnExistingEntity) {
  EXPECT_EQ(call("PUT", "/apis/orders", api_body("orders", "http://127.0.0.1:1"), "*").status, 412);
  make_api("orders", "orders");
  EXPECT_EQ(call("PUT", "/apis/orders", api_body("orders", "http://127.0.0.1:2"), "*").status, 200);
}

// ---- backends, APIs, policies

TEST_F(ResourcesTest, Backends_PutAnswersTheEntityAndGetShowsIt) {
  AdminResponse r = call("PUT", "/backends/be",
                         R"({"properties":{"url":"https://127.0.0.1:9443",
                             "tls":{"validateCertificateChain":false}}})");

  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(call("GET", "/backends/be").body, r.body);
  EXPECT_EQ(body_of(r).at("properties").at("tls").at("validateCertificateChain"), false);
  EXPECT_EQ(body_of(r).at("properties").at("tls").at("validateCertificateName"), true);
}

TEST_F(ResourcesTest, Backends_ConfigFileOnesAreListedAndReadOnly) {
  EXPECT_EQ(body_of(call("GET", "/backends")).at("count"), 1);
  EXPECT_EQ(call("DELETE", "/backends/file-backend").status, 409);
  EXPECT_EQ(call("PUT", "/backends/file-backend", R"({"properties":{"url":"https://127.0.0.1:1"}})")
                .status,
            409);
}

TEST_F(ResourcesTest, Backends_UrlAnotherBackendHasIsRefusedAtTheBodysUrl) {
  AdminResponse r =
      call("PUT", "/backends/copy", R"({"properties":{"url":"https://127.0.0.1:9000"}})");

  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(targets_of(r), ElementsAre("$.properties.url"));
}

TEST_F(ResourcesTest, Apis_PathAConfigFileApiHasIsRefusedAtTheBodysPath) {
  AdminResponse r = call("PUT", "/apis/copy", api_body("/file/", "http://127.0.0.1:1"));

  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(details_of(r),
              ElementsAre(std::pair<std::string, std::string>{
                  "$.properties.path", "path \"file\" is already used by API \"file-api\""}));
}

TEST_F(ResourcesTest, Apis_ReplacingAnApiKeepsItsPolicy) {
  upload("orders", material().orders_aes_pfx);
  make_api("orders", "orders", certificate_policy("orders"));

  ASSERT_EQ(call("PUT", "/apis/orders", api_body("orders/v2", std::string(kTlsBackend))).status,
            200);

  EXPECT_EQ(body_of(call("GET", "/apis/orders/policies/policy")).at("properties").at("value"),
            certificate_policy("orders"));
}

TEST_F(ResourcesTest, Policies_GetReturnsTheXmlAsStored) {
  make_api("orders", "orders");
  const std::string xml =
      "<policies>\n  <inbound>\n    <base />\n  </inbound>\n  <!-- kept -->\n</policies>";
  ASSERT_EQ(call("PUT", "/apis/orders/policies/policy", policy_body(xml)).status, 201);

  AdminResponse r = call("GET", "/apis/orders/policies/policy");

  EXPECT_EQ(body_of(r).at("properties").at("value"), xml);
  EXPECT_EQ(body_of(r).at("id"), "/apis/orders/policies/policy");
}

TEST_F(ResourcesTest, Policies_AnUnsupportedElementIsRefusedNamingItsLocation) {
  make_api("orders", "orders");

  AdminResponse r = call("PUT", "/apis/orders/policies/policy",
                         policy_body("<policies><inbound><rate-limit calls=\"5\"/></inbound>"
                                     "</policies>"));

  EXPECT_EQ(r.status, 400);
  ASSERT_THAT(details_of(r), ::testing::SizeIs(1));
  EXPECT_EQ(details_of(r)[0].first, "$.properties.value");
  EXPECT_THAT(details_of(r)[0].second, HasSubstr("/policies/inbound/rate-limit[1]"));
  EXPECT_EQ(call("GET", "/apis/orders/policies/policy").status, 404);
}

TEST_F(ResourcesTest, Policies_ACertificateThatIsNotThereIsRefused) {
  make_api("orders", "orders");

  AdminResponse r =
      call("PUT", "/apis/orders/policies/policy", policy_body(certificate_policy("ghost")));

  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("ghost"));
}

TEST_F(ResourcesTest, Policies_OfAnApiThatDoesNotExistIs404) {
  EXPECT_EQ(call("PUT", "/apis/nope/policies/policy", policy_body("<policies/>")).status, 404);
}

TEST_F(ResourcesTest, Policies_OfAConfigFileApiAreReadableAndReadOnly) {
  EXPECT_EQ(call("GET", "/apis/file-api/policies/policy").status, 200);
  EXPECT_EQ(call("PUT", "/apis/file-api/policies/policy", policy_body("<policies/>")).status, 409);
}

// ---- changes are answered once live

TEST_F(ResourcesTest, Changes_AnswerIsHeldUntilEveryWorkerRunsTheChange) {
  live_ = false;

  AdminResponse r = call("PUT", "/apis/orders", api_body("orders", "http://127.0.0.1:9001"));

  ASSERT_TRUE(r.ready);
  EXPECT_FALSE(r.ready());
  EXPECT_EQ(r.wait_deadline_ms, now_ + 1500);
  EXPECT_EQ(asked_generation_, state_->current()->generation);
  live_ = true;
  EXPECT_TRUE(r.ready());
}

TEST_F(ResourcesTest, Changes_WaitForThePoolKeysTheyAdd) {
  call("PUT", "/apis/orders", api_body("orders", "http://127.0.0.1:9001")).ready();

  ASSERT_EQ(asked_keys_.size(), 1u);
  EXPECT_THAT(asked_keys_[0], HasSubstr("127.0.0.1:9001"));
}

TEST_F(ResourcesTest, Changes_ARefusedChangeIsAnsweredAtOnce) {
  AdminResponse r = call("PUT", "/apis/orders/policies/policy", policy_body("<policies/>"));

  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(r.ready);
}

// ---- routing

TEST_F(ResourcesTest, Routes_APathOfNoResourceIsLeftToTheListener) {
  AdminRequest request;
  request.method = "GET";
  for (std::string_view path : {"/", "/certificate", "/apis/a/policies", "/apis/a/b/c/d/e",
                                "/certificates/", "/backends/a/policies/policy"}) {
    request.path = path;
    EXPECT_FALSE(resources_->handle(request).has_value()) << path;
  }
}

TEST_F(ResourcesTest, Routes_AMethodARouteDoesNotAnswerIs405WithAllow) {
  AdminResponse r = call("POST", "/certificates/orders", "{}");

  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header(r, "Allow"), "GET, HEAD, PUT, DELETE");
}

}  // namespace
}  // namespace ringgate::admin
