// Specification of the config file loader (DESIGN §6): what loads, what the
// defaults are, and which problem — JSON path and message — each mistake gives.
#include "ringgate/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>

#include "config/cpus.hpp"

namespace ringgate::config {

// Lets gtest print problems when an expectation fails.
void PrintTo(const Problem& problem, std::ostream* out) {
  *out << problem.path << ": " << problem.message;
}

namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ringgate-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  const fs::path& path() const { return path_; }

  // Writes `content` to `relative` (creating parent directories); returns the
  // absolute path.
  fs::path write(const std::string& relative, const std::string& content) const {
    fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    return file;
  }

 private:
  fs::path path_;
};

auto ProblemIs(const std::string& path, const std::string& message) {
  return AllOf(Field(&Problem::path, path), Field(&Problem::message, message));
}

template <typename MessageMatcher>
auto ProblemAt(const std::string& path, MessageMatcher message) {
  return AllOf(Field(&Problem::path, path), Field(&Problem::message, message));
}

constexpr const char* kMinimal = R"({"gateway": {"listeners": [{"address": "127.0.0.1:0"}]}})";

// The example from DESIGN §6, verbatim.
constexpr const char* kDesignExample = R"json({
  "gateway": {
    "workers": 0,
    "listeners": [{"address": "127.0.0.1:8080"},
                  {"address": "0.0.0.0:8443", "tls": {"certificateId": "edge"}}],
    "admin": {"address": "127.0.0.1:9901", "tokenFile": "admin.token"},
    "stateDir": "var/ringgate",
    "limits": {"maxHeaderBytes": 16384, "maxBodyBytes": 10485760, "maxConnections": 100000},
    "timeouts": {"clientHeaderMs": 10000, "clientIdleMs": 60000, "backendConnectMs": 3000,
                 "backendResponseMs": 30000, "drainMs": 10000},
    "pool": {"minIdle": 4, "maxPerKey": 1024, "idleTimeoutMs": 60000},
    "accessLog": {"path": "-"}
  },
  "certificates": {"orders-client": {"pfxFile": "certs/orders.pfx", "passwordFile": "certs/orders.pass"}},
  "backends": {"orders": {"url": "https://127.0.0.1:9443", "tls": {"validateCertificateChain": true,
               "validateCertificateName": true}, "caFile": "certs/ca.pem"}},
  "apis": {"orders": {"path": "orders", "serviceUrl": "https://127.0.0.1:9443/api",
           "policy": "<policies><inbound><authentication-certificate certificate-id=\"orders-client\"/></inbound></policies>"}}
})json";

class ConfigTest : public ::testing::Test {
 protected:
  // Writes `json` as config.json in the temp dir and loads it from there.
  LoadResult load(const std::string& json) {
    return load_file(dir_.write("config.json", json).string());
  }

  // A minimal valid document with `gateway_extra` spliced into "gateway" and
  // `top_extra` into the top-level object.
  LoadResult load_with(const std::string& gateway_extra, const std::string& top_extra = "") {
    std::string json = R"({"gateway": {"listeners": [{"address": "127.0.0.1:0"}])";
    if (!gateway_extra.empty()) json += ", " + gateway_extra;
    json += "}";
    if (!top_extra.empty()) json += ", " + top_extra;
    json += "}";
    return load(json);
  }

  std::string abs(const std::string& relative) const {
    return (dir_.path() / relative).lexically_normal().string();
  }

  TempDir dir_;
};

