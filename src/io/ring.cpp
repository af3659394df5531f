#include "io/ring.hpp"

#include <cstring>

namespace ringgate::io {

Ring::~Ring() {
  if (initialised_) io_uring_queue_exit(&ring_);
}

bool Ring::init(unsigned entries, std::string& error) {
  const unsigned preferred[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
      0,
  };
  int ret = 0;
  for (unsigned flags : preferred) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    params.cq_entries = entries * 8;
    ret = io_uring_queue_init_params(entries, &ring_, &params);
    if (ret == 0) {
      initialised_ = true;
      return true;
    }
  }
  error = std::string("io_uring_queue_init: ") + std::strerror(-ret);
  return false;
}

io_uring_sqe* Ring::get_sqe() noexcept {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe != nullptr) return sqe;
  io_uring_submit(&ring_);
  return io_uring_get_sqe(&ring_);
}

int Ring::submit_and_wait(int timeout_ms) noexcept {
  if (timeout_ms < 0) return io_uring_submit_and_wait(&ring_, 1);
  __kernel_timespec ts{};
  ts.tv_sec = timeout_ms / 1000;
  ts.tv_nsec = static_cast<long long>(timeout_ms % 1000) * 1000000;
  io_uring_cqe* cqe = nullptr;
  return io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
}

BufferRing::~BufferRing() {
  if (br_ != nullptr) io_uring_free_buf_ring(ring_, br_, count_, group_id_);
}

bool BufferRing::init(Ring& ring, uint16_t group_id, uint32_t count, uint32_t buffer_size,
                      std::string& error) {
  int ret = 0;
  br_ = io_uring_setup_buf_ring(ring.raw(), count, group_id, 0, &ret);
  if (br_ == nullptr) {
    error = std::string("io_uring_setup_buf_ring: ") + std::strerror(-ret);
    return false;
  }
  ring_ = ring.raw();
  count_ = count;
  buffer_size_ = buffer_size;
  group_id_ = group_id;
  storage_.resize(size_t{count} * buffer_size);
  const int mask = io_uring_buf_ring_mask(count);
  for (uint32_t i = 0; i < count; ++i) {
    io_uring_buf_ring_add(br_, buffer(static_cast<uint16_t>(i)), buffer_size,
                          static_cast<uint16_t>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(br_, static_cast<int>(count));
  return true;
}

void BufferRing::recycle(uint16_t id) noexcept {
  io_uring_buf_ring_add(br_, buffer(id), buffer_size_, id, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

}  // namespace ringgate::io
