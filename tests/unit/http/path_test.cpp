#include "http/path.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ringgate::http {
namespace {

// The normalised target, or "<error: ...>" naming why it was refused.
std::string normalized(std::string_view target) {
  std::string out;
  const PathError error = normalize_target(target, out);
  if (error != PathError::kNone) return std::string("<error: ") + describe(error) + ">";
  return out;
}

bool refused(std::string_view target, PathError expected) {
  std::string out;
  return normalize_target(target, out) == expected;
}

TEST(PathNormalization, LeavesPlainPathsAlone) {
  EXPECT_EQ(normalized("/"), "/");
  EXPECT_EQ(normalized("/echo/hello"), "/echo/hello");
  EXPECT_EQ(normalized("/echo/hello/"), "/echo/hello/");
  EXPECT_EQ(normalized("/a-b_c~d.e"), "/a-b_c~d.e");
}

TEST(PathNormalization, ResolvesDotSegmentsWithinTheApi) {
  EXPECT_EQ(normalized("/echo/a/../b"), "/echo/b");
  EXPECT_EQ(normalized("/echo/./b"), "/echo/b");
  EXPECT_EQ(normalized("/echo/a/."), "/echo/a/");
  EXPECT_EQ(normalized("/echo/a/.."), "/echo/");
  EXPECT_EQ(normalized("/echo/a/b/../../c"), "/echo/c");
}

TEST(PathNormalization, ResolvesDotSegmentsThatLeaveTheApi) {
  // Routed afterwards, so "/echo/../secret" is the request for "/secret".
  EXPECT_EQ(normalized("/echo/../secret"), "/secret");
  EXPECT_EQ(normalized("/echo/a/../../secret"), "/secret");
}

TEST(PathNormalization, DecodesEncodedDotsBeforeResolving) {
  EXPECT_EQ(normalized("/echo/%2e%2e/secret"), "/secret");
  EXPECT_EQ(normalized("/echo/.%2e/secret"), "/secret");
  EXPECT_EQ(normalized("/echo/%2E./secret"), "/secret");
  EXPECT_EQ(normalized("/echo/%2e/b"), "/echo/b");
}

TEST(PathNormalization, RefusesClimbingAboveRoot) {
  EXPECT_TRUE(refused("/..", PathError::kClimbsAboveRoot));
  EXPECT_TRUE(refused("/../etc/passwd", PathError::kClimbsAboveRoot));
  EXPECT_TRUE(refused("/echo/../../secret", PathError::kClimbsAboveRoot));
  EXPECT_TRUE(refused("/%2e%2e/secret", PathError::kClimbsAboveRoot));
  EXPECT_TRUE(refused("/a/../..", PathError::kClimbsAboveRoot));
}

TEST(PathNormalization, RefusesEncodedSeparators) {
  EXPECT_TRUE(refused("/echo/..%2fsecret", PathError::kEncodedSeparator));
  EXPECT_TRUE(refused("/echo/..%2Fsecret", PathError::kEncodedSeparator));
  EXPECT_TRUE(refused("/echo/..%5csecret", PathError::kEncodedSeparator));
  EXPECT_TRUE(refused("/echo/a%5Cb", PathError::kEncodedSeparator));
}

TEST(PathNormalization, RefusesBackslashNulAndBadEscapes) {
  EXPECT_TRUE(refused("/echo/..\\secret", PathError::kBackslash));
  EXPECT_TRUE(refused("/echo/a%00b", PathError::kNulByte));
  EXPECT_TRUE(refused(std::string_view("/echo/a\0b", 9), PathError::kNulByte));
  EXPECT_TRUE(refused("/echo/%", PathError::kBadPercentEncoding));
  EXPECT_TRUE(refused("/echo/%2", PathError::kBadPercentEncoding));
  EXPECT_TRUE(refused("/echo/%zz", PathError::kBadPercentEncoding));
  EXPECT_TRUE(refused("/echo/a#frag", PathError::kFragment));
  EXPECT_TRUE(refused("echo/a", PathError::kNotOriginForm));
  EXPECT_TRUE(refused("", PathError::kNotOriginForm));
}

TEST(PathNormalization, DecodesUnreservedAndUpperCasesOtherEscapes) {
  EXPECT_EQ(normalized("/%7euser/%41b"), "/~user/Ab");
  EXPECT_EQ(normalized("/a%20b%3f"), "/a%20b%3F");
  EXPECT_EQ(normalized("/100%25"), "/100%25");
}

TEST(PathNormalization, MergesRepeatedSlashes) {
  EXPECT_EQ(normalized("//echo///a//"), "/echo/a/");
  EXPECT_EQ(normalized("/echo//../secret"), "/secret");
}

TEST(PathNormalization, KeepsTheQueryAsSent) {
  EXPECT_EQ(normalized("/echo/a/../b?x=/../y&z=%2f"), "/echo/b?x=/../y&z=%2f");
  EXPECT_EQ(normalized("/echo?"), "/echo?");
  EXPECT_TRUE(refused("/echo?a#b", PathError::kFragment));
}

TEST(PathNormalization, IsIdempotent) {
  for (std::string_view target :
       {"/echo/a/../b", "/%7e/%2e%2e/x%20y/", "//a//b/./c/..", "/a?b=../c", "/a%3Fb"}) {
    const std::string once = normalized(target);
    EXPECT_EQ(normalized(once), once) << target;
  }
}

}  // namespace
}  // namespace ringgate::http
