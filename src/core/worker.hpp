// A worker: one pinned thread owning one io_uring, its own SO_REUSEPORT
// listening sockets, a provided-buffer ring, a timer wheel, its client and
// backend connection slots and its backend pools. Nothing here is shared with
// other workers; the control thread talks to it only through WorkerShared
// (a new config snapshot, the stop flag) and an eventfd wake-up.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/metrics.hpp"
#include "core/snapshot.hpp"
#include "core/timer_wheel.hpp"
#include "http/parser.hpp"
#include "io/ring.hpp"
#include "net/channel.hpp"
#include "ringgate/user_data.hpp"
#include "tls/context.hpp"
#include "tls/ktls.hpp"
#include "upstream/keyed_slots.hpp"
#include "upstream/pool.hpp"

struct io_uring_cqe;

namespace ringgate::core {

// Latest published snapshot. publish() from the control thread; workers poll
// generation() (one relaxed load per loop turn) and take the lock only when it
// changed.
class SnapshotBox {
 public:
  void publish(std::shared_ptr<const Snapshot> snapshot);
  std::shared_ptr<const Snapshot> get() const;
  uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<uint64_t> generation_{0};
};

struct WorkerShared {
  SnapshotBox snapshots;
  std::atomic<bool> stopping{false};
  bool ktls_available = false;  // probed once at start
  Metrics* metrics = nullptr;
};

inline constexpr uint32_t kNoSlot = UINT32_MAX;

enum class ClientPhase : uint8_t {
  kIdle,       // between requests (or before the first): reading a request head
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
  kTimerBackendConnect,    // → 502
  kTimerBackendResponse,   // no response byte for too long → 504
  kTimerPoolIdle,          // pooled connection unused for idleTimeoutMs → close
  kTimerPoolRefill,        // owner = pool: open connections up to minIdle
  kTimerAcceptResume,      // owner = listener: accepting was paused (EMFILE)
};

// One listening socket of this worker. Slots are matched to the snapshot's
// listeners by socket, so a reload that reorders, adds or removes listeners
// leaves the others accepting as they were.
struct ListenSlot {
  int fd = -1;
  uint32_t generation = 0;
  uint32_t config_index = 0;  // into Snapshot::listener_tls
  bool accepting = false;     // a multishot accept is in flight
  bool retired = false;       // left the config: closed once its accept ended
  TimerNode resume;           // accepting paused after EMFILE/ENFILE
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
  // The connection's send buffers travel with the request state, so an idle
  // connection holds no buffer capacity either.
  std::string send_out;
  std::string send_wire;
};

struct ClientConn {
  int fd = -1;
  uint32_t generation = 0;
  bool open = false;
  uint16_t ops = 0;  // io_uring operations in flight; freed only at zero
  bool recv_posted = false;
  bool send_posted = false;
  bool closing = false;
  bool close_after_send = false;
  bool starved = false;  // recv got -ENOBUFS; re-posted when buffers return
  ClientPhase phase = ClientPhase::kIdle;
  // Per-request state, taken from the worker's spares on a request's first
  // byte and handed back when the connection goes idle: an idle keep-alive
  // connection holds no parser and no buffers, and nothing is allocated per
  // request in steady state.
  std::unique_ptr<RequestState> req;
  std::string pending_in;  // received but not yet parsed (pipelined requests)
  net::Channel io;
  TimerNode timer;
  char peer[48] = {};

