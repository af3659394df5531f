// The transport seam between a socket and the HTTP codec. Plain TCP passes
// bytes through untouched; userspace TLS (OpenSSL over memory BIOs) turns wire
// bytes into plaintext and back; kTLS moves the record layer into the kernel
// after the handshake, so the connection falls back to plain send/recv.
//
// The worker owns the socket and the io_uring operations; a Transport only
// transforms buffers, so it is testable without a ring and never blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ringgate {

enum class TransportKind : uint8_t { kPlain, kUserspaceTls, kKernelTls };

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

class Transport {
 public:
  virtual ~Transport() = default;
  virtual TransportKind kind() const noexcept = 0;
  // True once application data may flow (always for plain TCP).
  virtual bool established() const noexcept = 0;
  // Client side: appends the first flight (ClientHello) to `wire_out`.
  // Server side and plain TCP: appends nothing.
  virtual IoResult start(std::string& wire_out) noexcept = 0;
  // After kError: a human-readable reason for logs, naming the peer's alert
  // or the certificate verification failure where there is one.
  virtual std::string last_error() const { return {}; }
  // Consumes `len` wire bytes; appends any plaintext to `plaintext` and any
  // bytes that must go back on the wire (handshake, alerts) to `wire_out`.
  virtual IoResult on_wire_bytes(const char* data, size_t len, std::string& plaintext,
                                 std::string& wire_out) noexcept = 0;
  // Encodes `len` application bytes and appends the wire form to `wire_out`.
  virtual IoResult encode(const char* data, size_t len, std::string& wire_out) noexcept = 0;
};

// Plain TCP: both directions are the identity.
class PlainTransport final : public Transport {
 public:
  TransportKind kind() const noexcept override { return TransportKind::kPlain; }
  bool established() const noexcept override { return true; }
  IoResult start(std::string&) noexcept override { return {}; }
  IoResult on_wire_bytes(const char* data, size_t len, std::string& plaintext,
                         std::string&) noexcept override {
    plaintext.append(data, len);
    return {};
  }
  IoResult encode(const char* data, size_t len, std::string& wire_out) noexcept override {
    wire_out.append(data, len);
    return {};
  }
};

}  // namespace ringgate
