// Specification of the managed state (DESIGN §5, §6): what the admin API
// makes is kept in one state file, merged with the config file (which wins
// on a shared id), checked through the same path as the config file, and
// only then persisted and published; the rule that keeps a certificate in
// use from being deleted.
#include "core/managed_state.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "../certs/test_material.hpp"
#include "../tls/tls_test_support.hpp"

namespace ringgate::config {
static void PrintTo(const Problem& problem, std::ostream* out) {
  *out << problem.path << ": " << problem.message;
}
}  // namespace ringgate::config

namespace ringgate::core {
namespace {

namespace fs = std::filesystem;
using certs::test_support::kPassword;
using certs::test_support::material;
using certs::test_support::TempDir;
using certs::test_support::write_binary;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

template <typename MessageMatcher>
auto ProblemAt(const std::string& path, MessageMatcher message) {
  return AllOf(Field(&config::Problem::path, path), Field(&config::Problem::message, message));
}

constexpr const char* kTlsBackend = "https://127.0.0.1:9443";

std::string certificate_policy(const std::string& attribute, const std::string& value) {
  return "<policies><inbound><authentication-certificate " + attribute + "=\"" + value +
         "\"/></inbound></policies>";
}

config::Api api(const std::string& path, const std::string& service_url,
                const std::string& policy = "") {
  config::Api a;
  a.path = path;
  a.service_url = service_url;
  a.policy = policy;
  return a;
}

config::Backend backend(const std::string& url) {
  config::Backend b;
  b.url = url;
  return b;
}

std::shared_ptr<const certs::LoadedCertificate> load(const std::string& pfx) {
  certs::PfxResult result = certs::load_pfx(pfx, kPassword);
  if (!result.ok()) throw std::runtime_error(result.message);
  return result.certificate;
}

std::vector<std::string> files_in(const std::string& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ManagedStateTest : public ::testing::Test {
 protected:
  ManagedStateTest() {
    // One API from the config file, plain HTTP, on path "file".
    write_binary(config_path(), R"({"gateway": {"listeners": [{"address": "127.0.0.1:0"}],
                                                "stateDir": "state"},
                                    "backends": {"file-backend": {"url": "https://127.0.0.1:9000"}},
                                    "apis": {"file-api": {"path": "file",
                                                          "serviceUrl": "http://127.0.0.1:9000"}}})");
  }

  std::string config_path() const { return dir_.path() + "/ringgate.json"; }
  std::string state_dir() const { return dir_.path() + "/state"; }

  std::shared_ptr<const config::Config> file_config() {
    config::LoadResult loaded = config::load_file(config_path());
    if (!loaded.config) throw std::runtime_error(loaded.problems.front().message);
    return loaded.config;
  }

  // A ManagedState over what prepare() read, publishing into published_.
  std::unique_ptr<ManagedState> start() {
    std::vector<config::Problem> problems;
    Prepared prepared = prepare(config_path(), 1, false, problems);
    if (!prepared.snapshot) throw std::runtime_error(::testing::PrintToString(problems));
    prepared.snapshot->listener_fds = {{7}};
    auto state = std::make_unique<ManagedState>(
        [this](const std::shared_ptr<const Snapshot>& s) { published_.push_back(s); });
    state->reset(std::move(prepared));
    return state;
  }