  // The current exchange.
  uint32_t backend = kNoSlot;
  uint32_t pool = kNoSlot;  // worker pool index
  ApiCounters* api = nullptr;
  const std::vector<http::HeaderEdit>* response_edits = nullptr;  // kept alive by snapshot_
  std::shared_ptr<const Snapshot> pinned;  // set only when the route edits responses
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

struct BackendConn {
  int fd = -1;
  uint32_t generation = 0;
  bool open = false;
  uint16_t ops = 0;
  bool recv_posted = false;
  bool send_posted = false;
  bool closing = false;
  bool starved = false;
  BackendState state = BackendState::kConnecting;
  uint32_t pool = kNoSlot;
  uint32_t client = kNoSlot;
  bool reused = false;  // taken from the pool for the current exchange
  bool spare = false;   // opened to keep minIdle warm, not for a waiting request
  http::MessageParser parser{http::MessageKind::kResponse, http::ParserLimits{}};
  net::Channel io;
  TimerNode timer;
  BackendAddress address;
  uint64_t requests = 0;
};

// One pool key's connections on this worker: the bookkeeping (upstream::Pool)
// plus what the worker needs to open more.
struct WorkerPool {
  explicit WorkerPool(std::string key_text) : pool(std::move(key_text)) {}
  upstream::Pool pool;
  BackendAddress address;
  PoolCounters* counters = nullptr;
  TimerNode refill_timer;
  bool failing = false;  // the last connect failed (logged once per streak)
  // TLS to the backend: one client context per key on this worker.
  bool tls = false;
  std::string sni;
  std::shared_ptr<SSL_CTX> tls_context;
  std::string tls_setup_error;  // why tls_context is null
};

class Worker {
 public:
  // The worker's listening sockets come with each snapshot
  // (Snapshot::listener_fds); it owns and closes them once they left.
  Worker(uint32_t index, WorkerShared& shared, int cpu);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread; returns once its ring is up, or with an error message.
  std::string start();
  // Wakes the loop so it notices a new snapshot or the stop flag. Any thread.
  void wake() noexcept;
  void join();

 private:
  class RequestBodySink;
  class ResponseBodySink;

  void run() noexcept;
  bool setup(std::string& error);
  void loop() noexcept;
  void dispatch(const io_uring_cqe& cqe) noexcept;
  void switch_snapshot() noexcept;
  void begin_drain() noexcept;
  void on_timer(TimerNode& node) noexcept;
  void retry_starved() noexcept;
  void cancel_recv(Op op, uint32_t slot, uint32_t generation) noexcept;
  uint64_t now_us() const noexcept;

  // Listening and wake-up.
  void sync_listeners() noexcept;
  void retire_listener(uint32_t listener) noexcept;
  void free_listener(uint32_t listener) noexcept;
  void post_accept(uint32_t listener) noexcept;
  void post_wake_read() noexcept;
  void on_accept(uint32_t listener, uint32_t generation, const io_uring_cqe& cqe) noexcept;

  // Client connection plumbing (worker.cpp).
  uint32_t alloc_client() noexcept;
  void post_client_recv(uint32_t slot) noexcept;
  void flush_client(uint32_t slot) noexcept;
  void on_client_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept;
  void on_client_send(uint32_t slot, int res) noexcept;
  void close_client(uint32_t slot) noexcept;
  void linger_client(uint32_t slot) noexcept;
  void maybe_free_client(uint32_t slot) noexcept;
  void arm_client_wait(uint32_t slot) noexcept;
  RequestState& request_state(ClientConn& c) noexcept;
  void release_request_state(ClientConn& c) noexcept;

