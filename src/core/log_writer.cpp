#include "core/log_writer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "core/log.hpp"
#include "core/privileges.hpp"

namespace ringgate::core {

LogWriter::LogWriter(uint32_t workers, Options options) : options_(options) {
  for (uint32_t i = 0; i < workers; ++i) {
    buffers_.push_back(
        std::make_unique<WorkerLogBuffers>(options_.access_ring_bytes, options_.error_ring_bytes));
  }
  wake_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
}

LogWriter::~LogWriter() {
  stop();
  take_handover();
  close_destination(access_);
}

bool LogWriter::open_access_log(const std::string& path, std::string& error) {
  Destination opened;
  if (path == "-") {
    opened.fd = STDOUT_FILENO;
  } else if (!path.empty()) {
    // O_NONBLOCK: a FIFO put at the path cannot hang the control thread
    // here (write_all waits for a full one on the writer thread instead).
    opened.fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0640);
    if (opened.fd < 0) {
      error = "cannot open " + path + ": " + std::strerror(errno);
      return false;
    }
    opened.owned = true;
  }
  path_ = path;
  {
    std::lock_guard lock(handover_mu_);
    close_destination(handed_over_);  // one the writer never took
    handed_over_ = opened;
    handover_pending_.store(true, std::memory_order_release);
  }
  wake();
  return true;
}

void LogWriter::start() {
  thread_ = std::thread([this] { run(); });
}

void LogWriter::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  wake();
  thread_.join();
}

void LogWriter::wake() noexcept {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
}

void LogWriter::run() noexcept {
  pthread_setname_np(pthread_self(), "ringgate-log");
  drop_thread_capabilities();  // it writes files; it binds nothing
  pollfd wake{wake_fd_.get(), POLLIN, 0};
  while (!stopping_.load(std::memory_order_acquire)) {
    if (::poll(&wake, 1, static_cast<int>(options_.flush_interval_ms)) > 0) {
      uint64_t count = 0;
      [[maybe_unused]] const ssize_t n = ::read(wake_fd_.get(), &count, sizeof count);
    }
    drain();
  }
  // The workers have stopped: this round gets their last lines.
  drain();
}

void LogWriter::take_handover() noexcept {
  if (!handover_pending_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(handover_mu_);
  close_destination(access_);
  access_ = handed_over_;
  handed_over_ = Destination{};
  handover_pending_.store(false, std::memory_order_relaxed);
  access_failing_ = false;
}

void LogWriter::close_destination(Destination& destination) noexcept {
  if (destination.owned && destination.fd >= 0) ::close(destination.fd);
  destination = Destination{};
}

void LogWriter::drain() noexcept {
  take_handover();
  for (auto& worker : buffers_) {
    worker->errors.drain(
        [&](const char* data, size_t length) { write_lines(options_.error_fd, data, length); });
    worker->access.drain([&](const char* data, size_t length) {
      // With the access log off the lines (from requests that began before
      // a reload turned it off) are discarded.
      if (access_.fd >= 0) write_all(access_.fd, data, length, access_failing_, "access log");
    });
    worker->woke_writer.store(false, std::memory_order_relaxed);
  }
}

void LogWriter::write_all(int fd, const char* data, size_t length, bool& failing,
                          const char* what) noexcept {
  while (length > 0) {
    const ssize_t n = ::write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      // A non-blocking stdout or stderr that is full: wait for it, since
      // this thread is the one allowed to wait.
      pollfd writable{fd, POLLOUT, 0};
      ::poll(&writable, 1, 100);
      continue;
    }
    if (n <= 0) {
      if (!failing) RG_ERROR("%s: write failed (%s); lines are lost", what, std::strerror(errno));
      failing = true;
      return;
    }
    data += n;
    length -= static_cast<size_t>(n);
  }
  if (failing) RG_INFO("%s: writing again", what);
  failing = false;
}

void LogWriter::write_lines(int fd, const char* data, size_t length) noexcept {
  while (length > 0) {
    size_t piece = length < PIPE_BUF ? length : PIPE_BUF;
    if (piece < length) {
      const void* newline = ::memrchr(data, '\n', piece);
      if (newline != nullptr)
        piece = static_cast<size_t>(static_cast<const char*>(newline) - data) + 1;
    }
    write_all(fd, data, piece, errors_failing_, "error log");
    data += piece;
    length -= piece;
  }
}

}  // namespace ringgate::core
