#include "core/worker_shared.hpp"

namespace ringgate::core {

void SnapshotBox::publish(std::shared_ptr<const Snapshot> snapshot) {
  const uint64_t generation = snapshot->generation;
  {
    std::lock_guard lock(mu_);
    current_ = std::move(snapshot);
  }
  generation_.store(generation, std::memory_order_release);
}

std::shared_ptr<const Snapshot> SnapshotBox::get() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace ringgate::core