TEST_F(ConfigTest, Config_LoadsDesignExample) {
  dir_.write("admin.token", "s3cret-token\n");
  dir_.write("certs/orders.pfx", "pfx");
  dir_.write("certs/orders.pass", "password");
  dir_.write("certs/ca.pem", "pem");
  // The example's listener names certificate "edge", which the example does
  // not declare; add it so the reference resolves.
  dir_.write("certs/edge.pfx", "pfx");
  std::string json = kDesignExample;
  const std::string certificates = R"("certificates": {)";
  json.insert(json.find(certificates) + certificates.size(),
              R"("edge": {"pfxFile": "certs/edge.pfx"}, )");

  LoadResult result = load(json);

  ASSERT_THAT(result.problems, IsEmpty());
  ASSERT_NE(result.config, nullptr);
  const Config& config = *result.config;
  EXPECT_EQ(config.source_path, abs("config.json"));
  ASSERT_EQ(config.gateway.listeners.size(), 2u);
  EXPECT_EQ(config.gateway.listeners[0].address.to_string(), "127.0.0.1:8080");
  EXPECT_FALSE(config.gateway.listeners[0].tls.has_value());
  ASSERT_TRUE(config.gateway.listeners[1].tls.has_value());
  EXPECT_EQ(config.gateway.listeners[1].tls->certificate_id, "edge");
  EXPECT_EQ(config.gateway.admin.token, "s3cret-token");
  EXPECT_EQ(config.gateway.admin.token_file, abs("admin.token"));
  EXPECT_EQ(config.gateway.state_dir, abs("var/ringgate"));
  EXPECT_EQ(config.gateway.access_log.path, "-");
  EXPECT_EQ(config.certificates.at("orders-client").pfx_file, abs("certs/orders.pfx"));
  EXPECT_EQ(config.certificates.at("orders-client").password_file, abs("certs/orders.pass"));
  EXPECT_EQ(config.backends.at("orders").url, "https://127.0.0.1:9443");
  EXPECT_EQ(config.backends.at("orders").ca_file, abs("certs/ca.pem"));
  EXPECT_EQ(config.apis.at("orders").path, "orders");
  EXPECT_EQ(config.apis.at("orders").service_url, "https://127.0.0.1:9443/api");
  EXPECT_THAT(config.apis.at("orders").policy, HasSubstr("certificate-id=\"orders-client\""));
}

