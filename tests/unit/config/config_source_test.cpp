// Specification of gateway.configSource: the state dir by default, or etcd
// with its endpoints, key prefix, TLS settings and the key file that seals
// every value — and which problem, at which JSON path, each mistake gives.
#include <sys/stat.h>

#include "config_test_support.hpp"
#include "ringgate/config.hpp"

namespace ringgate::config {
namespace {

using namespace config_tests;  // the shared fixture (config_test_support.hpp)

constexpr const char* kKey = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
constexpr const char* kKeyPath = "$.gateway.configSource.encryptionKeyFile";

class ConfigSourceTest : public ConfigTest {
 protected:
  void SetUp() override { write_key("fleet.key", kKey, 0600); }

  void write_key(const std::string& name, const std::string& text, mode_t mode) {
    ASSERT_EQ(::chmod(dir_.write(name, text).c_str(), mode), 0);
  }

  // A minimal document whose gateway.configSource is `source`, with
  // `top_extra` in the top-level object.
  LoadResult load_source(const std::string& source, const std::string& top_extra = "") {
    return load_with(R"("configSource": )" + source, top_extra);
  }

  // An etcd source with the key file written in SetUp and `extra` keys.
  LoadResult load_etcd(const std::string& endpoints, const std::string& extra = "",
                       const std::string& top_extra = "") {
    std::string source =
        R"({"type": "etcd", "endpoints": )" + endpoints + R"(, "encryptionKeyFile": "fleet.key")";
    if (!extra.empty()) source += ", " + extra;
    return load_source(source + "}", top_extra);
  }
};

TEST_F(ConfigSourceTest, ConfigSource_IsLocalWhenAbsent) {
  LoadResult result = load(kMinimal);

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.config_source, ConfigSource{});
  EXPECT_EQ(result.config->gateway.config_source.type, ConfigSource::Type::kLocal);
}

TEST_F(ConfigSourceTest, ConfigSource_ReadsLocal) {
  LoadResult result = load_source(R"({"type": "local"})");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.config_source.type, ConfigSource::Type::kLocal);
}

TEST_F(ConfigSourceTest, ConfigSource_ReadsEtcdWithEverySetting) {
  dir_.write("certs/fleet.pfx", "pfx");
  dir_.write("certs/etcd-ca.pem", "pem");

  LoadResult result =
      load_etcd(R"(["https://ETCD-1.example:2379", "http://10.0.0.2:2379", "https://[::1]:2379/"])",
                R"("prefix": "/fleets/blue/", "caFile": "certs/etcd-ca.pem",
                   "certificateId": "fleet-client")",
                R"("certificates": {"fleet-client": {"pfxFile": "certs/fleet.pfx"}})");

  ASSERT_THAT(result.problems, IsEmpty());
  const ConfigSource& source = result.config->gateway.config_source;
  EXPECT_EQ(source.type, ConfigSource::Type::kEtcd);
  EXPECT_THAT(source.endpoints, ElementsAre("https://etcd-1.example:2379", "http://10.0.0.2:2379",
                                            "https://[::1]:2379"));
  EXPECT_EQ(source.prefix, "/fleets/blue/");
  EXPECT_EQ(source.ca_file, abs("certs/etcd-ca.pem"));
  EXPECT_EQ(source.certificate_id, "fleet-client");
  EXPECT_EQ(source.encryption_key_file, abs("fleet.key"));
}

TEST_F(ConfigSourceTest, ConfigSource_EtcdPrefixDefaultsToRinggate) {
  LoadResult result = load_etcd(R"(["http://127.0.0.1:2379"])");

  ASSERT_THAT(result.problems, IsEmpty());
  EXPECT_EQ(result.config->gateway.config_source.prefix, "/ringgate/");
  EXPECT_EQ(result.config->gateway.config_source.ca_file, "");
  EXPECT_EQ(result.config->gateway.config_source.certificate_id, "");
}

TEST_F(ConfigSourceTest, ConfigSource_RequiresType) {
  LoadResult result = load_source(R"({"endpoints": []})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.configSource.type", "required key is missing")));
}

TEST_F(ConfigSourceTest, ConfigSource_RejectsAnUnknownType) {
  LoadResult result = load_source(R"({"type": "consul"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.configSource.type",
                                    "expected \"local\" or \"etcd\", found \"consul\"")));
}

TEST_F(ConfigSourceTest, ConfigSource_LocalTakesNoEtcdSettings) {
  LoadResult result =
      load_source(R"({"type": "local", "prefix": "/x/", "encryptionKeyFile": "k"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.configSource.prefix", "only for \"type\": \"etcd\""),
                          ProblemIs(kKeyPath, "only for \"type\": \"etcd\"")));
}

TEST_F(ConfigSourceTest, ConfigSource_RejectsAnUnknownKey) {
  LoadResult result = load_etcd(R"(["http://127.0.0.1:2379"])", R"("endpoint": "x")");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemAt("$.gateway.configSource.endpoint", StartsWith("unknown key"))));
}

TEST_F(ConfigSourceTest, ConfigSource_EtcdRequiresEndpointsAndKeyFile) {
  LoadResult result = load_source(R"({"type": "etcd"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.configSource.endpoints", "required key is missing"),
                          ProblemIs(kKeyPath, "required key is missing")));
}

TEST_F(ConfigSourceTest, ConfigSource_RejectsAnEmptyEndpointList) {
  LoadResult result = load_etcd("[]");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.configSource.endpoints",
                                    "expected at least one etcd endpoint, found an empty array")));
}

