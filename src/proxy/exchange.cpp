// The request/response exchange between a client connection and a backend
// connection: parse, route, rewrite, stream both ways with backpressure,
// return the backend connection to its pool, retry a replayable request once.
#include <cstring>

#include "http/error_response.hpp"
#include "http/header_edit.hpp"
#include "http/path.hpp"
#include "http/retry.hpp"
#include "http/rewrite.hpp"
#include "proxy/engine.hpp"

namespace ringgate::proxy {

using core::kLatencyBucketsSeconds;
using core::RouteTarget;
namespace {

// Bytes queued towards one peer above which we stop reading from the other.
constexpr size_t kBackpressureBytes = 64 * 1024;

size_t latency_bucket(uint64_t micros) {
  const double seconds = static_cast<double>(micros) / 1e6;
  for (size_t i = 0; i < kLatencyBucketsSeconds.size(); ++i) {
    if (seconds <= kLatencyBucketsSeconds[i]) return i;
  }
  return kLatencyBucketsSeconds.size();
}

bool is_interim(int status) { return status >= 100 && status < 200 && status != 101; }

}  // namespace

// Re-frames decoded body bytes for the next hop: as they are for a
// Content-Length body, as chunks for a chunked one; drops them when there is
// no next hop (a body sent with a request the gateway answers itself).
class Engine::RequestBodySink final : public http::BodySink {
 public:
  RequestBodySink(std::string* out, bool chunked) : out_(out), chunked_(chunked) {}
  void on_body(const char* data, size_t len) noexcept override {
    if (out_ == nullptr) return;
    if (chunked_) {
      http::append_chunk(*out_, data, len);
    } else {
      out_->append(data, len);
    }
  }

 private:
  std::string* out_;
  bool chunked_;
};

class Engine::ResponseBodySink final : public http::BodySink {
 public:
  ResponseBodySink(std::string& out, bool chunked) : out_(out), chunked_(chunked) {}
  void on_body(const char* data, size_t len) noexcept override {
    if (chunked_) {
      http::append_chunk(out_, data, len);
    } else {
      out_.append(data, len);
    }
  }

