// One base64 for the admin API's uploads, etcd's JSON gateway and sealed
// values (files/base64.hpp).
#include "files/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ringgate::files {
namespace {

std::optional<std::string> decode(std::string_view text, Base64Form form = Base64Form::kStrict) {
  std::string out;
  if (!base64_decode(text, out, form)) {
    EXPECT_TRUE(out.empty());
    return std::nullopt;
  }
  return out;
}

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesEveryByteBackExactlyInBothForms) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); ++n) {
    const std::string text = base64_encode(all.substr(0, n));
    EXPECT_EQ(decode(text), all.substr(0, n)) << n;
    EXPECT_EQ(decode(text, Base64Form::kLenient), all.substr(0, n)) << n;
  }
  EXPECT_EQ(decode("AAAA"), std::string(3, '\0'));
}

TEST(Base64, StrictRefusesWhatBase64EncodeNeverWrites) {
  EXPECT_FALSE(decode("Zg="));       // length not a multiple of 4
  EXPECT_FALSE(decode("Zg"));        // no padding
  EXPECT_FALSE(decode("Zg=a"));      // padding before data
  EXPECT_FALSE(decode("Z==="));      // a lone sextet
  EXPECT_FALSE(decode("Zg==Zg=="));  // padding in the middle
  EXPECT_FALSE(decode("Zm9*"));      // outside the alphabet
  EXPECT_FALSE(decode("Zm9v\n"));    // no line breaks
  EXPECT_FALSE(decode("Zh=="));      // spare bits set: "Zg==" is the one spelling
  EXPECT_FALSE(decode("===="));
}

TEST(Base64, LenientTakesPastedTextUnpaddedOrWrapped) {
  EXPECT_EQ(decode("aGVsbG8=", Base64Form::kLenient), "hello");
  EXPECT_EQ(decode("aGVsbG8", Base64Form::kLenient), "hello");
  EXPECT_EQ(decode("aGVs\r\nbG8h", Base64Form::kLenient), "hello!");
  EXPECT_EQ(decode(" aGVs bG8h\n", Base64Form::kLenient), "hello!");
}

TEST(Base64, LenientStillRefusesStrayCharactersAndDanglingBits) {
  EXPECT_FALSE(decode("aGVs*bG8=", Base64Form::kLenient));
  EXPECT_FALSE(decode("aGVsbG9=", Base64Form::kLenient));
  EXPECT_FALSE(decode("a", Base64Form::kLenient));
  EXPECT_FALSE(decode("aGVsbG8=aGVs", Base64Form::kLenient));
  EXPECT_FALSE(decode("aGVsbG8==", Base64Form::kLenient));
}

TEST(Base64, AFailedDecodeLeavesNothingBehind) {
  std::string out = "old contents";
  EXPECT_FALSE(base64_decode("QUJDREVG*", out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace ringgate::files
