// Specification of the two small readers the management routes share: the
// base64 of an uploaded PFX and an If-Match header's list of tags.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "admin/bodies.hpp"
#include "admin/resources.hpp"

namespace ringgate::admin {
namespace {

TEST(Base64, Base64_DecodesPaddedUnpaddedAndWrappedText) {
  std::string out;
  EXPECT_TRUE(decode_base64("aGVsbG8=", out));
  EXPECT_EQ(out, "hello");
  EXPECT_TRUE(decode_base64("aGVsbG8", out));
  EXPECT_EQ(out, "hello");
  EXPECT_TRUE(decode_base64("aGVs\r\nbG8h", out));
  EXPECT_EQ(out, "hello!");
}

TEST(Base64, Base64_RefusesStrayCharactersAndDanglingBits) {
  std::string out;
  EXPECT_FALSE(decode_base64("aGVs*bG8=", out));
  EXPECT_FALSE(decode_base64("aGVsbG9=", out));
  EXPECT_FALSE(decode_base64("a", out));
  EXPECT_FALSE(decode_base64("aGVsbG8=aGVs", out));
}

TEST(IfMatch, IfMatch_AcceptsAnyTagOfAList) {
  EXPECT_TRUE(if_match_allows("\"a\", \"b\"", std::string("\"b\"")));
  EXPECT_FALSE(if_match_allows("\"a\", \"b\"", std::string("\"c\"")));
  EXPECT_FALSE(if_match_allows("W/\"b\"", std::string("\"b\"")));
  EXPECT_FALSE(if_match_allows("*", std::nullopt));
}

}  // namespace
}  // namespace ringgate::admin
