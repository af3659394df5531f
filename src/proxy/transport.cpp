// TLS on both kinds of connection: the backend handshake with the pool key's
// client context (from the snapshot), the listener's server side, decryption
// of what arrives, and the hand-over of quiet connections to kernel TLS.
#include <cstring>

#include "proxy/engine.hpp"
#include "tls/tls_transport.hpp"

namespace ringgate::proxy {

// Creates the TLS client for a freshly connected socket and sends the
// ClientHello. Returns false when the connection was failed instead.
bool Engine::start_backend_tls(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  WorkerPool& pool = pools_[b.pool];
  tls::ClientOptions options;
  options.server_name = pool.sni;
  options.sessions = &sessions_;
  options.session_key = pool.pool.key_text();
  options.ktls = shared_.ktls_available;
  std::string error;
  std::unique_ptr<tls::TlsTransport> transport =
      tls::TlsTransport::client(pool.tls_context, options, error);
  if (!transport) {
    pool.connect_failed(now_ms_);
    backend_failed(slot, internal_error("TLS setup failed: " + error, Replay::kSafe));
    return false;
  }
  b.state = BackendState::kHandshaking;
  const IoResult started = transport->start(b.io.wire_out());
  b.io.set_transport(std::move(transport));
  flush_backend(slot);
  if (b.closing) return false;
  if (started.status == IoStatus::kError) {
    pool.connect_failed(now_ms_);
    const std::string reason = "TLS handshake failed: " + b.io.transport()->last_error();
    backend_failed(slot, backend_error(reason, Replay::kSafe));
    return false;
  }
  post_backend_recv(slot);
  return true;
}

bool Engine::backend_tls_input(uint32_t slot, const char* data, size_t len,
                               bool& peer_closed) noexcept {
  BackendConn& b = backends_[slot];
  WorkerPool& pool = pools_[b.pool];
  Transport& transport = *b.io.transport();
  const bool was_accepted = transport.peer_accepted();
  std::string& plain = b.io.plain_in();
  plain.clear();
  const IoResult r = transport.on_wire_bytes(data, len, plain, b.io.wire_out());
  flush_backend(slot);
  if (b.closing) return false;
  if (r.status == IoStatus::kError) {
    // A TLS 1.3 server judges our certificate after our side of the
    // handshake is done, so its refusal arrives on a connection that looks
    // established: until the backend has accepted, this is the handshake
    // failing.
    if (!was_accepted) pool.connect_failed(now_ms_);
    char reason[512];
    std::snprintf(reason, sizeof reason, "TLS %s with %s failed: %s",
                  was_accepted ? "session" : "handshake", pool.pool.key_text().c_str(),
                  transport.last_error().c_str());
    // A broken session may have carried the request already.
    backend_failed(slot, backend_error(reason, was_accepted ? Replay::kUnsafe : Replay::kSafe));
    return false;
  }
  if (r.status == IoStatus::kClosed) peer_closed = true;
  if (b.state == BackendState::kHandshaking) {
    if (!transport.established()) {
      if (peer_closed) {
        pool.connect_failed(now_ms_);
        backend_failed(slot, backend_error("backend closed the connection during the TLS handshake",
                                           Replay::kSafe));
      } else {
        post_backend_recv(slot);
      }
      return false;
    }
    on_backend_handshake_done(slot);
    if (b.closing || !b.open) return false;
  } else if (!was_accepted && transport.peer_accepted()) {
    backend_accepted(pool);
  }
  if (plain.empty() && !peer_closed) {
    // Only TLS housekeeping (session tickets, key updates): nothing to parse.
    post_backend_recv(slot);
    return false;
  }
  return true;
}

void Engine::on_backend_handshake_done(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  timers_.cancel(b.timer);
  const Transport* transport = b.io.transport();
  bump(transport->session_reused() ? counters_.tls_handshakes_resumed
                                   : counters_.tls_handshakes_full);
  if (transport->peer_accepted()) backend_accepted(pools_[b.pool]);
  b.io.ktls_wanted = shared_.ktls_available;
  if (!b.io.ktls_wanted) bump(counters_.transport_userspace_tls);
  backend_ready(slot);
}

bool Engine::start_client_tls(uint32_t slot,
                              const std::shared_ptr<const tls::ServerContexts>& contexts) noexcept {
  ClientConn& c = clients_[slot];
  std::string error;
  auto transport = tls::TlsTransport::server(contexts, shared_.ktls_available, error);
  if (!transport) {
    log_.warn("TLS listener: cannot start TLS: %s", error.c_str());
    close_client(slot);
    return false;
  }
  c.io.set_transport(std::move(transport));
  return true;
}

// Decrypts what a TLS client sent into io.plain_in(). Returns true when
// there is plaintext for the HTTP parser; otherwise the connection was
// handled (handshake in progress, closed, or failed).
bool Engine::client_tls_input(uint32_t slot, const char* data, size_t len) noexcept {
  ClientConn& c = clients_[slot];
  Transport& transport = *c.io.transport();
  const bool was_established = transport.established();
  std::string& plain = c.io.plain_in();
  plain.clear();
  const IoResult r = transport.on_wire_bytes(data, len, plain, c.io.wire_out());
  flush_client(slot);
  if (c.closing) return false;
  if (r.status == IoStatus::kError) {
    // Scanners and clients that dislike the certificate are routine: no log line.
    bump(counters_.tls_client_failures);
    if (c.send_posted) {
      c.close_after_send = true;  // let the alert go out first
    } else {
      close_client(slot);
    }
    return false;
  }
  if (!was_established && transport.established()) {
    bump(transport.session_reused() ? counters_.tls_handshakes_resumed
                                    : counters_.tls_handshakes_full);
    c.io.ktls_wanted = shared_.ktls_available;
    if (!c.io.ktls_wanted) bump(counters_.transport_userspace_tls);
  }
  if (r.status == IoStatus::kClosed && plain.empty()) {
    if (!client_input_ended(slot)) close_client(slot);
    return false;
  }
  if (plain.empty()) {
    post_client_recv(slot);
    return false;
  }
  return true;
}

// Moves the record layer of a quiet connection into the kernel: the caller
// guarantees no send or recv is in flight and nothing is queued, so the
// kernel starts exactly at a record boundary in both directions. On any
// failure before the kernel owns a direction the connection simply stays on
// userspace TLS; a half-installed socket cannot be used and is failed.
bool Engine::offload_ktls(int fd, net::Channel& io, const char* who) noexcept {
  io.ktls_wanted = false;
  std::string detail;
  switch (io.transport()->hand_over_to_kernel(fd, detail)) {
    case KernelHandover::kInstalled:
      io.release_transport();
      io.kernel_tls = true;
      bump(counters_.transport_kernel_tls);
      return true;
    case KernelHandover::kStayed:
      log_.info("kTLS: %s stays on userspace TLS: %s", who, detail.c_str());
      bump(counters_.transport_userspace_tls);
      return true;
    case KernelHandover::kBroken:
      break;
  }
  log_.warn("kTLS: %s half installed (%s): closing it", who, detail.c_str());
  return false;
}

tls::ControlRecordAction Engine::read_control_record(int fd, const char* who) noexcept {
  unsigned char record[16384];
  int type = -1;
  const ssize_t n = tls::recv_record_type(fd, record, sizeof record, type, MSG_DONTWAIT);
  if (n == -EAGAIN) return tls::ControlRecordAction::kIgnore;
  if (n < 0) {
    bump(counters_.ktls_closed_bad_record);
    log_.warn("kTLS: %s: reading a non-data record failed: %s", who,
              std::strerror(static_cast<int>(-n)));
    return tls::ControlRecordAction::kError;
  }
  const tls::ControlRecordVerdict verdict =
      tls::classify_control_record(type, record, static_cast<size_t>(n));
  if (verdict.action == tls::ControlRecordAction::kIgnore && type == tls::kRecordHandshake) {
    bump(counters_.ktls_session_tickets);
  } else if (verdict.action == tls::ControlRecordAction::kClosed) {
    bump(counters_.ktls_close_notify);
  }
  if (verdict.action == tls::ControlRecordAction::kError) {
    bump(verdict.key_update ? counters_.ktls_closed_key_update : counters_.ktls_closed_bad_record);
    // The first two bytes name an alert (level, description) or a
    // handshake message (its type).
    log_.warn("kTLS: %s: %s (record type %d, %zd bytes: %02x %02x)", who,
              verdict.reason != nullptr ? verdict.reason : "unexpected record", type, n,
              n > 0 ? record[0] : 0, n > 1 ? record[1] : 0);
  }
  return verdict.action;
}

}  // namespace ringgate::proxy
