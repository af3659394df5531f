// One socket on the data path, client or backend: its slot generation (what
// a completion's user_data is checked against), the io_uring operations in
// flight, the close protocol, and the byte plumbing (Channel). Slots live in
// a SlotTable and are reused; a connection is freed only once it is closing
// and no operation of it is in flight, so a completion never finds its slot
// taken by someone else with the same generation.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "net/channel.hpp"

namespace ringgate::net {

// TCP_NODELAY on: requests and responses go out as soon as they are written.
void set_nodelay(int fd) noexcept;
// The peer's address as text (no port) into `out`; empty when unknown.
void peer_text(int fd, char* out, size_t size) noexcept;

struct Connection {
  int fd = -1;
  uint32_t generation = 0;
  bool open = false;
  uint16_t ops = 0;  // io_uring operations in flight
  bool recv_posted = false;
  bool send_posted = false;
  bool closing = false;
  bool starved = false;  // a recv got -ENOBUFS; re-posted when buffers return
  // Receiving. A multishot recv stays armed across completions; the owner
  // says after each batch of input whether it wants more (recv_wanted), and
  // an armed recv it no longer wants is cancelled once (cancel_sent).
  bool recv_multishot = false;
  bool recv_wanted = false;
  bool cancel_sent = false;
  Channel io;

  // A fresh connection on `socket_fd` in a reused slot.
  void begin(int socket_fd) noexcept {
    fd = socket_fd;
    open = true;
    ops = 0;
    recv_posted = send_posted = closing = starved = false;
    recv_multishot = recv_wanted = cancel_sent = false;
    io.reset();
  }
  void recv_started(bool multishot) noexcept {
    recv_posted = true;
    recv_multishot = multishot;
    cancel_sent = false;
    ++ops;
  }
  // A recv completion arrived; `more` is IORING_CQE_F_MORE (the recv stays
  // armed).
  void recv_completed(bool more) noexcept {
    if (more) return;
    recv_posted = false;
    cancel_sent = false;
    --ops;
  }
  // True when an armed recv should be withdrawn: nobody wants input now.
  bool recv_unwanted() const noexcept {
    return recv_posted && !recv_wanted && !cancel_sent && !closing;
  }
  void send_started() noexcept {
    send_posted = true;
    ++ops;
  }
  void send_ended() noexcept {
    send_posted = false;
    --ops;
  }
  // Closing, and no completion can still arrive for this slot.
  bool may_free() const noexcept { return closing && ops == 0; }
  // Closes the socket and retires the slot's generation. Only when may_free().
  void release() noexcept {
    ::close(fd);
    fd = -1;
    open = false;
    ++generation;
    io.reset();
    io.trim(64 * 1024);
  }
};

// Connections by slot: stable addresses (each lives in its own allocation),
// freed slots reused last-in first-out so a hot slot stays hot.
template <typename T>
class SlotTable {
 public:
  // A slot for a new connection; its object keeps whatever the last user
  // left in it (callers reset what they use).
  uint32_t acquire() {
    if (!free_.empty()) {
      const uint32_t slot = free_.back();
      free_.pop_back();
      return slot;
    }
    slots_.push_back(std::make_unique<T>());
    return static_cast<uint32_t>(slots_.size() - 1);
  }
  void give_back(uint32_t slot) { free_.push_back(slot); }

  T& operator[](uint32_t slot) noexcept { return *slots_[slot]; }
  const T& operator[](uint32_t slot) const noexcept { return *slots_[slot]; }
  uint32_t size() const noexcept { return static_cast<uint32_t>(slots_.size()); }
  // True when a completion tagged (slot, generation) still belongs to the
  // connection in that slot.
  bool current(uint32_t slot, uint32_t generation) const noexcept {
    return slot < slots_.size() && slots_[slot]->generation == generation;
  }
  template <typename Fn>
  void for_each(Fn&& fn) {
    for (uint32_t i = 0; i < slots_.size(); ++i) fn(i, *slots_[i]);
  }

 private:
  std::vector<std::unique_ptr<T>> slots_;
  std::vector<uint32_t> free_;
};

}  // namespace ringgate::net
