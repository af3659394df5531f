// Specification of the config loader, continued: listeners, admin, the
// access log, certificates, backends and APIs, and loading from a string.
#include "config_test_support.hpp"
#include "ringgate/config.hpp"

namespace ringgate::config {
namespace {

using namespace config_tests;  // the shared fixture (config_test_support.hpp)

TEST_F(ConfigTest, Config_AcceptsListenerPortZeroForKernelChoice) {
  LoadResult result = load(kMinimal);

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.listeners[0].address.port, 0);
}

TEST_F(ConfigTest, Config_RejectsAdminPortZero) {
  LoadResult result = load_with(R"("admin": {"address": "127.0.0.1:0"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.admin.address",
                                    "port must be between 1 and 65535, found \"127.0.0.1:0\"")));
}

TEST_F(ConfigTest, Config_ParsesBracketedIpv6Listener) {
  LoadResult result = load(R"({"gateway": {"listeners": [{"address": "[::1]:8080"}]}})");

  ASSERT_THAT(result.problems, IsEmpty());
  const SocketAddress& address = result.config->gateway.listeners[0].address;
  EXPECT_EQ(address.host, "::1");
  EXPECT_EQ(address.port, 8080);
  EXPECT_EQ(address.to_string(), "[::1]:8080");
}

TEST_F(ConfigTest, Config_RejectsDuplicateListenerAddress) {
  LoadResult result = load(R"({"gateway": {"listeners": [{"address": "127.0.0.1:8080"},
                                                        {"address": "127.0.0.1:8080"}]}})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemIs("$.gateway.listeners[1].address",
                                                     "address 127.0.0.1:8080 is also used by "
                                                     "$.gateway.listeners[0]")));
}

TEST_F(ConfigTest, Config_RejectsListenerOnAdminAddress) {
  LoadResult result = load(R"({"gateway": {"listeners": [{"address": "127.0.0.1:9901"}]}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.admin.address",
                                    "address 127.0.0.1:9901 is also used by a listener")));
}

TEST_F(ConfigTest, Config_RequiresListeners) {
  LoadResult result = load(R"({"gateway": {"workers": 2}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.listeners",
                                    "required key is missing (at least one listener)")));
}

TEST_F(ConfigTest, Config_RequiresGatewaySectionForListeners) {
  LoadResult result = load("{}");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.gateway.listeners", HasSubstr("required key is missing"))));
}

TEST_F(ConfigTest, Config_RejectsEmptyListenerArray) {
  LoadResult result = load(R"({"gateway": {"listeners": []}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.listeners",
                                    "expected at least one listener, found an empty array")));
}

TEST_F(ConfigTest, Config_RejectsDanglingListenerCertificate) {
  LoadResult result = load(
      R"({"gateway": {"listeners": [{"address": "0.0.0.0:0", "tls": {"certificateId": "edge"}}]}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.listeners[0].tls.certificateId",
                                    "unknown certificate \"edge\" (not in $.certificates)")));
}

TEST_F(ConfigTest, Config_RejectsServiceUrlWithOtherScheme) {
  LoadResult result = load_with("", R"("apis": {"a": {"serviceUrl": "ftp://be/x"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.apis.a.serviceUrl",
                                    "expected an http:// or https:// URL (the scheme must be "
                                    "http:// or https://), found \"ftp://be/x\"")));
}

TEST_F(ConfigTest, Config_RejectsServiceUrlWithoutHost) {
  LoadResult result = load_with("", R"("apis": {"a": {"serviceUrl": "http://:80/x"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.apis.a.serviceUrl", HasSubstr("the host is missing"))));
}

TEST_F(ConfigTest, Config_RejectsServiceUrlWithBadPort) {
  LoadResult result = load_with("", R"("apis": {"a": {"serviceUrl": "http://be:0/x"}})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemAt("$.apis.a.serviceUrl",
                                                     HasSubstr("port must be a number from 1"))));
}

TEST_F(ConfigTest, Config_RejectsServiceUrlsTheRouterWouldRefuse) {
  LoadResult result = load_with("", R"("apis": {
      "a": {"path": "a", "serviceUrl": "http://999.1.1.1/x"},
      "b": {"path": "b", "serviceUrl": "http://be/a b"},
      "c": {"path": "c", "serviceUrl": "http://be/\"x\""}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.apis.a.serviceUrl", HasSubstr("invalid host")),
                          ProblemAt("$.apis.b.serviceUrl", HasSubstr("spaces")),
                          ProblemAt("$.apis.c.serviceUrl", HasSubstr("percent-encoded"))));
}

