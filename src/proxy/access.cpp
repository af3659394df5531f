// The access log on a worker: the request record (AccessRecord, carried in
// the connection's RequestState) is opened at a request's first byte, filled
// as the exchange goes — request line and id, route, backend answer, the
// reason for a local error — and turned into one line when the response is
// complete, the gateway answered itself, or the connection ended first.
#include "http/error_response.hpp"
#include "proxy/engine.hpp"

namespace ringgate::proxy {

using core::AccessEntry;
using core::AccessRecord;
using core::RouteTarget;
using core::unix_time_ms;
namespace {

// Why the gateway answered `status` itself when no more precise reason was
// noted on the way.
std::string_view default_error(int status) {
  switch (status) {
    case 0:
      return "connection closed before the response was complete";
    case 404:
      return "no API matches the request path";
    case 408:
      return "request not received in time";
    default:
      return http::error_message(status);
  }
}

std::string_view transport_name(const net::Channel& io) {
  if (io.kernel_tls) return "ktls";
  return io.transport() != nullptr ? "tls" : "plain";
}

}  // namespace

bool Engine::access_log_on() const noexcept {
  return !snapshot_->config->gateway.access_log.path.empty();
}

void Engine::begin_access(ClientConn& c) noexcept {
  AccessRecord& record = c.req->access;
  if (record.stage != AccessRecord::Stage::kNone || c.req->parser.in_message()) return;
  record.stage = AccessRecord::Stage::kStarted;
  record.start_unix_ms = unix_time_ms();
  record.start_us = now_us();
  record.request_bytes = 0;
  record.response_mark = c.io.app_bytes_total();
  record.backend_status = 0;
  record.pool_reused = false;
  record.request_id_generated = false;
  record.api_id = {};
  record.method.clear();
  record.url.clear();
  record.request_id.clear();
  record.backend_url.clear();
  record.thumbprint.clear();
  record.last_error.clear();
  c.sent_at_us = 0;
}

void Engine::note_request(ClientConn& c, const http::MessageHead& head,
                          std::string_view url) noexcept {
  AccessRecord& record = c.req->access;
  if (record.stage == AccessRecord::Stage::kNone) return;
  record.stage = AccessRecord::Stage::kParsed;
  record.method.assign(head.method);
  record.url.assign(url);
  const http::Header* id = head.find("x-request-id");
  if (id != nullptr && !id->value.empty()) {
    record.request_id.assign(id->value);
  } else {
    log_.request_ids().next(record.request_id);
    record.request_id_generated = true;
  }
}

void Engine::note_route(ClientConn& c, const RouteTarget& route,
                        std::string_view backend_target) noexcept {
  AccessRecord& record = c.req->access;
  if (record.stage == AccessRecord::Stage::kNone) return;
  const PoolKey& key = snapshot_->pools[route.pool].key;
  if (c.api != nullptr) record.api_id = c.api->api_id;
  record.backend_url.assign(key.origin).append(backend_target);
  record.thumbprint.assign(key.thumbprint);
  if (record.request_id_generated) {
    // The backend sees the id the log line carries: it goes in before the
    // blank line that ends the head, ahead of the policy's header edits.
    std::string& head = c.req->backend_head;
    head.resize(head.size() - 2);
    head.append("X-Request-Id: ").append(record.request_id).append("\r\n\r\n");
  }
}

void Engine::note_backend_response(ClientConn& c, const BackendConn& b) noexcept {
  AccessRecord& record = c.req->access;
  record.backend_status = b.parser.head().status;
  record.pool_reused = b.reused;
}

void Engine::note_error(ClientConn& c, std::string_view reason) noexcept {
  if (c.req) c.req->access.last_error.assign(reason);
}

void Engine::finish_access(uint32_t client, int status) noexcept {
  ClientConn& c = clients_[client];
  if (!c.req || c.req->access.stage == AccessRecord::Stage::kNone) return;
  AccessRecord& record = c.req->access;
  const bool parsed = record.stage == AccessRecord::Stage::kParsed;
  record.stage = AccessRecord::Stage::kNone;
  // A connection that ends with half a request head was never a request.
  if (status == 0 && !parsed) return;
  if (record.request_id.empty()) log_.request_ids().next(record.request_id);
  const int code = status != 0 ? status : (c.response_started ? record.backend_status : 0);
  const bool local_error = status != 0 || code == 0;
  const uint64_t now = now_us();
  AccessEntry entry;
  entry.time_unix_ms = record.start_unix_ms;
  entry.request_id = record.request_id;
  entry.client_ip = c.peer;
  entry.method = record.method;
  entry.url = record.url;
  entry.api_id = record.api_id;
  entry.backend_url = record.backend_url;
  entry.response_code = code;
  entry.backend_response_code = record.backend_status;
  entry.request_size = record.request_bytes;
  entry.response_size = c.io.app_bytes_total() - record.response_mark;
  entry.total_time_us = now - record.start_us;
  entry.backend_time_us = c.sent_at_us != 0 ? now - c.sent_at_us : 0;
  entry.client_certificate_thumbprint = record.thumbprint;
  entry.pool_reused = record.pool_reused;
  entry.transport = transport_name(c.io);
  entry.last_error = !record.last_error.empty() ? std::string_view(record.last_error)
                     : local_error              ? default_error(code)
                                                : std::string_view();
  log_.access(entry);
}

}  // namespace ringgate::proxy
