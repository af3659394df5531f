// Key derivation against published vectors: RFC 8448 §3 (Simple 1-RTT
// Handshake) for TLS 1.3, and the widely used TLS 1.2 PRF SHA-256 vector
// (secret 9bbe436b…, seed a0ba9f93…, label "test label", 100 bytes) for the
// PRF. The TLS 1.3 values were also cross-checked with
// `openssl kdf -keylen 16 -kdfopt digest:SHA256 -kdfopt mode:EXPAND_ONLY
//  -kdfopt hexkey:<secret> -kdfopt hexinfo:<HkdfLabel> HKDF`.
#include "tls/traffic_keys.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ringgate::tls {
namespace {

std::vector<unsigned char> unhex(std::string_view hex) {
  std::vector<unsigned char> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(
        static_cast<unsigned char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string hex(std::span<const unsigned char> bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

struct ExpandCase {
  const char* what;
  const char* secret;
  const char* key;
  const char* iv;
};

// RFC 8448 §3: the secret each "derive write traffic keys" step starts from,
// and the key and iv it expands to.
constexpr ExpandCase kRfc8448[] = {
    {"server handshake", "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
     "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"},
    {"client handshake", "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
     "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"},
    {"server application", "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
     "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"},
    {"client application", "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
     "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9"},
};

TEST(HkdfExpandLabel, MatchesRfc8448TrafficKeysAndIvs) {
  for (const ExpandCase& c : kRfc8448) {
    const auto secret = unhex(c.secret);
    unsigned char key[16];
    unsigned char iv[12];
    ASSERT_TRUE(hkdf_expand_label(EVP_sha256(), secret, "key", {}, key)) << c.what;
    ASSERT_TRUE(hkdf_expand_label(EVP_sha256(), secret, "iv", {}, iv)) << c.what;
    EXPECT_EQ(hex(key), c.key) << c.what;
    EXPECT_EQ(hex(iv), c.iv) << c.what;
  }
}

TEST(HkdfExpandLabel, MatchesRfc8448DerivedSecretWithContext) {
  // RFC 8448 §3: "derived" secret = Derive-Secret(early_secret, "derived", "")
  // = HKDF-Expand-Label(early, "derived", SHA-256(""), 32).
  const auto early = unhex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
  const auto empty_hash = unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  unsigned char derived[32];
  ASSERT_TRUE(hkdf_expand_label(EVP_sha256(), early, "derived", empty_hash, derived));
  EXPECT_EQ(hex(derived), "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
}

TEST(DeriveTls13Direction, GivesRfc8448ApplicationKeysAndKeepsTheSequenceNumber) {
  const auto secret = unhex(kRfc8448[2].secret);
  KtlsDirectionKeys keys;
  ASSERT_TRUE(derive_tls13_direction(EVP_sha256(), secret, 0, 16, 2, keys));
  EXPECT_EQ(hex({keys.key.data(), keys.key_len}), kRfc8448[2].key);
  EXPECT_EQ(hex(keys.iv), kRfc8448[2].iv);
  EXPECT_EQ(keys.rec_seq, 2u);
}

TEST(DeriveTls13Direction, KeyUpdateRatchetsTheSecretFirst) {
  // application_traffic_secret_1 = HKDF-Expand-Label(secret_0, "traffic upd", "", 32)
  // (value cross-checked with the openssl kdf command line).
  const auto secret = unhex(kRfc8448[2].secret);
  unsigned char next[32];
  ASSERT_TRUE(hkdf_expand_label(EVP_sha256(), secret, "traffic upd", {}, next));
  EXPECT_EQ(hex(next), "51921b8aa3001976eb401d0a4319a8516416a6c56001a357e5d162031e84f916");
  KtlsDirectionKeys updated;
  KtlsDirectionKeys direct;
  ASSERT_TRUE(derive_tls13_direction(EVP_sha256(), secret, 1, 16, 0, updated));
  ASSERT_TRUE(derive_tls13_direction(EVP_sha256(), next, 0, 16, 0, direct));
  EXPECT_EQ(updated.key, direct.key);
  EXPECT_EQ(updated.iv, direct.iv);
  EXPECT_NE(hex({updated.key.data(), 16}), kRfc8448[2].key);
}

TEST(Tls12Prf, MatchesTheSha256TestVector) {
  const auto secret = unhex("9bbe436ba940f017b17652849a71db35");
  const auto seed = unhex("a0ba9f936cda311827a6f796ffd5198c");
  unsigned char out[100];
  ASSERT_TRUE(tls12_prf(EVP_sha256(), secret, "test label", seed, out));
  EXPECT_EQ(hex(out),
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9"
            "a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa480"
            "82d122ee42c5a72e5a5110fff70187347b66");
}

TEST(KeyScheduleTracker, Tls13CountsRecordsAfterTheFinishedAndIgnoresOtherKeyLogLines) {
  KeyScheduleTracker tracker;
  tracker.on_keylog_line("CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 " + std::string(64, 'a'));
  tracker.on_keylog_line("SERVER_TRAFFIC_SECRET_0 00 zz");  // not hex: ignored
  tracker.on_keylog_line("EXPORTER_SECRET 00 " + std::string(64, 'b'));
  // Counting follows record headers and key changes.
  const unsigned char finished = SSL3_MT_FINISHED;
  const unsigned char header[] = {SSL3_RT_APPLICATION_DATA, 3, 3, 0, 32};
  tracker.on_message(true, SSL3_RT_HEADER, header, 5, true);
  tracker.on_message(true, SSL3_RT_HANDSHAKE, &finished, 1, true);
  EXPECT_EQ(tracker.records_written(), 0u);
  tracker.on_message(true, SSL3_RT_HEADER, header, 5, true);
  tracker.on_message(true, SSL3_RT_HEADER, header, 5, true);
  EXPECT_EQ(tracker.records_written(), 2u);
  EXPECT_EQ(tracker.records_read(), 0u);
}

TEST(KeyScheduleTracker, Tls12CountsFromTheChangeCipherSpec) {
  KeyScheduleTracker tracker;
  const unsigned char ccs = 1;
  const unsigned char finished = SSL3_MT_FINISHED;
  const unsigned char handshake_header[] = {SSL3_RT_HANDSHAKE, 3, 3, 0, 16};
  const unsigned char ccs_header[] = {SSL3_RT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1};
  tracker.on_message(false, SSL3_RT_HEADER, handshake_header, 5, false);
  tracker.on_message(false, SSL3_RT_HEADER, ccs_header, 5, false);
  tracker.on_message(false, SSL3_RT_CHANGE_CIPHER_SPEC, &ccs, 1, false);
  tracker.on_message(false, SSL3_RT_HEADER, handshake_header, 5, false);  // Finished
  tracker.on_message(false, SSL3_RT_HANDSHAKE, &finished, 1, false);
  EXPECT_EQ(tracker.records_read(), 1u);
}

}  // namespace
}  // namespace ringgate::tls