TEST_F(ConfigTest, Config_RejectsServiceUrlWithQuery) {
  LoadResult result = load_with("", R"("apis": {"a": {"serviceUrl": "http://be/x?y=1"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.apis.a.serviceUrl", HasSubstr("a query or fragment"))));
}

TEST_F(ConfigTest, Config_AcceptsServiceUrlForms) {
  LoadResult result = load_with("", R"("apis": {
      "a": {"path": "a", "serviceUrl": "https://[::1]:9443/api/"},
      "b": {"path": "b", "serviceUrl": "http://backend.internal"},
      "c": {"path": "c", "serviceUrl": "http://10.0.0.1:8080/v1/orders"}})");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->apis.at("a").service_url, "https://[::1]:9443/api");
  EXPECT_EQ(result.config->apis.at("b").service_url, "http://backend.internal");
  EXPECT_EQ(result.config->apis.at("c").service_url, "http://10.0.0.1:8080/v1/orders");
}

TEST_F(ConfigTest, Config_RejectsBackendUrlWithPath) {
  LoadResult result = load_with("", R"("backends": {"be": {"url": "https://be:9443/api"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.backends.be.url",
                                    "expected an http:// or https:// URL (a backend url has no "
                                    "path), found \"https://be:9443/api\"")));
}

TEST_F(ConfigTest, Config_AcceptsBackendUrlWithTrailingSlash) {
  LoadResult result = load_with("", R"("backends": {"be": {"url": "https://be:9443/",
      "tls": {"validateCertificateChain": false, "validateCertificateName": false}}})");

  ASSERT_THAT(result.problems, IsEmpty());
  const Backend& backend = result.config->backends.at("be");
  EXPECT_EQ(backend.url, "https://be:9443");
  EXPECT_FALSE(backend.tls.validate_certificate_chain);
  EXPECT_FALSE(backend.tls.validate_certificate_name);
  EXPECT_EQ(backend.ca_file, "");
}

TEST_F(ConfigTest, Config_RejectsTwoBackendsWithOneUrl) {
  LoadResult result = load_with("", R"("backends": {"a": {"url": "https://be:9443"},
                                                    "b": {"url": "https://be:9443/"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.backends.b.url",
                                    "url \"https://be:9443\" is already used by backend \"a\"")));
}

TEST_F(ConfigTest, Config_RequiresApiServiceUrl) {
  LoadResult result = load_with("", R"("apis": {"a": {"path": "a"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.apis.a.serviceUrl", "required key is missing")));
}

TEST_F(ConfigTest, Config_RequiresCertificatePfxFile) {
  LoadResult result = load_with("", R"("certificates": {"c": {}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.certificates.c.pfxFile", "required key is missing")));
}

TEST_F(ConfigTest, Config_RequiresBackendUrl) {
  dir_.write("ca.pem", "pem");
  LoadResult result = load_with("", R"("backends": {"be": {"caFile": "ca.pem"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.backends.be.url", "required key is missing")));
}

TEST_F(ConfigTest, Config_RejectsInvalidIdWithQuotedPath) {
  LoadResult result = load_with("", R"("apis": {"bad id": {"serviceUrl": "http://be"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.apis[\"bad id\"]",
                                    "invalid id \"bad id\": expected 1 to 80 characters from "
                                    "A-Z a-z 0-9 . _ -, starting with a letter or digit")));
}

TEST_F(ConfigTest, Config_RejectsIdStartingWithPunctuation) {
  LoadResult result = load_with("", R"("apis": {"-x": {"serviceUrl": "http://be"}})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemAt("$.apis.-x", StartsWith("invalid id"))));
}

TEST_F(ConfigTest, Config_AcceptsIdOfEightyCharactersButNotEightyOne) {
  const std::string id80(80, 'a');
  const std::string id81(81, 'b');
  LoadResult result =
      load_with("", R"("apis": {")" + id80 + R"(": {"path": "x", "serviceUrl": "http://be"}, ")" +
                        id81 + R"(": {"path": "y", "serviceUrl": "http://be"}})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemAt("$.apis." + id81, StartsWith("invalid id"))));
}

