// What the control thread and the workers share: the latest config snapshot,
// the stop flag, the kTLS probe's verdict, the metrics and the log writer.
// Everything else a worker owns alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/log_writer.hpp"
#include "core/metrics.hpp"
#include "core/snapshot.hpp"

namespace ringgate::core {

// Latest published snapshot. publish() from the control thread; workers poll
// generation() (one relaxed load per loop turn) and take the lock only when it
// changed.
class SnapshotBox {
 public:
  void publish(std::shared_ptr<const Snapshot> snapshot);
  std::shared_ptr<const Snapshot> get() const;
  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<uint64_t> generation_{0};
};

struct WorkerShared {
  SnapshotBox snapshots;
  std::atomic<bool> stopping{false};
  bool ktls_available = false;  // probed once at start
  Metrics* metrics = nullptr;
  LogWriter* logs = nullptr;  // drains the workers' log lines; outlives them
};

}  // namespace ringgate::core
