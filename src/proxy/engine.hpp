// The proxy on one worker: its client and backend connections, its backend
// pools, and the exchanges between them. The worker (core::Worker) owns the
// loop and hands every connection completion, connection timer and accepted
// socket to the engine; the engine posts its operations on the worker's ring
// and arms the worker's timers. Single-threaded: everything here runs on the
// worker's thread.
//
//   downstream.cpp  client sockets: receive, send, request state, linger, close
//   upstream.cpp    backend sockets: connect, receive, send, the pool, close
//   transport.cpp   TLS on both (handshakes, decryption, the kTLS hand-over)
//   exchange.cpp    one request/response: parse, route, forward, relay, retry
//   access.cpp      the access-log record of a request
//   engine.cpp      completions and timers routed to the above; pools by key
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "core/snapshot.hpp"
#include "core/timer_wheel.hpp"
#include "core/worker_log.hpp"
#include "core/worker_shared.hpp"
#include "io/ring.hpp"
#include "proxy/connections.hpp"
#include "ringgate/exchange_error.hpp"
#include "ringgate/user_data.hpp"
#include "tls/context.hpp"
#include "upstream/keyed_slots.hpp"

struct io_uring_cqe;

namespace ringgate::proxy {

class Engine {
 public:
  Engine(uint32_t index, core::WorkerShared& shared, uint64_t now_ms);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

 protected:
  // A socket the worker accepted; `tls` is the listener's TLS setup (null
  // for plain TCP).
  void accept_client(int fd, const std::shared_ptr<const tls::ServerContexts>& tls) noexcept;
  // A completion of a client or backend operation.
  void on_completion(const UserData& ud, const io_uring_cqe& cqe) noexcept;
  // A connection or pool timer fired.
  void on_timer(core::TimerNode& node) noexcept;
  // Between loop turns: receives that waited for buffers, pools to free.
  void after_turn() noexcept;
  // The snapshot changed: pools are matched to the new one's keys (kept ones
  // stay warm, new ones fill, vanished ones drain) and routes to counters.
  void switch_pools() noexcept;
  // Draining: connections waiting for a request close now, requests waiting
  // for a backend connection get 503; the others finish their exchange and
  // then close (keep-alive is refused while draining).
  void close_idle_clients() noexcept;
  // The loop ended: whatever is still open is closed without ceremony.
  void close_everything() noexcept;
  uint32_t live_clients() const noexcept { return live_clients_; }

  uint32_t index_;
  core::WorkerShared& shared_;
  core::WorkerCounters& counters_;
  io::Ring ring_;
  io::BufferRing buffers_;
  core::TimerWheel timers_;
  uint64_t now_ms_ = 0;
  std::shared_ptr<const core::Snapshot> snapshot_;
  core::WorkerLog log_;  // every log line a worker writes goes here
  bool draining_ = false;

 private:
  class RequestBodySink;
  class ResponseBodySink;

  uint64_t now_us() const noexcept;
  // Re-posts the receives that found no provided buffer.
  void retry_starved() noexcept;
  // Posts a receive into the provided buffers: multishot where the kernel
  // has it, one-shot otherwise.
  bool post_recv(int fd, uint64_t user_data) noexcept;
  // Withdraws an armed receive (once); its completion (-ECANCELED, or data
  // that raced the cancel) arrives as usual and re-arms it if wanted again.
  void withdraw_recv(net::Connection& conn, Op op, uint32_t slot) noexcept;

  // Downstream: the client socket.
  uint32_t alloc_client() noexcept;
  void post_client_recv(uint32_t slot) noexcept;
  void flush_client(uint32_t slot) noexcept;
  void on_client_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept;
  void handle_client_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept;
  void on_client_send(uint32_t slot, int res) noexcept;
  // The client's input ended (EOF, close_notify). True when an exchange is
  // under way and its response still goes out; false: close the connection.
  bool client_input_ended(uint32_t slot) noexcept;
  void end_after_input(uint32_t slot) noexcept;
  void close_client(uint32_t slot) noexcept;
  void linger_client(uint32_t slot) noexcept;
  void maybe_free_client(uint32_t slot) noexcept;
  void arm_client_wait(uint32_t slot) noexcept;
  RequestState& request_state(ClientConn& c) noexcept;
  void release_request_state(ClientConn& c) noexcept;

  // Upstream: the backend socket and its pool.
  uint32_t alloc_backend() noexcept;
  uint32_t connect_backend(uint32_t pool, bool spare) noexcept;
  void refill_pool(uint32_t pool) noexcept;
  void post_backend_recv(uint32_t slot) noexcept;
  void flush_backend(uint32_t slot) noexcept;
  void on_backend_connect(uint32_t slot, int res) noexcept;
  void backend_ready(uint32_t slot) noexcept;
  // A new connection of `pool` works (TLS: the backend accepted the
  // handshake): the back-off streak ends.
  void backend_accepted(WorkerPool& pool) noexcept;
  void on_backend_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept;
  void handle_backend_recv(uint32_t slot, const io_uring_cqe& cqe) noexcept;
  void on_backend_send(uint32_t slot, int res) noexcept;
  void close_backend(uint32_t slot) noexcept;
  void maybe_free_backend(uint32_t slot) noexcept;
  // `slot`, out of its pool's idle set or just released, serves a request.
  void reuse_backend(uint32_t slot) noexcept;
  void release_to_pool(uint32_t slot) noexcept;
  void remove_idle(uint32_t slot) noexcept;
  uint32_t find_pool(const core::PoolSpec& spec) noexcept;
  void reap_pools() noexcept;

