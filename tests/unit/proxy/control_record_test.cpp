#include <gtest/gtest.h>

#include "proxy/connections.hpp"

namespace ringgate::proxy {
namespace {

using tls::ControlRecordAction;

TEST(ControlRecordOnBackend, IdlePooledConnectionClosesOnCloseNotifyWithoutAnExchange) {
  // The backend closing an idle keep-alive connection: nothing to answer,
  // no client to tell; the connection just leaves the pool.
  EXPECT_EQ(after_control_record(ControlRecordAction::kClosed, false),
            ControlRecordStep::kCloseIdleConnection);
  EXPECT_EQ(after_control_record(ControlRecordAction::kError, false),
            ControlRecordStep::kCloseIdleConnection);
}

TEST(ControlRecordOnBackend, SessionTicketLeavesAnyConnectionReading) {
  EXPECT_EQ(after_control_record(ControlRecordAction::kIgnore, false), ControlRecordStep::kReadOn);
  EXPECT_EQ(after_control_record(ControlRecordAction::kIgnore, true), ControlRecordStep::kReadOn);
}

TEST(ControlRecordOnBackend, BusyConnectionEndsItsExchange) {
  EXPECT_EQ(after_control_record(ControlRecordAction::kClosed, true),
            ControlRecordStep::kEndExchange);
  EXPECT_EQ(after_control_record(ControlRecordAction::kError, true),
            ControlRecordStep::kEndExchange);
}

}  // namespace
}  // namespace ringgate::proxy
