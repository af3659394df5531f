// The transport seam between a socket and the HTTP codec, as Envoy's
// transport sockets are: the worker owns the socket and the io_uring
// operations and hands a Transport the bytes it received; the Transport turns
// them into plaintext and application bytes into wire bytes, and decides
// whether and how the record layer moves into the kernel (kTLS). A plain TCP
// connection has no Transport at all (no copy on the way in or out), so the
// worker never needs to know which implementation it holds.
//
// A Transport only transforms buffers: it is testable without a ring and
// never blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ringgate {

enum class IoStatus : uint8_t {
  kOk,        // progress made
  kWantRead,  // needs more wire bytes before it can produce anything
  kClosed,    // the peer closed cleanly (TLS close_notify or EOF)
  kError,     // fatal; `reason` says why
};

struct IoResult {
  IoStatus status = IoStatus::kOk;
  const char* reason = nullptr;  // static string, for logs
};

// What became of a connection offered to the kernel's TLS.
enum class KernelHandover : uint8_t {
  kInstalled,  // the kernel owns both directions: drop the Transport, send/recv plaintext
  kStayed,     // nothing was installed: the connection carries on with this Transport
  kBroken,     // one direction was installed and the other failed: close the connection
};

class Transport {
 public:
  virtual ~Transport() = default;
  // True once application data may flow.
  virtual bool established() const noexcept = 0;
  // True once the peer has shown it accepted the handshake (a TLS 1.3 server
  // judges a client certificate after the client's side is done).
  virtual bool peer_accepted() const noexcept = 0;
  // True when the handshake resumed a session.
  virtual bool session_reused() const noexcept = 0;
  // Client side: appends the first flight (ClientHello) to `wire_out`.
  // Server side: appends nothing.
  virtual IoResult start(std::string& wire_out) noexcept = 0;
  // After kError: a human-readable reason for logs, naming the peer's alert
  // or the certificate verification failure where there is one.
  virtual std::string last_error() const = 0;
  // Consumes `len` wire bytes; appends any plaintext to `plaintext` and any
  // bytes that must go back on the wire (handshake, alerts) to `wire_out`.
  virtual IoResult on_wire_bytes(const char* data, size_t len, std::string& plaintext,
                                 std::string& wire_out) noexcept = 0;
  // Encodes `len` application bytes and appends the wire form to `wire_out`.
  virtual IoResult encode(const char* data, size_t len, std::string& wire_out) noexcept = 0;
  // Moves the record layer of `fd` into the kernel. The caller guarantees the
  // connection is quiet (nothing queued, sent or being received), so both
  // directions start at a record boundary. `detail` says why it stayed or
  // broke.
  virtual KernelHandover hand_over_to_kernel(int fd, std::string& detail) noexcept = 0;
};

}  // namespace ringgate
