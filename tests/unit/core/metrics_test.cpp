#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ringgate::core {
namespace {

TEST(Metrics, PoolCountersLeaveTheRenderingOnceEveryWorkerReleasedThem) {
  Metrics metrics(2);
  bump(metrics.pool("https://old:443 cert=AA", 0).connects);
  bump(metrics.pool("https://old:443 cert=AA", 1).connects);
  EXPECT_NE(metrics.render().find("cert=AA"), std::string::npos);

  metrics.release_pool("https://old:443 cert=AA");
  EXPECT_NE(metrics.render().find("cert=AA"), std::string::npos) << "worker 1 still holds it";
  metrics.release_pool("https://old:443 cert=AA");
  EXPECT_EQ(metrics.render().find("cert=AA"), std::string::npos);
}

TEST(Metrics, PoolCountersComeBackWhenTheKeyReturns) {
  Metrics metrics(1);
  bump(metrics.pool("k", 0).connects);
  metrics.release_pool("k");
  PoolCounters& again = metrics.pool("k", 0);
  EXPECT_EQ(again.connects.load(), 0u);
  EXPECT_NE(metrics.render().find("key=\"k\""), std::string::npos);
}

TEST(Metrics, KtlsRecordCountersAreSummedOverWorkers) {
  Metrics metrics(2);
  bump(metrics.worker(0).ktls_closed_key_update);
  bump(metrics.worker(1).ktls_closed_key_update);
  bump(metrics.worker(1).ktls_closed_bad_record);
  bump(metrics.worker(0).ktls_session_tickets);
  bump(metrics.worker(1).ktls_close_notify);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("ringgate_ktls_connections_closed_total{reason=\"key_update\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("ringgate_ktls_connections_closed_total{reason=\"bad_record\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("ringgate_ktls_session_tickets_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("ringgate_ktls_close_notify_total 1\n"), std::string::npos);
}

}  // namespace
}  // namespace ringgate::core
