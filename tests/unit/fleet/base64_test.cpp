#include "fleet/base64.hpp"

#include <gtest/gtest.h>

namespace ringgate::fleet {
namespace {

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesEveryByteBackExactly) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); ++n) {
    auto decoded = base64_decode(base64_encode(all.substr(0, n)));
    ASSERT_TRUE(decoded.has_value()) << n;
    EXPECT_EQ(*decoded, all.substr(0, n)) << n;
  }
  EXPECT_EQ(base64_decode("AAAA").value(), std::string(3, '\0'));
}

TEST(Base64, RejectsWhatIsNotBase64) {
  EXPECT_FALSE(base64_decode("Zg=").has_value());       // length not a multiple of 4
  EXPECT_FALSE(base64_decode("Zg=a").has_value());      // padding before data
  EXPECT_FALSE(base64_decode("Z===").has_value());      // three padding characters
  EXPECT_FALSE(base64_decode("Zg==Zg==").has_value());  // padding in the middle
  EXPECT_FALSE(base64_decode("Zm9*").has_value());      // outside the alphabet
  EXPECT_FALSE(base64_decode("Zm9v\n").has_value());    // no line breaks
}

}  // namespace
}  // namespace ringgate::fleet
