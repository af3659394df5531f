#include "http/header_edit.hpp"

#include <gtest/gtest.h>

namespace ringgate::http {
namespace {

const std::string kHead =
    "GET /x HTTP/1.1\r\nHost: be\r\nX-Tag: a\r\nAccept: */*\r\nx-tag: b\r\n\r\n";

std::string edited(std::vector<HeaderEdit> edits) {
  std::string head = kHead;
  apply_header_edits(head, edits);
  return head;
}

TEST(HeaderEdit, OverrideReplacesEveryInstanceCaseInsensitively) {
  EXPECT_EQ(edited({{"X-Tag", HeaderEditAction::kOverride, {"c"}}}),
            "GET /x HTTP/1.1\r\nHost: be\r\nAccept: */*\r\nX-Tag: c\r\n\r\n");
}

TEST(HeaderEdit, OverrideAddsWhenAbsent) {
  EXPECT_EQ(edited({{"Authorization", HeaderEditAction::kOverride, {"Basic QQ=="}}}),
            "GET /x HTTP/1.1\r\nHost: be\r\nX-Tag: a\r\nAccept: */*\r\nx-tag: b\r\n"
            "Authorization: Basic QQ==\r\n\r\n");
}

TEST(HeaderEdit, SkipLeavesAnExistingHeaderAlone) {
  EXPECT_EQ(edited({{"x-TAG", HeaderEditAction::kSkip, {"z"}}}), kHead);
  EXPECT_NE(edited({{"X-New", HeaderEditAction::kSkip, {"z"}}}).find("X-New: z\r\n\r\n"),
            std::string::npos);
}

TEST(HeaderEdit, AppendKeepsExistingAndAddsEveryValue) {
  const std::string out = edited({{"X-Tag", HeaderEditAction::kAppend, {"c", "d"}}});
  EXPECT_NE(out.find("X-Tag: a\r\n"), std::string::npos);
  EXPECT_NE(out.find("x-tag: b\r\nX-Tag: c\r\nX-Tag: d\r\n\r\n"), std::string::npos);
}

TEST(HeaderEdit, DeleteRemovesEveryInstanceButNotPrefixes) {
  std::string head = "GET / HTTP/1.1\r\nX-Tag: a\r\nX-Tagged: keep\r\n\r\n";
  apply_header_edits(head, {{"X-Tag", HeaderEditAction::kDelete, {}}});
  EXPECT_EQ(head, "GET / HTTP/1.1\r\nX-Tagged: keep\r\n\r\n");
}

TEST(HeaderEdit, IncompleteHeadIsLeftAlone) {
  std::string head = "GET / HTTP/1.1\r\nX-Tag: a\r\n";
  apply_header_edits(head, {{"X-Tag", HeaderEditAction::kDelete, {}}});
  EXPECT_EQ(head, "GET / HTTP/1.1\r\nX-Tag: a\r\n");
}

}  // namespace
}  // namespace ringgate::http
