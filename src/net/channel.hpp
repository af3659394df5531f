// The byte plumbing of one socket, shared by client and backend connections:
// application bytes queued to send, the transport that turns them into wire
// bytes (plain TCP passes them through; TLS encrypts), the wire bytes in
// flight, and a scratch buffer for decrypted input.
//
// Ownership with io_uring: `in_flight()` points into `wire_` and must stay
// untouched until the send completes, so new output always goes to the
// queues, never to the buffer being sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ringgate/transport.hpp"

namespace ringgate::net {

class Channel {
 public:
  // Drops all bytes and the transport (a recycled connection slot).
  void reset() noexcept;

  // The transport; null means plain TCP with no copy on the way in.
  Transport* transport() const noexcept { return transport_.get(); }
  void set_transport(std::unique_ptr<Transport> transport) noexcept {
    transport_ = std::move(transport);
  }
  std::unique_ptr<Transport> release_transport() noexcept { return std::move(transport_); }

  // Application bytes to send, in order.
  std::string& out() noexcept { return out_; }
  // Bytes that go on the wire as they are (TLS handshake records).
  std::string& wire_out() noexcept { return wire_next_; }

  // Call only with no send in flight. Moves queued bytes into the send
  // buffer (encoding them first when there is a transport) and returns what
  // to send next: empty when there is nothing. With `include_app` false only
  // wire bytes go (a TLS handshake in progress). Returns false when the
  // transport failed to encode.
  bool next_send(const char*& data, size_t& len, bool include_app = true) noexcept;
  // A send completed with `n` bytes written.
  void on_sent(size_t n) noexcept { offset_ += n; }

  // Bytes queued or in flight.
  size_t pending() const noexcept {
    return out_.size() + wire_next_.size() + (wire_.size() - offset_);
  }
  // Application bytes queued and not yet handed to the transport.
  size_t queued_app_bytes() const noexcept { return out_.size(); }
  // Application bytes ever queued since reset(), sent or not: what one
  // response added is the difference across it.
  uint64_t app_bytes_total() const noexcept { return app_bytes_moved_ + out_.size(); }

  // kTLS: the handshake is done and the record layer should move into the
  // kernel as soon as the socket is quiet (nothing queued, sent or read).
  bool ktls_wanted = false;
  // The kernel owns the record layer: plain send/recv carry plaintext and a
  // non-data record makes recv fail with EIO.
  bool kernel_tls = false;

  // Decrypted input scratch, reused between receives.
  std::string& plain_in() noexcept { return plain_in_; }

  // Swaps the send buffers' storage with `out` and `wire` (their capacity
  // is what matters). Only while nothing is queued or in flight.
  void exchange_storage(std::string& out, std::string& wire) noexcept;

  // Gives memory back after a burst (called when a slot is freed).
  void trim(size_t keep) noexcept;

 private:
  std::unique_ptr<Transport> transport_;
  std::string out_;
  std::string wire_next_;
  std::string wire_;
  size_t offset_ = 0;
  std::string plain_in_;
  uint64_t app_bytes_moved_ = 0;  // handed from out_ to the transport or the wire
};

}  // namespace ringgate::net