 private:
  std::string& out_;
  bool chunked_;
};

bool Engine::client_backpressured(const ClientConn& c) const noexcept {
  return c.io.queued_app_bytes() >= kBackpressureBytes;
}

// The backend's response timer runs from the moment the whole request went
// out (re-armed as the last bytes are sent, and by every response byte).
// While the client is still uploading, the client's idle timer governs the
// upload instead, so a slow upload never turns into a 504.
void Engine::arm_response_timer(uint32_t backend) noexcept {
  BackendConn& b = backends_[backend];
  if (b.client == kNoSlot) return;
  const ClientConn& c = clients_[b.client];
  if (!c.request_done) {
    timers_.cancel(b.timer);
    return;
  }
  b.timer.kind = kTimerBackendResponse;
  timers_.arm(b.timer, now_ms_, c.response_timeout_ms);
}

void Engine::process_client_input(uint32_t slot, const char* data, size_t len) noexcept {
  ClientConn& c = clients_[slot];
  http::MessageParser& parser = request_state(c).parser;
  for (;;) {
    if (c.closing || c.close_after_send) return;
    const bool exchanging = c.phase == ClientPhase::kProxying || c.phase == ClientPhase::kWaiting;
    if (exchanging && c.request_done) {
      // A pipelined request: it waits until this response is complete.
      c.pending_in.append(data, len);
      keep_reading_during_exchange(slot);
      return;
    }
    std::string* body_out = nullptr;
    if (c.phase == ClientPhase::kWaiting) {
      body_out = &c.req->held_body;
    } else if (c.phase == ClientPhase::kProxying && c.backend != kNoSlot) {
      body_out = &backends_[c.backend].io.out();
    }
    RequestBodySink sink(body_out, c.chunked_request);
    if (access_log_on()) begin_access(c);
    const http::ParseResult r = parser.feed(data, len, sink);
    c.req->access.request_bytes += r.consumed;
    data += r.consumed;
    len -= r.consumed;
    switch (r.status) {
      case http::ParseStatus::kNeedMore:
        break;
      case http::ParseStatus::kError:
        if (r.reason != nullptr) note_error(c, r.reason);
        respond_local(slot, r.http_status != 0 ? r.http_status : 400, true);
        return;
      case http::ParseStatus::kHeadComplete:
        if (!start_exchange(slot)) return;
        continue;
      case http::ParseStatus::kMessageComplete:
        on_request_complete(slot);
        if (len > 0) continue;
        keep_reading_during_exchange(slot);
        if (c.phase == ClientPhase::kProxying || c.phase == ClientPhase::kWaiting || c.closing ||
            c.close_after_send) {
          return;
        }
        break;
    }
    break;
  }
  // Everything parsed; more bytes are needed.
  if (c.phase == ClientPhase::kWaiting) {
    // The wait timer governs the upload until a connection is free.
    keep_reading_during_exchange(slot);
    return;
  }
  if (c.phase == ClientPhase::kProxying) {
    if (c.backend != kNoSlot) flush_backend(c.backend);
    const config::Timeouts& t = snapshot_->config->gateway.timeouts;
    c.timer.kind = kTimerClientBody;
    timers_.arm(c.timer, now_ms_, t.client_idle_ms);
    const bool backend_full =
        c.backend != kNoSlot && backends_[c.backend].io.out().size() >= kBackpressureBytes;
    if (!backend_full) post_client_recv(slot);
    return;
  }
  if (c.phase == ClientPhase::kLocal) c.phase = ClientPhase::kIdle;
  arm_client_wait(slot);
  post_client_recv(slot);
}

// A waiting request keeps its receive armed, so that a client that goes
// away leaves the wait list at once; what it sends meanwhile is held, up to
// kBackpressureBytes. So does a request whose response is on its way: the
// armed multishot receive then simply stays armed into the next request,
// instead of being cancelled and armed again around every exchange (two
// operations and two completions a request saved); pipelined input waits in
// pending_in.
void Engine::keep_reading_during_exchange(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  if (c.closing) return;
  if (c.phase == ClientPhase::kWaiting) {
    if (c.req->held_body.size() + c.pending_in.size() < kBackpressureBytes) post_client_recv(slot);
  } else if (c.phase == ClientPhase::kProxying && c.request_done && c.keep_alive &&
             !c.input_ended && !c.io.ktls_wanted && c.pending_in.size() < kBackpressureBytes) {
    post_client_recv(slot);
  }
}

bool Engine::start_exchange(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  RequestState& req = *c.req;
  const http::MessageHead& head = req.parser.head();
  timers_.cancel(c.timer);
  c.keep_alive = head.keep_alive && !draining_;
  c.version_minor = head.version_minor;
  c.head_request = head.method == "HEAD";
  c.chunked_request = head.framing == http::BodyFraming::kChunked;
  c.request_done = false;
  c.response_started = false;
  c.retried = false;
  c.api = nullptr;
  if (head.upgrade || head.method == "CONNECT") {
    respond_local(slot, 501, true);
    return false;
  }
  // Absolute-form ("GET http://host/x", RFC 9112 §3.2.2) routes like its path.
  std::string_view target = head.target;
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
    const size_t path = target.find('/', target.find("://") + 3);
    target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
  }
  // Routed and forwarded is the normalised path: no dot segment or encoded
  // separator can carry a request outside its API's serviceUrl base.
  const http::PathError path_error = http::normalize_target(target, normalized_target_);
  note_request(c, head, path_error == http::PathError::kNone ? normalized_target_ : target);
  if (path_error != http::PathError::kNone) {
    note_error(c, http::describe(path_error));
    respond_local(slot, 400, true);
    return false;
  }
  const auto match = snapshot_->router.match(normalized_target_);
  if (!match) {
    respond_local(slot, 404, !c.keep_alive);
    return !c.close_after_send;
  }
  const RouteTarget& route = snapshot_->routes[match->api_index];
  c.api = api_of_route_[match->api_index];
  c.pool = pool_of_spec_[route.pool];
  scratch_.clear();
  http::append_backend_target(scratch_, route.service.base_path, *match);
  http::RequestRewrite rewrite;
  rewrite.backend_target = scratch_;
  rewrite.backend_host_header = route.service.host_header;
  rewrite.client_address = c.peer;
  rewrite.client_tls = c.io.transport() != nullptr;
  req.backend_head.clear();
  req.held_body.clear();
  http::append_backend_request_head(req.backend_head, head, rewrite);
  note_route(c, route, scratch_);
  http::apply_header_edits(req.backend_head, route.request_edits);
  c.response_edits = nullptr;
  c.pinned.reset();
  if (!route.response_edits.empty()) {
    // The response comes later; keep this snapshot alive until then.
    c.pinned = snapshot_;
    c.response_edits = &route.response_edits;
  }
  // <forward-request timeout> counts like backendResponseMs: from the
  // moment the whole request has gone to the backend.
  c.response_timeout_ms = route.response_timeout_ms;
  c.replayable = http::is_replayable_request(head.method, head.framing);
  if (head.expect_continue && head.framing != http::BodyFraming::kNone) {
    c.io.out().append("HTTP/1.1 100 Continue\r\n\r\n");
    flush_client(slot);
  }
  c.phase = ClientPhase::kProxying;
  attach_backend(slot, false);
  return c.phase == ClientPhase::kProxying || c.phase == ClientPhase::kWaiting;
}

