// The log writer: one thread that drains every worker's line buffers — access
// lines to the access log, error lines to stderr — with ordinary blocking
// writes, so that a slow disk, a full pipe or a stopped terminal never blocks
// a worker (DESIGN §4.8, §7). Workers only copy whole lines into their own
// LineRing; when the writer falls behind and a ring is full, the worker drops
// the line and counts it.
//
// The writer wakes every flush interval, or sooner when a worker's access
// ring passes a quarter full (WorkerLog::access() calls wake()).
//
// Files are opened by the control thread (open_access_log: at start, on
// reload, on SIGUSR1 for logrotate) and handed over; the writer switches to
// the new file between two writes and closes the old one, so no line is ever
// split between files.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/line_ring.hpp"
#include "files/unique_fd.hpp"

namespace ringgate::core {

// One worker's two rings and its "writer already woken" flag.
struct WorkerLogBuffers {
  WorkerLogBuffers(size_t access_bytes, size_t error_bytes)
      : access(access_bytes), errors(error_bytes) {}
  LineRing access;
  LineRing errors;
  // Set by the worker when it woke the writer; cleared once drained, so a
  // busy worker wakes the writer at most once per round.
  std::atomic<bool> woke_writer{false};
};

class LogWriter {
 public:
  struct Options {
    size_t access_ring_bytes = size_t{1} << 20;  // per worker
    size_t error_ring_bytes = size_t{64} << 10;  // per worker
    uint32_t flush_interval_ms = 50;
    int error_fd = STDERR_FILENO;  // not owned
  };

  LogWriter(uint32_t workers, Options options);
  // Stops the thread (writing what is left) and closes the access log.
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  WorkerLogBuffers& buffers(uint32_t worker) noexcept { return *buffers_[worker]; }

  // Control thread. Opens `path` as the access log — O_WRONLY | O_APPEND |
  // O_CREAT, mode 0640; "-" is stdout; "" turns the access log off — and hands
  // it to the writer. On failure returns false with `error` set ("cannot open
  // /x/access.log: Permission denied") and keeps the current destination.
  bool open_access_log(const std::string& path, std::string& error);
  // Control thread (SIGUSR1). Opens the current path again: after logrotate
  // renamed the file, new lines go to a new file with that name.
  bool reopen_access_log(std::string& error) { return open_access_log(path_, error); }
  const std::string& access_log_path() const noexcept { return path_; }

  // Starts the thread. Once.
  void start();
  // Writes what is still buffered and ends the thread. Call once the workers
  // have stopped, so their last lines are written too. Idempotent.
  void stop();
  // Any thread: drain now rather than at the next interval.
  void wake() noexcept;

  // One round of the writer: switch to a handed-over access log, then write
  // every buffered line. The thread calls it; a test may call it directly on
  // a writer that was never started.
  void drain() noexcept;

 private:
  struct Destination {
    int fd = -1;  // -1: off
    bool owned = false;
  };

  void run() noexcept;
  void take_handover() noexcept;
  static void close_destination(Destination& destination) noexcept;
  // Writes all of data; on an error reports it once per failing streak.
  void write_all(int fd, const char* data, size_t length, bool& failing, const char* what) noexcept;
  // Writes in pieces of at most PIPE_BUF cut at line ends, so lines on
  // stderr stay whole next to lines other threads write there.
  void write_lines(int fd, const char* data, size_t length) noexcept;

  Options options_;
  std::vector<std::unique_ptr<WorkerLogBuffers>> buffers_;
  files::UniqueFd wake_fd_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::string path_;  // control thread only

  std::mutex handover_mu_;
  Destination handed_over_;  // guarded by handover_mu_
  std::atomic<bool> handover_pending_{false};

  // Writer thread only.
  Destination access_;
  bool access_failing_ = false;
  bool errors_failing_ = false;
};

}  // namespace ringgate::core
