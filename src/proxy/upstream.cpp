// The backend side of the proxy: opening connections, the per-key pools
// (take, return, refill with back-off), receiving and sending, and the close
// protocol.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "proxy/engine.hpp"

namespace ringgate::proxy {

uint32_t Engine::alloc_backend() noexcept {
  const uint32_t slot = backends_.acquire();
  BackendConn& b = backends_[slot];
  b.state = BackendState::kConnecting;
  b.client = kNoSlot;
  b.pool = kNoSlot;
  b.reused = false;
  b.spare = false;
  b.requests = 0;
  b.timer.owner = slot;
  // maxBodyBytes limits what clients send; a backend's response may be any size.
  http::ParserLimits response_limits = snapshot_->limits;
  response_limits.max_body_bytes = UINT64_MAX;
  response_limits.max_header_bytes = std::max<uint32_t>(response_limits.max_header_bytes, 65536);
  b.parser.set_limits(response_limits);
  b.parser.reset();
  return slot;
}

// Opens a new connection for `pool`; returns its slot, or kNoSlot when the
// socket cannot even be created.
uint32_t Engine::connect_backend(uint32_t pool_index, bool spare) noexcept {
  WorkerPool& pool = pools_[pool_index];
  const int fd = ::socket(pool.address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return kNoSlot;
  net::set_nodelay(fd);
  const uint32_t slot = alloc_backend();
  BackendConn& b = backends_[slot];
  b.begin(fd);
  b.pool = pool_index;
  b.spare = spare;
  b.address = pool.address;
  pool.pool.on_open_started(spare);
  bump(pool.counters->open);
  bump(pool.counters->connects);
  bump(counters_.backend_connections_active);
  if (!ring_.connect(fd, reinterpret_cast<const sockaddr*>(&b.address.storage), b.address.length,
                     encode_user_data(Op::kBackendConnect, slot, b.generation))) {
    // Counted as a failed connect: the pool backs off instead of retrying
    // at once from the close below.
    pool.pool.on_connect_failure(now_ms_);
    bump(pool.counters->connect_failures);
    close_backend(slot);
    return kNoSlot;
  }
  ++b.ops;
  b.timer.kind = kTimerBackendConnect;
  timers_.arm(b.timer, now_ms_, snapshot_->config->gateway.timeouts.backend_connect_ms);
  return slot;
}

// Opens connections until minIdle are idle or on their way, unless the
// backend has been failing, in which case a timer tries again later.
void Engine::refill_pool(uint32_t pool_index) noexcept {
  WorkerPool& wp = pools_[pool_index];
  if (draining_ || !wp.pool.live) return;
  const config::Pool& settings = snapshot_->config->gateway.pool;
  const uint32_t count = wp.pool.refill_count(settings.min_idle, settings.max_per_key, now_ms_);
  for (uint32_t i = 0; i < count; ++i) {
    if (connect_backend(pool_index, true) == kNoSlot) break;
  }
  if (count == 0 && wp.pool.retry_at_ms() > now_ms_ && wp.pool.idle_count() < settings.min_idle &&
      !wp.refill_timer.armed()) {
    bump(wp.counters->backoffs);
    timers_.arm(wp.refill_timer, now_ms_, wp.pool.retry_at_ms() - now_ms_);
  }
}

void Engine::post_backend_recv(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  b.recv_wanted = true;
  if (b.recv_posted || b.closing || b.starved) return;
  if (b.io.ktls_wanted && !b.send_posted && b.io.pending() == 0 &&
      !offload_ktls(b.fd, b.io, "backend connection")) {
    backend_failed(slot, internal_error("kTLS hand-over failed", Replay::kUnsafe));
    return;
  }
  if (!post_recv(b.fd, encode_user_data(Op::kBackendRecv, slot, b.generation))) {
    backend_failed(
        slot, internal_error("cannot queue a receive (submission queue refused)", Replay::kUnsafe));
    return;
  }
  b.recv_started(multishot_);
}

void Engine::flush_backend(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  if (b.send_posted || b.closing || b.state == BackendState::kConnecting) return;
  const char* data = nullptr;
  size_t len = 0;
  if (!b.io.next_send(data, len, b.state != BackendState::kHandshaking)) {
    backend_failed(slot, internal_error("TLS encode failed", Replay::kUnsafe));
    return;
  }
  if (len == 0) return;
  if (!ring_.send(b.fd, data, len, encode_user_data(Op::kBackendSend, slot, b.generation))) {
    backend_failed(
        slot, internal_error("cannot queue a send (submission queue refused)", Replay::kUnsafe));
    return;
  }
  b.send_started();
}

void Engine::on_backend_connect(uint32_t slot, int res) noexcept {
  BackendConn& b = backends_[slot];
  --b.ops;
  WorkerPool& pool = pools_[b.pool];
  if (b.spare) {
    pool.pool.on_spare_ready();
    b.spare = false;
  }
  if (b.closing) {
    maybe_free_backend(slot);
    return;
  }
  if (res < 0) {
    pool.connect_failed(now_ms_);
    char reason[512];
    std::snprintf(reason, sizeof reason, "connect to %s failed: %s", pool.pool.key_text().c_str(),
                  std::strerror(-res));
    backend_failed(slot, backend_error(reason, Replay::kSafe));
    return;
  }
  if (pool.tls) {
    // The connect timer keeps running: backendConnectMs covers the handshake.
    start_backend_tls(slot);
    return;
  }
  timers_.cancel(b.timer);
  backend_ready(slot);
}

// A connection just became usable (connected, and TLS done where there is
// TLS): a spare goes to the pool, otherwise the waiting request goes out.
void Engine::backend_ready(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  // A connect alone proves little: a backend may accept and close at once.
  // TLS connections count as accepted once the backend accepted the
  // handshake (a TLS 1.3 server's verdict on our certificate comes later);
  // plain ones when their first response arrives (on_response_head).
  b.state = BackendState::kBusy;
  if (b.client == kNoSlot) {
    release_to_pool(slot);
    return;
  }
  arm_response_timer(slot);
  clients_[b.client].sent_at_us = now_us();
  flush_backend(slot);
  post_backend_recv(slot);
}

void Engine::backend_accepted(WorkerPool& pool) noexcept {
  pool.pool.on_connect_success();
  if (pool.failing) {
    log_.info("pool %s: backend reachable again", pool.pool.key_text().c_str());
    pool.failing = false;
  }
}

void Engine::on_backend_send(uint32_t slot, int res) noexcept {
  BackendConn& b = backends_[slot];
  b.send_ended();
  if (b.closing) {
    maybe_free_backend(slot);
    return;
  }
  if (res < 0) {
    if (b.state == BackendState::kHandshaking) pools_[b.pool].connect_failed(now_ms_);
    char reason[512];
    std::snprintf(reason, sizeof reason, "send to backend failed: %s", std::strerror(-res));
    // A reset as the request went out: the backend closed the connection
    // (a reused one it had given up on) without answering.
    backend_failed(slot,
                   backend_error(reason, b.parser.in_message() ? Replay::kUnsafe : Replay::kSafe));
    return;
  }
  b.io.on_sent(static_cast<size_t>(res));
  flush_backend(slot);
  if (b.send_posted) return;
  if (b.io.ktls_wanted) withdraw_recv(b, Op::kBackendRecv, slot);
  if (b.client == kNoSlot) return;
  // Everything queued is written out: the client may send more body, or,
  // when the request is complete, its response time starts now.
  ClientConn& c = clients_[b.client];
  if (c.request_done && b.state == BackendState::kBusy && !c.response_started) {
    arm_response_timer(slot);
  }
  if (c.phase == ClientPhase::kProxying && !c.request_done) post_client_recv(b.client);
}

// As on_client_recv: handlers ask for more input with post_backend_recv; an
// armed receive nobody asked to keep is withdrawn (the client is slow).
void Engine::on_backend_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept {
  BackendConn& b = backends_[slot];
  b.recv_completed(cqe.flags & IORING_CQE_F_MORE);
  if (cqe.res > 0) b.recv_wanted = false;
  handle_backend_recv(slot, cqe);
  if (b.recv_unwanted()) withdraw_recv(b, Op::kBackendRecv, slot);
}

void Engine::handle_backend_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept {
  BackendConn& b = backends_[slot];
  const bool has_buffer = cqe.flags & IORING_CQE_F_BUFFER;
  const uint16_t bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
  if (b.closing) {
    if (has_buffer) buffers_.recycle(bid);
    maybe_free_backend(slot);
    return;
  }
  if (cqe.res == -ENOBUFS) {
    b.starved = true;
    starved_backends_.push_back(slot);
    return;
  }
  if (cqe.res == -ECANCELED) {  // withdrawn: paused, or for the kTLS hand-over
    if (b.recv_wanted) post_backend_recv(slot);
    return;
  }
  if (cqe.res == -EINVAL && b.recv_multishot) {  // a kernel without multishot receive
    multishot_ = false;
    post_backend_recv(slot);
    return;
  }
  if (cqe.res == -EIO && b.io.kernel_tls) {
    // Pooled idle connections see these too: nginx sends close_notify when
    // it closes an idle keep-alive connection.
    const tls::ControlRecordAction action = read_control_record(b.fd, "backend connection");
    const bool in_exchange = b.state != BackendState::kIdle && b.client != kNoSlot;
    switch (after_control_record(action, in_exchange)) {
      case ControlRecordStep::kReadOn:
        post_backend_recv(slot);
        break;
      case ControlRecordStep::kCloseIdleConnection:
        close_backend(slot);
        break;
      case ControlRecordStep::kEndExchange:
        on_backend_eof(slot, action == tls::ControlRecordAction::kClosed ? 0 : -EIO);
        break;
    }
    return;
  }
  const char* data = cqe.res > 0 ? buffers_.buffer(bid) : nullptr;
  size_t len = cqe.res > 0 ? static_cast<size_t>(cqe.res) : 0;
  bool peer_closed = cqe.res <= 0;
  // During the handshake an end of stream goes to TLS too: it fails the handshake.
  if (b.io.transport() != nullptr && (len > 0 || b.state == BackendState::kHandshaking)) {
    const bool go_on = backend_tls_input(slot, data, len, peer_closed);
    if (has_buffer) buffers_.recycle(bid);
    if (!go_on) return;
    data = b.io.plain_in().data();
    len = b.io.plain_in().size();
  } else if (has_buffer && len == 0) {
    buffers_.recycle(bid);
  }
  const bool owns_buffer = b.io.transport() == nullptr && len > 0;
  if (b.state == BackendState::kIdle || b.client == kNoSlot) {
    // An idle connection that becomes readable (data or EOF) is of no use:
    // a response nobody asked for, or the backend closing it. One closed
    // before it ever carried a request counts as a failed connect, so a
    // backend that accepts and closes at once gets the back-off, not a storm.
    if (owns_buffer) buffers_.recycle(bid);
    if (b.requests == 0 && !pools_[b.pool].tls) pools_[b.pool].connect_failed(now_ms_);
    close_backend(slot);
    return;
  }
  if (len == 0 && peer_closed) {
    on_backend_eof(slot, cqe.res < 0 ? cqe.res : 0);
    return;
  }
  arm_response_timer(slot);
  process_backend_input(slot, data, len);
  if (owns_buffer) buffers_.recycle(bid);
}

void Engine::remove_idle(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  if (b.state != BackendState::kIdle || b.pool == kNoSlot) return;
  WorkerPool& wp = pools_[b.pool];
  if (wp.pool.remove_idle(slot)) bump(wp.counters->idle, static_cast<uint64_t>(-1));
  b.state = BackendState::kBusy;
}

// A connection free for another request: the first request waiting in its
// pool gets it, otherwise it waits in the idle set.
void Engine::release_to_pool(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  WorkerPool& wp = pools_[b.pool];
  b.client = kNoSlot;
  b.reused = false;
  if (!wp.pool.live || draining_) {
    close_backend(slot);
    return;
  }
  b.parser.reset();
  const uint32_t waiter = wp.pool.release(slot);
  if (waiter != upstream::kNoWaiter) {
    reuse_backend(slot);
    end_wait(waiter, slot);
    return;
  }
  b.state = BackendState::kIdle;
  bump(wp.counters->idle);
  b.timer.kind = kTimerPoolIdle;
  timers_.arm(b.timer, now_ms_, snapshot_->config->gateway.pool.idle_timeout_ms);
  post_backend_recv(slot);
}

void Engine::close_backend(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  if (b.closing || !b.open) return;
  remove_idle(slot);
  b.closing = true;
  timers_.cancel(b.timer);
  if (b.client != kNoSlot) {
    clients_[b.client].backend = kNoSlot;
    b.client = kNoSlot;
  }
  ::shutdown(b.fd, SHUT_RDWR);
  if (b.state == BackendState::kConnecting && b.ops > 0) {
    // A connect in flight does not end on shutdown(); cancel it (unqueued,
    // the connect timer's failure path or the kernel ends it later).
    (void)ring_.cancel(encode_user_data(Op::kBackendConnect, slot, b.generation),
                       encode_user_data(Op::kCancel, 0, 0));
  }
  maybe_free_backend(slot);
}

void Engine::maybe_free_backend(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  if (!b.may_free()) return;
  b.release();
  const uint32_t pool = b.pool;
  uint32_t waiter = upstream::kNoWaiter;
  if (pool != kNoSlot) {
    WorkerPool& wp = pools_[pool];
    waiter = wp.pool.on_closed(snapshot_->config->gateway.pool.max_per_key);
    bump(wp.counters->open, static_cast<uint64_t>(-1));
    if (!wp.pool.live && wp.pool.open() == 0) reap_pending_ = true;
  }
  bump(counters_.backend_connections_active, static_cast<uint64_t>(-1));
  backends_.give_back(slot);
  if (pool == kNoSlot) return;
  // The room this connection leaves goes to the first waiter before any
  // spare: a request is waiting for it.
  if (waiter != upstream::kNoWaiter) end_wait(waiter, kNoSlot);
  refill_pool(pool);
}

void Engine::reuse_backend(uint32_t slot) noexcept {
  BackendConn& b = backends_[slot];
  b.state = BackendState::kBusy;
  b.reused = true;
}

}  // namespace ringgate::proxy