void Engine::attach_backend(uint32_t client, bool fresh_only) noexcept {
  ClientConn& c = clients_[client];
  WorkerPool& pool = pools_[c.pool];
  const config::Pool& settings = snapshot_->config->gateway.pool;
  const upstream::Acquisition got = fresh_only ? pool.pool.acquire_new(settings.max_per_key)
                                               : pool.pool.acquire(settings.max_per_key);
  uint32_t b = kNoSlot;
  switch (got.outcome) {
    case upstream::Acquired::kReady:
      bump(pool.counters->hits);
      bump(pool.counters->idle, static_cast<uint64_t>(-1));
      b = got.connection;
      reuse_backend(b);
      break;
    case upstream::Acquired::kPending:
      bump(pool.counters->misses);
      b = connect_backend(c.pool, false);
      if (b == kNoSlot) {
        log_.warn("pool %s: cannot create a socket: %s", pool.pool.key_text().c_str(),
                  std::strerror(errno));
        note_error(c, "cannot create a socket for the backend connection");
        respond_local(client, 502, !c.request_done);
        return;
      }
      break;
    case upstream::Acquired::kOverflow:
      if (draining_) {
        note_error(c, "the gateway is shutting down and no backend connection is free");
        respond_local(client, 503, !c.request_done);
        return;
      }
      if (!pool.pool.wait(client, settings.max_waiting)) {
        bump(pool.counters->wait_list_full);
        log_.warn("pool %s: maxPerKey (%u) connections busy and maxWaiting (%u) requests waiting",
                  pool.pool.key_text().c_str(), settings.max_per_key, settings.max_waiting);
        note_error(c, "maxPerKey backend connections busy and maxWaiting requests already waiting");
        respond_local(client, 503, !c.request_done);
        return;
      }
      bump(pool.counters->waiting);
      c.phase = ClientPhase::kWaiting;
      c.timer.kind = kTimerPoolWait;
      timers_.arm(c.timer, now_ms_, settings.wait_timeout_ms);
      return;
  }
  hand_backend(client, b);
}

void Engine::hand_backend(uint32_t client, uint32_t backend) noexcept {
  ClientConn& c = clients_[client];
  BackendConn& bc = backends_[backend];
  bc.client = client;
  c.backend = backend;
  bc.parser.expect_no_body(c.head_request);
  bc.io.out().append(c.req->backend_head);
  bc.io.out().append(c.req->held_body);
  c.req->held_body.clear();
  if (bc.state == BackendState::kBusy) {
    arm_response_timer(backend);
    c.sent_at_us = now_us();
    flush_backend(backend);
    post_backend_recv(backend);
  }
}