TEST_F(ConfigTest, Config_NormalizesApiPath) {
  LoadResult result = load_with("", R"("apis": {
      "orders": {"path": "/v1/orders/", "serviceUrl": "http://be"},
      "root": {"path": "/", "serviceUrl": "http://be"}})");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->apis.at("orders").path, "v1/orders");
  EXPECT_EQ(result.config->apis.at("root").path, "");
}

TEST_F(ConfigTest, Config_RejectsDuplicateNormalizedApiPaths) {
  LoadResult result = load_with("", R"("apis": {
      "a": {"path": "/orders/", "serviceUrl": "http://be"},
      "b": {"path": "orders", "serviceUrl": "http://be"}})");

  EXPECT_THAT(
      result.problems,
      ElementsAre(ProblemIs("$.apis.b.path", "path \"orders\" is already used by API \"a\"")));
}

TEST_F(ConfigTest, Config_RejectsApiPathWithEmptySegment) {
  LoadResult result =
      load_with("", R"("apis": {"a": {"path": "v1//x", "serviceUrl": "http://be"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.apis.a.path", HasSubstr("found \"v1//x\""))));
}

TEST_F(ConfigTest, Config_KeepsPolicyTextAsWritten) {
  LoadResult result = load_with(
      "", R"("apis": {"a": {"serviceUrl": "http://be", "policy": "<policies>not checked here"}})");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->apis.at("a").policy, "<policies>not checked here");
}

TEST_F(ConfigTest, Config_RejectsMissingPfxFileWithPathAndReason) {
  LoadResult result = load_with("", R"("certificates": {"c": {"pfxFile": "certs/none.pfx"}})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemIs("$.certificates.c.pfxFile",
                                                     "cannot read \"" + abs("certs/none.pfx") +
                                                         "\": No such file or directory")));
}

TEST_F(ConfigTest, Config_RejectsMissingPasswordAndCaFiles) {
  dir_.write("c.pfx", "pfx");
  LoadResult result = load_with("", R"("certificates": {"c": {"pfxFile": "c.pfx",
                                                              "passwordFile": "c.pass"}},
                                       "backends": {"be": {"url": "https://be",
                                                           "caFile": "ca.pem"}})");

  EXPECT_THAT(
      result.problems,
      ElementsAre(
          ProblemAt("$.certificates.c.passwordFile", HasSubstr("No such file or directory")),
          ProblemAt("$.backends.be.caFile", HasSubstr("No such file or directory"))));
}

TEST_F(ConfigTest, Config_RejectsDirectoryAsFile) {
  fs::create_directories(dir_.path() / "certs");
  LoadResult result = load_with("", R"("certificates": {"c": {"pfxFile": "certs"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.certificates.c.pfxFile", HasSubstr("not a regular file"))));
}

TEST_F(ConfigTest, Config_RejectsUnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files regardless of their mode";
  fs::path file = dir_.write("c.pfx", "pfx");
  ::chmod(file.c_str(), 0);
  LoadResult result = load_with("", R"("certificates": {"c": {"pfxFile": "c.pfx"}})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.certificates.c.pfxFile", HasSubstr("Permission denied"))));
}

TEST_F(ConfigTest, Config_ReadsAndTrimsAdminToken) {
  dir_.write("admin.token", "  abc.DEF-123  \r\n\n");
  LoadResult result = load_with(R"("admin": {"tokenFile": "admin.token"})");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.admin.token, "abc.DEF-123");
}

TEST_F(ConfigTest, Config_RejectsMissingTokenFile) {
  LoadResult result = load_with(R"("admin": {"tokenFile": "admin.token"})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemIs("$.gateway.admin.tokenFile",
                                                     "cannot read \"" + abs("admin.token") +
                                                         "\": No such file or directory")));
}

TEST_F(ConfigTest, Config_RejectsEmptyTokenFile) {
  dir_.write("admin.token", "\n");
  LoadResult result = load_with(R"("admin": {"tokenFile": "admin.token"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.admin.tokenFile",
                                    "token file \"" + abs("admin.token") + "\" is empty")));
}

TEST_F(ConfigTest, Config_RejectsTokenWithInnerSpace) {
  dir_.write("admin.token", "two words\n");
  LoadResult result = load_with(R"("admin": {"tokenFile": "admin.token"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.gateway.admin.tokenFile", HasSubstr("without spaces"))));
}

