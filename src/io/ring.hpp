// Thin ownership wrappers over liburing: one Ring per worker thread and one
// provided-buffer ring for receives. Single-threaded: only the thread that
// created a Ring may use it (IORING_SETUP_SINGLE_ISSUER).
#pragma once

#include <liburing.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ringgate::io {

// What a typed submission asked for, as a fake ring records it.
struct Submission {
  enum class Kind : uint8_t {
    kRecv,
    kRecvMultishot,
    kSend,
    kConnect,
    kAcceptMultishot,
    kRead,
    kCancel,
    kCancelFd,
  };
  Kind kind = Kind::kRecv;
  int fd = -1;
  const void* data = nullptr;  // send: the bytes (valid until their completion)
  size_t len = 0;
  uint64_t user_data = 0;
  uint64_t target = 0;  // cancel: the user_data of the operation to withdraw
};

class Ring {
 public:
  Ring() = default;
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Sets the ring up with `entries` SQEs and a CQ of 8x that, with
  // SINGLE_ISSUER | DEFER_TASKRUN | COOP_TASKRUN (falling back to fewer flags
  // on kernels that refuse them). Returns false with `error` on failure.
  bool init(unsigned entries, std::string& error);
  // A ring for unit tests that never reaches the kernel: each typed
  // submission is recorded (take_submissions()) and the test delivers
  // completions itself. At most `entries` recorded submissions wait at a
  // time; beyond that, and for the next refuse_next() ones, submissions fail
  // as a full submission queue does.
  bool init_fake(unsigned entries);
  std::vector<Submission> take_submissions();
  void refuse_next(unsigned count) noexcept { refuse_ = count; }

  // A free SQE. When the SQ is full, submits what is queued and tries again:
  // a full queue is flow control, never an error. Returns null only when the
  // kernel takes nothing (a broken ring, or one whose completions must be
  // reaped first); callers must check.
  io_uring_sqe* get_sqe() noexcept;

  // Typed submissions, each one SQE tagged with `user_data`. Each returns
  // false when no SQE could be had (see get_sqe): the caller then fails that
  // one operation, as it would on an error completion.
  [[nodiscard]] bool recv_select(int fd, uint32_t max_len, uint16_t buffer_group,
                                 uint64_t user_data) noexcept;
  // A receive that stays armed: each arrival completes with a provided
  // buffer and IORING_CQE_F_MORE; the completion without F_MORE ends it
  // (end of stream, an error, -ENOBUFS, or a cancel).
  [[nodiscard]] bool recv_multishot(int fd, uint16_t buffer_group, uint64_t user_data) noexcept;
  [[nodiscard]] bool send(int fd, const void* data, size_t len, uint64_t user_data) noexcept;
  [[nodiscard]] bool connect(int fd, const sockaddr* address, socklen_t length,
                             uint64_t user_data) noexcept;
  [[nodiscard]] bool accept_multishot(int fd, uint64_t user_data) noexcept;
  [[nodiscard]] bool read(int fd, void* buffer, unsigned len, uint64_t user_data) noexcept;
  // Cancels the operation tagged `target`; the cancel's own completion
  // carries `user_data`.
  [[nodiscard]] bool cancel(uint64_t target, uint64_t user_data) noexcept;
  // Cancels every operation on `fd`.
  [[nodiscard]] bool cancel_fd(int fd, uint64_t user_data) noexcept;

  // Submits queued SQEs and waits for at least one completion, at most
  // `timeout_ms` (negative = no limit). Returns the io_uring result (>= 0 or
  // -errno; -ETIME and -EINTR are normal).
  int submit_and_wait(int timeout_ms) noexcept;
  int submit() noexcept {
    ++enters_;
    return io_uring_submit(&ring_);
  }
  // Calls so far that may have entered the kernel (submit, submit-and-wait).
  uint64_t enters() const noexcept { return enters_; }

  // Calls fn(const io_uring_cqe&) for every ready completion, then marks them seen.
  template <typename Fn>
  unsigned drain(Fn&& fn) {
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned count = 0;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      fn(*cqe);
      ++count;
    }
    io_uring_cq_advance(&ring_, count);
    return count;
  }

  io_uring* raw() noexcept { return &ring_; }
  bool ready() const noexcept { return initialised_; }

 private:
  bool record(const Submission& submission) noexcept;

  io_uring ring_{};
  bool initialised_ = false;
  uint64_t enters_ = 0;
  bool fake_ = false;
  unsigned fake_capacity_ = 0;
  unsigned refuse_ = 0;
  std::vector<Submission> submissions_;
};

// A ring of equally sized receive buffers the kernel picks from
// (IOSQE_BUFFER_SELECT). A buffer handed out by a completion belongs to the
// caller until recycle().
class BufferRing {
 public:
  BufferRing() = default;
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  // `count` must be a power of two. Returns false with `error` on failure.
  bool init(Ring& ring, uint16_t group_id, uint32_t count, uint32_t buffer_size,
            std::string& error);
  // Buffers for a fake Ring: recycle() only records the id (recycled()).
  void init_fake(uint16_t group_id, uint32_t count, uint32_t buffer_size);
  const std::vector<uint16_t>& recycled() const noexcept { return recycled_; }

  char* buffer(uint16_t id) noexcept { return storage_.data() + size_t{id} * buffer_size_; }
  uint32_t buffer_size() const noexcept { return buffer_size_; }
  uint16_t group_id() const noexcept { return group_id_; }
  // Hands buffer `id` back to the kernel.
  void recycle(uint16_t id) noexcept;

 private:
  io_uring* ring_ = nullptr;
  io_uring_buf_ring* br_ = nullptr;
  std::vector<char> storage_;
  uint32_t count_ = 0;
  uint32_t buffer_size_ = 0;
  uint16_t group_id_ = 0;
  std::vector<uint16_t> recycled_;  // fake ring only
};

}  // namespace ringgate::io
