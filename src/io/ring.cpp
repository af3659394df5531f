#include "io/ring.hpp"

#include <cerrno>
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
      // Every io_uring_enter then skips the file-table lookup of the ring's
      // own descriptor; a kernel without it simply keeps the lookup.
      (void)io_uring_register_ring_fd(&ring_);
      return true;
    }
  }
  error = std::string("io_uring_queue_init: ") + std::strerror(-ret);
  return false;
}

bool Ring::init_fake(unsigned entries) {
  fake_ = true;
  fake_capacity_ = entries;
  return true;
}

bool Ring::record(const Submission& submission) noexcept {
  if (refuse_ > 0) {
    --refuse_;
    return false;
  }
  if (submissions_.size() >= fake_capacity_) return false;
  submissions_.push_back(submission);
  return true;
}

std::vector<Submission> Ring::take_submissions() {
  std::vector<Submission> out;
  out.swap(submissions_);
  return out;
}

io_uring_sqe* Ring::get_sqe() noexcept {
  if (!initialised_) return nullptr;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe != nullptr) return sqe;
  // The SQ is full: hand it to the kernel and take a fresh slot. EINTR is
  // tried again; anything else leaves the SQ full and the caller without one.
  int submitted = 0;
  do {
    ++enters_;
    submitted = io_uring_submit(&ring_);
  } while (submitted == -EINTR);
  return io_uring_get_sqe(&ring_);
}

bool Ring::recv_select(int fd, uint32_t max_len, uint16_t buffer_group,
                       uint64_t user_data) noexcept {
  if (fake_) return record({Submission::Kind::kRecv, fd, nullptr, max_len, user_data, 0});
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) return false;
  io_uring_prep_recv(sqe, fd, nullptr, max_len, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data64(sqe, user_data);
  return true;
}

bool Ring::recv_multishot(int fd, uint16_t buffer_group, uint64_t user_data) noexcept {
  if (fake_) return record({Submission::Kind::kRecvMultishot, fd, nullptr, 0, user_data, 0});
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) return false;
  io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data64(sqe, user_data);
  return true;
}

bool Ring::send(int fd, const void* data, size_t len, uint64_t user_data) noexcept {
  if (fake_) return record({Submission::Kind::kSend, fd, data, len, user_data, 0});
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) return false;
  io_uring_prep_send(sqe, fd, data, len, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, user_data);
  return true;
}

bool Ring::connect(int fd, const sockaddr* address, socklen_t length, uint64_t user_data) noexcept {
  if (fake_) return record({Submission::Kind::kConnect, fd, address, length, user_data, 0});
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) return false;
  io_uring_prep_connect(sqe, fd, address, length);
  io_uring_sqe_set_data64(sqe, user_data);
  return true;
}

bool Ring::accept_multishot(int fd, uint64_t user_data) noexcept {
  if (fake_) return record({Submission::Kind::kAcceptMultishot, fd, nullptr, 0, user_data, 0});
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) return false;
  io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, user_data);
  return true;
}

bool Ring::read(int fd, void* buffer, unsigned len, uint64_t user_data) noexcept {
  if (fake_) return record({Submission::Kind::kRead, fd, buffer, len, user_data, 0});
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) return false;
  io_uring_prep_read(sqe, fd, buffer, len, 0);
  io_uring_sqe_set_data64(sqe, user_data);
  return true;
}

bool Ring::cancel(uint64_t target, uint64_t user_data) noexcept {
  if (fake_) return record({Submission::Kind::kCancel, -1, nullptr, 0, user_data, target});
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) return false;
  io_uring_prep_cancel64(sqe, target, 0);
  io_uring_sqe_set_data64(sqe, user_data);
  return true;
}

bool Ring::cancel_fd(int fd, uint64_t user_data) noexcept {
  if (fake_) return record({Submission::Kind::kCancelFd, fd, nullptr, 0, user_data, 0});
  io_uring_sqe* sqe = get_sqe();
  if (sqe == nullptr) return false;
  io_uring_prep_cancel_fd(sqe, fd, 0);
  io_uring_sqe_set_data64(sqe, user_data);
  return true;
}

int Ring::submit_and_wait(int timeout_ms) noexcept {
  ++enters_;
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

void BufferRing::init_fake(uint16_t group_id, uint32_t count, uint32_t buffer_size) {
  count_ = count;
  buffer_size_ = buffer_size;
  group_id_ = group_id;
  storage_.resize(size_t{count} * buffer_size);
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
  if (br_ == nullptr) {  // a fake ring: the test hands buffers out itself
    recycled_.push_back(id);
    return;
  }
  io_uring_buf_ring_add(br_, buffer(id), buffer_size_, id, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(br_, 1);
}

}  // namespace ringgate::io