TEST_F(ConfigTest, Config_AllowsAdminWithoutTokenFile) {
  LoadResult result = load_with(R"("admin": {"publicHealthAndMetrics": true})");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.admin.token, "");
  EXPECT_EQ(result.config->gateway.admin.token_file, "");
}

TEST_F(ConfigTest, Config_ReportsInvalidJsonAsOneProblem) {
  LoadResult result = load(R"({"gateway": {"workers": 1,}})");

  EXPECT_EQ(result.config, nullptr);
  EXPECT_THAT(result.problems, ElementsAre(ProblemAt("$", StartsWith("invalid JSON: "))));
}

TEST_F(ConfigTest, Config_RejectsNonObjectDocument) {
  LoadResult result = load("[1, 2]");

  EXPECT_THAT(result.problems, ElementsAre(ProblemIs("$", "expected an object, found an array")));
}

TEST_F(ConfigTest, Config_ReportsMissingConfigFile) {
  LoadResult result = load_file(abs("absent.json"));

  EXPECT_EQ(result.config, nullptr);
  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$", "cannot read config file \"" + abs("absent.json") +
                                             "\": No such file or directory")));
}

TEST_F(ConfigTest, Config_ReportsEveryProblemNotOnlyTheFirst) {
  LoadResult result = load(R"({
    "gateway": {"workers": "four",
                "listeners": [{"address": "localhost:80x"}],
                "limts": {}}
  })");

  EXPECT_EQ(result.config, nullptr);
  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.gateway.limts", StartsWith("unknown key")),
                          ProblemAt("$.gateway.workers", StartsWith("expected an unsigned")),
                          ProblemAt("$.gateway.listeners[0].address",
                                    StartsWith("expected \"host:port\""))));
}

TEST_F(ConfigTest, Config_ResolvesRelativePathsAgainstConfigDirectory) {
  dir_.write("etc/certs/c.pfx", "pfx");
  dir_.write("shared/c.pass", "pw");
  fs::create_directories(dir_.path() / "etc/logs");
  fs::path ca = dir_.write("ca.pem", "pem");
  dir_.write("etc/config.json", R"({
    "gateway": {"listeners": [{"address": "127.0.0.1:0"}],
                "stateDir": "state", "accessLog": {"path": "logs/access.log"}},
    "certificates": {"c": {"pfxFile": "certs/c.pfx", "passwordFile": "../shared/c.pass"}},
    "backends": {"be": {"url": "https://be", "caFile": ")" +
                                    ca.string() + R"("}}
  })");

  LoadResult result = load_file(abs("etc/config.json"));

  ASSERT_THAT(result.problems, IsEmpty());
  const Config& config = *result.config;
  EXPECT_EQ(config.gateway.state_dir, abs("etc/state"));
  EXPECT_EQ(config.gateway.access_log.path, abs("etc/logs/access.log"));
  EXPECT_EQ(config.certificates.at("c").pfx_file, abs("etc/certs/c.pfx"));
  EXPECT_EQ(config.certificates.at("c").password_file, abs("shared/c.pass"));
  EXPECT_EQ(config.backends.at("be").ca_file, ca.string());
}

TEST_F(ConfigTest, AccessLog_StdoutAndOffAreNotFiles) {
  EXPECT_EQ(load_with(R"("accessLog": {"path": "-"})").config->gateway.access_log.path, "-");
  EXPECT_EQ(load_with(R"("accessLog": {"path": ""})").config->gateway.access_log.path, "");
}

TEST_F(ConfigTest, AccessLog_FileInAMissingDirectoryIsReported) {
  LoadResult result = load_with(R"("accessLog": {"path": "nowhere/access.log"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.gateway.accessLog.path",
                                    AllOf(HasSubstr(abs("nowhere/access.log")),
                                          HasSubstr("No such file or directory")))));
}

TEST_F(ConfigTest, AccessLog_PathThatIsADirectoryIsReported) {
  fs::create_directories(dir_.path() / "logs");

  LoadResult result = load_with(R"("accessLog": {"path": "logs"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.gateway.accessLog.path",
                                    HasSubstr("is a directory, not a regular file"))));
}