  // TLS on both kinds of connection.
  bool start_backend_tls(uint32_t slot) noexcept;
  // Runs received wire bytes through the connection's TLS; leaves decrypted
  // bytes in io.plain_in(). Returns false when the connection was dealt with
  // (failed, still handshaking, or nothing for the application).
  bool backend_tls_input(uint32_t slot, const char* data, size_t len, bool& peer_closed) noexcept;
  void on_backend_handshake_done(uint32_t slot) noexcept;
  bool start_client_tls(uint32_t slot,
                        const std::shared_ptr<const tls::ServerContexts>& contexts) noexcept;
  bool client_tls_input(uint32_t slot, const char* data, size_t len) noexcept;
  // kTLS hand-over once a connection is quiet; false when it was failed.
  bool offload_ktls(int fd, net::Channel& io, const char* who) noexcept;
  // A recv on a kTLS socket failed with EIO: a non-data record waits.
  // Reads and classifies it (kIgnore also when nothing was there after all).
  tls::ControlRecordAction read_control_record(int fd, const char* who) noexcept;

  // The exchange.
  void process_client_input(uint32_t slot, const char* data, size_t len) noexcept;
  bool start_exchange(uint32_t slot) noexcept;
  // Gives the client's routed request a backend connection of its pool: an
  // idle one (unless `fresh_only`), a new one, or, at maxPerKey, a place in
  // the pool's wait list (phase kWaiting); 503 when the list is full or the
  // gateway drains.
  void attach_backend(uint32_t client, bool fresh_only) noexcept;
  // Connects client and backend and sends what the request has so far.
  void hand_backend(uint32_t client, uint32_t backend) noexcept;
  // A waiting request's turn came: `backend` was freed for it, or is kNoSlot
  // when a connection closed and it may open one of its own.
  void end_wait(uint32_t client, uint32_t backend) noexcept;
  // Takes a waiting client off its pool's wait list (the wait is over).
  void leave_wait_list(uint32_t client) noexcept;
  // Answers every request waiting in `pool` 503 with `reason`.
  void fail_waiters(WorkerPool& pool, const char* reason) noexcept;
  void on_request_complete(uint32_t slot) noexcept;
  void keep_reading_during_exchange(uint32_t slot) noexcept;
  void process_backend_input(uint32_t slot, const char* data, size_t len) noexcept;
  void on_backend_eof(uint32_t slot, int res) noexcept;
  void on_response_head(uint32_t client, uint32_t backend) noexcept;
  void finish_exchange(uint32_t client, bool backend_reusable) noexcept;
  void backend_failed(uint32_t backend, const ExchangeError& error) noexcept;
  void respond_local(uint32_t client, int status, bool close) noexcept;
  void resume_client(uint32_t slot) noexcept;
  bool client_backpressured(const ClientConn& c) const noexcept;
  void arm_response_timer(uint32_t backend) noexcept;

  // The access log: the exchange reports what happened; a line is written
  // when the request ends.
  bool access_log_on() const noexcept;
  // At a request's first byte (a no-op inside a request).
  void begin_access(ClientConn& c) noexcept;
  // The head parsed; `url` is the target the router sees. Takes the
  // client's X-Request-Id or makes one.
  void note_request(ClientConn& c, const http::MessageHead& head, std::string_view url) noexcept;
  // Routed: the backend URL and certificate; forwards a generated
  // X-Request-Id by adding it to the backend head.
  void note_route(ClientConn& c, const core::RouteTarget& route,
                  std::string_view backend_target) noexcept;
  void note_backend_response(ClientConn& c, const BackendConn& b) noexcept;
  // Why the gateway answers (or ends) the request itself.
  void note_error(ClientConn& c, std::string_view reason) noexcept;
  // The request ended: `status` is the local response sent, or 0 when the
  // backend's response was relayed or none was sent. Writes its line once.
  void finish_access(uint32_t client, int status) noexcept;

  std::vector<uint32_t> pool_of_spec_;            // snapshot pool index → worker pool
  std::vector<core::ApiCounters*> api_of_route_;  // snapshot route index → counters
  upstream::KeyedSlots<WorkerPool> pools_;        // by pool key; slots stable while a pool lives
  bool reap_pending_ = false;                     // a pool that left the config may be free to go

  net::SlotTable<ClientConn> clients_;
  net::SlotTable<BackendConn> backends_;
  std::vector<uint32_t> starved_clients_;
  std::vector<uint32_t> starved_backends_;
  uint32_t live_clients_ = 0;
  std::vector<std::unique_ptr<RequestState>> spare_requests_;
  tls::SessionCache sessions_;     // per pool key, for TLS resumption
  std::string scratch_;            // reused: backend target, pipelined input
  std::string normalized_target_;  // reused: the request-target being routed
  bool multishot_ = true;          // off after a kernel refused a multishot receive
};

}  // namespace ringgate::proxy
