// Specification of the certificate store (DESIGN §5, §6): ids map to loaded
// certificates; uploaded ones persist under stateDir atomically, owner-only,
// and come back after a restart; a crash mid-write never shows; certificates
// from the config file are read-only and never written to disk.
#include "certs/store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "test_material.hpp"

namespace ringgate::certs {
namespace {

namespace fs = std::filesystem;
using test_support::kPassword;
using test_support::material;
using test_support::read_binary;
using test_support::run_command;
using test_support::TempDir;
using test_support::write_binary;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr int64_t kDay = 86400;

unsigned mode_of(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777;
}

std::vector<std::string> ids_of(const std::vector<StoredCertificate>& certificates) {
  std::vector<std::string> ids;
  for (const StoredCertificate& entry : certificates) ids.push_back(entry.id);
  return ids;
}

std::vector<std::string> files_in(const std::string& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(store_.open(state_dir(), error)) << error;
  }

  std::string state_dir() const { return dir_.path() + "/state"; }
  std::string certificates_dir() const { return state_dir() + "/certificates"; }

  // Puts `pfx` under `id` and expects success.
  void put_ok(const std::string& id, const std::string& pfx, bool expect_created = true) {
    bool created = !expect_created;
    PfxResult result = store_.put(id, pfx, kPassword, created);
    ASSERT_EQ(result.error, PfxError::kNone) << result.message;
    ASSERT_NE(result.certificate, nullptr);
    EXPECT_EQ(created, expect_created);
  }

  std::string thumbprint_of(const std::string& id) const {
    std::optional<StoredCertificate> entry = store_.get(id);
    return entry ? entry->certificate->info().thumbprint : std::string("<missing>");
  }