TEST_F(ConfigTest, AccessLog_ExistingFileIsKept) {
  dir_.write("access.log", "earlier line\n");

  LoadResult result = load_with(R"("accessLog": {"path": "access.log"})");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.access_log.path, abs("access.log"));
}

TEST_F(ConfigTest, AccessLog_PathIsRequired) {
  LoadResult result = load_with(R"("accessLog": {})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.gateway.accessLog.path", StartsWith("required key"))));
}

TEST_F(ConfigTest, AccessLog_PathMustBeAString) {
  LoadResult result = load_with(R"("accessLog": {"path": 1})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.gateway.accessLog.path", StartsWith("expected a string"))));
}

TEST_F(ConfigTest, Config_LoadStringResolvesAgainstBaseDir) {
  LoadResult result = load_string(kMinimal, dir_.path().string());

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.state_dir, abs("var/ringgate"));
  EXPECT_EQ(result.config->source_path, "");
}

TEST_F(ConfigTest, Config_LoadsShippedExample) {
  const char* root = std::getenv("RINGGATE_SOURCE_ROOT");
  ASSERT_NE(root, nullptr) << "RINGGATE_SOURCE_ROOT is not set; run through `meson test`";
  // The demo PKI is made by tools/gen-certs at run time; the loader only needs
  // the files it references to exist, so a copy with stand-ins will do.
  const fs::path examples = dir_.path() / "examples";
  fs::create_directories(examples / "certs");
  fs::copy_file(fs::path(root) / "examples" / "ringgate.json", examples / "ringgate.json");
  fs::copy_file(fs::path(root) / "examples" / "admin.token", examples / "admin.token");
  for (const char* name : {"demo-client.pfx", "demo-client.pass", "demo-ca.pem"}) {
    std::ofstream(examples / "certs" / name) << "stand-in\n";
  }

  LoadResult result = load_file((examples / "ringgate.json").string());

  ASSERT_THAT(result.problems, IsEmpty());
  const Config& config = *result.config;
  ASSERT_EQ(config.gateway.listeners.size(), 1u);
  EXPECT_EQ(config.gateway.listeners[0].address.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(config.gateway.admin.address.to_string(), "127.0.0.1:9901");
  EXPECT_FALSE(config.gateway.admin.token.empty());
  EXPECT_EQ(config.gateway.workers, 0u);
  EXPECT_EQ(config.gateway.state_dir, (examples / "var/ringgate").lexically_normal().string());
  ASSERT_TRUE(config.apis.contains("echo"));
  EXPECT_EQ(config.apis.at("echo").path, "echo");
  EXPECT_EQ(config.apis.at("echo").service_url, "https://127.0.0.1:9100/echo");
  EXPECT_NE(config.apis.at("echo").policy.find("certificate-id=\"demo-client\""),
            std::string::npos);
  ASSERT_TRUE(config.certificates.contains("demo-client"));
  EXPECT_EQ(config.backends.at("demo").ca_file, (examples / "certs/demo-ca.pem").string());
}

TEST(ConfigAddress, ParseSocketAddress_ParsesBracketedIpv6) {
  std::string error;
  std::optional<SocketAddress> address = parse_socket_address("[::1]:8080", error);

  ASSERT_TRUE(address.has_value()) << error;
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 8080);
  EXPECT_EQ(address->to_string(), "[::1]:8080");
}

TEST(ConfigAddress, ParseSocketAddress_RejectsUnbracketedIpv6) {
  std::string error;

  EXPECT_FALSE(parse_socket_address("::1:8080", error).has_value());
  EXPECT_EQ(error, "expected \"host:port\" with a numeric IPv4/IPv6 host, found \"::1:8080\"");
}

TEST(ConfigAddress, ParseSocketAddress_RejectsIpv4InBrackets) {
  std::string error;

  EXPECT_FALSE(parse_socket_address("[127.0.0.1]:80", error).has_value());
}

TEST(ConfigAddress, ParseSocketAddress_RejectsMissingOrSignedPort) {
  std::string error;

  EXPECT_FALSE(parse_socket_address("127.0.0.1", error).has_value());
  EXPECT_FALSE(parse_socket_address("127.0.0.1:", error).has_value());
  EXPECT_FALSE(parse_socket_address("127.0.0.1:+80", error).has_value());
  EXPECT_FALSE(parse_socket_address("[::1]8080", error).has_value());
}

}  // namespace
}  // namespace ringgate::config
