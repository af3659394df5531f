#include "core/worker.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "net/listener.hpp"

namespace ringgate::core {
namespace {

constexpr unsigned kRingEntries = 4096;
constexpr uint32_t kRecvBuffers = 1024;
constexpr uint32_t kRecvBufferSize = 16 * 1024;
constexpr uint16_t kBufferGroup = 0;
constexpr uint32_t kLingerMs = 1000;
constexpr uint32_t kAcceptPauseMs = 100;

uint64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void peer_text(int fd, char* out, size_t size) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  out[0] = '\0';
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, out, size);
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, out, size);
  }
}

}  // namespace

void SnapshotBox::publish(std::shared_ptr<const Snapshot> snapshot) {
  const uint64_t generation = snapshot->generation;
  {
    std::lock_guard lock(mu_);
    current_ = std::move(snapshot);
  }
  generation_.store(generation, std::memory_order_release);
}

std::shared_ptr<const Snapshot> SnapshotBox::get() const {
  std::lock_guard lock(mu_);
  return current_;
}

Worker::Worker(uint32_t index, WorkerShared& shared, int cpu)
    : index_(index),
      shared_(shared),
      counters_(shared.metrics->worker(index)),
      cpu_(cpu),
      timers_(monotonic_ms()),
      log_(shared.logs->buffers(index), shared.logs, counters_) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
}

