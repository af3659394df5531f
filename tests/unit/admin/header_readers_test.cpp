// Specification of a small reader the management routes share: an If-Match
// header's list of tags. (The base64 of an uploaded PFX: files/base64_test.)
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "admin/bodies.hpp"
#include "admin/resources.hpp"

namespace ringgate::admin {
namespace {

TEST(IfMatch, IfMatch_AcceptsAnyTagOfAList) {
  EXPECT_TRUE(if_match_allows("\"a\", \"b\"", std::string("\"b\"")));
  EXPECT_FALSE(if_match_allows("\"a\", \"b\"", std::string("\"c\"")));
  EXPECT_FALSE(if_match_allows("W/\"b\"", std::string("\"b\"")));
  EXPECT_FALSE(if_match_allows("*", std::nullopt));
}

}  // namespace
}  // namespace ringgate::admin