TEST_F(ConfigTest, Config_AppliesDefaultsToMinimalFile) {
  LoadResult result = load(kMinimal);

  ASSERT_THAT(result.problems, IsEmpty());
  const Gateway& gateway = result.config->gateway;
  EXPECT_EQ(gateway.workers, 0u);
  EXPECT_EQ(gateway.admin.address.to_string(), "127.0.0.1:9901");
  EXPECT_EQ(gateway.admin.token_file, "");
  EXPECT_EQ(gateway.admin.token, "");
  EXPECT_FALSE(gateway.admin.metrics_without_token);
  EXPECT_EQ(gateway.state_dir, abs("var/ringgate"));
  EXPECT_EQ(gateway.limits.max_header_bytes, 16384u);
  EXPECT_EQ(gateway.limits.max_header_count, 100u);
  EXPECT_EQ(gateway.limits.max_url_bytes, 8192u);
  EXPECT_EQ(gateway.limits.max_body_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(gateway.limits.max_connections, 100000u);
  EXPECT_EQ(gateway.timeouts.client_header_ms, 10000u);
  EXPECT_EQ(gateway.timeouts.client_idle_ms, 60000u);
  EXPECT_EQ(gateway.timeouts.backend_connect_ms, 3000u);
  EXPECT_EQ(gateway.timeouts.backend_response_ms, 30000u);
  EXPECT_EQ(gateway.timeouts.drain_ms, 10000u);
  EXPECT_EQ(gateway.pool.min_idle, 4u);
  EXPECT_EQ(gateway.pool.max_per_key, 1024u);
  EXPECT_EQ(gateway.pool.idle_timeout_ms, 60000u);
  EXPECT_EQ(gateway.pool.max_waiting, 256u);
  EXPECT_EQ(gateway.pool.wait_timeout_ms, 1000u);
  EXPECT_EQ(gateway.access_log.path, "");
  EXPECT_THAT(result.config->certificates, IsEmpty());
  EXPECT_THAT(result.config->backends, IsEmpty());
  EXPECT_THAT(result.config->apis, IsEmpty());
}

TEST_F(ConfigTest, Config_ReadsEveryTunable) {
  LoadResult result = load_with(
      R"("workers": 8,
         "limits": {"maxHeaderBytes": 1, "maxHeaderCount": 2, "maxUrlBytes": 3,
                    "maxBodyBytes": 0, "maxConnections": 5},
         "timeouts": {"clientHeaderMs": 6, "clientIdleMs": 7, "backendConnectMs": 8,
                      "backendResponseMs": 9, "drainMs": 10},
         "pool": {"minIdle": 0, "maxPerKey": 12, "idleTimeoutMs": 13, "maxWaiting": 14,
                  "waitTimeoutMs": 15},
         "admin": {"publicHealthAndMetrics": true})");

  ASSERT_THAT(result.problems, IsEmpty());
  const Gateway& gateway = result.config->gateway;
  EXPECT_EQ(gateway.workers, 8u);
  EXPECT_EQ(gateway.limits.max_header_bytes, 1u);
  EXPECT_EQ(gateway.limits.max_header_count, 2u);
  EXPECT_EQ(gateway.limits.max_url_bytes, 3u);
  EXPECT_EQ(gateway.limits.max_body_bytes, 0u);
  EXPECT_EQ(gateway.limits.max_connections, 5u);
  EXPECT_EQ(gateway.timeouts.client_header_ms, 6u);
  EXPECT_EQ(gateway.timeouts.client_idle_ms, 7u);
  EXPECT_EQ(gateway.timeouts.backend_connect_ms, 8u);
  EXPECT_EQ(gateway.timeouts.backend_response_ms, 9u);
  EXPECT_EQ(gateway.timeouts.drain_ms, 10u);
  EXPECT_EQ(gateway.pool.min_idle, 0u);
  EXPECT_EQ(gateway.pool.max_per_key, 12u);
  EXPECT_EQ(gateway.pool.idle_timeout_ms, 13u);
  EXPECT_EQ(gateway.pool.max_waiting, 14u);
  EXPECT_EQ(gateway.pool.wait_timeout_ms, 15u);
  EXPECT_TRUE(gateway.admin.metrics_without_token);
}

TEST_F(ConfigTest, Config_RejectsUnknownKeyWithPath) {
  LoadResult result = load_with(R"("limts": {})");

  EXPECT_EQ(result.config, nullptr);
  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.limts",
                                    "unknown key (expected one of: workers, cpuAffinity, "
                                    "ktls, listeners, admin, stateDir, limits, timeouts, pool, "
                                    "accessLog)")));
}

TEST_F(ConfigTest, Config_KtlsIsAutoUnlessTurnedOff) {
  LoadResult absent = load_with("");
  LoadResult off = load_with(R"("ktls": "off")");

  ASSERT_NE(absent.config, nullptr);
  ASSERT_NE(off.config, nullptr);
  EXPECT_EQ(absent.config->gateway.ktls, KtlsMode::kAuto);
  EXPECT_EQ(off.config->gateway.ktls, KtlsMode::kOff);
}

TEST_F(ConfigTest, Config_RejectsAnUnknownKtlsMode) {
  LoadResult result = load_with(R"("ktls": "on")");

  EXPECT_THAT(
      result.problems,
      ElementsAre(ProblemIs("$.gateway.ktls", "expected \"auto\" or \"off\", found \"on\"")));
}

TEST_F(ConfigTest, Config_RejectsUnknownTopLevelKey) {
  LoadResult result = load_with("", R"("api": {})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.api", StartsWith("unknown key (expected one of: "))));
}

TEST_F(ConfigTest, Config_RejectsDuplicateKey) {
  LoadResult result = load_with(R"("workers": 1, "workers": 2)");

  EXPECT_THAT(result.problems, ElementsAre(ProblemIs("$.gateway.workers", "duplicate key")));
}