  TempDir dir_;
  CertificateStore store_;
};

TEST_F(StoreTest, Store_OpenCreatesOwnerOnlyDirectories) {
  EXPECT_EQ(mode_of(state_dir()), 0700u);
  EXPECT_EQ(mode_of(certificates_dir()), 0700u);
}

TEST_F(StoreTest, Store_OpenKeepsExistingStateDirModeButMakesCertificatesDirPrivate) {
  std::string other = dir_.path() + "/other";
  fs::create_directories(other + "/certificates");
  ::chmod(other.c_str(), 0755);
  ::chmod((other + "/certificates").c_str(), 0755);
  CertificateStore store;
  std::string error;
  ASSERT_TRUE(store.open(other, error)) << error;
  EXPECT_EQ(mode_of(other), 0755u);
  EXPECT_EQ(mode_of(other + "/certificates"), 0700u);
}

TEST_F(StoreTest, Store_OpenRefusesStateDirWritableByOthers) {
  std::string shared = dir_.path() + "/shared";
  fs::create_directories(shared);
  ::chmod(shared.c_str(), 0777);
  CertificateStore store;
  std::string error;
  EXPECT_FALSE(store.open(shared, error));
  EXPECT_THAT(error, HasSubstr(shared + " is writable by group/others (mode 0777); chmod 700 it"));
  EXPECT_FALSE(fs::exists(shared + "/certificates")) << "nothing is created in a refused stateDir";
}

TEST_F(StoreTest, Store_OpenRefusesGroupWritableStateDir) {
  std::string shared = dir_.path() + "/shared";
  fs::create_directories(shared);
  ::chmod(shared.c_str(), 0770);
  CertificateStore store;
  std::string error;
  EXPECT_FALSE(store.open(shared, error));
  EXPECT_THAT(error, HasSubstr("(mode 0770)"));
}

TEST_F(StoreTest, Store_OpenAcceptsOwnerOnlyStateDir) {
  std::string mine = dir_.path() + "/mine";
  fs::create_directories(mine);
  ::chmod(mine.c_str(), 0700);
  CertificateStore store;
  std::string error;
  EXPECT_TRUE(store.open(mine, error)) << error;
}

TEST_F(StoreTest, Store_OpenRefusesStateDirOwnedByAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can give a directory to another user";
  std::string theirs = dir_.path() + "/theirs";
  fs::create_directories(theirs);
  ::chmod(theirs.c_str(), 0700);
  ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
  CertificateStore store;
  std::string error;
  EXPECT_FALSE(store.open(theirs, error));
  EXPECT_THAT(error, HasSubstr(theirs + " is owned by uid 65534"));
}

TEST_F(StoreTest, Store_OpenFailsWhenStateDirIsAFile) {
  write_binary(dir_.path() + "/file", "x");
  CertificateStore store;
  std::string error;
  EXPECT_FALSE(store.open(dir_.path() + "/file", error));
  EXPECT_THAT(error, HasSubstr("/file"));
}

TEST_F(StoreTest, Store_PutAddsThenReplaces) {
  put_ok("orders", material().orders_legacy_pfx, true);
  EXPECT_EQ(thumbprint_of("orders"), material().orders_thumbprint);
  put_ok("orders", material().billing_aes_pfx, false);
  EXPECT_EQ(thumbprint_of("orders"), material().billing_thumbprint);
  EXPECT_THAT(ids_of(store_.list()), ElementsAre("orders"));
}

TEST_F(StoreTest, Store_PersistedFileIsOwnerOnly) {
  put_ok("orders", material().orders_aes_pfx);
  EXPECT_THAT(files_in(certificates_dir()), ElementsAre("orders.pem"));
  EXPECT_EQ(mode_of(certificates_dir() + "/orders.pem"), 0600u);
}

TEST_F(StoreTest, Store_PersistedFileIsPemThatOpensslReads) {
  put_ok("orders", material().orders_legacy_pfx);
  std::string file = certificates_dir() + "/orders.pem";
  std::string fingerprint =
      run_command("openssl x509 -noout -fingerprint -sha1 -in '" + file + "'");
  fingerprint.erase(std::remove(fingerprint.begin(), fingerprint.end(), ':'), fingerprint.end());
  EXPECT_THAT(fingerprint, HasSubstr(material().orders_thumbprint));
  EXPECT_NO_THROW(run_command("openssl pkey -noout -in '" + file + "' 2>/dev/null"));
}

TEST_F(StoreTest, Store_PasswordIsNeverWrittenToDisk) {
  put_ok("orders", material().orders_aes_pfx);
  put_ok("leaf", material().leaf_with_chain_pfx);
  for (const std::string& name : files_in(certificates_dir())) {
    EXPECT_THAT(read_binary(certificates_dir() + "/" + name), Not(HasSubstr(kPassword))) << name;
  }
}

TEST_F(StoreTest, Store_ListIsSortedById) {
  put_ok("b", material().orders_aes_pfx);
  put_ok("c", material().orders_aes_pfx);
  put_ok("a", material().billing_aes_pfx);
  EXPECT_THAT(ids_of(store_.list()), ElementsAre("a", "b", "c"));
}

TEST_F(StoreTest, Store_GetUnknownIdIsEmpty) {
  put_ok("orders", material().orders_aes_pfx);
  EXPECT_FALSE(store_.get("billing").has_value());
}

TEST_F(StoreTest, Store_FindByThumbprintIgnoresCase) {
  put_ok("orders", material().orders_aes_pfx);
  put_ok("billing", material().billing_aes_pfx);
  std::string lower = material().billing_thumbprint;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  std::optional<StoredCertificate> found = store_.find_by_thumbprint(lower);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, "billing");
  EXPECT_FALSE(store_.find_by_thumbprint(std::string(40, '0')).has_value());
}

TEST_F(StoreTest, Store_RemoveForgetsCertificateAndDeletesItsFile) {
  put_ok("orders", material().orders_aes_pfx);
  put_ok("billing", material().billing_aes_pfx);
  EXPECT_TRUE(store_.remove("orders"));
  EXPECT_FALSE(store_.get("orders").has_value());
  EXPECT_THAT(files_in(certificates_dir()), ElementsAre("billing.pem"));
}

TEST_F(StoreTest, Store_RemoveUnknownIdFailsWithReason) {
  std::string error;
  EXPECT_FALSE(store_.remove("nothing", &error));
  EXPECT_THAT(error, HasSubstr("no certificate with id \"nothing\""));
}