  TempDir dir_;
  std::vector<std::shared_ptr<const Snapshot>> published_;
};

TEST(ResourcesDocument, ResourcesDocument_RoundTripsEveryField) {
  ManagedResources written;
  config::Backend b = backend("https://orders.internal:9443");
  b.tls.validate_certificate_chain = false;
  b.ca_certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  written.backends["orders-be"] = b;
  written.apis["orders"] = api("v1/orders", "https://orders.internal:9443/api",
                               certificate_policy("certificate-id", "orders-client"));
  written.apis["bare"] = api("", "http://127.0.0.1:8000");

  ManagedResources read;
  std::vector<config::Problem> problems;
  ASSERT_TRUE(parse_resources_document(resources_document(written), "f", read, problems))
      << ::testing::PrintToString(problems);

  EXPECT_EQ(resources_document(read), resources_document(written));
  EXPECT_EQ(read.backends.at("orders-be").ca_certificate, b.ca_certificate);
  EXPECT_FALSE(read.backends.at("orders-be").tls.validate_certificate_chain);
  EXPECT_EQ(read.apis.at("orders").policy, written.apis.at("orders").policy);
  EXPECT_EQ(read.apis.at("bare").policy, "");
}

TEST(ResourcesDocument, ResourcesDocument_ReportsEveryProblemWithFileAndJsonPath) {
  const std::string text = R"({"version": 1,
    "apis": {"a": {"path": "x", "serviceUrl": "ftp://h", "extra": 1}, "bad id": {}},
    "policies": {"ghost": "<policies/>"}})";
  ManagedResources read;
  std::vector<config::Problem> problems;

  EXPECT_FALSE(parse_resources_document(text, "/s/resources.json", read, problems));
  EXPECT_THAT(
      problems,
      ElementsAre(ProblemAt("/s/resources.json: $.apis.a.extra", HasSubstr("unknown key")),
                  ProblemAt("/s/resources.json: $.apis.a.serviceUrl",
                            HasSubstr("expected an http:// or https:// URL")),
                  ProblemAt("/s/resources.json: $.apis[\"bad id\"]", HasSubstr("invalid id")),
                  ProblemAt("/s/resources.json: $.policies.ghost", HasSubstr("not in $.apis"))));
}

TEST(ResourcesDocument, LoadResources_MissingFileMeansNone) {
  TempDir dir;
  ManagedResources read;
  read.apis["stale"] = api("x", "http://h");
  std::vector<config::Problem> problems;

  EXPECT_TRUE(load_resources(dir.path(), read, problems));
  EXPECT_THAT(problems, IsEmpty());
  EXPECT_THAT(read.apis, IsEmpty());
}

TEST(ResourcesDocument, SaveResources_WritesAnOwnerOnlyFileAndNoTempFile) {
  TempDir dir;
  ManagedResources written;
  written.apis["orders"] = api("orders", "http://127.0.0.1:8000");
  std::string error;

  ASSERT_TRUE(save_resources(dir.path(), written, error)) << error;

  EXPECT_THAT(files_in(dir.path()), ElementsAre("resources.json"));
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() + "/resources.json").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  ManagedResources read;
  std::vector<config::Problem> problems;
  EXPECT_TRUE(load_resources(dir.path(), read, problems));
  EXPECT_THAT(read.apis, SizeIs(1));
}

TEST_F(ManagedStateTest, Merge_AddsManagedEntitiesToTheConfigFileOnes) {
  ManagedResources managed;
  managed.backends["made"] = backend("https://127.0.0.1:9001");
  managed.apis["made"] = api("made", "http://127.0.0.1:9001");
  std::vector<config::Problem> problems;

  auto effective = merge(*file_config(), managed, problems);

  ASSERT_NE(effective, nullptr) << ::testing::PrintToString(problems);
  EXPECT_TRUE(effective->apis.contains("file-api"));
  EXPECT_TRUE(effective->apis.contains("made"));
  EXPECT_TRUE(effective->backends.contains("file-backend"));
  EXPECT_TRUE(effective->backends.contains("made"));
}

TEST_F(ManagedStateTest, Merge_ConfigFileWinsOverAManagedEntityOfTheSameId) {
  ManagedResources managed;
  managed.apis["file-api"] = api("elsewhere", "http://127.0.0.1:9999");
  std::vector<config::Problem> problems;
  std::vector<std::string> shadowed;

  auto effective = merge(*file_config(), managed, problems, &shadowed);

  ASSERT_NE(effective, nullptr);
  EXPECT_EQ(effective->apis.at("file-api").path, "file");
  EXPECT_THAT(shadowed, ElementsAre("apis/file-api"));
}