  // Backend connection plumbing (worker.cpp).
  uint32_t alloc_backend() noexcept;
  uint32_t connect_backend(uint32_t pool, bool spare) noexcept;
  void refill_pool(uint32_t pool) noexcept;
  void post_backend_recv(uint32_t slot) noexcept;
  void flush_backend(uint32_t slot) noexcept;
  void on_backend_connect(uint32_t slot, int res) noexcept;
  void backend_ready(uint32_t slot) noexcept;
  // TLS to backends (core/worker_tls.cpp).
  void setup_pool_tls(WorkerPool& pool, const PoolSpec& spec) noexcept;
  bool start_backend_tls(uint32_t slot) noexcept;
  // Runs received wire bytes through the connection's TLS; leaves decrypted
  // bytes in io.plain_in(). Returns false when the connection was dealt with
  // (failed, still handshaking, or nothing for the application).
  bool backend_tls_input(uint32_t slot, const char* data, size_t len, bool& peer_closed) noexcept;
  // kTLS hand-over once a connection is quiet; false when it was failed.
  bool offload_ktls(int fd, net::Channel& io, const char* who) noexcept;
  // A recv on a kTLS socket failed with EIO: a non-data record waits.
  // Reads and classifies it (kIgnore also when nothing was there after all).
  tls::ControlRecordAction read_control_record(int fd, const char* who) noexcept;
  // TLS listeners: the server side of a client connection.
  bool start_client_tls(uint32_t slot, uint32_t listener) noexcept;
  bool client_tls_input(uint32_t slot, const char* data, size_t len) noexcept;
  void on_backend_handshake_done(uint32_t slot) noexcept;
  void on_backend_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept;
  void on_backend_send(uint32_t slot, int res) noexcept;
  void close_backend(uint32_t slot) noexcept;
  void maybe_free_backend(uint32_t slot) noexcept;
  void release_to_pool(uint32_t slot) noexcept;
  void remove_idle(uint32_t slot) noexcept;
  uint32_t find_pool(const PoolSpec& spec) noexcept;
  void reap_pools() noexcept;

  // The exchange (http/proxy.cpp).
  void process_client_input(uint32_t slot, const char* data, size_t len) noexcept;
  bool start_exchange(uint32_t slot) noexcept;
  void attach_backend(uint32_t client, bool fresh_only) noexcept;
  void on_request_complete(uint32_t slot) noexcept;
  void process_backend_input(uint32_t slot, const char* data, size_t len) noexcept;
  void on_backend_eof(uint32_t slot, int res) noexcept;
  void on_response_head(uint32_t client, uint32_t backend) noexcept;
  void finish_exchange(uint32_t client, bool backend_reusable) noexcept;
  void backend_failed(uint32_t backend, const char* reason, int status) noexcept;
  void respond_local(uint32_t client, int status, bool close) noexcept;
  void resume_client(uint32_t slot) noexcept;
  bool client_backpressured(const ClientConn& c) const noexcept;
  void arm_response_timer(uint32_t backend) noexcept;

  uint32_t index_;
  WorkerShared& shared_;
  WorkerCounters& counters_;
  std::vector<std::unique_ptr<ListenSlot>> listeners_;
  int cpu_;
  int wake_fd_ = -1;
  uint64_t wake_buffer_ = 0;
  bool wake_posted_ = false;
  std::thread* thread_ = nullptr;
  std::promise<std::string> started_;

  io::Ring ring_;
  io::BufferRing buffers_;
  TimerWheel timers_;
  uint64_t now_ms_ = 0;

  std::shared_ptr<const Snapshot> snapshot_;
  uint64_t snapshot_generation_ = 0;
  std::vector<uint32_t> pool_of_spec_;      // snapshot pool index → worker pool
  std::vector<ApiCounters*> api_of_route_;  // snapshot route index → counters
  upstream::KeyedSlots<WorkerPool> pools_;  // by pool key; slots stable while a pool lives
  bool reap_pending_ = false;               // a pool that left the config may be free to go

  std::vector<std::unique_ptr<ClientConn>> clients_;
  std::vector<uint32_t> free_clients_;
  std::vector<std::unique_ptr<BackendConn>> backends_;
  std::vector<uint32_t> free_backends_;
  std::vector<uint32_t> starved_clients_;
  std::vector<uint32_t> starved_backends_;
  uint32_t live_clients_ = 0;
  std::vector<std::unique_ptr<RequestState>> spare_requests_;
  tls::SessionCache sessions_;     // per pool key, for TLS resumption
  std::string scratch_;            // reused: backend target, pipelined input
  std::string normalized_target_;  // reused: the request-target being routed

  bool draining_ = false;
  uint64_t drain_deadline_ms_ = 0;
};

}  // namespace ringgate::core
