#include "http/retry.hpp"

#include <gtest/gtest.h>

namespace ringgate::http {
namespace {

FailedExchange reused_connection_closed(std::string_view method,
                                        BodyFraming framing = BodyFraming::kNone) {
  FailedExchange f;
  f.replayable = is_replayable_request(method, framing);
  f.connection_reused = true;
  f.retry_safe = true;
  return f;
}

TEST(Retry, IdempotentRequestsWithoutBodyAreRetried) {
  for (std::string_view method : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    EXPECT_TRUE(may_retry(reused_connection_closed(method))) << method;
  }
}

TEST(Retry, PostAndPatchAreNeverReplayedEvenWithoutBody) {
  EXPECT_FALSE(may_retry(reused_connection_closed("POST")));
  EXPECT_FALSE(may_retry(reused_connection_closed("PATCH")));
  EXPECT_FALSE(may_retry(reused_connection_closed("CONNECT")));
}

TEST(Retry, RequestsWithABodyAreNotReplayed) {
  EXPECT_FALSE(may_retry(reused_connection_closed("PUT", BodyFraming::kLength)));
  EXPECT_FALSE(may_retry(reused_connection_closed("GET", BodyFraming::kChunked)));
}

TEST(Retry, OnlyOnceOnlyOnReusedConnectionsOnlyBeforeTheResponse) {
  FailedExchange f = reused_connection_closed("GET");
  f.already_retried = true;
  EXPECT_FALSE(may_retry(f));
  f = reused_connection_closed("GET");
  f.connection_reused = false;
  EXPECT_FALSE(may_retry(f));
  f = reused_connection_closed("GET");
  f.response_started = true;
  EXPECT_FALSE(may_retry(f));
}

TEST(Retry, AnExchangeTheBackendMayHaveActedOnIsNotRetried) {
  FailedExchange f = reused_connection_closed("GET");
  f.retry_safe = false;
  EXPECT_FALSE(may_retry(f));
}

}  // namespace
}  // namespace ringgate::http
