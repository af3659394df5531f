// Specification of PFX loading (DESIGN §2, §5): Windows-style legacy and
// AES PFX files load with APIM's thumbprint, subject and expiry; each way a
// PFX can be unusable gets its own error; nothing secret reaches a message.
#include "certs/pfx.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "test_material.hpp"

namespace ringgate::certs {
namespace {

using test_support::kPassword;
using test_support::material;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string subject_of(X509* certificate) { return describe_certificate(certificate).subject; }

// orders' certificate and key exported with `options` and -iter `iterations`
// (for the MAC and every encrypted part; openssl pays for them once, here).
std::string orders_exported_with_iterations(const std::string& options, long iterations) {
  test_support::TempDir out;
  const std::string& dir = material().dir;
  test_support::run_command("openssl pkcs12 -export -in '" + dir + "/orders.crt' -inkey '" + dir +
                            "/orders.key' " + options + " -iter " + std::to_string(iterations) +
                            " -passout 'pass:" + kPassword + "' -out '" + out.path() +
                            "/orders.pfx' 2>/dev/null");
  return test_support::read_binary(out.path() + "/orders.pfx");
}

TEST(Pfx, Pfx_LegacyRc2PfxLoadsWithThumbprintSubjectAndExpiry) {
  PfxResult result = load_pfx(material().orders_legacy_pfx, kPassword);
  ASSERT_EQ(result.error, PfxError::kNone) << result.message;
  ASSERT_NE(result.certificate, nullptr);
  const CertificateInfo& info = result.certificate->info();
  EXPECT_EQ(info.thumbprint, material().orders_thumbprint);
  EXPECT_EQ(info.subject, "CN=orders-client, O=Contoso");
  EXPECT_EQ(info.issuer, "CN=orders-client, O=Contoso");
  EXPECT_EQ(info.expiration_date, material().orders_expiration);
  EXPECT_TRUE(info.self_signed);
  EXPECT_THAT(result.message, IsEmpty());
}

TEST(Pfx, Pfx_AesPfxLoadsWithThumbprintSubjectAndExpiry) {
  PfxResult result = load_pfx(material().orders_aes_pfx, kPassword);
  ASSERT_EQ(result.error, PfxError::kNone) << result.message;
  const CertificateInfo& info = result.certificate->info();
  EXPECT_EQ(info.thumbprint, material().orders_thumbprint);
  EXPECT_EQ(info.subject, "CN=orders-client, O=Contoso");
  EXPECT_EQ(info.expiration_date, material().orders_expiration);
}

TEST(Pfx, Pfx_ValidityIsRoughly400DaysFromNowInUnixSeconds) {
  PfxResult result = load_pfx(material().orders_aes_pfx, kPassword);
  ASSERT_TRUE(result.ok()) << result.message;
  const CertificateInfo& info = result.certificate->info();
  int64_t now = static_cast<int64_t>(::time(nullptr));
  EXPECT_LE(info.not_before, now);
  EXPECT_GT(info.not_before, now - 86400);
  EXPECT_EQ(info.not_after - info.not_before, 400 * 86400);
}

TEST(Pfx, Pfx_ThumbprintIsFortyUpperCaseHexDigits) {
  PfxResult result = load_pfx(material().orders_aes_pfx, kPassword);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_THAT(result.certificate->info().thumbprint, ::testing::MatchesRegex("[0-9A-F]{40}"));
}

TEST(Pfx, Pfx_KeyBelongsToCertificate) {
  PfxResult result = load_pfx(material().orders_legacy_pfx, kPassword);
  ASSERT_TRUE(result.ok()) << result.message;
  ASSERT_NE(result.certificate->key(), nullptr);
  EXPECT_EQ(X509_check_private_key(result.certificate->certificate(), result.certificate->key()),
            1);
}

TEST(Pfx, Pfx_EmptyPasswordPfxLoadsWithEmptyPassword) {
  for (const std::string* pfx :
       {&material().orders_empty_password_pfx, &material().orders_empty_password_legacy_pfx}) {
    PfxResult result = load_pfx(*pfx, "");
    ASSERT_EQ(result.error, PfxError::kNone) << result.message;
    EXPECT_EQ(result.certificate->info().thumbprint, material().orders_thumbprint);
  }
}

TEST(Pfx, Pfx_WrongPasswordIsInvalidPassword) {
  for (const std::string* pfx : {&material().orders_legacy_pfx, &material().orders_aes_pfx}) {
    PfxResult result = load_pfx(*pfx, "wrong-password");
    EXPECT_EQ(result.error, PfxError::kInvalidPassword);
    EXPECT_EQ(result.certificate, nullptr);
    EXPECT_EQ(result.message, "wrong password for the PFX (MAC verification failed)");
  }
}

TEST(Pfx, Pfx_EmptyPasswordForProtectedPfxIsInvalidPassword) {
  EXPECT_EQ(load_pfx(material().orders_aes_pfx, "").error, PfxError::kInvalidPassword);
}

TEST(Pfx, Pfx_PasswordForUnprotectedPfxIsInvalidPassword) {
  EXPECT_EQ(load_pfx(material().orders_empty_password_pfx, kPassword).error,
            PfxError::kInvalidPassword);
}

TEST(Pfx, Pfx_PfxWithoutMacLoadsWithRightPassword) {
  PfxResult result = load_pfx(material().orders_no_mac_pfx, kPassword);
  ASSERT_EQ(result.error, PfxError::kNone) << result.message;
  EXPECT_EQ(result.certificate->info().thumbprint, material().orders_thumbprint);
}

TEST(Pfx, Pfx_PfxWithoutMacAndWrongPasswordIsInvalidPassword) {
  PfxResult result = load_pfx(material().orders_no_mac_pfx, "wrong-password");
  EXPECT_EQ(result.error, PfxError::kInvalidPassword);
  EXPECT_THAT(result.message, HasSubstr("wrong password"));
}

TEST(Pfx, Pfx_TruncatedIsNotPfx) {
  for (const std::string* pfx : {&material().orders_legacy_pfx, &material().orders_aes_pfx}) {
    for (size_t keep : {pfx->size() / 2, pfx->size() - 1, size_t{10}, size_t{1}}) {
      PfxResult result = load_pfx(pfx->substr(0, keep), kPassword);
      EXPECT_EQ(result.error, PfxError::kNotPfx) << "kept " << keep << " bytes";
      EXPECT_THAT(result.message, HasSubstr("truncated or corrupt"));
    }
  }
}

TEST(Pfx, Pfx_GarbageAndEmptyInputAreNotPfx) {
  EXPECT_EQ(load_pfx("", kPassword).error, PfxError::kNotPfx);
  EXPECT_EQ(load_pfx("this is not a certificate", kPassword).error, PfxError::kNotPfx);
  EXPECT_EQ(load_pfx(std::string(4096, '\xff'), kPassword).error, PfxError::kNotPfx);
}

TEST(Pfx, Pfx_PemInputIsNotPfxAndSaysItIsPem) {
  PfxResult result = load_pfx(material().orders_key_pem, kPassword);
  EXPECT_EQ(result.error, PfxError::kNotPfx);
  EXPECT_THAT(result.message, HasSubstr("PEM"));
}

// The file ends with the MAC data: digest, 8-byte salt, iteration count.
// Twenty bytes from the end lies inside the digest for SHA-1 and SHA-256.
std::string with_damaged_mac(std::string pfx) {
  pfx[pfx.size() - 20] = static_cast<char>(pfx[pfx.size() - 20] ^ 0x5a);
  return pfx;
}

TEST(Pfx, Pfx_DamagedMacWithRightPasswordIsNotPfx) {
  for (const std::string* pfx : {&material().orders_legacy_pfx, &material().orders_aes_pfx}) {
    PfxResult result = load_pfx(with_damaged_mac(*pfx), kPassword);
    EXPECT_EQ(result.error, PfxError::kNotPfx);
    EXPECT_THAT(result.message, HasSubstr("corrupt"));
    EXPECT_EQ(result.certificate, nullptr);
  }
}

TEST(Pfx, Pfx_DamagedMacWithWrongPasswordIsInvalidPassword) {
  PfxResult result = load_pfx(with_damaged_mac(material().orders_aes_pfx), "wrong-password");
  EXPECT_EQ(result.error, PfxError::kInvalidPassword);
}

TEST(Pfx, Pfx_DamagedEncryptedContentIsNotLoaded) {
  // The middle of the file is encrypted bag data; any flip there breaks the MAC.
  std::string pfx = material().orders_aes_pfx;
  pfx[pfx.size() / 2] = static_cast<char>(pfx[pfx.size() / 2] ^ 0x5a);
  PfxResult result = load_pfx(pfx, kPassword);
  EXPECT_NE(result.error, PfxError::kNone);
  EXPECT_EQ(result.certificate, nullptr);
}

TEST(Pfx, Pfx_WithoutKeyIsNoPrivateKey) {
  PfxResult result = load_pfx(material().no_key_pfx, kPassword);
  EXPECT_EQ(result.error, PfxError::kNoPrivateKey);
  EXPECT_THAT(result.message, HasSubstr("no private key"));
}

TEST(Pfx, Pfx_WithoutCertificateIsNoCertificate) {
  PfxResult result = load_pfx(material().no_certificate_pfx, kPassword);
  EXPECT_EQ(result.error, PfxError::kNoCertificate);
  EXPECT_THAT(result.message, HasSubstr("no certificate"));
}

TEST(Pfx, Pfx_KeyMatchingNoCertificateIsKeyMismatch) {
  PfxResult result = load_pfx(material().key_mismatch_pfx, kPassword);
  EXPECT_EQ(result.error, PfxError::kKeyMismatch);
  EXPECT_EQ(result.message, "the certificate in the PFX does not belong to its private key");
}

TEST(Pfx, Pfx_ChainCertificatesAreKept) {
  PfxResult result = load_pfx(material().leaf_with_chain_pfx, kPassword);
  ASSERT_EQ(result.error, PfxError::kNone) << result.message;
  const LoadedCertificate& loaded = *result.certificate;
  EXPECT_EQ(loaded.info().thumbprint, material().leaf_thumbprint);
  EXPECT_EQ(loaded.info().subject, "CN=leaf.example");
  EXPECT_EQ(loaded.info().issuer, "CN=Contoso Test Root, O=Contoso");
  EXPECT_FALSE(loaded.info().self_signed);
  ASSERT_NE(loaded.chain(), nullptr);
  ASSERT_EQ(sk_X509_num(loaded.chain()), 1);
  X509* ca = sk_X509_value(loaded.chain(), 0);
  EXPECT_EQ(subject_of(ca), "CN=Contoso Test Root, O=Contoso");
  EXPECT_EQ(describe_certificate(ca).thumbprint, material().ca_thumbprint);
}

TEST(Pfx, Pfx_SingleCertificatePfxHasNoChain) {
  PfxResult result = load_pfx(material().orders_aes_pfx, kPassword);
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.certificate->chain(), nullptr);
}

TEST(Pfx, Pfx_LeavesNoOpenSslErrorsQueued) {
  for (const std::string* pfx : {&material().orders_aes_pfx, &material().no_key_pfx}) {
    load_pfx(*pfx, "wrong-password");
    EXPECT_EQ(ERR_peek_error(), 0u);
    load_pfx(pfx->substr(0, pfx->size() / 2), kPassword);
    EXPECT_EQ(ERR_peek_error(), 0u);
  }
}

TEST(Pfx, Pfx_MessagesNeverContainPasswordOrKeyMaterial) {
  // Every base64 line of the private key, the part that would leak.
  std::vector<std::string> key_lines;
  std::string pem = material().orders_key_pem;
  for (size_t start = 0, end; start < pem.size(); start = end + 1) {
    end = pem.find('\n', start);
    if (end == std::string::npos) end = pem.size();
    std::string line = pem.substr(start, end - start);
    if (!line.empty() && line.rfind("-----", 0) != 0) key_lines.push_back(line.substr(0, 24));
  }
  ASSERT_GT(key_lines.size(), 10u);

  std::vector<PfxResult> results = {
      load_pfx(material().orders_aes_pfx, std::string(kPassword) + "x"),
      load_pfx(material().orders_legacy_pfx, std::string(kPassword) + "x"),
      load_pfx(material().orders_no_mac_pfx, std::string(kPassword) + "x"),
      load_pfx(material().orders_aes_pfx.substr(0, 900), kPassword),
      load_pfx(material().orders_key_pem, kPassword),
      load_pfx(material().no_key_pfx, kPassword),
      load_pfx(material().no_certificate_pfx, kPassword),
      load_pfx(material().key_mismatch_pfx, kPassword),
  };
  for (const PfxResult& result : results) {
    ASSERT_NE(result.error, PfxError::kNone);
    EXPECT_THAT(result.message, Not(IsEmpty()));
    EXPECT_THAT(result.message, Not(HasSubstr(kPassword)));
    for (const std::string& line : key_lines) EXPECT_THAT(result.message, Not(HasSubstr(line)));
  }
}

TEST(Pfx, Pfx_RefusesMacAskingForMoreKeyDerivationThanExportersUse) {
  PfxResult result =
      load_pfx(orders_exported_with_iterations("-certpbe NONE -keypbe NONE", 1200000), kPassword);
  EXPECT_EQ(result.error, PfxError::kNotPfx);
  EXPECT_THAT(result.message, HasSubstr("asks for 1200000 key-derivation iterations"));
}

TEST(Pfx, Pfx_RefusesEncryptedCertificatesAskingForMoreKeyDerivationThanExportersUse) {
  PfxResult result =
      load_pfx(orders_exported_with_iterations("-nomac -keypbe NONE", 1200000), kPassword);
  EXPECT_EQ(result.error, PfxError::kNotPfx);
  EXPECT_THAT(result.message, HasSubstr("asks for 1200000 key-derivation iterations"));
}

TEST(Pfx, Pfx_RefusesShroudedKeyAskingForMoreKeyDerivationThanExportersUse) {
  PfxResult result =
      load_pfx(orders_exported_with_iterations("-nomac -certpbe NONE", 1200000), kPassword);
  EXPECT_EQ(result.error, PfxError::kNotPfx);
  EXPECT_THAT(result.message, HasSubstr("asks for 1200000 key-derivation iterations"));
}

TEST(Pfx, Pfx_RefusesMacAndEncryptedPartsAskingForMoreKeyDerivationTogether) {
  PfxResult result = load_pfx(orders_exported_with_iterations("-keypbe NONE", 800000), kPassword);
  EXPECT_EQ(result.error, PfxError::kNotPfx);
  EXPECT_THAT(result.message, HasSubstr("asks for 1600000 key-derivation iterations"));
}

TEST(Pfx, Pfx_LoadsTheIterationCountsExportersUse) {
  PfxResult result = load_pfx(orders_exported_with_iterations("", 600000), kPassword);
  ASSERT_EQ(result.error, PfxError::kNone) << result.message;
  EXPECT_EQ(result.certificate->info().thumbprint, material().orders_thumbprint);
}

TEST(Pfx, Pfx_ProvidersLoad) {
  std::string error;
  EXPECT_TRUE(ensure_providers(error)) << error;
  EXPECT_THAT(error, IsEmpty());
}

// Runs in a fresh child process (death-test machinery) so that the providers
// are first loaded there, with OPENSSL_MODULES pointing at nothing.
TEST(PfxDeathTest, Pfx_LegacyPfxWithoutLegacyProviderFailsWithClearMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string legacy = material().orders_legacy_pfx;
  const std::string aes = material().orders_aes_pfx;
  ::setenv("OPENSSL_MODULES", "/nonexistent-ringgate-test", 1);
  EXPECT_EXIT(
      {
        std::string error;
        bool loaded = ensure_providers(error);
        PfxResult old_kind = load_pfx(legacy, kPassword);
        PfxResult new_kind = load_pfx(aes, kPassword);
        std::fprintf(stderr, "providers=%d legacy=%s: %s aes=%s\n", loaded ? 1 : 0,
                     to_string(old_kind.error), old_kind.message.c_str(),
                     to_string(new_kind.error));
        std::exit(0);
      },
      ::testing::ExitedWithCode(0),
      "providers=0 legacy=NotPfx: the PFX uses a legacy algorithm .*legacy provider is not "
      "available: cannot load OpenSSL's \"legacy\" provider .*OPENSSL_MODULES.* aes=None");
  ::unsetenv("OPENSSL_MODULES");
}

TEST(Pfx, Pfx_ToStringNamesEveryError) {
  EXPECT_STREQ(to_string(PfxError::kNone), "None");
  EXPECT_STREQ(to_string(PfxError::kInvalidPassword), "InvalidPassword");
  EXPECT_STREQ(to_string(PfxError::kNotPfx), "NotPfx");
  EXPECT_STREQ(to_string(PfxError::kNoPrivateKey), "NoPrivateKey");
  EXPECT_STREQ(to_string(PfxError::kNoCertificate), "NoCertificate");
  EXPECT_STREQ(to_string(PfxError::kKeyMismatch), "KeyMismatch");
  EXPECT_STREQ(to_string(PfxError::kInvalidId), "InvalidId");
  EXPECT_STREQ(to_string(PfxError::kManagedByConfigFile), "ManagedByConfigFile");
  EXPECT_STREQ(to_string(PfxError::kIoError), "IoError");
}

}  // namespace
}  // namespace ringgate::certs
