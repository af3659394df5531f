// Specification of sealed values: what the key file accepts, that a sealed
// value opens only with its key and its context, and how keys rotate.
#include "fleet/sealed.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace ringgate::fleet {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// Bytes 0..31 and 100..131, in base64.
constexpr const char* kKeyA = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr const char* kKeyB = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";
constexpr const char* kContext = "/ringgate/certificates/orders-client";

KeyRing ring_of(const std::string& text) {
  std::vector<std::string> problems;
  std::optional<KeyRing> ring = KeyRing::parse(text, problems);
  EXPECT_THAT(problems, IsEmpty());
  if (!ring) throw std::runtime_error("key text did not parse");
  return std::move(*ring);
}

std::vector<std::string> problems_of(const std::string& text) {
  std::vector<std::string> problems;
  EXPECT_FALSE(KeyRing::parse(text, problems).has_value());
  return problems;
}

// `envelope` with its "data" field replaced by `transform(data)`.
template <typename Transform>
std::string with_data(const std::string& envelope, Transform transform) {
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(envelope);
  json["data"] = transform(json["data"].get<std::string>());
  return json.dump();
}

TEST(SealedTest, Sealed_RoundTripsAValue) {
  const KeyRing ring = ring_of(std::string("k1:") + kKeyA + "\n");

  SealResult sealed = ring.seal("-----BEGIN PRIVATE KEY-----", kContext);
  ASSERT_TRUE(sealed.ok()) << sealed.reason;
  SealResult opened = ring.open(sealed.text, kContext);

  ASSERT_TRUE(opened.ok()) << opened.reason;
  EXPECT_EQ(opened.text, "-----BEGIN PRIVATE KEY-----");
  EXPECT_EQ(opened.key_id, "k1");
  EXPECT_EQ(sealed.key_id, "k1");
}

TEST(SealedTest, Sealed_RoundTripsAnEmptyValueAndBinaryBytes) {
  const KeyRing ring = ring_of(std::string("k1:") + kKeyA);
  const std::string binary("\0\xff\x01zero", 7);

  EXPECT_EQ(ring.open(ring.seal("", kContext).text, kContext).text, "");
  EXPECT_EQ(ring.open(ring.seal(binary, kContext).text, kContext).text, binary);
}

