// Specification of the runtime snapshot (DESIGN §4 step 5, §6): the TLS
// material a backend pool needs is built and checked when the snapshot is
// built, so --check-config, start and SIGHUP all refuse what a worker could
// not use; and a pool's key follows the CA bundle's content, not its path.
#include "core/snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "../certs/test_material.hpp"
#include "../tls/tls_test_support.hpp"

namespace ringgate::config {
// Lets gtest print problems when an expectation fails (internal linkage: the
// config tests have their own).
static void PrintTo(const Problem& problem, std::ostream* out) {
  *out << problem.path << ": " << problem.message;
}
}  // namespace ringgate::config

namespace ringgate::core {
namespace {

using certs::test_support::run_command;
using certs::test_support::TempDir;
using certs::test_support::write_binary;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

template <typename MessageMatcher>
auto ProblemAt(const std::string& path, MessageMatcher message) {
  return AllOf(Field(&config::Problem::path, path), Field(&config::Problem::message, message));
}

constexpr const char* kBackendUrl = "https://127.0.0.1:9443";

class SnapshotTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.path() + "/" + name; }

  // A config with one backend entity (caFile "ca.pem" when `with_ca`) and one
  // API on it whose policy presents certificate "client" when `with_client`.
  std::string config_json(bool with_ca, bool with_client) const {
    std::string json = R"({"gateway": {"listeners": [{"address": "127.0.0.1:0"}]},)";
    if (with_client) {
      json += R"("certificates": {"client": {"pfxFile": "client.pfx",
                                             "passwordFile": "client.pass"}},)";
    }
    json += R"("backends": {"orders": {"url": ")" + std::string(kBackendUrl) + "\"";
    if (with_ca) json += R"(, "caFile": "ca.pem")";
    json += R"(}}, "apis": {"orders": {"path": "orders", "serviceUrl": ")" +
            std::string(kBackendUrl) + "/api\"";
    if (with_client) {
      json +=
          R"(, "policy": "<policies><inbound><authentication-certificate certificate-id=\"client\"/></inbound></policies>")";
    }
    return json + "}}}";
  }

  // Loads `json` as a config file in the test directory, loads its
  // certificates and builds the snapshot; every problem lands in problems_.
  std::shared_ptr<const Snapshot> build(const std::string& json,
                                        const Snapshot* previous = nullptr) {
    config::LoadResult loaded = config::load_string(json, dir_.path());
    problems_ = loaded.problems;
    if (!loaded.config) return nullptr;
    store_ = std::make_unique<certs::CertificateStore>();
    if (!load_certificates(*loaded.config, *store_, false, problems_)) return nullptr;
    return build_snapshot(loaded.config, store_->contents(), 1, problems_, previous);
  }

  // A self-signed client certificate with an RSA key of `bits`, as a PFX.
  void write_client_pfx(int bits) {
    const std::string key = file("client.key");
    const std::string crt = file("client.crt");
    run_command("openssl req -x509 -newkey rsa:" + std::to_string(bits) +
                " -nodes -subj /CN=weak-client -days 30 -keyout " + key + " -out " + crt +
                " 2>/dev/null");
    run_command("openssl pkcs12 -export -inkey " + key + " -in " + crt + " -out " +
                file("client.pfx") + " -passout pass:secret 2>/dev/null");
    write_binary(file("client.pass"), "secret\n");
  }

  TempDir dir_;
  std::unique_ptr<certs::CertificateStore> store_;
  std::vector<config::Problem> problems_;
};

TEST_F(SnapshotTest, Snapshot_CaFileWithoutCertificateIsAProblemAtItsBackend) {
  write_binary(file("ca.pem"), "this is not a certificate\n");

  EXPECT_EQ(build(config_json(true, false)), nullptr);
  EXPECT_THAT(problems_, ElementsAre(ProblemAt("$.backends.orders.caFile",
                                               HasSubstr("holds no certificate"))));
}

