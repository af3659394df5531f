// The bookkeeping of one backend connection pool (one key, one worker): which
// connections are idle, how many are open or being opened, how many more to
// open to keep `minIdle` warm, and which requests wait, in arrival order, for
// a connection when `maxPerKey` are open. No I/O here; the worker opens and
// closes sockets and tells the pool what happened.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ringgate::upstream {

inline constexpr uint32_t kNoConnection = UINT32_MAX;
inline constexpr uint32_t kNoWaiter = UINT32_MAX;
// The refill back-off after a failed connect or TLS handshake: this long
// after the first failure, doubling with each further one, never longer than
// kMaxBackOffMs.
inline constexpr uint64_t kFirstBackOffMs = 250;
inline constexpr uint64_t kMaxBackOffMs = 30000;

// What a request gets from acquire().
enum class Acquired : uint8_t {
  kReady,     // an idle connection, now the caller's
  kPending,   // none idle, but there is room: the caller opens a new one
  kOverflow,  // max_open are open (or requests already wait): the caller waits or gives up
};

struct Acquisition {
  Acquired outcome;
  uint32_t connection = kNoConnection;  // with kReady only
};

class Pool {
 public:
  explicit Pool(std::string key_text) : key_text_(std::move(key_text)) {}

  const std::string& key_text() const noexcept { return key_text_; }

  // The most recently used idle connection, removed from the idle set; or
  // kNoConnection. LIFO keeps hot connections hot and lets cold ones age out.
  uint32_t take_idle() noexcept;
  void put_idle(uint32_t connection);
  // Removes `connection` from the idle set; false if it was not there.
  bool remove_idle(uint32_t connection) noexcept;
  size_t idle_count() const noexcept { return idle_.size(); }
  const std::vector<uint32_t>& idle() const noexcept { return idle_; }

  // A connection for a request: the most recently used idle one (kReady);
  // else, below `max_open` open, kPending (the caller opens one and reports
  // on_open_started); else kOverflow. While any request waits, a new one gets
  // kOverflow too: it queues behind them, never overtakes them.
  Acquisition acquire(uint32_t max_open) noexcept;
  // As acquire(), but never an idle connection: for a request that must go
  // out on a new one (a retry after a reused connection failed).
  Acquisition acquire_new(uint32_t max_open) const noexcept;

  // A connection finished an exchange and may carry another. The first
  // waiter, if any, gets it: that waiter is returned (and leaves the list)
  // and the connection does not become idle. Otherwise the connection joins
  // the idle set and kNoWaiter is returned.
  uint32_t release(uint32_t connection);

  // The wait list: requests (the caller's ids, client slots for the worker)
  // that found max_open connections busy, first come first served. Adds
  // `waiter` at the end; false, and nothing added, when `max_waiting` wait
  // already.
  bool wait(uint32_t waiter, uint32_t max_waiting);
  // Takes `waiter` off the list (it timed out or went away); false if it was
  // not there.
  bool cancel_wait(uint32_t waiter) noexcept;
  // The first waiter, taken off the list, or kNoWaiter.
  uint32_t next_waiter() noexcept;
  // The first waiter, taken off the list, when there is room below
  // `max_open` for a connection of its own; otherwise kNoWaiter.
  uint32_t admit_waiter(uint32_t max_open) noexcept;
  size_t waiting() const noexcept { return waiters_.size(); }

  // Connection lifecycle, as the worker sees it.
  void on_open_started(bool spare) noexcept;  // spare: opened to refill, no request waiting
  void on_spare_ready() noexcept;             // a spare finished connecting (or failed)
  // A connection (not idle, or removed from the idle set first) is gone.
  // That makes room for one: the first waiter, taken off the list, is
  // returned when there is room below `max_open`, and the caller opens a
  // connection for it. kNoWaiter otherwise.
  uint32_t on_closed(uint32_t max_open) noexcept;
  uint32_t open() const noexcept { return open_; }

  // Each failed connection (connect or TLS handshake; call once per
  // connection) backs the refill off: no refill before retry_at_ms(), which
  // is now + kFirstBackOffMs doubled per failure in a row, at most
  // kMaxBackOffMs. So a backend that is down or refuses the handshake is not
  // hammered. A success ends the streak.
  void on_connect_failure(uint64_t now_ms) noexcept;
  void on_connect_success() noexcept;
  uint64_t retry_at_ms() const noexcept { return retry_at_ms_; }

  // How many connections to start now so that idle + spares being opened
  // reach `min_idle`, without passing `max_open`.
  uint32_t refill_count(uint32_t min_idle, uint32_t max_open, uint64_t now_ms) const noexcept;

  bool live = true;  // the key is in the current config snapshot

 private:
  std::string key_text_;
  std::vector<uint32_t> idle_;
  // Oldest first. Bounded by max_waiting, so the erase from the front and
  // the search on cancel stay cheap, and the capacity is kept between bursts.
  std::vector<uint32_t> waiters_;
  uint32_t open_ = 0;
  uint32_t spares_connecting_ = 0;
  uint32_t failures_ = 0;
  uint64_t retry_at_ms_ = 0;
};

}  // namespace ringgate::upstream
