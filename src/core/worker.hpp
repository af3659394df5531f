// A worker: one thread owning one io_uring, its own SO_REUSEPORT listening
// sockets, a provided-buffer ring, a timer wheel and a proxy engine (its
// client and backend connections and its backend pools). Nothing here is
// shared with other workers; the control thread talks to it only through
// WorkerShared (a new config snapshot, the stop flag) and an eventfd wake-up.
//
// The worker is the loop: it waits on the ring, routes each completion (its
// own — accepts, wake-ups — or the engine's), fires timers, switches
// snapshots between turns and drains on stop.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/timer_wheel.hpp"
#include "core/worker_shared.hpp"
#include "files/unique_fd.hpp"
#include "proxy/engine.hpp"

struct io_uring_cqe;

namespace ringgate::core {

// One listening socket of this worker. Slots are matched to the snapshot's
// listeners by socket, so a reload that reorders, adds or removes listeners
// leaves the others accepting as they were.
struct ListenSlot {
  int fd = -1;
  uint32_t generation = 0;
  uint32_t config_index = 0;  // into Snapshot::listener_tls
  bool accepting = false;     // a multishot accept is in flight
  bool retired = false;       // left the config: closed once its accept ended
  TimerNode resume;           // accepting paused after EMFILE/ENFILE
};

class Worker : private proxy::Engine {
 public:
  // The worker's listening sockets come with each snapshot
  // (Snapshot::listener_fds); it owns and closes them once they left.
  // `cpu` >= 0 pins the worker's thread to that CPU.
  Worker(uint32_t index, WorkerShared& shared, int cpu);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread; returns once its ring is up, or with an error message.
  std::string start();
  // Wakes the loop so it notices a new snapshot or the stop flag. Any thread.
  void wake() noexcept;
  void join();

 private:
  void run() noexcept;
  bool setup(std::string& error);
  void loop() noexcept;
  void dispatch(const io_uring_cqe& cqe) noexcept;
  void fire(TimerNode& node) noexcept;
  void switch_snapshot() noexcept;
  void begin_drain() noexcept;

  // Listening and wake-up.
  void sync_listeners() noexcept;
  void retire_listener(uint32_t listener) noexcept;
  void free_listener(uint32_t listener) noexcept;
  void post_accept(uint32_t listener) noexcept;
  void post_wake_read() noexcept;
  void on_accept(uint32_t listener, uint32_t generation, const io_uring_cqe& cqe) noexcept;

  std::vector<std::unique_ptr<ListenSlot>> listeners_;
  int cpu_;
  files::UniqueFd wake_fd_;
  uint64_t wake_buffer_ = 0;
  bool wake_posted_ = false;
  std::unique_ptr<std::thread> thread_;
  std::promise<std::string> started_;
  uint64_t snapshot_generation_ = 0;
  uint64_t drain_deadline_ms_ = 0;
  uint64_t enters_reported_ = 0;  // ring_.enters() already added to the metrics
};

}  // namespace ringgate::core