TEST_F(StoreTest, Store_RemovedCertificateStaysValidForItsHolders) {
  put_ok("orders", material().orders_aes_pfx);
  std::shared_ptr<const LoadedCertificate> held = store_.get("orders")->certificate;
  ASSERT_TRUE(store_.remove("orders"));
  EXPECT_EQ(held->info().thumbprint, material().orders_thumbprint);
  EXPECT_EQ(X509_check_private_key(held->certificate(), held->key()), 1);
}

TEST_F(StoreTest, Store_ReopenReturnsSameCertificates) {
  put_ok("orders", material().orders_legacy_pfx);
  put_ok("leaf", material().leaf_with_chain_pfx);
  CertificateStore reopened;
  std::string error;
  ASSERT_TRUE(reopened.open(state_dir(), error)) << error;

  EXPECT_THAT(ids_of(reopened.list()), ElementsAre("leaf", "orders"));
  for (const StoredCertificate& before : store_.list()) {
    std::optional<StoredCertificate> after = reopened.get(before.id);
    ASSERT_TRUE(after.has_value()) << before.id;
    const CertificateInfo& a = before.certificate->info();
    const CertificateInfo& b = after->certificate->info();
    EXPECT_EQ(b.thumbprint, a.thumbprint);
    EXPECT_EQ(b.subject, a.subject);
    EXPECT_EQ(b.issuer, a.issuer);
    EXPECT_EQ(b.not_after, a.not_after);
    EXPECT_EQ(b.expiration_date, a.expiration_date);
    EXPECT_FALSE(after->from_config_file);
    EXPECT_EQ(X509_check_private_key(after->certificate->certificate(), after->certificate->key()),
              1);
  }
  STACK_OF(X509)* chain = reopened.get("leaf")->certificate->chain();
  ASSERT_NE(chain, nullptr);
  ASSERT_EQ(sk_X509_num(chain), 1);
  EXPECT_EQ(describe_certificate(sk_X509_value(chain, 0)).thumbprint, material().ca_thumbprint);
  EXPECT_EQ(reopened.get("orders")->certificate->chain(), nullptr);
}

TEST_F(StoreTest, Store_ReopenAfterReplaceAndRemoveShowsLatestState) {
  put_ok("orders", material().orders_aes_pfx);
  put_ok("orders", material().billing_aes_pfx, false);
  put_ok("gone", material().orders_aes_pfx);
  ASSERT_TRUE(store_.remove("gone"));
  CertificateStore reopened;
  std::string error;
  ASSERT_TRUE(reopened.open(state_dir(), error)) << error;
  EXPECT_THAT(ids_of(reopened.list()), ElementsAre("orders"));
  EXPECT_EQ(reopened.get("orders")->certificate->info().thumbprint, material().billing_thumbprint);
}

TEST_F(StoreTest, Store_InvalidPfxChangesNothing) {
  put_ok("orders", material().orders_aes_pfx);
  const std::string before = read_binary(certificates_dir() + "/orders.pem");
  bool created = true;
  PfxResult result = store_.put("orders", "not a pfx", kPassword, created);
  EXPECT_EQ(result.error, PfxError::kNotPfx);
  EXPECT_FALSE(created);
  EXPECT_EQ(thumbprint_of("orders"), material().orders_thumbprint);
  EXPECT_EQ(read_binary(certificates_dir() + "/orders.pem"), before);
  EXPECT_THAT(files_in(certificates_dir()), ElementsAre("orders.pem"));
}

TEST_F(StoreTest, Store_WrongPasswordIsInvalidPasswordAndStoresNothing) {
  bool created = true;
  PfxResult result = store_.put("orders", material().orders_legacy_pfx, "wrong", created);
  EXPECT_EQ(result.error, PfxError::kInvalidPassword);
  EXPECT_FALSE(created);
  EXPECT_THAT(store_.list(), IsEmpty());
  EXPECT_THAT(files_in(certificates_dir()), IsEmpty());
}

TEST_F(StoreTest, Store_NoKeyPfxIsRefused) {
  bool created = false;
  EXPECT_EQ(store_.put("orders", material().no_key_pfx, kPassword, created).error,
            PfxError::kNoPrivateKey);
  EXPECT_THAT(store_.list(), IsEmpty());
}