TEST_F(ManagedStateTest, Merge_ManagedApiOnATakenPathIsAProblemAtItsPath) {
  ManagedResources managed;
  managed.apis["copy"] = api("file", "http://127.0.0.1:9001");
  std::vector<config::Problem> problems;

  EXPECT_EQ(merge(*file_config(), managed, problems), nullptr);
  EXPECT_THAT(problems, ElementsAre(ProblemAt("$.apis.copy.path",
                                              HasSubstr("already used by API \"file-api\""))));
}

TEST_F(ManagedStateTest, Merge_ManagedBackendOnATakenUrlIsAProblemAtItsUrl) {
  ManagedResources managed;
  managed.backends["copy"] = backend("https://127.0.0.1:9000");
  std::vector<config::Problem> problems;

  EXPECT_EQ(merge(*file_config(), managed, problems), nullptr);
  EXPECT_THAT(problems,
              ElementsAre(ProblemAt("$.backends.copy.url",
                                    HasSubstr("already used by backend \"file-backend\""))));
}

TEST_F(ManagedStateTest, Compose_RefusesAPolicyNamingACertificateThatIsNotThere) {
  ManagedResources managed;
  managed.apis["orders"] =
      api("orders", kTlsBackend, certificate_policy("certificate-id", "missing"));
  std::vector<config::Problem> problems;

  Composed composed = compose(*file_config(), managed, {}, 2, problems);

  EXPECT_EQ(composed.snapshot, nullptr);
  EXPECT_THAT(problems, ElementsAre(ProblemAt("$.apis.orders.policy", HasSubstr("missing"))));
}

TEST_F(ManagedStateTest, Compose_InlineCaCertificateWithoutACertificateIsAProblemAtIt) {
  ManagedResources managed;
  managed.backends["made"] = backend("https://127.0.0.1:9001");
  managed.backends["made"].ca_certificate = "not a certificate";
  std::vector<config::Problem> problems;

  EXPECT_EQ(compose(*file_config(), managed, {}, 2, problems).snapshot, nullptr);
  EXPECT_THAT(problems, ElementsAre(ProblemAt("$.backends.made.caCertificate",
                                              HasSubstr("holds no certificate"))));
}

TEST_F(ManagedStateTest, Compose_InlineCaCertificateNamesThePoolKeyByItsContent) {
  ManagedResources managed;
  managed.backends["made"] = backend(kTlsBackend);
  managed.backends["made"].ca_certificate =
      tls::testing::to_pem(tls::testing::pki().root.certificate.get());
  managed.apis["orders"] = api("orders", std::string(kTlsBackend) + "/api");
  std::vector<config::Problem> problems;

  Composed composed = compose(*file_config(), managed, {}, 2, problems);

  ASSERT_NE(composed.snapshot, nullptr) << ::testing::PrintToString(problems);
  bool found = false;
  for (const PoolSpec& pool : composed.snapshot->pools) {
    found |= pool.key_text.find("ca=sha256:") != std::string::npos;
  }
  EXPECT_TRUE(found);
}

TEST(CertificateInUse, ApisUsingCertificate_NamesEveryApiThatPresentsItByIdOrThumbprint) {
  certs::CertificateSet certificates;
  auto orders = load(material().orders_aes_pfx);
  certificates.insert({"orders", orders, false});
  config::Config effective;
  effective.apis["by-id"] = api("a", kTlsBackend, certificate_policy("certificate-id", "orders"));
  effective.apis["by-thumbprint"] =
      api("b", kTlsBackend, certificate_policy("thumbprint", orders->info().thumbprint));
  effective.apis["other"] = api("c", kTlsBackend, certificate_policy("certificate-id", "x"));
  effective.apis["none"] = api("d", kTlsBackend);

  EXPECT_THAT(apis_using_certificate(effective, certificates, "orders"),
              ElementsAre("by-id", "by-thumbprint"));
}

