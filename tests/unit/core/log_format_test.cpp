#include "core/log_format.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ringgate::core {
namespace {

std::string utc(uint64_t unix_ms) {
  std::string out;
  append_utc_time(out, unix_ms);
  return out;
}

std::string json(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(UtcTime, EpochIsMidnightOfJanuaryFirst1970) { EXPECT_EQ(utc(0), "1970-01-01T00:00:00.000Z"); }

TEST(UtcTime, IsRfc3339WithZeroPaddedMilliseconds) {
  EXPECT_EQ(utc(1795980521007), "2026-11-29T19:28:41.007Z");
}

TEST(UtcTime, KnowsLeapDaysAndCenturies) {
  EXPECT_EQ(utc(1709251199999), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(utc(951868800000), "2000-03-01T00:00:00.000Z");
  EXPECT_EQ(utc(4133980799999), "2100-12-31T23:59:59.999Z");
}

TEST(JsonString, PlainTextIsQuoted) { EXPECT_EQ(json("/orders/1?x=2"), R"("/orders/1?x=2")"); }

TEST(JsonString, QuoteAndBackslashAreEscaped) { EXPECT_EQ(json(R"(a"b\c)"), R"("a\"b\\c")"); }

TEST(JsonString, ControlCharactersBecomeUnicodeEscapes) {
  EXPECT_EQ(json(std::string("\x01\n\t\x1f\x7f", 5)), R"("\u0001\u000a\u0009\u001f\u007f")");
  EXPECT_EQ(json(std::string("a\0b", 3)), R"("a\u0000b")");
}

TEST(JsonString, WellFormedUtf8PassesThrough) {
  EXPECT_EQ(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonString, BytesThatAreNotUtf8BecomeUnicodeEscapes) {
  EXPECT_EQ(json("\xff"), R"("\u00ff")");
  EXPECT_EQ(json("\xc0\xaf"), R"("\u00c0\u00af")");                      // overlong '/'
  EXPECT_EQ(json("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")");            // a surrogate
  EXPECT_EQ(json("x\xe2\x82"), R"("x\u00e2\u0082")");                    // cut short
  EXPECT_EQ(json("\xf4\x90\x80\x80"), R"("\u00f4\u0090\u0080\u0080")");  // above U+10FFFF
}

TEST(LogLine, IsTimeLevelAndMessage) {
  std::string out;
  append_log_line(out, 0, LogLevel::kWarn, "pool p: connect failed");
  EXPECT_EQ(out, "1970-01-01T00:00:00.000Z warn pool p: connect failed\n");
}

TEST(LogLine, ControlCharactersInTheMessageBecomeSpaces) {
  std::string out;
  append_log_line(out, 0, LogLevel::kError, "two\nlines\r");
  EXPECT_EQ(out, "1970-01-01T00:00:00.000Z error two lines \n");
}

}  // namespace
}  // namespace ringgate::core