TEST_F(SnapshotTest, Snapshot_ClientCertificateWithTooWeakKeyIsAProblemAtThePolicy) {
  write_client_pfx(512);

  EXPECT_EQ(build(config_json(false, true)), nullptr);
  EXPECT_THAT(problems_, ElementsAre(ProblemAt("$.apis.orders.policy",
                                               AllOf(HasSubstr("client certificate \"client\""),
                                                     HasSubstr("key too weak")))));
}

TEST_F(SnapshotTest, Snapshot_PoolKeyFollowsTheCaFileContentNotItsPath) {
  write_binary(file("ca.pem"), tls::testing::to_pem(tls::testing::pki().root.certificate.get()));
  auto before = build(config_json(true, false));
  ASSERT_NE(before, nullptr) << ::testing::PrintToString(problems_);

  write_binary(file("ca.pem"),
               tls::testing::to_pem(tls::testing::pki().rogue_root.certificate.get()));
  auto after = build(config_json(true, false));
  ASSERT_NE(after, nullptr) << ::testing::PrintToString(problems_);

  ASSERT_EQ(before->pools.size(), 1u);
  ASSERT_EQ(after->pools.size(), 1u);
  EXPECT_NE(before->pools[0].key_text, after->pools[0].key_text);
}

TEST_F(SnapshotTest, Snapshot_SameCaContentGivesTheSameKey) {
  const std::string pem = tls::testing::to_pem(tls::testing::pki().root.certificate.get());
  write_binary(file("ca.pem"), pem);
  auto first = build(config_json(true, false));
  ASSERT_NE(first, nullptr) << ::testing::PrintToString(problems_);
  auto second = build(config_json(true, false));
  ASSERT_NE(second, nullptr) << ::testing::PrintToString(problems_);

  EXPECT_EQ(first->pools[0].key_text, second->pools[0].key_text);
}

TEST_F(SnapshotTest, Snapshot_KeyThePreviousSnapshotHasKeepsItsContext) {
  write_client_pfx(2048);
  auto first = build(config_json(false, true));
  ASSERT_NE(first, nullptr) << ::testing::PrintToString(problems_);

  auto again = build(config_json(false, true), first.get());
  auto fresh = build(config_json(false, true));

  ASSERT_NE(again, nullptr);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(again->pools[0].tls_context, first->pools[0].tls_context);
  EXPECT_NE(fresh->pools[0].tls_context, first->pools[0].tls_context);
}

TEST_F(SnapshotTest, Snapshot_KeyThePreviousSnapshotLacksGetsAContextOfItsOwn) {
  auto without_client = build(config_json(false, false));
  ASSERT_NE(without_client, nullptr) << ::testing::PrintToString(problems_);
  write_client_pfx(2048);

  auto with_client = build(config_json(false, true), without_client.get());

  ASSERT_NE(with_client, nullptr) << ::testing::PrintToString(problems_);
  EXPECT_NE(with_client->pools[0].key_text, without_client->pools[0].key_text);
  EXPECT_NE(with_client->pools[0].tls_context, without_client->pools[0].tls_context);
}

TEST_F(SnapshotTest, Snapshot_ForwardRequestTimeoutIsTheRoutesResponseTimeout) {
  const std::string json =
      R"({"gateway": {"listeners": [{"address": "127.0.0.1:0"}],
                      "timeouts": {"backendResponseMs": 30000}},
          "apis": {"slow": {"path": "slow", "serviceUrl": "http://127.0.0.1:9/api",
                            "policy": "<policies><backend><forward-request timeout=\"7\"/></backend></policies>"},
                   "plain": {"path": "plain", "serviceUrl": "http://127.0.0.1:9/api"}}})";
  auto snapshot = build(json);
  ASSERT_NE(snapshot, nullptr) << ::testing::PrintToString(problems_);
  ASSERT_EQ(snapshot->routes.size(), 2u);
  for (const RouteTarget& route : snapshot->routes) {
    EXPECT_EQ(route.response_timeout_ms, route.api_id == "slow" ? 7000u : 30000u) << route.api_id;
  }
}

}  // namespace
}  // namespace ringgate::core
