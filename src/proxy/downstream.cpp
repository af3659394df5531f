// The client side of the proxy: receiving requests, sending responses, the
// per-request state, lingering close and the close protocol.
#include <sys/socket.h>

#include "proxy/engine.hpp"

namespace ringgate::proxy {
namespace {

constexpr uint32_t kLingerMs = 1000;

}  // namespace

uint32_t Engine::alloc_client() noexcept {
  const uint32_t slot = clients_.acquire();
  ClientConn& c = clients_[slot];
  c.close_after_send = false;
  c.input_ended = false;
  c.phase = ClientPhase::kIdle;
  c.pending_in.clear();
  c.backend = kNoSlot;
  c.pool = kNoSlot;
  c.api = nullptr;
  c.request_done = c.response_started = false;
  c.timer.owner = slot;
  return slot;
}

// A socket the worker accepted becomes a client connection: TLS starts when
// the listener has it, and the first receive is posted.
void Engine::accept_client(int fd, const std::shared_ptr<const tls::ServerContexts>& tls) noexcept {
  const uint32_t slot = alloc_client();
  ClientConn& c = clients_[slot];
  c.begin(fd);
  net::set_nodelay(fd);
  net::peer_text(fd, c.peer, sizeof c.peer);
  ++live_clients_;
  bump(counters_.connections_accepted);
  bump(counters_.connections_active);
  // The header timeout covers the TLS handshake too.
  c.timer.kind = kTimerClientHeader;
  timers_.arm(c.timer, now_ms_, snapshot_->config->gateway.timeouts.client_header_ms);
  if (tls) {
    if (!start_client_tls(slot, tls)) return;
  } else {
    bump(counters_.transport_plain);
  }
  post_client_recv(slot);
}

void Engine::post_client_recv(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  c.recv_wanted = true;
  if (c.recv_posted || c.closing) return;
  if (c.input_ended) {
    end_after_input(slot);
    return;
  }
  if (c.io.ktls_wanted && !c.send_posted && c.io.pending() == 0 &&
      !offload_ktls(c.fd, c.io, "client connection")) {
    close_client(slot);
    return;
  }
  if (!post_recv(c.fd, encode_user_data(Op::kClientRecv, slot, c.generation))) {
    close_client(slot);
    return;
  }
  c.recv_started(multishot_);
}

bool Engine::client_input_ended(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  if (c.phase != ClientPhase::kProxying || !c.request_done) return false;
  c.input_ended = true;
  return true;
}

// Where the connection would read again, but its input has ended: once no
// exchange is left and everything is sent, it closes.
void Engine::end_after_input(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  if (c.phase == ClientPhase::kProxying || c.phase == ClientPhase::kWaiting) return;
  if (c.phase == ClientPhase::kLingering || (!c.send_posted && c.io.pending() == 0)) {
    close_client(slot);
    return;
  }
  c.close_after_send = true;
}

void Engine::flush_client(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  if (c.send_posted || c.closing) return;
  const char* data = nullptr;
  size_t len = 0;
  const Transport* transport = c.io.transport();
  if (!c.io.next_send(data, len, transport == nullptr || transport->established())) {
    close_client(slot);
    return;
  }
  if (len == 0) return;
  if (!ring_.send(c.fd, data, len, encode_user_data(Op::kClientSend, slot, c.generation))) {
    close_client(slot);
    return;
  }
  c.send_started();
}

// A receive completed. The handlers below ask for more input by calling
// post_client_recv (as with one-shot receives); an armed multishot receive
// nobody asked to keep is withdrawn afterwards, which is how reading pauses
// (backpressure, a request being answered).
void Engine::on_client_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept {
  ClientConn& c = clients_[slot];
  c.recv_completed(cqe.flags & IORING_CQE_F_MORE);
  if (cqe.res > 0) c.recv_wanted = false;
  handle_client_recv(slot, cqe);
  if (c.recv_unwanted()) withdraw_recv(c, Op::kClientRecv, slot);
}

void Engine::handle_client_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept {
  ClientConn& c = clients_[slot];
  const bool has_buffer = cqe.flags & IORING_CQE_F_BUFFER;
  const uint16_t bid = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
  if (c.closing) {
    if (has_buffer) buffers_.recycle(bid);
    maybe_free_client(slot);
    return;
  }
  if (cqe.res == -ENOBUFS) {
    c.starved = true;
    starved_clients_.push_back(slot);
    return;
  }
  if (cqe.res == -ECANCELED) {  // withdrawn: paused, or for the kTLS hand-over
    if (c.recv_wanted) post_client_recv(slot);
    return;
  }
  if (cqe.res == -EINVAL && c.recv_multishot) {  // a kernel without multishot receive
    multishot_ = false;
    post_client_recv(slot);
    return;
  }
  if (cqe.res == -EIO && c.io.kernel_tls) {
    if (read_control_record(c.fd, "client connection") == tls::ControlRecordAction::kIgnore) {
      post_client_recv(slot);
    } else {
      close_client(slot);
    }
    return;
  }
  if (cqe.res <= 0) {
    if (has_buffer) buffers_.recycle(bid);
    if (cqe.res == 0 && client_input_ended(slot)) return;
    close_client(slot);
    return;
  }
  if (c.phase == ClientPhase::kLingering) {
    buffers_.recycle(bid);
    post_client_recv(slot);
    return;
  }
  if (c.io.transport() != nullptr) {
    const bool go_on = client_tls_input(slot, buffers_.buffer(bid), static_cast<size_t>(cqe.res));
    buffers_.recycle(bid);
    if (go_on) process_client_input(slot, c.io.plain_in().data(), c.io.plain_in().size());
    return;
  }
  process_client_input(slot, buffers_.buffer(bid), static_cast<size_t>(cqe.res));
  buffers_.recycle(bid);
}

void Engine::on_client_send(uint32_t slot, int res) noexcept {
  ClientConn& c = clients_[slot];
  c.send_ended();
  if (c.closing) {
    maybe_free_client(slot);
    return;
  }
  if (res < 0) {
    close_client(slot);
    return;
  }
  c.io.on_sent(static_cast<size_t>(res));
  flush_client(slot);
  if (c.send_posted) return;
  if (c.io.ktls_wanted) withdraw_recv(c, Op::kClientRecv, slot);
  // Everything written.
  if (c.close_after_send) {
    linger_client(slot);
    return;
  }
  if (c.phase == ClientPhase::kIdle && c.req && !c.req->parser.in_message() &&
      c.pending_in.empty()) {
    release_request_state(c);
  }
  // A response waiting on this client's backpressure may read on. Its
  // receive may still be armed with a cancel on the way (the pause has not
  // landed yet): wanting input again is what makes the cancel's completion
  // re-arm it.
  if (c.phase == ClientPhase::kProxying && c.backend != kNoSlot &&
      backends_[c.backend].state == BackendState::kBusy) {
    post_backend_recv(c.backend);
  }
}

RequestState& Engine::request_state(ClientConn& c) noexcept {
  if (!c.req) {
    if (spare_requests_.empty()) {
      c.req = std::make_unique<RequestState>(snapshot_->limits);
    } else {
      c.req = std::move(spare_requests_.back());
      spare_requests_.pop_back();
      c.req->parser.set_limits(snapshot_->limits);
    }
    c.req->parser.reset();
    if (c.io.pending() == 0 && !c.send_posted)
      c.io.exchange_storage(c.req->send_out, c.req->send_wire);
  }
  return *c.req;
}

// Hands the request state back once nothing of a request is left on the
// connection. The spares are capped so a burst does not pin memory forever.
void Engine::release_request_state(ClientConn& c) noexcept {
  if (!c.req) return;
  // A response still going out keeps its buffers; on_client_send comes back.
  if (c.io.pending() != 0 || c.send_posted) return;
  c.io.exchange_storage(c.req->send_out, c.req->send_wire);
  if (spare_requests_.size() < 4096) spare_requests_.push_back(std::move(c.req));
  c.req.reset();
}

void Engine::arm_client_wait(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  const config::Timeouts& t = snapshot_->config->gateway.timeouts;
  if (c.req && c.req->parser.in_message()) {
    if (c.timer.kind != kTimerClientHeader || !c.timer.armed()) {
      c.timer.kind = kTimerClientHeader;
      timers_.arm(c.timer, now_ms_, t.client_header_ms);
    }
  } else {
    c.timer.kind = kTimerClientIdle;
    timers_.arm(c.timer, now_ms_, t.client_idle_ms);
  }
}

// Half-closes and keeps reading for a moment before the real close, so that a
// client still sending (a rejected body, say) reads our response instead of
// a reset.
void Engine::linger_client(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  c.phase = ClientPhase::kLingering;
  ::shutdown(c.fd, SHUT_WR);
  c.timer.kind = kTimerLinger;
  timers_.arm(c.timer, now_ms_, kLingerMs);
  post_client_recv(slot);
}

void Engine::close_client(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  if (c.closing || !c.open) return;
  if (c.phase == ClientPhase::kWaiting) leave_wait_list(slot);
  finish_access(slot, 0);
  c.closing = true;
  timers_.cancel(c.timer);
  if (c.backend != kNoSlot) {
    const uint32_t b = c.backend;
    c.backend = kNoSlot;
    backends_[b].client = kNoSlot;
    close_backend(b);
  }
  ::shutdown(c.fd, SHUT_RDWR);
  maybe_free_client(slot);
}

void Engine::maybe_free_client(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  if (!c.may_free()) return;
  c.release();
  release_request_state(c);
  clients_.give_back(slot);
  --live_clients_;
  bump(counters_.connections_active, static_cast<uint64_t>(-1));
}

}  // namespace ringgate::proxy