void Engine::end_wait(uint32_t client, uint32_t backend) noexcept {
  ClientConn& c = clients_[client];
  WorkerPool& pool = pools_[c.pool];
  bump(pool.counters->waiting, static_cast<uint64_t>(-1));
  timers_.cancel(c.timer);
  c.phase = ClientPhase::kProxying;
  if (backend == kNoSlot) {
    bump(pool.counters->misses);
    backend = connect_backend(c.pool, false);
    if (backend == kNoSlot) {
      log_.warn("pool %s: cannot create a socket: %s", pool.pool.key_text().c_str(),
                std::strerror(errno));
      note_error(c, "cannot create a socket for the backend connection");
      respond_local(client, 502, !c.request_done);
      return;
    }
  } else {
    bump(pool.counters->hits);
  }
  hand_backend(client, backend);
  if (c.request_done || c.backend == kNoSlot) return;
  // The rest of the body comes from the client now, paced by the backend.
  c.timer.kind = kTimerClientBody;
  timers_.arm(c.timer, now_ms_, snapshot_->config->gateway.timeouts.client_idle_ms);
  if (backends_[c.backend].io.out().size() < kBackpressureBytes) post_client_recv(client);
}

void Engine::leave_wait_list(uint32_t client) noexcept {
  ClientConn& c = clients_[client];
  WorkerPool& pool = pools_[c.pool];
  if (pool.pool.cancel_wait(client)) bump(pool.counters->waiting, static_cast<uint64_t>(-1));
  timers_.cancel(c.timer);
  c.phase = ClientPhase::kProxying;
}

void Engine::fail_waiters(WorkerPool& pool, const char* reason) noexcept {
  for (uint32_t client = pool.pool.next_waiter(); client != upstream::kNoWaiter;
       client = pool.pool.next_waiter()) {
    bump(pool.counters->waiting, static_cast<uint64_t>(-1));
    ClientConn& c = clients_[client];
    c.phase = ClientPhase::kProxying;
    note_error(c, reason);
    respond_local(client, 503, !c.request_done);
  }
}

void Engine::on_request_complete(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  if (c.phase == ClientPhase::kWaiting) {
    // The whole request waits; the wait timer keeps running.
    c.request_done = true;
    if (c.chunked_request) http::append_last_chunk(c.req->held_body);
    return;
  }
  if (c.phase == ClientPhase::kProxying) {
    c.request_done = true;
    timers_.cancel(c.timer);
    if (c.backend != kNoSlot) {
      const uint32_t b = c.backend;
      if (c.chunked_request) http::append_last_chunk(backends_[b].io.out());
      if (backends_[b].state == BackendState::kBusy) arm_response_timer(b);
      flush_backend(b);
    }
    return;
  }
  // The gateway answered this request itself; its body was discarded.
  c.req->parser.next_message();
  if (c.phase == ClientPhase::kLocal && !c.close_after_send) c.phase = ClientPhase::kIdle;
}

void Engine::process_backend_input(uint32_t slot, const char* data, size_t len) noexcept {
  BackendConn& b = backends_[slot];
  const uint32_t ci = b.client;
  ClientConn& c = clients_[ci];
  for (;;) {
    const bool chunked =
        c.response_started && http::client_response_framing(b.parser.head(), c.version_minor) ==
                                  http::BodyFraming::kChunked;
    ResponseBodySink sink(c.io.out(), chunked);
    const http::ParseResult r = b.parser.feed(data, len, sink);
    data += r.consumed;
    len -= r.consumed;
    switch (r.status) {
      case http::ParseStatus::kNeedMore:
        break;
      case http::ParseStatus::kError: {
        char reason[512];
        std::snprintf(reason, sizeof reason, "invalid response from backend: %s",
                      r.reason != nullptr ? r.reason : "parse error");
        backend_failed(slot, backend_error(reason, Replay::kUnsafe));
        return;
      }
      case http::ParseStatus::kHeadComplete:
        on_response_head(ci, slot);
        if (c.closing || c.backend != slot) return;
        continue;
      case http::ParseStatus::kMessageComplete:
        if (is_interim(b.parser.head().status) && !c.response_started) {
          b.parser.next_message();
          b.parser.expect_no_body(c.head_request);
          continue;
        }
        if (http::client_response_framing(b.parser.head(), c.version_minor) ==
            http::BodyFraming::kChunked) {
          http::append_last_chunk(c.io.out());
        }
        // Bytes after the response: the backend is out of step; don't reuse.
        finish_exchange(ci, len == 0);
        return;
    }
    break;
  }
  flush_client(ci);
  if (!client_backpressured(c)) post_backend_recv(slot);
}