TEST(CertificateInUse, ApisUsingCertificate_ThumbprintAnotherIdAlsoHoldsDoesNotCount) {
  certs::CertificateSet certificates;
  auto orders = load(material().orders_aes_pfx);
  certificates.insert({"orders", orders, false});
  certificates.insert({"orders-copy", orders, false});
  config::Config effective;
  effective.apis["by-thumbprint"] =
      api("b", kTlsBackend, certificate_policy("thumbprint", orders->info().thumbprint));

  EXPECT_THAT(apis_using_certificate(effective, certificates, "orders"), IsEmpty());
}

TEST(CertificateInUse, ApisUsingCertificate_LowerCaseThumbprintCounts) {
  certs::CertificateSet certificates;
  auto orders = load(material().orders_aes_pfx);
  certificates.insert({"orders", orders, false});
  std::string lower = orders->info().thumbprint;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  config::Config effective;
  effective.apis["by-thumbprint"] = api("b", kTlsBackend, certificate_policy("thumbprint", lower));

  EXPECT_THAT(apis_using_certificate(effective, certificates, "orders"),
              ElementsAre("by-thumbprint"));
}

TEST_F(ManagedStateTest, Prepare_ServesTheResourcesTheStateDirHolds) {
  ManagedResources saved;
  saved.apis["made"] = api("made", "http://127.0.0.1:9001");
  fs::create_directory(state_dir());
  fs::permissions(state_dir(), fs::perms::owner_all);
  std::string error;
  ASSERT_TRUE(save_resources(state_dir(), saved, error)) << error;
  std::vector<config::Problem> problems;

  Prepared prepared = prepare(config_path(), 1, false, problems);

  ASSERT_NE(prepared.snapshot, nullptr) << ::testing::PrintToString(problems);
  EXPECT_TRUE(prepared.config->apis.contains("made"));
  EXPECT_FALSE(prepared.file_config->apis.contains("made"));
  EXPECT_THAT(prepared.managed.apis, SizeIs(1));
}

TEST_F(ManagedStateTest, Prepare_DeletesWhatACrashInTheMiddleOfAWriteLeft) {
  fs::create_directory(state_dir());
  fs::permissions(state_dir(), fs::perms::owner_all);
  write_binary(state_dir() + "/.tmp-resources.json.Ab12Cd", "{\"version\": 1, \"apis\": {\"half");
  std::vector<config::Problem> problems;

  Prepared prepared = prepare(config_path(), 1, false, problems);

  ASSERT_NE(prepared.snapshot, nullptr) << ::testing::PrintToString(problems);
  EXPECT_THAT(files_in(state_dir()), ElementsAre("certificates"));
}

TEST_F(ManagedStateTest, Prepare_BrokenStateFileIsAProblemNamingIt) {
  fs::create_directory(state_dir());
  fs::permissions(state_dir(), fs::perms::owner_all);
  write_binary(state_dir() + "/resources.json", "{\"version\": 1, \"apis\": 3}");
  std::vector<config::Problem> problems;

  EXPECT_EQ(prepare(config_path(), 1, false, problems).snapshot, nullptr);
  EXPECT_THAT(problems, ElementsAre(ProblemAt(state_dir() + "/resources.json: $.apis",
                                              HasSubstr("expected an object"))));
}

TEST_F(ManagedStateTest, ManagedState_AcceptedChangeIsPersistedThenPublished) {
  auto state = start();
  ManagedResources next = state->managed();
  next.apis["made"] = api("made", "http://127.0.0.1:9001");

  ManagedState::Change change = state->set_resources(next);

  ASSERT_TRUE(change.ok()) << ::testing::PrintToString(change.problems);
  ASSERT_THAT(published_, SizeIs(1));
  EXPECT_EQ(published_[0], change.snapshot);
  EXPECT_EQ(published_[0]->generation, 2u);
  EXPECT_TRUE(published_[0]->config->apis.contains("made"));
  EXPECT_EQ(published_[0]->listener_fds, (std::vector<std::vector<int>>{{7}}));
  EXPECT_TRUE(state->managed().apis.contains("made"));
  ManagedResources stored;
  std::vector<config::Problem> problems;
  ASSERT_TRUE(load_resources(state_dir(), stored, problems));
  EXPECT_TRUE(stored.apis.contains("made"));
}

