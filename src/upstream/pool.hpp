// The bookkeeping of one backend connection pool (one key, one worker): which
// connections are idle, how many are open or being opened, and how many more
// to open to keep `minIdle` warm. No I/O here; the worker opens and closes
// sockets and tells the pool what happened.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ringgate::upstream {

inline constexpr uint32_t kNoConnection = UINT32_MAX;
// The refill back-off after a failed connect or TLS handshake: this long
// after the first failure, doubling with each further one, never longer than
// kMaxBackOffMs.
inline constexpr uint64_t kFirstBackOffMs = 250;
inline constexpr uint64_t kMaxBackOffMs = 30000;

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

  // Connection lifecycle, as the worker sees it.
  void on_open_started(bool spare) noexcept;  // spare: opened to refill, no request waiting
  void on_spare_ready() noexcept;             // a spare finished connecting (or failed)
  void on_closed() noexcept;
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
  uint32_t open_ = 0;
  uint32_t spares_connecting_ = 0;
  uint32_t failures_ = 0;
  uint64_t retry_at_ms_ = 0;
};

}  // namespace ringgate::upstream