// The backend closed (res 0) or broke (res < 0) its side of a busy connection.
void Engine::on_backend_eof(uint32_t slot, int res) noexcept {
  BackendConn& b = backends_[slot];
  const uint32_t ci = b.client;
  if (ci == kNoSlot) {  // no exchange to end: a spare or an idle pooled connection
    close_backend(slot);
    return;
  }
  if (res == 0 && clients_[ci].response_started &&
      b.parser.head().framing == http::BodyFraming::kUntilClose) {
    ClientConn& c = clients_[ci];
    ResponseBodySink sink(c.io.out(), false);
    if (b.parser.finish(sink).status == http::ParseStatus::kMessageComplete) {
      finish_exchange(ci, false);
      return;
    }
  }
  char reason[512];
  std::snprintf(reason, sizeof reason, "backend closed the connection%s%s", res < 0 ? ": " : "",
                res < 0 ? std::strerror(-res) : "");
  // Closed before a byte of the response: a pooled connection the backend
  // had given up on as we reused it, so the request never reached it.
  backend_failed(slot,
                 backend_error(reason, b.parser.in_message() ? Replay::kUnsafe : Replay::kSafe));
}

void Engine::on_response_head(uint32_t client, uint32_t backend) noexcept {
  ClientConn& c = clients_[client];
  BackendConn& b = backends_[backend];
  const http::MessageHead& head = b.parser.head();
  if (is_interim(head.status)) return;  // 100 Continue was answered by us already
  if (head.status == 101) {
    backend_failed(backend,
                   backend_error("backend switched protocols, which the gateway did not ask for",
                                 Replay::kUnsafe));
    return;
  }
  c.response_started = true;
  note_backend_response(c, b);
  if (!pools_[b.pool].tls && b.requests == 0) backend_accepted(pools_[b.pool]);
  const uint64_t micros = now_us() - c.sent_at_us;
  bump(counters_.latency_buckets[latency_bucket(micros)]);
  bump(counters_.latency_sum_us, micros);
  bump(counters_.latency_count);
  if (c.api != nullptr) bump(c.api->by_class[static_cast<size_t>(head.status / 100) % 6]);
  bump(counters_.requests_total);
  // A body delimited by closing (from the backend, or chunked towards an
  // HTTP/1.0 client) ends the client connection too.
  if (draining_ ||
      http::client_response_framing(head, c.version_minor) == http::BodyFraming::kUntilClose) {
    c.keep_alive = false;
  }
  if (c.response_edits == nullptr) {
    http::append_client_response_head(c.io.out(), head, c.keep_alive, c.version_minor);
    return;
  }
  scratch_.clear();
  http::append_client_response_head(scratch_, head, c.keep_alive, c.version_minor);
  http::apply_header_edits(scratch_, *c.response_edits);
  c.io.out().append(scratch_);
}