TEST_F(ManagedStateTest, ManagedState_RefusedChangeChangesNothing) {
  auto state = start();
  ManagedResources next = state->managed();
  next.apis["made"] = api("made", kTlsBackend, certificate_policy("certificate-id", "missing"));

  ManagedState::Change change = state->set_resources(next);

  EXPECT_FALSE(change.ok());
  EXPECT_THAT(change.problems, SizeIs(1));
  EXPECT_THAT(published_, IsEmpty());
  EXPECT_FALSE(state->managed().apis.contains("made"));
  EXPECT_FALSE(state->effective().apis.contains("made"));
  EXPECT_FALSE(fs::exists(state_dir() + "/resources.json"));
}

TEST_F(ManagedStateTest, ManagedState_ReportsThePoolKeysAChangeAdds) {
  auto state = start();
  ManagedResources next = state->managed();
  next.apis["made"] = api("made", "http://127.0.0.1:9001");
  next.apis["same-origin"] = api("same", "http://127.0.0.1:9000/x");

  ManagedState::Change change = state->set_resources(next);

  ASSERT_TRUE(change.ok()) << ::testing::PrintToString(change.problems);
  ASSERT_THAT(change.new_pool_keys, SizeIs(1));
  EXPECT_THAT(change.new_pool_keys[0], HasSubstr("127.0.0.1:9001"));
}

TEST_F(ManagedStateTest, ManagedState_UploadedCertificateIsStoredAndServesAPolicy) {
  auto state = start();
  bool created = false;

  ManagedState::Change put =
      state->put_certificate("orders", load(material().orders_aes_pfx), created);
  ASSERT_TRUE(put.ok()) << ::testing::PrintToString(put.problems) << put.storage_error;
  ManagedResources next = state->managed();
  next.apis["orders"] = api("orders", std::string(kTlsBackend) + "/api",
                            certificate_policy("certificate-id", "orders"));
  ManagedState::Change use = state->set_resources(next);

  EXPECT_TRUE(created);
  EXPECT_TRUE(fs::exists(state_dir() + "/certificates/orders.pem"));
  ASSERT_TRUE(use.ok()) << ::testing::PrintToString(use.problems);
  ASSERT_THAT(use.new_pool_keys, SizeIs(1));
  EXPECT_THAT(use.new_pool_keys[0], HasSubstr(material().orders_thumbprint));
}

TEST_F(ManagedStateTest, ManagedState_RemovedCertificateLeavesTheStateDir) {
  auto state = start();
  bool created = false;
  ASSERT_TRUE(state->put_certificate("orders", load(material().orders_aes_pfx), created).ok());

  ManagedState::Change change = state->remove_certificate("orders");

  ASSERT_TRUE(change.ok()) << change.storage_error;
  EXPECT_FALSE(fs::exists(state_dir() + "/certificates/orders.pem"));
  EXPECT_FALSE(state->certificates().get("orders").has_value());
}

TEST_F(ManagedStateTest, ManagedState_RemovingACertificateAPolicyNeedsIsRefused) {
  auto state = start();
  bool created = false;
  ASSERT_TRUE(state->put_certificate("orders", load(material().orders_aes_pfx), created).ok());
  ManagedResources next = state->managed();
  next.apis["orders"] = api("orders", std::string(kTlsBackend) + "/api",
                            certificate_policy("certificate-id", "orders"));
  ASSERT_TRUE(state->set_resources(next).ok());

  ManagedState::Change change = state->remove_certificate("orders");

  EXPECT_FALSE(change.ok());
  EXPECT_THAT(change.problems, ElementsAre(ProblemAt("$.apis.orders.policy", HasSubstr("orders"))));
  EXPECT_TRUE(fs::exists(state_dir() + "/certificates/orders.pem"));
}

}  // namespace
}  // namespace ringgate::core