TEST_F(ConfigSourceTest, ConfigSource_RejectsEndpointsThatAreNotSchemeHostPort) {
  LoadResult result = load_etcd(
      R"(["http://127.0.0.1:2379", "etcd:2379", "http://etcd", "http://etcd:2379/v3",
          "http://u@etcd:2379", "http://etcd:2379?x=1", "http://etcd:0", 7])");

  const std::string expected = R"(expected "http://host:port" or "https://host:port" ()";
  EXPECT_THAT(
      result.problems,
      ElementsAre(
          ProblemIs("$.gateway.configSource.endpoints[1]",
                    expected + "the scheme must be http:// or https://), found \"etcd:2379\""),
          ProblemIs("$.gateway.configSource.endpoints[2]",
                    expected + "the port must be given), found \"http://etcd\""),
          ProblemIs("$.gateway.configSource.endpoints[3]",
                    expected + "an etcd endpoint has no path), found \"http://etcd:2379/v3\""),
          ProblemAt("$.gateway.configSource.endpoints[4]", StartsWith(expected)),
          ProblemAt("$.gateway.configSource.endpoints[5]",
                    HasSubstr("a query or fragment is not allowed")),
          ProblemAt("$.gateway.configSource.endpoints[6]",
                    HasSubstr("the port must be a number from 1 to 65535")),
          ProblemAt("$.gateway.configSource.endpoints[7]", StartsWith("expected a string"))));
}

TEST_F(ConfigSourceTest, ConfigSource_RejectsADuplicateEndpoint) {
  LoadResult result = load_etcd(R"(["http://etcd:2379", "HTTP://ETCD:2379"])");

  EXPECT_THAT(result.problems, ElementsAre(ProblemIs("$.gateway.configSource.endpoints[1]",
                                                     "endpoint \"http://etcd:2379\" is also at "
                                                     "$.gateway.configSource.endpoints[0]")));
}

TEST_F(ConfigSourceTest, ConfigSource_RejectsAPrefixWithoutSlashesOrWithSpaces) {
  for (const char* prefix : {"ringgate/", "/ringgate", "/ring gate/", "", "/a\\tb/"}) {
    LoadResult result =
        load_etcd(R"(["http://etcd:2379"])", R"("prefix": ")" + std::string(prefix) + "\"");

    EXPECT_THAT(result.problems, ElementsAre(ProblemAt("$.gateway.configSource.prefix",
                                                       StartsWith("expected a key prefix that "
                                                                  "starts and ends with '/'"))))
        << prefix;
  }
}

TEST_F(ConfigSourceTest, ConfigSource_ReportsAMissingKeyFile) {
  LoadResult result = load_source(
      R"({"type": "etcd", "endpoints": ["http://etcd:2379"], "encryptionKeyFile": "absent.key"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs(
                  kKeyPath, "key file \"" + abs("absent.key") + "\": No such file or directory")));
}

TEST_F(ConfigSourceTest, ConfigSource_RefusesAKeyFileOthersCanRead) {
  write_key("open.key", kKey, 0644);

  LoadResult result = load_source(
      R"({"type": "etcd", "endpoints": ["http://etcd:2379"], "encryptionKeyFile": "open.key"})");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs(kKeyPath, "key file \"" + abs("open.key") +
                                                  "\": mode 0644: must not be readable by "
                                                  "group or others (chmod 600)")));
}

TEST_F(ConfigSourceTest, ConfigSource_ReportsEveryProblemInTheKeyFile) {
  write_key("bad.key", "k1:AAAA\nk2\n", 0600);

  LoadResult result = load_source(
      R"({"type": "etcd", "endpoints": ["http://etcd:2379"], "encryptionKeyFile": "bad.key"})");

  const std::string file = "key file \"" + abs("bad.key") + "\": ";
  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs(kKeyPath, file + "line 1: key \"k1\" must be 32 bytes, found 3 "
                                                     "(make one with: openssl rand -base64 32)"),
                          ProblemIs(kKeyPath, file + "line 2: expected <keyId>:<base64 of 32 "
                                                     "random bytes>")));
}

TEST_F(ConfigSourceTest, ConfigSource_TlsSettingsNeedAnHttpsEndpoint) {
  dir_.write("certs/fleet.pfx", "pfx");
  dir_.write("ca.pem", "pem");

  LoadResult result =
      load_etcd(R"(["http://etcd:2379"])", R"("caFile": "ca.pem", "certificateId": "fleet")",
                R"("certificates": {"fleet": {"pfxFile": "certs/fleet.pfx"}})");

  EXPECT_THAT(
      result.problems,
      ElementsAre(
          ProblemIs("$.gateway.configSource.caFile", "only with an https:// endpoint"),
          ProblemIs("$.gateway.configSource.certificateId", "only with an https:// endpoint")));
}

TEST_F(ConfigSourceTest, ConfigSource_RejectsAnUnreadableCaFile) {
  LoadResult result = load_etcd(R"(["https://etcd:2379"])", R"("caFile": "missing.pem")");

  EXPECT_THAT(result.problems, ElementsAre(ProblemAt("$.gateway.configSource.caFile",
                                                     HasSubstr("No such file or directory"))));
}

TEST_F(ConfigSourceTest, ConfigSource_RejectsADanglingCertificateId) {
  LoadResult result = load_etcd(R"(["https://etcd:2379"])", R"("certificateId": "fleet")");

  EXPECT_THAT(result.problems,
              ElementsAre(ProblemIs("$.gateway.configSource.certificateId",
                                    "unknown certificate \"fleet\" (not in $.certificates)")));
}

}  // namespace
}  // namespace ringgate::config