TEST_F(StoreTest, Store_LeftoverTempFilesFromACrashAreIgnoredAndRemoved) {
  put_ok("orders", material().orders_aes_pfx);
  const std::string stored = read_binary(certificates_dir() + "/orders.pem");
  // A crash mid-write of a replacement (half the bytes), one after the
  // write but before the rename (all of another certificate), and one
  // mid-write of a brand new id.
  write_binary(certificates_dir() + "/.tmp-orders.pem.Ab12Cd", stored.substr(0, stored.size() / 2));
  put_ok("billing", material().billing_aes_pfx);
  write_binary(certificates_dir() + "/.tmp-orders.pem.Ef34Gh",
               read_binary(certificates_dir() + "/billing.pem"));
  ASSERT_TRUE(store_.remove("billing"));
  write_binary(certificates_dir() + "/.tmp-fresh.pem.Ij56Kl", stored.substr(0, 100));

  CertificateStore reopened;
  std::string error;
  ASSERT_TRUE(reopened.open(state_dir(), error)) << error;
  EXPECT_THAT(ids_of(reopened.list()), ElementsAre("orders"));
  EXPECT_EQ(reopened.get("orders")->certificate->info().thumbprint, material().orders_thumbprint);
  EXPECT_THAT(files_in(certificates_dir()), ElementsAre("orders.pem"));
}

TEST_F(StoreTest, Store_ProcessKilledDuringPutsLeavesOldOrNewCertificate) {
  put_ok("orders", material().orders_aes_pfx);
  for (int round = 0; round < 12; ++round) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // Replaces the certificate back and forth until killed.
      for (int i = 0;; ++i) {
        bool created = false;
        store_.put("orders", i % 2 == 0 ? material().billing_aes_pfx : material().orders_aes_pfx,
                   kPassword, created);
      }
    }
    ::usleep(static_cast<useconds_t>(2000 + round * 2500));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);

    CertificateStore reopened;
    std::string error;
    ASSERT_TRUE(reopened.open(state_dir(), error)) << "round " << round << ": " << error;
    std::optional<StoredCertificate> entry = reopened.get("orders");
    ASSERT_TRUE(entry.has_value()) << "round " << round;
    EXPECT_THAT(entry->certificate->info().thumbprint,
                ::testing::AnyOf(material().orders_thumbprint, material().billing_thumbprint));
    EXPECT_THAT(files_in(certificates_dir()), ElementsAre("orders.pem")) << "round " << round;
  }
}

TEST_F(StoreTest, Store_CorruptPersistedFileFailsOpenNamingIt) {
  write_binary(certificates_dir() + "/broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n");
  CertificateStore reopened;
  std::string error;
  EXPECT_FALSE(reopened.open(state_dir(), error));
  EXPECT_THAT(error, HasSubstr("certificate \"broken\""));
}

TEST_F(StoreTest, Store_SymlinkInPlaceOfAPersistedCertificateFailsOpen) {
  put_ok("orders", material().orders_aes_pfx);
  fs::rename(certificates_dir() + "/orders.pem", dir_.path() + "/elsewhere.pem");
  fs::create_symlink(dir_.path() + "/elsewhere.pem", certificates_dir() + "/orders.pem");
  CertificateStore reopened;
  std::string error;
  EXPECT_FALSE(reopened.open(state_dir(), error));
  EXPECT_THAT(error, HasSubstr("is a symbolic link"));
}

TEST_F(StoreTest, Store_FilesItDoesNotOwnAreIgnored) {
  write_binary(certificates_dir() + "/README", "notes");
  write_binary(certificates_dir() + "/orders.json", "{}");
  write_binary(certificates_dir() + "/bad id.pem", "x");
  CertificateStore reopened;
  std::string error;
  ASSERT_TRUE(reopened.open(state_dir(), error)) << error;
  EXPECT_THAT(reopened.list(), IsEmpty());
}

