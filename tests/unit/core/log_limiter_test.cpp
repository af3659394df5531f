#include "core/log_limiter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringgate::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Records what the limiter lets through, as "<level> <message>".
class RecordingSink : public LogLineSink {
 public:
  void write_line(LogLevel level, std::string_view message) noexcept override {
    lines.push_back(std::string(level_name(level)) + " " + std::string(message));
  }
  std::vector<std::string> lines;
};

TEST(LogLimiter, FirstLinePasses) {
  LogLimiter limiter;
  RecordingSink sink;
  limiter.log(LogLevel::kWarn, "connect failed", 5000, sink);
  EXPECT_THAT(sink.lines, ElementsAre("warn connect failed"));
}

TEST(LogLimiter, RepeatWithinASecondIsCountedNotWritten) {
  LogLimiter limiter;
  RecordingSink sink;
  limiter.log(LogLevel::kWarn, "connect failed", 5000, sink);
  limiter.log(LogLevel::kWarn, "connect failed", 5999, sink);
  EXPECT_THAT(sink.lines, ElementsAre("warn connect failed"));
  EXPECT_EQ(limiter.suppressed_total(), 1u);
  EXPECT_TRUE(limiter.pending());
}

TEST(LogLimiter, NextLineAfterTheSecondComesAfterASummary) {
  LogLimiter limiter;
  RecordingSink sink;
  limiter.log(LogLevel::kWarn, "connect failed", 5000, sink);
  for (uint64_t t = 5100; t <= 5300; t += 100)
    limiter.log(LogLevel::kWarn, "connect failed", t, sink);
  limiter.log(LogLevel::kWarn, "connect failed", 6000, sink);
  EXPECT_THAT(sink.lines,
              ElementsAre("warn connect failed", "warn 3 more like this: connect failed",
                          "warn connect failed"));
  EXPECT_FALSE(limiter.pending());
}

TEST(LogLimiter, TickWritesTheSummaryOnceTheSecondHasPassed) {
  LogLimiter limiter;
  RecordingSink sink;
  limiter.log(LogLevel::kError, "boom", 0, sink);
  limiter.log(LogLevel::kError, "boom", 10, sink);
  limiter.log(LogLevel::kError, "boom", 20, sink);
  sink.lines.clear();

  limiter.tick(999, sink);
  EXPECT_THAT(sink.lines, IsEmpty());
  limiter.tick(1000, sink);
  EXPECT_THAT(sink.lines, ElementsAre("error 2 more like this: boom"));
  limiter.tick(5000, sink);
  EXPECT_THAT(sink.lines, ElementsAre("error 2 more like this: boom"));
}

TEST(LogLimiter, AfterAQuietSecondTheMessageIsWrittenWithoutSummary) {
  LogLimiter limiter;
  RecordingSink sink;
  limiter.log(LogLevel::kWarn, "connect failed", 0, sink);
  limiter.log(LogLevel::kWarn, "connect failed", 1500, sink);
  EXPECT_THAT(sink.lines, ElementsAre("warn connect failed", "warn connect failed"));
}

TEST(LogLimiter, DifferentMessagesAreLimitedSeparately) {
  LogLimiter limiter;
  RecordingSink sink;
  limiter.log(LogLevel::kWarn, "connect to a failed", 0, sink);
  limiter.log(LogLevel::kWarn, "connect to b failed", 1, sink);
  limiter.log(LogLevel::kWarn, "connect to a failed", 2, sink);
  EXPECT_THAT(sink.lines, ElementsAre("warn connect to a failed", "warn connect to b failed"));
}

TEST(LogLimiter, ManyDistinctMessagesStayBounded) {
  LogLimiter limiter;
  RecordingSink sink;
  for (int i = 0; i < 10000; ++i) {
    limiter.log(LogLevel::kWarn, "client " + std::to_string(i) + " misbehaved", 0, sink);
  }
  EXPECT_LE(sink.lines.size(), LogLimiter::kSlots);
  EXPECT_EQ(sink.lines.size() + limiter.suppressed_total(), 10000u);
}

TEST(LogLimiter, SummaryKeepsTheStartOfALongMessage) {
  LogLimiter limiter;
  RecordingSink sink;
  const std::string message(1000, 'x');
  limiter.log(LogLevel::kWarn, message, 0, sink);
  limiter.log(LogLevel::kWarn, message, 1, sink);
  limiter.tick(1000, sink);
  ASSERT_EQ(sink.lines.size(), 2u);
  EXPECT_EQ(sink.lines[1], "warn 1 more like this: " + std::string(LogLimiter::kKeptBytes, 'x'));
}

}  // namespace
}  // namespace ringgate::core