Worker::~Worker() {
  join();
  for (auto& l : listeners_) {
    if (l->fd >= 0) ::close(l->fd);
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::string Worker::start() {
  auto ready = started_.get_future();
  thread_ = new std::thread([this] { run(); });
  return ready.get();
}

void Worker::join() {
  if (thread_ == nullptr) return;
  if (thread_->joinable()) thread_->join();
  delete thread_;
  thread_ = nullptr;
}

void Worker::wake() noexcept {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

uint64_t Worker::now_us() const noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

bool Worker::setup(std::string& error) {
  if (cpu_ >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu_, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  char name[16];
  std::snprintf(name, sizeof name, "ringgate-w%u", index_);
  pthread_setname_np(pthread_self(), name);
  if (wake_fd_ < 0) {
    error = "eventfd failed";
    return false;
  }
  if (!ring_.init(kRingEntries, error)) return false;
  if (!buffers_.init(ring_, kBufferGroup, kRecvBuffers, kRecvBufferSize, error)) return false;
  snapshot_ = shared_.snapshots.get();
  snapshot_generation_ = snapshot_->generation;
  now_ms_ = monotonic_ms();
  switch_snapshot();
  post_wake_read();
  ring_.submit();
  return true;
}

void Worker::run() noexcept {
  std::string error;
  if (!setup(error)) {
    started_.set_value(error);
    return;
  }
  started_.set_value("");
  loop();
  // Whatever is still open after the drain is closed without ceremony.
  for (auto& c : clients_) {
    if (c->open) ::close(c->fd);
  }
  for (auto& b : backends_) {
    if (b->open) ::close(b->fd);
  }
  for (auto& l : listeners_) {
    if (l->fd >= 0) ::close(l->fd);
    l->fd = -1;
  }
}

void Worker::loop() noexcept {
  for (;;) {
    int64_t wait = timers_.next_wait_ms(now_ms_);
    if (draining_ && (wait < 0 || wait > 20)) wait = 20;
    if (!draining_ && !wake_posted_) {
      post_wake_read();
      if (!wake_posted_ && (wait < 0 || wait > 100)) wait = 100;
    }
    wait = log_.bound_wait_ms(wait);
    ring_.submit_and_wait(static_cast<int>(wait));
    ring_.drain([this](const io_uring_cqe& cqe) { dispatch(cqe); });
    now_ms_ = monotonic_ms();
    timers_.advance(now_ms_, [this](TimerNode& node) { on_timer(node); });
    log_.tick(now_ms_);
    retry_starved();
    reap_pools();
    if (shared_.snapshots.generation() != snapshot_generation_) {
      snapshot_ = shared_.snapshots.get();
      snapshot_generation_ = snapshot_->generation;
      switch_snapshot();
    }
    if (!draining_ && shared_.stopping.load(std::memory_order_acquire)) begin_drain();
    if (draining_ && (live_clients_ == 0 || now_ms_ >= drain_deadline_ms_)) return;
  }
}

void Worker::switch_snapshot() noexcept {
  sync_listeners();
  pools_.for_each([](uint32_t, WorkerPool& wp) { wp.pool.live = false; });
  pool_of_spec_.assign(snapshot_->pools.size(), kNoSlot);
  for (size_t i = 0; i < snapshot_->pools.size(); ++i) {
    const uint32_t p = find_pool(snapshot_->pools[i]);
    pools_[p].pool.live = true;
    pools_[p].address = snapshot_->pools[i].address;
    pool_of_spec_[i] = p;
  }
  // Pools whose key vanished drain: idle connections close now, busy ones
  // close when their exchange ends (release_to_pool checks `live`).
  pools_.for_each([this](uint32_t, WorkerPool& wp) {
    if (wp.pool.live) return;
    timers_.cancel(wp.refill_timer);
    while (wp.pool.idle_count() > 0) close_backend(wp.pool.idle().back());
    reap_pending_ = true;
  });
  api_of_route_.clear();
  for (const RouteTarget& route : snapshot_->routes) {
    api_of_route_.push_back(&shared_.metrics->api(route.api_id, index_));
  }
  // Pools kept from the previous snapshot are still warm; new ones fill now.
  pools_.for_each([this](uint32_t p, WorkerPool&) { refill_pool(p); });
  reap_pools();
  // From here on every request this worker starts runs on the new snapshot.
  counters_.snapshot_generation.store(snapshot_->generation, std::memory_order_release);
}

// Frees pools whose key left the config once their last connection closed:
// their TLS context (and the client certificate's private key in it) and
// their TLS sessions go with them. Runs between loop turns, never while an
// exchange may still look its pool up by index.
void Worker::reap_pools() noexcept {
  if (!reap_pending_) return;
  reap_pending_ = false;
  std::vector<uint32_t> gone;
  pools_.for_each([&](uint32_t p, WorkerPool& wp) {
    if (wp.pool.live) return;
    if (wp.pool.open() == 0) {
      gone.push_back(p);
    } else {
      reap_pending_ = true;  // busy connections still finishing
    }
  });
  for (uint32_t p : gone) {
    timers_.cancel(pools_[p].refill_timer);
    sessions_.erase(pools_[p].pool.key_text());
    shared_.metrics->release_pool(pools_[p].pool.key_text());
    pools_.erase(p);
  }
  counters_.pools_active.store(pools_.size(), std::memory_order_relaxed);
}

uint32_t Worker::find_pool(const PoolSpec& spec) noexcept {
  const uint32_t index = pools_.find_or_add(spec.key_text, [&](uint32_t slot) {
    auto wp = std::make_unique<WorkerPool>(spec.key_text);
    wp->address = spec.address;
    wp->counters = &shared_.metrics->pool(spec.key_text, index_);
    wp->refill_timer.owner = slot;
    wp->refill_timer.kind = kTimerPoolRefill;
    if (spec.tls) setup_pool_tls(*wp, spec);
    return wp;
  });
  counters_.pools_active.store(pools_.size(), std::memory_order_relaxed);
  return index;
}

// Opens connections until minIdle are idle or on their way, unless the
// backend has been failing, in which case a timer tries again later.
void Worker::refill_pool(uint32_t pool_index) noexcept {
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

void Worker::begin_drain() noexcept {
  draining_ = true;
  drain_deadline_ms_ = now_ms_ + snapshot_->config->gateway.timeouts.drain_ms;
  for (auto& l : listeners_) {
    if (l->fd < 0) continue;
    timers_.cancel(l->resume);
    // The shutdown alone ends a multishot accept; the cancel is belt and braces.
    if (l->accepting) (void)ring_.cancel_fd(l->fd, encode_user_data(Op::kCancel, 0, 0));
    ::shutdown(l->fd, SHUT_RDWR);
  }
  // Connections waiting for a request close now; the others finish their
  // exchange and then close (keep_alive is refused while draining).
  for (uint32_t i = 0; i < clients_.size(); ++i) {
    ClientConn& c = *clients_[i];
    if (c.open && !c.closing && c.phase == ClientPhase::kIdle &&
        !(c.req && c.req->parser.in_message()) && c.pending_in.empty()) {
      close_client(i);
    }
  }
}

// Matches this worker's listening sockets to the snapshot's listeners by
// socket: kept ones carry on (their accept in flight untouched), new ones
// start accepting, and those that left stop and close.
void Worker::sync_listeners() noexcept {
  const auto& by_listener = snapshot_->listener_fds;
  std::vector<bool> wanted(by_listener.size(), true);
  for (uint32_t slot = 0; slot < listeners_.size(); ++slot) {
    ListenSlot& l = *listeners_[slot];
    if (l.fd < 0 || l.retired) continue;
    bool kept = false;
    for (uint32_t i = 0; i < by_listener.size() && !kept; ++i) {
      if (index_ < by_listener[i].size() && by_listener[i][index_] == l.fd) {
        l.config_index = i;
        wanted[i] = false;
        kept = true;
      }
    }
    if (!kept) retire_listener(slot);
  }
  for (uint32_t i = 0; i < by_listener.size(); ++i) {
    if (!wanted[i] || index_ >= by_listener[i].size()) continue;
    uint32_t slot = 0;
    while (slot < listeners_.size() && listeners_[slot]->fd >= 0) ++slot;
    if (slot == listeners_.size()) listeners_.push_back(std::make_unique<ListenSlot>());
    ListenSlot& l = *listeners_[slot];
    l.fd = by_listener[i][index_];
    l.config_index = i;
    l.retired = false;
    l.resume.owner = slot;
    l.resume.kind = kTimerAcceptResume;
    if (!draining_) post_accept(slot);
  }
}

void Worker::retire_listener(uint32_t slot) noexcept {
  ListenSlot& l = *listeners_[slot];
  l.retired = true;
  timers_.cancel(l.resume);
  if (!l.accepting) {
    free_listener(slot);
    return;
  }
  // Its accept ends with -ECANCELED; on_accept closes it then.
  if (!ring_.cancel_fd(l.fd, encode_user_data(Op::kCancel, 0, 0))) ::shutdown(l.fd, SHUT_RDWR);
}

void Worker::free_listener(uint32_t slot) noexcept {
  ListenSlot& l = *listeners_[slot];
  ::close(l.fd);
  l.fd = -1;
  l.accepting = false;
  l.retired = false;
  ++l.generation;
}

void Worker::post_accept(uint32_t slot) noexcept {
  ListenSlot& l = *listeners_[slot];
  if (l.accepting || l.retired || l.fd < 0) return;
  if (ring_.accept_multishot(l.fd, encode_user_data(Op::kAccept, slot, l.generation))) {
    l.accepting = true;
  } else if (!l.resume.armed()) {
    timers_.arm(l.resume, now_ms_, kAcceptPauseMs);
  }
}

void Worker::post_wake_read() noexcept {
  // Without it the loop polls (see loop()) until a later turn posts it.
  wake_posted_ =
      ring_.read(wake_fd_, &wake_buffer_, sizeof wake_buffer_, encode_user_data(Op::kWake, 0, 0));
}

void Worker::dispatch(const io_uring_cqe& cqe) noexcept {
  const UserData ud = decode_user_data(cqe.user_data);
  switch (ud.op) {
    case Op::kAccept:
      on_accept(ud.slot, ud.generation, cqe);
      return;
    case Op::kWake:
      wake_posted_ = false;
      if (!draining_) post_wake_read();
      return;
    case Op::kCancel:
    case Op::kNone:
      return;
    default:
      break;
  }
  const bool client_op = ud.op == Op::kClientRecv || ud.op == Op::kClientSend;
  const bool stale =
      client_op ? (ud.slot >= clients_.size() || clients_[ud.slot]->generation != ud.generation)
                : (ud.slot >= backends_.size() || backends_[ud.slot]->generation != ud.generation);
  if (stale) {
    // Cannot happen while slots are freed only with no operation in flight;
    // still, never leak a provided buffer.
    if (cqe.flags & IORING_CQE_F_BUFFER)
      buffers_.recycle(static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
    return;
  }
  switch (ud.op) {
    case Op::kClientRecv:
      on_client_recv(ud.slot, cqe);
      break;
    case Op::kClientSend:
      on_client_send(ud.slot, cqe.res);
      break;
    case Op::kBackendConnect:
      on_backend_connect(ud.slot, cqe.res);
      break;
    case Op::kBackendRecv:
      on_backend_recv(ud.slot, cqe);
      break;
    case Op::kBackendSend:
      on_backend_send(ud.slot, cqe.res);
      break;
    default:
      break;
  }
}

void Worker::on_accept(uint32_t listener, uint32_t generation, const io_uring_cqe& cqe) noexcept {
  if (listener >= listeners_.size() || listeners_[listener]->generation != generation) {
    if (cqe.res >= 0) ::close(cqe.res);  // a socket this worker let go of
    return;
  }
  ListenSlot& l = *listeners_[listener];
  const bool more = cqe.flags & IORING_CQE_F_MORE;
  if (!more) l.accepting = false;
  if (l.retired) {
    if (cqe.res >= 0) ::close(cqe.res);
    if (!more) free_listener(listener);
    return;
  }
  if (cqe.res < 0) {
    if (more || draining_) return;
    switch (net::accept_error_action(cqe.res)) {
      case net::AcceptErrorAction::kRepost:
        post_accept(listener);
        break;
      case net::AcceptErrorAction::kPause:
        // Out of descriptors (or memory): re-posting now would fail again
        // at once and spin this core. Connections wait in the backlog.
        bump(counters_.accept_pauses);
        timers_.arm(l.resume, now_ms_, kAcceptPauseMs);
        break;
      case net::AcceptErrorAction::kStop:
        break;
    }
    return;
  }
  if (!more && !draining_) post_accept(listener);
  const int fd = cqe.res;
  const config::Gateway& gw = snapshot_->config->gateway;
  if (draining_ || live_clients_ >= gw.limits.max_connections) {
    bump(counters_.connections_rejected);
    ::close(fd);
    return;
  }
  const uint32_t slot = alloc_client();
  ClientConn& c = *clients_[slot];
  c.fd = fd;
  set_nodelay(fd);
  peer_text(fd, c.peer, sizeof c.peer);
  ++live_clients_;
  bump(counters_.connections_accepted);
  bump(counters_.connections_active);
  // The header timeout covers the TLS handshake too.
  timers_.arm(c.timer, now_ms_, gw.timeouts.client_header_ms);
  c.timer.kind = kTimerClientHeader;
  const uint32_t config_index = l.config_index;
  if (config_index < snapshot_->listener_tls.size() &&
      snapshot_->listener_tls[config_index].contexts) {
    if (!start_client_tls(slot, config_index)) return;
  } else {
    bump(counters_.transport_plain);
  }
  post_client_recv(slot);
}

uint32_t Worker::alloc_client() noexcept {
  uint32_t slot;
  if (!free_clients_.empty()) {
    slot = free_clients_.back();
    free_clients_.pop_back();
  } else {
    slot = static_cast<uint32_t>(clients_.size());
    clients_.push_back(std::make_unique<ClientConn>());
  }
  ClientConn& c = *clients_[slot];
  c.open = true;
  c.ops = 0;
  c.recv_posted = c.send_posted = c.closing = c.close_after_send = c.starved = false;
  c.phase = ClientPhase::kIdle;
  c.pending_in.clear();
  c.io.reset();
  c.backend = kNoSlot;
  c.pool = kNoSlot;
  c.api = nullptr;
  c.request_done = c.response_started = false;
  c.timer.owner = slot;
  return slot;
}

void Worker::post_client_recv(uint32_t slot) noexcept {
  ClientConn& c = *clients_[slot];
  if (c.recv_posted || c.closing) return;
  if (c.io.ktls_wanted && !c.send_posted && c.io.pending() == 0 &&
      !offload_ktls(c.fd, c.io, "client connection")) {
    close_client(slot);
    return;
  }
  if (!ring_.recv_select(c.fd, buffers_.buffer_size(), buffers_.group_id(),
                         encode_user_data(Op::kClientRecv, slot, c.generation))) {
    close_client(slot);
    return;
  }
  c.recv_posted = true;
  ++c.ops;
}

void Worker::flush_client(uint32_t slot) noexcept {
  ClientConn& c = *clients_[slot];
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
  c.send_posted = true;
  ++c.ops;
}

void Worker::on_client_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept {
  ClientConn& c = *clients_[slot];
  --c.ops;
  c.recv_posted = false;
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
  if (cqe.res == -ECANCELED) {  // withdrawn for the kTLS hand-over
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

void Worker::on_client_send(uint32_t slot, int res) noexcept {
  ClientConn& c = *clients_[slot];
  --c.ops;
  c.send_posted = false;
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
  if (c.io.ktls_wanted && c.recv_posted) cancel_recv(Op::kClientRecv, slot, c.generation);
  // Everything written.
  if (c.close_after_send) {
    linger_client(slot);
    return;
  }
  if (c.phase == ClientPhase::kIdle && c.req && !c.req->parser.in_message() &&
      c.pending_in.empty()) {
    release_request_state(c);
  }
  // A response waiting on this client's backpressure may read on.
  if (c.phase == ClientPhase::kProxying && c.backend != kNoSlot) {
    BackendConn& b = *backends_[c.backend];
    if (!b.recv_posted && b.state == BackendState::kBusy) post_backend_recv(c.backend);
  }
}

RequestState& Worker::request_state(ClientConn& c) noexcept {
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
void Worker::release_request_state(ClientConn& c) noexcept {
  if (!c.req) return;
  // A response still going out keeps its buffers; on_client_send comes back.
  if (c.io.pending() != 0 || c.send_posted) return;
  c.io.exchange_storage(c.req->send_out, c.req->send_wire);
  if (spare_requests_.size() < 4096) spare_requests_.push_back(std::move(c.req));
  c.req.reset();
}

void Worker::arm_client_wait(uint32_t slot) noexcept {
  ClientConn& c = *clients_[slot];
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
void Worker::linger_client(uint32_t slot) noexcept {
  ClientConn& c = *clients_[slot];
  c.phase = ClientPhase::kLingering;
  ::shutdown(c.fd, SHUT_WR);
  c.timer.kind = kTimerLinger;
  timers_.arm(c.timer, now_ms_, kLingerMs);
  post_client_recv(slot);
}

void Worker::close_client(uint32_t slot) noexcept {
  ClientConn& c = *clients_[slot];
  if (c.closing || !c.open) return;
  finish_access(slot, 0);
  c.closing = true;
  timers_.cancel(c.timer);
  if (c.backend != kNoSlot) {
    const uint32_t b = c.backend;
    c.backend = kNoSlot;
    backends_[b]->client = kNoSlot;
    close_backend(b);
  }
  ::shutdown(c.fd, SHUT_RDWR);
  maybe_free_client(slot);
}

void Worker::maybe_free_client(uint32_t slot) noexcept {
  ClientConn& c = *clients_[slot];
  if (!c.closing || c.ops != 0) return;
  ::close(c.fd);
  c.fd = -1;
  c.open = false;
  ++c.generation;
  c.io.reset();
  c.io.trim(64 * 1024);
  release_request_state(c);
  free_clients_.push_back(slot);
  --live_clients_;
  bump(counters_.connections_active, static_cast<uint64_t>(-1));
}

// Withdraws a posted recv; its completion (-ECANCELED, or data that raced
// the cancel) arrives as usual and posts the next one.
void Worker::cancel_recv(Op op, uint32_t slot, uint32_t generation) noexcept {
  // Unqueued, the recv simply stays: the hand-over waits for its completion.
  (void)ring_.cancel(encode_user_data(op, slot, generation), encode_user_data(Op::kCancel, 0, 0));
}

void Worker::retry_starved() noexcept {
  if (!starved_clients_.empty()) {
    std::vector<uint32_t> list;
    list.swap(starved_clients_);
    for (uint32_t slot : list) {
      ClientConn& c = *clients_[slot];
      c.starved = false;
      if (c.closing) {
        maybe_free_client(slot);
      } else {
        post_client_recv(slot);
      }
    }
  }
  if (!starved_backends_.empty()) {
    std::vector<uint32_t> list;
    list.swap(starved_backends_);
    for (uint32_t slot : list) {
      BackendConn& b = *backends_[slot];
      b.starved = false;
      if (b.closing) {
        maybe_free_backend(slot);
      } else {
        post_backend_recv(slot);
      }
    }
  }
}

uint32_t Worker::alloc_backend() noexcept {
  uint32_t slot;
  if (!free_backends_.empty()) {
    slot = free_backends_.back();
    free_backends_.pop_back();
  } else {
    slot = static_cast<uint32_t>(backends_.size());
    backends_.push_back(std::make_unique<BackendConn>());
  }
  BackendConn& b = *backends_[slot];
  b.open = true;
  b.ops = 0;
  b.recv_posted = b.send_posted = b.closing = b.starved = false;
  b.state = BackendState::kConnecting;
  b.client = kNoSlot;
  b.pool = kNoSlot;
  b.reused = false;
  b.spare = false;
  b.io.reset();
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
uint32_t Worker::connect_backend(uint32_t pool_index, bool spare) noexcept {
  WorkerPool& pool = pools_[pool_index];
  const int fd = ::socket(pool.address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return kNoSlot;
  set_nodelay(fd);
  const uint32_t slot = alloc_backend();
  BackendConn& b = *backends_[slot];
  b.fd = fd;
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

void Worker::post_backend_recv(uint32_t slot) noexcept {
  BackendConn& b = *backends_[slot];
  if (b.recv_posted || b.closing || b.starved) return;
  if (b.io.ktls_wanted && !b.send_posted && b.io.pending() == 0 &&
      !offload_ktls(b.fd, b.io, "backend connection")) {
    backend_failed(slot, "kTLS hand-over failed", 502);
    return;
  }
  if (!ring_.recv_select(b.fd, buffers_.buffer_size(), buffers_.group_id(),
                         encode_user_data(Op::kBackendRecv, slot, b.generation))) {
    backend_failed(slot, "cannot queue a receive (submission queue refused)", 502);
    return;
  }
  b.recv_posted = true;
  ++b.ops;
}

void Worker::flush_backend(uint32_t slot) noexcept {
  BackendConn& b = *backends_[slot];
  if (b.send_posted || b.closing || b.state == BackendState::kConnecting) return;
  const char* data = nullptr;
  size_t len = 0;
  if (!b.io.next_send(data, len, b.state != BackendState::kHandshaking)) {
    backend_failed(slot, "TLS encode failed", 502);
    return;
  }
  if (len == 0) return;
  if (!ring_.send(b.fd, data, len, encode_user_data(Op::kBackendSend, slot, b.generation))) {
    backend_failed(slot, "cannot queue a send (submission queue refused)", 502);
    return;
  }
  b.send_posted = true;
  ++b.ops;
}

void Worker::on_backend_connect(uint32_t slot, int res) noexcept {
  BackendConn& b = *backends_[slot];
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
    backend_failed(slot, reason, 502);
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
void Worker::backend_ready(uint32_t slot) noexcept {
  BackendConn& b = *backends_[slot];
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
  clients_[b.client]->sent_at_us = now_us();
  flush_backend(slot);
  post_backend_recv(slot);
}

void Worker::backend_accepted(WorkerPool& pool) noexcept {
  pool.pool.on_connect_success();
  if (pool.failing) {
    log_.info("pool %s: backend reachable again", pool.pool.key_text().c_str());
    pool.failing = false;
  }
}

void Worker::on_backend_send(uint32_t slot, int res) noexcept {
  BackendConn& b = *backends_[slot];
  --b.ops;
  b.send_posted = false;
  if (b.closing) {
    maybe_free_backend(slot);
    return;
  }
  if (res < 0) {
    if (b.state == BackendState::kHandshaking) pools_[b.pool].connect_failed(now_ms_);
    char reason[512];
    std::snprintf(reason, sizeof reason, "send to backend failed: %s", std::strerror(-res));
    backend_failed(slot, reason, 502);
    return;
  }
  b.io.on_sent(static_cast<size_t>(res));
  flush_backend(slot);
  if (b.send_posted) return;
  if (b.io.ktls_wanted && b.recv_posted) cancel_recv(Op::kBackendRecv, slot, b.generation);
  if (b.client == kNoSlot) return;
  // Everything queued is written out: the client may send more body, or,
  // when the request is complete, its response time starts now.
  ClientConn& c = *clients_[b.client];
  if (c.request_done && b.state == BackendState::kBusy && !c.response_started) {
    arm_response_timer(slot);
  }
  if (c.phase == ClientPhase::kProxying && !c.request_done) post_client_recv(b.client);
}

void Worker::on_backend_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept {
  BackendConn& b = *backends_[slot];
  --b.ops;
  b.recv_posted = false;
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
  if (cqe.res == -ECANCELED) {  // withdrawn for the kTLS hand-over
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

void Worker::remove_idle(uint32_t slot) noexcept {
  BackendConn& b = *backends_[slot];
  if (b.state != BackendState::kIdle || b.pool == kNoSlot) return;
  WorkerPool& wp = pools_[b.pool];
  if (wp.pool.remove_idle(slot)) bump(wp.counters->idle, static_cast<uint64_t>(-1));
  b.state = BackendState::kBusy;
}

void Worker::release_to_pool(uint32_t slot) noexcept {
  BackendConn& b = *backends_[slot];
  WorkerPool& wp = pools_[b.pool];
  b.client = kNoSlot;
  b.reused = false;
  if (!wp.pool.live || draining_) {
    close_backend(slot);
    return;
  }
  b.state = BackendState::kIdle;
  b.parser.reset();
  wp.pool.put_idle(slot);
  bump(wp.counters->idle);
  b.timer.kind = kTimerPoolIdle;
  timers_.arm(b.timer, now_ms_, snapshot_->config->gateway.pool.idle_timeout_ms);
  post_backend_recv(slot);
}

void Worker::close_backend(uint32_t slot) noexcept {
  BackendConn& b = *backends_[slot];
  if (b.closing || !b.open) return;
  remove_idle(slot);
  b.closing = true;
  timers_.cancel(b.timer);
  if (b.client != kNoSlot) {
    clients_[b.client]->backend = kNoSlot;
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

void Worker::maybe_free_backend(uint32_t slot) noexcept {
  BackendConn& b = *backends_[slot];
  if (!b.closing || b.ops != 0) return;
  ::close(b.fd);
  b.fd = -1;
  b.open = false;
  ++b.generation;
  if (b.pool != kNoSlot) {
    WorkerPool& wp = pools_[b.pool];
    wp.pool.on_closed();
    bump(wp.counters->open, static_cast<uint64_t>(-1));
    if (!wp.pool.live && wp.pool.open() == 0) reap_pending_ = true;
  }
  bump(counters_.backend_connections_active, static_cast<uint64_t>(-1));
  b.io.reset();
  b.io.trim(64 * 1024);
  free_backends_.push_back(slot);
  if (b.pool != kNoSlot) refill_pool(b.pool);
}

void Worker::on_timer(TimerNode& node) noexcept {
  const uint32_t slot = node.owner;
  switch (node.kind) {
    case kTimerClientHeader:
    case kTimerClientBody: {
      ClientConn& c = *clients_[slot];
      if (c.closing) return;
      if (c.phase == ClientPhase::kIdle ||
          (c.phase == ClientPhase::kProxying && !c.response_started)) {
        if (c.backend != kNoSlot) close_backend(c.backend);
        respond_local(slot, 408, true);
      } else {
        close_client(slot);
      }
      return;
    }
    case kTimerClientIdle:
    case kTimerLinger:
      close_client(slot);
      return;
    case kTimerBackendConnect: {
      WorkerPool& wp = pools_[backends_[slot]->pool];
      char reason[512];
      std::snprintf(reason, sizeof reason, "connect to %s timed out", wp.pool.key_text().c_str());
      wp.connect_failed(now_ms_);
      backend_failed(slot, reason, 502);
      return;
    }
    case kTimerBackendResponse:
      backend_failed(slot, "backend response timed out", 504);
      return;
    case kTimerPoolIdle: {
      // Idle connections beyond minIdle age out; the warm core stays.
      BackendConn& b = *backends_[slot];
      const config::Pool& settings = snapshot_->config->gateway.pool;
      if (pools_[b.pool].pool.live && pools_[b.pool].pool.idle_count() <= settings.min_idle) {
        timers_.arm(b.timer, now_ms_, settings.idle_timeout_ms);
      } else {
        close_backend(slot);
      }
      return;
    }
    case kTimerPoolRefill:
      refill_pool(slot);
      return;
    case kTimerAcceptResume:
      if (!draining_) post_accept(slot);
      return;
    default:
      return;
  }
}

}  // namespace ringgate::core
