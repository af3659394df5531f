// The two kinds of connection a worker proxies between, and a backend pool
// as one worker holds it. Both connection kinds are net::Connection (slot,
// generation, operations in flight, close protocol, byte plumbing) plus what
// their role needs.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/access_log.hpp"
#include "core/metrics.hpp"
#include "core/snapshot.hpp"
#include "core/timer_wheel.hpp"
#include "http/header_edit.hpp"
#include "http/parser.hpp"
#include "net/connection.hpp"
#include "tls/ktls.hpp"
#include "upstream/pool.hpp"

namespace ringgate::proxy {

using core::bump;

inline constexpr uint32_t kNoSlot = UINT32_MAX;

enum class ClientPhase : uint8_t {
  kIdle,       // between requests (or before the first): reading a request head
  kWaiting,    // routed; in its pool's wait list until a backend connection is free
  kProxying,   // an exchange with a backend is under way
  kLocal,      // sending a response the gateway made itself
  kLingering,  // response sent, write side shut: draining input before close
};

enum class BackendState : uint8_t { kConnecting, kHandshaking, kIdle, kBusy };

enum TimerKind : uint8_t {
  kTimerClientHeader = 1,  // request head not complete in time → 408
  kTimerClientIdle,        // keep-alive connection idle → close
  kTimerClientBody,        // request body stalled → 408
  kTimerLinger,            // lingering close done
  kTimerPoolWait,          // no backend connection freed within waitTimeoutMs → 503
  kTimerBackendConnect,    // → 502
  kTimerBackendResponse,   // no response byte for too long → 504
  kTimerPoolIdle,          // pooled connection unused for idleTimeoutMs → close
  kTimerPoolRefill,        // owner = pool: open connections up to minIdle
  kTimerAcceptResume,      // owner = listener: accepting was paused (EMFILE)
};

// What a backend connection does after a non-data TLS record arrived on its
// kTLS socket. A connection in an exchange ends it (close_notify: the
// backend closed; an error: 502). An idle pooled connection has no exchange
// and no client: it is closed (the pool refills), or reads on after a ticket.
enum class ControlRecordStep : uint8_t { kReadOn, kCloseIdleConnection, kEndExchange };
constexpr ControlRecordStep after_control_record(tls::ControlRecordAction action,
                                                 bool in_exchange) noexcept {
  if (action == tls::ControlRecordAction::kIgnore) return ControlRecordStep::kReadOn;
  return in_exchange ? ControlRecordStep::kEndExchange : ControlRecordStep::kCloseIdleConnection;
}

struct RequestState {
  explicit RequestState(const http::ParserLimits& limits)
      : parser(http::MessageKind::kRequest, limits) {}
  http::MessageParser parser;
  std::string backend_head;  // the rewritten head, kept for a replay
  // Body bytes that arrived while the request waited for a backend
  // connection; they go out after the head once it has one.
  std::string held_body;
  // The connection's send buffers travel with the request state, so an idle
  // connection holds no buffer capacity either.
  std::string send_out;
  std::string send_wire;
  core::AccessRecord access;
};

struct ClientConn : net::Connection {
  bool close_after_send = false;
  // The client ended its input (EOF or close_notify) while a response was on
  // its way: that response and any pipelined ones still go out, then the
  // connection closes instead of reading again.
  bool input_ended = false;
  ClientPhase phase = ClientPhase::kIdle;
  // Per-request state, taken from the worker's spares on a request's first
  // byte and handed back when the connection goes idle: an idle keep-alive
  // connection holds no parser and no buffers, and nothing is allocated per
  // request in steady state.
  std::unique_ptr<RequestState> req;
  std::string pending_in;  // received but not yet parsed (pipelined requests)
  core::TimerNode timer;
  char peer[48] = {};

  // The current exchange.
  uint32_t backend = kNoSlot;
  uint32_t pool = kNoSlot;  // worker pool index
  core::ApiCounters* api = nullptr;
  const std::vector<http::HeaderEdit>* response_edits = nullptr;  // kept alive by `pinned`
  std::shared_ptr<const core::Snapshot> pinned;  // set only when the route edits responses
  bool request_done = false;
  bool response_started = false;
  bool keep_alive = true;
  bool head_request = false;
  bool chunked_request = false;
  bool replayable = false;           // http::is_replayable_request()
  uint32_t response_timeout_ms = 0;  // <forward-request timeout> or backendResponseMs
  bool retried = false;
  uint8_t version_minor = 1;
  uint64_t sent_at_us = 0;
};

struct BackendConn : net::Connection {
  BackendState state = BackendState::kConnecting;
  uint32_t pool = kNoSlot;
  uint32_t client = kNoSlot;
  bool reused = false;  // taken from the pool for the current exchange
  bool spare = false;   // opened to keep minIdle warm, not for a waiting request
  http::MessageParser parser{http::MessageKind::kResponse, http::ParserLimits{}};
  core::TimerNode timer;
  core::BackendAddress address;
  uint64_t requests = 0;
};

// One pool key's connections on this worker: the bookkeeping (upstream::Pool)
// plus what the worker needs to open more.
struct WorkerPool {
  explicit WorkerPool(std::string key_text) : pool(std::move(key_text)) {}
  upstream::Pool pool;
  core::BackendAddress address;
  core::PoolCounters* counters = nullptr;
  core::TimerNode refill_timer;
  bool failing = false;  // the last connect failed (logged once per streak)
  // TLS to the backend: the key's client context, built and checked with the
  // snapshot and shared by every worker (SSL_new only; nothing modifies it).
  bool tls = false;
  std::string sni;
  std::shared_ptr<SSL_CTX> tls_context;

  // A connection of this key failed to connect or to complete its TLS
  // handshake: counted, and the refill backs off. Once per connection.
  void connect_failed(uint64_t now_ms) noexcept {
    core::bump(counters->connect_failures);
    pool.on_connect_failure(now_ms);
  }
};

}  // namespace ringgate::proxy
