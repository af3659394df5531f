// Specification of the config file loader (DESIGN §6): what loads, what the
// defaults are, and which problem — JSON path and message — each mistake gives.
#include "ringgate/config.hpp"

#include "config_test_support.hpp"

namespace ringgate::config {
namespace {

using namespace config_tests;  // the shared fixture (config_test_support.hpp)

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
                                    "ktls, user, listeners, admin, stateDir, limits, timeouts, "
                                    "pool, accessLog, configSource)")));
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

TEST_F(ConfigTest, Config_ResolvesGatewayUserToItsIds) {
  LoadResult result = load_with(R"("user": "root")");

  ASSERT_THAT(result.problems, IsEmpty());
  ASSERT_TRUE(result.config->gateway.user.has_value());
  EXPECT_EQ(result.config->gateway.user->name, "root");
  EXPECT_EQ(result.config->gateway.user->uid, 0u);
  EXPECT_EQ(result.config->gateway.user->gid, 0u);
  EXPECT_FALSE(load(kMinimal).config->gateway.user.has_value());
}

TEST_F(ConfigTest, Config_NamesAnUnknownOrEmptyGatewayUser) {
  EXPECT_THAT(load_with(R"("user": "no-such-user-ringgate")").problems,
              ElementsAre(ProblemIs("$.gateway.user", R"(no such user "no-such-user-ringgate")")));
  EXPECT_THAT(
      load_with(R"("user": "")").problems,
      ElementsAre(ProblemIs("$.gateway.user", "expected a user name (a non-empty string)")));
  EXPECT_THAT(
      load_with(R"("user": 0)").problems,
      ElementsAre(ProblemIs("$.gateway.user", "expected a user name (a non-empty string)")));
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

}  // namespace
}  // namespace ringgate::config
