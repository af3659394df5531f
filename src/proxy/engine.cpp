#include "proxy/engine.hpp"

#include <liburing.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace ringgate::proxy {

Engine::Engine(uint32_t index, core::WorkerShared& shared, uint64_t now_ms)
    : index_(index),
      shared_(shared),
      counters_(shared.metrics->worker(index)),
      timers_(now_ms),
      now_ms_(now_ms),
      log_(shared.logs->buffers(index), shared.logs, counters_) {}

Engine::~Engine() = default;

void Engine::on_completion(const UserData& ud, const io_uring_cqe& cqe) noexcept {
  const bool client_op = ud.op == Op::kClientRecv || ud.op == Op::kClientSend;
  const bool current = client_op ? clients_.current(ud.slot, ud.generation)
                                 : backends_.current(ud.slot, ud.generation);
  if (!current) {
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

bool Engine::post_recv(int fd, uint64_t user_data) noexcept {
  if (multishot_) return ring_.recv_multishot(fd, buffers_.group_id(), user_data);
  return ring_.recv_select(fd, buffers_.buffer_size(), buffers_.group_id(), user_data);
}

void Engine::withdraw_recv(net::Connection& conn, Op op, uint32_t slot) noexcept {
  if (!conn.recv_posted || conn.cancel_sent) return;
  // Unqueued, the recv simply stays armed: the next completion tries again.
  conn.cancel_sent = ring_.cancel(encode_user_data(op, slot, conn.generation),
                                  encode_user_data(Op::kCancel, 0, 0));
}

void Engine::switch_pools() noexcept {
  pools_.for_each([](uint32_t, WorkerPool& wp) { wp.pool.live = false; });
  pool_of_spec_.assign(snapshot_->pools.size(), kNoSlot);
  for (size_t i = 0; i < snapshot_->pools.size(); ++i) {
    const uint32_t p = find_pool(snapshot_->pools[i]);
    pools_[p].pool.live = true;
    pools_[p].address = snapshot_->pools[i].address;
    pool_of_spec_[i] = p;
  }
  // Pools whose key vanished drain: idle connections close now, busy ones
  // close when their exchange ends (release_to_pool checks `live`), and
  // requests waiting for one of their connections get 503.
  pools_.for_each([this](uint32_t, WorkerPool& wp) {
    if (wp.pool.live) return;
    fail_waiters(wp, "the backend pool left the configuration while the request waited");
    timers_.cancel(wp.refill_timer);
    while (wp.pool.idle_count() > 0) close_backend(wp.pool.idle().back());
    reap_pending_ = true;
  });
  api_of_route_.clear();
  for (const core::RouteTarget& route : snapshot_->routes) {
    api_of_route_.push_back(&shared_.metrics->api(route.api_id, index_));
  }
  // A raised maxPerKey makes room for requests waiting in kept pools.
  const uint32_t max_per_key = snapshot_->config->gateway.pool.max_per_key;
  pools_.for_each([this, max_per_key](uint32_t, WorkerPool& wp) {
    for (uint32_t waiter = wp.pool.admit_waiter(max_per_key); waiter != upstream::kNoWaiter;
         waiter = wp.pool.admit_waiter(max_per_key)) {
      end_wait(waiter, kNoSlot);
    }
  });
  // Pools kept from the previous snapshot are still warm; new ones fill now.
  pools_.for_each([this](uint32_t p, WorkerPool&) { refill_pool(p); });
  reap_pools();
}

void Engine::close_idle_clients() noexcept {
  pools_.for_each([this](uint32_t, WorkerPool& wp) {
    fail_waiters(wp, "the gateway is shutting down and no backend connection is free");
  });
  clients_.for_each([this](uint32_t slot, ClientConn& c) {
    if (c.open && !c.closing && c.phase == ClientPhase::kIdle &&
        !(c.req && c.req->parser.in_message()) && c.pending_in.empty()) {
      close_client(slot);
    }
  });
}

void Engine::close_everything() noexcept {
  clients_.for_each([](uint32_t, ClientConn& c) {
    if (c.open) ::close(c.fd);
  });
  backends_.for_each([](uint32_t, BackendConn& b) {
    if (b.open) ::close(b.fd);
  });
}

uint64_t Engine::now_us() const noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

void Engine::on_timer(core::TimerNode& node) noexcept {
  const uint32_t slot = node.owner;
  switch (node.kind) {
    case kTimerClientHeader:
    case kTimerClientBody: {
      ClientConn& c = clients_[slot];
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
    case kTimerPoolWait: {
      ClientConn& c = clients_[slot];
      if (c.closing || c.phase != ClientPhase::kWaiting) return;
      WorkerPool& wp = pools_[c.pool];
      bump(wp.counters->wait_timeouts);
      log_.warn("pool %s: no connection free within waitTimeoutMs (%u)", wp.pool.key_text().c_str(),
                snapshot_->config->gateway.pool.wait_timeout_ms);
      note_error(c, "no backend connection became free within waitTimeoutMs");
      respond_local(slot, 503, !c.request_done);
      return;
    }
    case kTimerClientIdle:
    case kTimerLinger:
      close_client(slot);
      return;
    case kTimerBackendConnect: {
      WorkerPool& wp = pools_[backends_[slot].pool];
      char reason[512];
      std::snprintf(reason, sizeof reason, "connect to %s timed out", wp.pool.key_text().c_str());
      wp.connect_failed(now_ms_);
      backend_failed(slot, backend_error(reason, Replay::kSafe));
      return;
    }
    case kTimerBackendResponse:
      backend_failed(slot, backend_error("backend response timed out", Replay::kUnsafe, 504));
      return;
    case kTimerPoolIdle: {
      // Idle connections beyond minIdle age out; the warm core stays.
      BackendConn& b = backends_[slot];
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
    default:
      return;
  }
}

void Engine::after_turn() noexcept {
  retry_starved();
  reap_pools();
}

void Engine::retry_starved() noexcept {
  if (!starved_clients_.empty()) {
    std::vector<uint32_t> list;
    list.swap(starved_clients_);
    for (uint32_t slot : list) {
      ClientConn& c = clients_[slot];
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
      BackendConn& b = backends_[slot];
      b.starved = false;
      if (b.closing) {
        maybe_free_backend(slot);
      } else {
        post_backend_recv(slot);
      }
    }
  }
}

// Frees pools whose key left the config once their last connection closed:
// their TLS context (and the client certificate's private key in it) and
// their TLS sessions go with them. Runs between loop turns, never while an
// exchange may still look its pool up by index.
void Engine::reap_pools() noexcept {
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

uint32_t Engine::find_pool(const core::PoolSpec& spec) noexcept {
  const uint32_t index = pools_.find_or_add(spec.key_text, [&](uint32_t slot) {
    auto wp = std::make_unique<WorkerPool>(spec.key_text);
    wp->address = spec.address;
    wp->counters = &shared_.metrics->pool(spec.key_text, index_);
    wp->refill_timer.owner = slot;
    wp->refill_timer.kind = kTimerPoolRefill;
    wp->tls = spec.tls;
    wp->sni = spec.sni;
    wp->tls_context = spec.tls_context;
    return wp;
  });
  counters_.pools_active.store(pools_.size(), std::memory_order_relaxed);
  return index;
}

}  // namespace ringgate::proxy