TEST_F(StoreTest, Store_RejectsIdsThatAreNotSafeFileNames) {
  const std::vector<std::string> unsafe = {
      "", "../x", "a/b", ".hidden", "-x", "a~b", "a b", "caf\xc3\xa9", "..", std::string(81, 'a')};
  for (const std::string& id : unsafe) {
    bool created = false;
    PfxResult result = store_.put(id, material().orders_aes_pfx, kPassword, created);
    EXPECT_EQ(result.error, PfxError::kInvalidId) << id;
  }
  EXPECT_THAT(files_in(certificates_dir()), IsEmpty());
  put_ok("Orders-client_1.v2-x", material().orders_aes_pfx);
  put_ok(std::string(80, 'a'), material().orders_aes_pfx);
}

TEST(StoreWithoutStateDir, Store_PutBeforeOpenIsIoError) {
  CertificateStore store;
  bool created = false;
  PfxResult result = store.put("orders", material().orders_aes_pfx, kPassword, created);
  EXPECT_EQ(result.error, PfxError::kIoError);
  EXPECT_THAT(store.list(), IsEmpty());
}

TEST_F(StoreTest, Store_LoadFromFilesMarksConfigFileAndPersistsNothing) {
  write_binary(dir_.path() + "/orders.pfx", material().orders_legacy_pfx);
  write_binary(dir_.path() + "/orders.pass", std::string(kPassword) + "\n");
  PfxResult result =
      store_.load_from_files("orders", dir_.path() + "/orders.pfx", dir_.path() + "/orders.pass");
  ASSERT_EQ(result.error, PfxError::kNone) << result.message;
  std::optional<StoredCertificate> entry = store_.get("orders");
  ASSERT_TRUE(entry.has_value());
  EXPECT_TRUE(entry->from_config_file);
  EXPECT_EQ(entry->certificate->info().thumbprint, material().orders_thumbprint);
  EXPECT_THAT(files_in(certificates_dir()), IsEmpty());
}

TEST_F(StoreTest, Store_LoadFromFilesTrimsCrLfFromPassword) {
  write_binary(dir_.path() + "/orders.pfx", material().orders_aes_pfx);
  write_binary(dir_.path() + "/orders.pass", std::string(kPassword) + "\r\n");
  PfxResult result =
      store_.load_from_files("orders", dir_.path() + "/orders.pfx", dir_.path() + "/orders.pass");
  EXPECT_EQ(result.error, PfxError::kNone) << result.message;
}

TEST_F(StoreTest, Store_LoadFromFilesWithoutPasswordFileUsesEmptyPassword) {
  write_binary(dir_.path() + "/open.pfx", material().orders_empty_password_legacy_pfx);
  PfxResult result = store_.load_from_files("open", dir_.path() + "/open.pfx", "");
  EXPECT_EQ(result.error, PfxError::kNone) << result.message;
  write_binary(dir_.path() + "/locked.pfx", material().orders_aes_pfx);
  EXPECT_EQ(store_.load_from_files("locked", dir_.path() + "/locked.pfx", "").error,
            PfxError::kInvalidPassword);
}

TEST_F(StoreTest, Store_LoadFromFilesMissingFileIsIoErrorNamingIt) {
  PfxResult result = store_.load_from_files("orders", dir_.path() + "/none.pfx", "");
  EXPECT_EQ(result.error, PfxError::kIoError);
  EXPECT_THAT(result.message, HasSubstr(dir_.path() + "/none.pfx"));
  write_binary(dir_.path() + "/orders.pfx", material().orders_aes_pfx);
  result =
      store_.load_from_files("orders", dir_.path() + "/orders.pfx", dir_.path() + "/none.pass");
  EXPECT_EQ(result.error, PfxError::kIoError);
  EXPECT_THAT(result.message, HasSubstr(dir_.path() + "/none.pass"));
  EXPECT_THAT(store_.list(), IsEmpty());
}

TEST_F(StoreTest, Store_LoadFromFilesWrongPasswordIsInvalidPassword) {
  write_binary(dir_.path() + "/orders.pfx", material().orders_aes_pfx);
  write_binary(dir_.path() + "/orders.pass", "wrong\n");
  PfxResult result =
      store_.load_from_files("orders", dir_.path() + "/orders.pfx", dir_.path() + "/orders.pass");
  EXPECT_EQ(result.error, PfxError::kInvalidPassword);
  EXPECT_THAT(result.message, Not(HasSubstr("wrong\n")));
}

