#include "core/worker.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/privileges.hpp"
#include "net/listener.hpp"
#include "tls/context.hpp"

namespace ringgate::core {
namespace {

constexpr unsigned kRingEntries = 4096;
constexpr uint32_t kRecvBuffers = 256;
constexpr uint32_t kRecvBufferSize = 16 * 1024;
constexpr uint16_t kBufferGroup = 0;
constexpr uint32_t kAcceptPauseMs = 100;

uint64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace

Worker::Worker(uint32_t index, WorkerShared& shared, int cpu)
    : Engine(index, shared, monotonic_ms()), cpu_(cpu) {
  wake_fd_.reset(eventfd(0, EFD_CLOEXEC));
}

Worker::~Worker() {
  join();
  for (auto& l : listeners_) {
    if (l->fd >= 0) ::close(l->fd);
  }
}

std::string Worker::start() {
  auto ready = started_.get_future();
  thread_ = std::make_unique<std::thread>([this] { run(); });
  return ready.get();
}

void Worker::join() {
  if (thread_ && thread_->joinable()) thread_->join();
  thread_.reset();
}

void Worker::wake() noexcept {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
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
  drop_thread_capabilities();
  if (!wake_fd_) {
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
  close_everything();
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
    const unsigned cqes = ring_.drain([this](const io_uring_cqe& cqe) { dispatch(cqe); });
    now_ms_ = monotonic_ms();
    timers_.advance(now_ms_, [this](TimerNode& node) { fire(node); });
    log_.tick(now_ms_);
    after_turn();
    bump(counters_.loop_turns);
    bump(counters_.loop_cqes, cqes);
    bump(counters_.ring_enters, ring_.enters() - enters_reported_);
    enters_reported_ = ring_.enters();
    if (shared_.snapshots.generation() != snapshot_generation_) {
      snapshot_ = shared_.snapshots.get();
      snapshot_generation_ = snapshot_->generation;
      switch_snapshot();
    }
    if (!draining_ && shared_.stopping.load(std::memory_order_acquire)) begin_drain();
    if (draining_ && (live_clients() == 0 || now_ms_ >= drain_deadline_ms_)) return;
  }
}

void Worker::switch_snapshot() noexcept {
  sync_listeners();
  switch_pools();
  // From here on every request this worker starts runs on the new snapshot.
  counters_.snapshot_generation.store(snapshot_->generation, std::memory_order_release);
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
  // exchange and then close.
  close_idle_clients();
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
    l.resume.kind = proxy::kTimerAcceptResume;
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
  wake_posted_ = ring_.read(wake_fd_.get(), &wake_buffer_, sizeof wake_buffer_,
                            encode_user_data(Op::kWake, 0, 0));
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
  on_completion(ud, cqe);
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
  if (draining_ || live_clients() >= gw.limits.max_connections) {
    bump(counters_.connections_rejected);
    ::close(fd);
    return;
  }
  const uint32_t config_index = l.config_index;
  std::shared_ptr<const tls::ServerContexts> tls;
  if (config_index < snapshot_->listener_tls.size())
    tls = snapshot_->listener_tls[config_index].contexts;
  accept_client(fd, tls);
}

void Worker::fire(TimerNode& node) noexcept {
  if (node.kind == proxy::kTimerAcceptResume) {
    if (!draining_) post_accept(node.owner);
    return;
  }
  on_timer(node);
}

}  // namespace ringgate::core