TEST(SealedTest, Sealed_EnvelopeIsCompactJsonWithVersionKeyIdNonceAndData) {
  const KeyRing ring = ring_of(std::string("k1:") + kKeyA);

  const std::string envelope = ring.seal("secret", kContext).text;

  EXPECT_THAT(envelope, StartsWith(R"({"v":1,"kid":"k1","nonce":")"));
  const nlohmann::json json = nlohmann::json::parse(envelope);
  EXPECT_EQ(json.size(), 4u);
  EXPECT_EQ(json["nonce"].get<std::string>().size(), 16u);                   // 12 bytes
  EXPECT_EQ(json["data"].get<std::string>().size(), (6u + 16 + 2) / 3 * 4);  // 6 + tag
}

TEST(SealedTest, Sealed_TwoSealsOfOneValueDifferAndHoldNoPlaintext) {
  const KeyRing ring = ring_of(std::string("k1:") + kKeyA);
  const std::string secret = "correct horse battery staple";

  const std::string first = ring.seal(secret, kContext).text;
  const std::string second = ring.seal(secret, kContext).text;

  EXPECT_NE(first, second);
  for (const std::string& envelope : {first, second}) {
    EXPECT_THAT(envelope, Not(HasSubstr("horse")));
    EXPECT_THAT(envelope, Not(HasSubstr("staple")));
  }
}

TEST(SealedTest, Sealed_OpenFailsUnderAnotherContext) {
  const KeyRing ring = ring_of(std::string("k1:") + kKeyA);
  const std::string envelope = ring.seal("secret", kContext).text;

  SealResult opened = ring.open(envelope, "/ringgate/certificates/other");

  EXPECT_EQ(opened.error, SealError::kAuthentication);
  EXPECT_THAT(opened.reason, HasSubstr("authentication failed"));
  EXPECT_EQ(opened.text, "");
  EXPECT_EQ(opened.key_id, "");
}

TEST(SealedTest, Sealed_OpenFailsWhenACiphertextByteChanges) {
  const KeyRing ring = ring_of(std::string("k1:") + kKeyA);
  const std::string envelope = ring.seal("secret value", kContext).text;

  // Flipping one base64 character changes a ciphertext byte.
  const std::string tampered = with_data(envelope, [](std::string data) {
    data[2] = data[2] == 'A' ? 'B' : 'A';
    return data;
  });

  EXPECT_EQ(ring.open(tampered, kContext).error, SealError::kAuthentication);
}

TEST(SealedTest, Sealed_OpenFailsWhenTheDataIsTruncated) {
  const KeyRing ring = ring_of(std::string("k1:") + kKeyA);
  const std::string envelope = ring.seal("secret value", kContext).text;

  // Four base64 characters fewer: three bytes of the tag gone.
  const std::string shorter =
      with_data(envelope, [](const std::string& data) { return data.substr(0, data.size() - 4); });
  const std::string tag_only =
      with_data(envelope, [](const std::string& data) { return data.substr(0, 20); });

  EXPECT_EQ(ring.open(shorter, kContext).error, SealError::kAuthentication);
  EXPECT_EQ(ring.open(tag_only, kContext).error, SealError::kBadEnvelope);
  EXPECT_EQ(ring.open(envelope.substr(0, envelope.size() / 2), kContext).error,
            SealError::kBadEnvelope);
}

TEST(SealedTest, Sealed_OpenFailsWithOtherKeyBytesUnderTheSameId) {
  const KeyRing sealer = ring_of(std::string("k1:") + kKeyA);
  const KeyRing other = ring_of(std::string("k1:") + kKeyB);

  SealResult opened = other.open(sealer.seal("secret", kContext).text, kContext);

  EXPECT_EQ(opened.error, SealError::kAuthentication);
}

TEST(SealedTest, Sealed_OpenNamesAnUnknownKeyId) {
  const KeyRing old_ring = ring_of(std::string("k0:") + kKeyA);
  const KeyRing ring = ring_of(std::string("k1:") + kKeyB);

  SealResult opened = ring.open(old_ring.seal("secret", kContext).text, kContext);

  EXPECT_EQ(opened.error, SealError::kUnknownKey);
  EXPECT_THAT(opened.reason, HasSubstr("unknown key id \"k0\""));
  EXPECT_THAT(opened.reason, HasSubstr("keep it in the key file"));
}

TEST(SealedTest, Sealed_OpenRefusesWhatIsNotAnEnvelope) {
  const KeyRing ring = ring_of(std::string("k1:") + kKeyA);
  const std::string good = ring.seal("secret", kContext).text;
  nlohmann::ordered_json v2 = nlohmann::ordered_json::parse(good);
  v2["v"] = 2;
  nlohmann::ordered_json extra = nlohmann::ordered_json::parse(good);
  extra["plain"] = "secret";
  nlohmann::ordered_json bad_nonce = nlohmann::ordered_json::parse(good);
  bad_nonce["nonce"] = "AAAA";

  for (const std::string& text : {std::string("secret"), std::string("{}"),
                                  std::string(R"({"v":1,"kid":"k1","nonce":1,"data":"AAAA"})"),
                                  extra.dump(), bad_nonce.dump()}) {
    EXPECT_EQ(ring.open(text, kContext).error, SealError::kBadEnvelope) << text;
  }
  SealResult opened = ring.open(v2.dump(), kContext);
  EXPECT_EQ(opened.error, SealError::kBadEnvelope);
  EXPECT_THAT(opened.reason, HasSubstr("version 2"));
}

TEST(SealedTest, Sealed_RotationOpensOldValuesAndSealsWithTheFirstKey) {
  const KeyRing before = ring_of(std::string("k1:") + kKeyA + "\n");
  const KeyRing after = ring_of(std::string("k2:") + kKeyB + "\nk1:" + kKeyA + "\n");
  const std::string old_value = before.seal("secret", kContext).text;

  SealResult opened = after.open(old_value, kContext);
  SealResult resealed = after.seal(opened.text, kContext);

  ASSERT_TRUE(opened.ok()) << opened.reason;
  EXPECT_EQ(opened.text, "secret");
  EXPECT_EQ(opened.key_id, "k1");  // not current_id(): to be rewritten
  EXPECT_EQ(after.current_id(), "k2");
  EXPECT_EQ(resealed.key_id, "k2");
  EXPECT_THAT(resealed.text, HasSubstr(R"("kid":"k2")"));
  EXPECT_EQ(before.open(resealed.text, kContext).error, SealError::kUnknownKey);
}

TEST(SealedTest, KeyFile_IgnoresCommentsBlankLinesAndSpaces) {
  const KeyRing ring = ring_of(std::string("# made 2026-12-02\n\n  k.2_b-3 : ") + kKeyA +
                               "  \r\n# old\nk1:" + kKeyB);

  EXPECT_EQ(ring.current_id(), "k.2_b-3");
}

TEST(SealedTest, KeyFile_NamesTheLineOfEachProblem) {
  const std::string text = std::string("# keys\n") +                              // 1
                           "k1:not base64!\n" +                                   // 2
                           "k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n" +  // 3: 31 bytes
                           "k3:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n" +  // 4: 33 bytes
                           "bad id:" + kKeyA + "\n" +                             // 5
                           kKeyA + "\n" +                                         // 6
                           "k4:" + kKeyA + "\n" +                                 // 7
                           "k4:" + kKeyB + "\n";                                  // 8

  EXPECT_THAT(
      problems_of(text),
      ElementsAre("line 2: key \"k1\" is not valid base64 (RFC 4648, with padding)",
                  "line 3: key \"k2\" must be 32 bytes, found 31 (make one with: openssl rand "
                  "-base64 32)",
                  "line 4: key \"k3\" must be 32 bytes, found 33 (make one with: openssl rand "
                  "-base64 32)",
                  "line 5: key id must be 1 to 32 characters of A-Z a-z 0-9 . _ -",
                  "line 6: expected <keyId>:<base64 of 32 random bytes>",
                  "line 8: key id \"k4\" is also on line 7"));
}

TEST(SealedTest, KeyFile_ProblemsNeverQuoteKeyBytes) {
  for (const std::string& problem :
       problems_of(std::string(kKeyA) + "\n" + std::string(40, 'k') + ":" + kKeyB + "\n")) {
    EXPECT_THAT(problem, Not(HasSubstr("AAECAwQF")));
    EXPECT_THAT(problem, Not(HasSubstr("ZGVmZ2hp")));
  }
}

TEST(SealedTest, KeyFile_RefusesAFileWithoutKeys) {
  EXPECT_THAT(problems_of(""),
              ElementsAre("holds no key (expected lines of <keyId>:<base64 of 32 random bytes>)"));
  EXPECT_THAT(problems_of("# only a comment\n\n"), ElementsAre(StartsWith("holds no key")));
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ringgate-fleet-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string write(const std::string& name, const std::string& contents, mode_t mode) const {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::string dir_;
};

TEST_F(KeyFileTest, KeyFile_LoadsAFileOnlyItsOwnerCanRead) {
  const std::string path = write("key", std::string("k1:") + kKeyA + "\n", 0600);
  std::vector<std::string> problems;

  std::optional<KeyRing> ring = KeyRing::load(path, problems);

  EXPECT_THAT(problems, IsEmpty());
  ASSERT_TRUE(ring.has_value());
  EXPECT_EQ(ring->current_id(), "k1");
}

TEST_F(KeyFileTest, KeyFile_RefusesAFileOthersCanRead) {
  const std::string path = write("key", std::string("k1:") + kKeyA + "\n", 0644);
  std::vector<std::string> problems;

  EXPECT_FALSE(KeyRing::load(path, problems).has_value());
  EXPECT_THAT(problems,
              ElementsAre("key file \"" + path +
                          "\": mode 0644: must not be readable by group or others (chmod 600)"));
}

TEST_F(KeyFileTest, KeyFile_RefusesAFileOthersCanWrite) {
  const std::string path = write("key", std::string("k1:") + kKeyA + "\n", 0620);
  std::vector<std::string> problems;

  EXPECT_FALSE(KeyRing::load(path, problems).has_value());
  EXPECT_THAT(problems, ElementsAre(HasSubstr("mode 0620: must give group and others no access")));
}

TEST_F(KeyFileTest, KeyFile_NamesTheFileAndLineOfAProblem) {
  const std::string path = write("key", "# keys\nk1:AAAA\n", 0600);
  std::vector<std::string> problems;

  EXPECT_FALSE(KeyRing::load(path, problems).has_value());
  EXPECT_THAT(problems, ElementsAre("key file \"" + path +
                                    "\": line 2: key \"k1\" must be 32 bytes, found 3 (make one "
                                    "with: openssl rand -base64 32)"));
}

TEST_F(KeyFileTest, KeyFile_ReportsAMissingFile) {
  std::vector<std::string> problems;

  EXPECT_FALSE(KeyRing::load(dir_ + "/absent", problems).has_value());
  EXPECT_THAT(problems, ElementsAre(HasSubstr("No such file or directory")));
}

TEST(SealedTest, Sealed_MovedRingStillOpensWhatItSealed) {
  KeyRing ring = ring_of(std::string("k1:") + kKeyA);
  const std::string envelope = ring.seal("secret", kContext).text;

  KeyRing moved = std::move(ring);

  EXPECT_EQ(moved.open(envelope, kContext).text, "secret");
}

}  // namespace
}  // namespace ringgate::fleet