TEST_F(StoreTest, Store_ConfigFileCertificateCannotBeReplacedOrRemoved) {
  write_binary(dir_.path() + "/orders.pfx", material().orders_empty_password_pfx);
  ASSERT_TRUE(store_.load_from_files("orders", dir_.path() + "/orders.pfx", "").ok());
  bool created = true;
  PfxResult result = store_.put("orders", material().billing_aes_pfx, kPassword, created);
  EXPECT_EQ(result.error, PfxError::kManagedByConfigFile);
  std::string error;
  EXPECT_FALSE(store_.remove("orders", &error));
  EXPECT_THAT(error, HasSubstr("config file"));
  EXPECT_EQ(thumbprint_of("orders"), material().orders_thumbprint);
  EXPECT_THAT(files_in(certificates_dir()), IsEmpty());
}

TEST_F(StoreTest, Store_ConfigFileCertificateWinsOverUploadedOneWithSameId) {
  put_ok("orders", material().billing_aes_pfx);
  write_binary(dir_.path() + "/orders.pfx", material().orders_empty_password_pfx);
  ASSERT_TRUE(store_.load_from_files("orders", dir_.path() + "/orders.pfx", "").ok());
  EXPECT_EQ(thumbprint_of("orders"), material().orders_thumbprint);
  EXPECT_TRUE(store_.get("orders")->from_config_file);
}

TEST_F(StoreTest, Store_ExpiringWithinListsCertificatesThatExpireSoon) {
  put_ok("orders", material().orders_aes_pfx);     // 400 days
  put_ok("leaf", material().leaf_with_chain_pfx);  // 20 days
  put_ok("billing", material().billing_aes_pfx);   // 400 days
  int64_t now = static_cast<int64_t>(::time(nullptr));
  EXPECT_THAT(store_.expiring_within(now, 30 * kDay), ElementsAre("leaf"));
  EXPECT_THAT(store_.expiring_within(now, 10 * kDay), IsEmpty());
  EXPECT_THAT(store_.expiring_within(now + 500 * kDay, 0),
              ElementsAre("billing", "leaf", "orders"));
  EXPECT_THAT(store_.expiring_within(now, INT64_MAX), ElementsAre("billing", "leaf", "orders"));
}

TEST_F(StoreTest, Store_ConcurrentPutsAndReadsAreSafe) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 5; ++i) {
        bool created = false;
        const std::string& pfx =
            (i + t) % 2 == 0 ? material().orders_aes_pfx : material().billing_aes_pfx;
        EXPECT_TRUE(store_.put("shared", pfx, kPassword, created).ok());
        EXPECT_TRUE(store_.put("own-" + std::to_string(t), pfx, kPassword, created).ok());
        EXPECT_TRUE(store_.get("shared").has_value());
        EXPECT_FALSE(store_.list().empty());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(ids_of(store_.list()), ElementsAre("own-0", "own-1", "own-2", "own-3", "shared"));
  CertificateStore reopened;
  std::string error;
  ASSERT_TRUE(reopened.open(state_dir(), error)) << error;
  EXPECT_EQ(reopened.get("shared")->certificate->info().thumbprint, thumbprint_of("shared"));
}

TEST_F(StoreTest, Store_MessagesNeverContainThePassword) {
  bool created = false;
  std::vector<std::string> messages = {
      store_.put("orders", material().orders_aes_pfx, std::string(kPassword) + "!", created)
          .message,
      store_.put("../x", material().orders_aes_pfx, kPassword, created).message,
      store_.put("orders", material().no_key_pfx, kPassword, created).message,
  };
  write_binary(dir_.path() + "/orders.pass", std::string(kPassword) + "!\n");
  write_binary(dir_.path() + "/orders.pfx", material().orders_aes_pfx);
  messages.push_back(
      store_.load_from_files("orders", dir_.path() + "/orders.pfx", dir_.path() + "/orders.pass")
          .message);
  for (const std::string& message : messages) {
    EXPECT_THAT(message, Not(IsEmpty()));
    EXPECT_THAT(message, Not(HasSubstr(kPassword)));
  }
}

}  // namespace
}  // namespace ringgate::certs