void Engine::finish_exchange(uint32_t client, bool backend_reusable) noexcept {
  finish_access(client, 0);
  ClientConn& c = clients_[client];
  const uint32_t b = c.backend;
  BackendConn& bc = backends_[b];
  ++bc.requests;
  const bool reusable =
      backend_reusable && c.request_done && bc.parser.head().keep_alive && bc.io.pending() == 0;
  c.backend = kNoSlot;
  bc.client = kNoSlot;
  timers_.cancel(bc.timer);
  if (reusable) {
    release_to_pool(b);
  } else {
    close_backend(b);
  }
  c.response_started = false;
  if (!c.request_done || !c.keep_alive || draining_) {
    // The rest of the request was never read, or the client asked to close.
    c.phase = ClientPhase::kLocal;
    c.close_after_send = true;
    flush_client(client);
    if (!c.send_posted) linger_client(client);
    return;
  }
  c.phase = ClientPhase::kIdle;
  c.req->parser.next_message();
  flush_client(client);
  resume_client(client);
}

void Engine::resume_client(uint32_t slot) noexcept {
  ClientConn& c = clients_[slot];
  if (!c.pending_in.empty()) {
    std::string input;
    input.swap(c.pending_in);
    process_client_input(slot, input.data(), input.size());
    if (c.pending_in.empty()) {
      input.clear();
      c.pending_in.swap(input);  // keep the capacity
    }
    return;
  }
  if (!c.req->parser.in_message()) release_request_state(c);
  arm_client_wait(slot);
  post_client_recv(slot);
}

void Engine::backend_failed(uint32_t backend, const ExchangeError& error) noexcept {
  // The reason as text the log's printf formats can take.
  const std::string reason_text(error.reason);
  const char* reason = reason_text.c_str();
  BackendConn& b = backends_[backend];
  const uint32_t ci = b.client;
  const bool was_reused = b.reused;
  WorkerPool& wp = pools_[b.pool];
  const std::string& key = wp.pool.key_text();
  if (ci == kNoSlot) {
    // A spare connection: log the first failure of a streak only.
    if (!wp.failing) log_.warn("pool %s: %s", key.c_str(), reason);
    wp.failing = true;
    close_backend(backend);
    return;
  }
  ClientConn& c = clients_[ci];
  if (c.response_started) {
    // Part of the response is out already: all that is left is to cut it.
    log_.warn("pool %s: %s (after the response began)", key.c_str(), reason);
    note_error(c, reason);
    close_backend(backend);
    close_client(ci);
    return;
  }
  close_backend(backend);
  http::FailedExchange failed;
  failed.replayable = c.replayable;
  failed.connection_reused = was_reused;
  failed.response_started = c.response_started;
  failed.already_retried = c.retried;
  failed.retry_safe = error.retry_safe();
  if (http::may_retry(failed)) {
    // A kept-alive connection the backend closed as we reused it: the
    // request never reached it, so sending it again is safe.
    c.retried = true;
    bump(counters_.retries_total);
    attach_backend(ci, true);
    return;
  }
  log_.warn("api %s: %s -> %d (%s)", c.api != nullptr ? c.api->api_id.c_str() : "-", reason,
            error.status, std::string(source_name(error.source)).c_str());
  note_error(c, reason);
  c.req->access.pool_reused = was_reused;
  respond_local(ci, error.status, !c.request_done);
}

void Engine::respond_local(uint32_t client, int status, bool close) noexcept {
  ClientConn& c = clients_[client];
  if (c.phase == ClientPhase::kWaiting) leave_wait_list(client);
  if (c.backend != kNoSlot) close_backend(c.backend);
  if (c.response_started || c.closing) {
    close_client(client);
    return;
  }
  timers_.cancel(c.timer);
  close = close || !c.keep_alive || draining_;
  bump(counters_.responses_by_status[static_cast<size_t>(status) % 600]);
  bump(counters_.requests_total);
  if (c.api != nullptr) bump(c.api->by_class[static_cast<size_t>(status / 100) % 6]);
  http::append_error_response(c.io.out(), status, close);
  finish_access(client, status);
  c.phase = ClientPhase::kLocal;
  if (close) c.close_after_send = true;
  flush_client(client);
  if (close) {
    if (!c.send_posted) linger_client(client);
    return;
  }
  if (c.request_done) {
    // The request was read whole: the connection carries on.
    c.phase = ClientPhase::kIdle;
    c.req->parser.next_message();
    resume_client(client);
  }
}

}  // namespace ringgate::proxy