TEST_F(ConfigTest, Config_RejectsWrongTypeWithExpectedAndFound) {
  LoadResult result = load_with(R"("workers": "four")");

  EXPECT_EQ(result.config, nullptr);
  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.workers",
                                    "expected an unsigned integer, found string \"four\"")));
}

TEST_F(ConfigTest, Config_RejectsNegativeAndFractionalNumbers) {
  LoadResult result = load_with(R"("limits": {"maxHeaderCount": -3, "maxUrlBytes": 1.5})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.limits.maxHeaderCount",
                                    "expected an unsigned integer, found number -3"),
                          ProblemIs("$.gateway.limits.maxUrlBytes",
                                    "expected an unsigned integer, found number 1.5")));
}

TEST_F(ConfigTest, Config_RejectsNonBooleanFlag) {
  LoadResult result = load_with(R"("admin": {"publicHealthAndMetrics": "yes"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.admin.publicHealthAndMetrics",
                                    "expected true or false, found string \"yes\"")));
}

TEST_F(ConfigTest, Config_RejectsSectionOfWrongType) {
  LoadResult result = load_with(R"("limits": [])");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.limits", "expected an object, found an array")));
}

TEST_F(ConfigTest, Config_RejectsWorkersAbove1024) {
  LoadResult result = load_with(R"("workers": 1025)");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.workers",
                                    "expected an integer from 0 to 1024, found 1025")));
}

TEST_F(ConfigTest, Config_CpuAffinityDefaultsToAuto) {
  LoadResult result = load(kMinimal);

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.cpu_affinity.mode, CpuAffinity::Mode::kAuto);
}

TEST_F(ConfigTest, Config_ReadsCpuAffinityNone) {
  LoadResult result = load_with(R"("cpuAffinity": "none")");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.cpu_affinity.mode, CpuAffinity::Mode::kNone);
}

TEST_F(ConfigTest, Config_ReadsCpuAffinityListInTheOrderWritten) {
  const std::vector<int> allowed = allowed_cpus();
  ASSERT_FALSE(allowed.empty());
  const std::string list = allowed.size() == 1
                               ? std::to_string(allowed[0])
                               : std::to_string(allowed[1]) + ", " + std::to_string(allowed[0]);

  LoadResult result = load_with(R"("cpuAffinity": [)" + list + "]");

  ASSERT_THAT(result.problems, IsEmpty());
  const CpuAffinity& affinity = result.config->gateway.cpu_affinity;
  EXPECT_EQ(affinity.mode, CpuAffinity::Mode::kList);
  if (allowed.size() == 1) {
    EXPECT_THAT(affinity.cpus, ElementsAre(allowed[0]));
  } else {
    EXPECT_THAT(affinity.cpus, ElementsAre(allowed[1], allowed[0]));
  }
}

TEST_F(ConfigTest, Config_RejectsCpuAffinityOtherThanAutoNoneOrAList) {
  LoadResult result = load_with(R"("cpuAffinity": "all")");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.cpuAffinity",
                                    R"(expected "auto", "none" or a list of CPU numbers, )"
                                    R"(found string "all")")));
}

TEST_F(ConfigTest, Config_RejectsEmptyCpuAffinityList) {
  LoadResult result = load_with(R"("cpuAffinity": [])");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.cpuAffinity",
                                    "expected at least one CPU, found an empty list")));
}

TEST_F(ConfigTest, Config_RejectsCpuListedTwice) {
  const int cpu = allowed_cpus().at(0);

  LoadResult result =
      load_with(R"("cpuAffinity": [)" + std::to_string(cpu) + ", " + std::to_string(cpu) + "]");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.cpuAffinity[1]",
                                    "CPU " + std::to_string(cpu) +
                                        " is listed twice (also at $.gateway.cpuAffinity[0])")));
}

TEST_F(ConfigTest, Config_RejectsCpuNotAvailableToTheProcessNamingTheAllowedOnes) {
  const std::vector<int> allowed = allowed_cpus();
  ASSERT_NE(allowed.back(), 1023) << "needs a CPU this process may not use";

  LoadResult result = load_with(R"("cpuAffinity": [)" + std::to_string(allowed[0]) + ", 1023]");

  EXPECT_EQ(result.config, nullptr);
  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.cpuAffinity[1]",
                                    "CPU 1023 is not available to this process (allowed: " +
                                        cpu_ranges(allowed) + ")")));
}

TEST_F(ConfigTest, Config_RejectsCpuNumberACpuSetCannotHold) {
  LoadResult result = load_with(R"("cpuAffinity": [1024, -1])");

  EXPECT_THAT(
      result.problems,
      ElementsAre(
          ProblemIs("$.gateway.cpuAffinity[0]", "expected an integer from 0 to 1023, found 1024"),
          ProblemIs("$.gateway.cpuAffinity[1]", "expected an unsigned integer, found number -1")));
}

TEST_F(ConfigTest, Config_RejectsZeroTimeout) {
  LoadResult result = load_with(R"("timeouts": {"drainMs": 0})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.timeouts.drainMs",
                                    "expected an integer from 1 to 4294967295, found 0")));
}

TEST_F(ConfigTest, Config_RejectsValueAboveUint32) {
  LoadResult result = load_with(R"("limits": {"maxConnections": 4294967296})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemAt("$.gateway.limits.maxConnections",
                                                     HasSubstr("found 4294967296"))));
}

TEST_F(ConfigTest, Config_AcceptsZeroMaxWaitingToTurnQueueingOff) {
  LoadResult result = load_with(R"("pool": {"maxWaiting": 0})");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.pool.max_waiting, 0u);
}

TEST_F(ConfigTest, Config_RejectsZeroWaitTimeoutNamingItsPath) {
  LoadResult result = load_with(R"("pool": {"waitTimeoutMs": 0})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.pool.waitTimeoutMs",
                                    "expected an integer from 1 to 4294967295, found 0")));
}

TEST_F(ConfigTest, Config_RejectsMinIdleAboveMaxPerKey) {
  LoadResult result = load_with(R"("pool": {"minIdle": 9, "maxPerKey": 8})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemIs("$.gateway.pool.minIdle",
                                                     "minIdle (9) must not exceed maxPerKey (8)")));
}

TEST_F(ConfigTest, Config_RejectsBadListenerAddress) {
  LoadResult result = load(R"({"gateway": {"listeners": [{"address": "localhost:80x"}]}})");

  EXPECT_EQ(result.config, nullptr);
  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.listeners[0].address",
                                    "expected \"host:port\" with a numeric IPv4/IPv6 host, "
                                    "found \"localhost:80x\"")));
}

TEST_F(ConfigTest, Config_RejectsHostName) {
  LoadResult result = load(R"({"gateway": {"listeners": [{"address": "example.com:80"}]}})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemAt("$.gateway.listeners[0].address",
                                                     HasSubstr("numeric IPv4/IPv6 host"))));
}

TEST_F(ConfigTest, Config_RejectsPortAbove65535) {
  LoadResult result = load(R"({"gateway": {"listeners": [{"address": "127.0.0.1:65536"}]}})");

  EXPECT_THAT(result.problems, ElementsAre(ProblemIs("$.gateway.listeners[0].address",
                                                     "port must be between 0 and 65535, found "
                                                     "\"127.0.0.1:65536\"")));
}

TEST_F(ConfigTest, Config_AcceptsLocalhostAsLoopback) {
  LoadResult result = load(R"({"gateway": {"listeners": [{"address": "localhost:8080"}]}})");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.listeners[0].address.host, "127.0.0.1");
  EXPECT_EQ(result.config->gateway.listeners[0].address.port, 8080);
}

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
