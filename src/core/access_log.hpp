// The access log (DESIGN §7): one JSON object per line per request, with
// field names after APIM's gateway logs. This header holds what a worker
// needs to produce a line — the per-request record it fills as the exchange
// goes, the line format, and request ids — and nothing that does I/O: lines
// reach the file through WorkerLog and the LogWriter thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringgate::core {

// One access-log line's fields, in the order they are written.
struct AccessEntry {
  uint64_t time_unix_ms = 0;      // when the request's first byte arrived
  std::string_view request_id;    // the client's X-Request-Id, or a generated one
  std::string_view client_ip;     // peer address
  std::string_view method;        // empty when the head never parsed
  std::string_view url;           // the target as routed: path + query
  std::string_view api_id;        // empty when no API matched
  std::string_view backend_url;   // backend origin + forwarded target; empty when not routed
  int response_code = 0;          // what the client got; 0 when no response was sent
  int backend_response_code = 0;  // 0 when no backend answered
  uint64_t request_size = 0;      // request bytes read from the client (head and body)
  uint64_t response_size = 0;     // response bytes queued to the client (head and body)
  uint64_t total_time_us = 0;     // first request byte until the response was complete
  uint64_t backend_time_us = 0;   // request sent to the backend until its response ended
  std::string_view client_certificate_thumbprint;  // presented to the backend; empty when none
  bool pool_reused = false;                        // the backend connection came from the pool
  std::string_view transport;   // the client connection's: "plain", "tls" or "ktls"
  std::string_view last_error;  // why the gateway answered itself; empty otherwise
};

// Appends `entry` as one JSON object and a newline. Every string is escaped
// (append_json_string), numbers are written as integers, poolReused as a
// JSON boolean.
void append_access_line(std::string& out, const AccessEntry& entry);

// What a worker remembers about the request in progress on a connection,
// from its first byte until its line is written. Strings keep their capacity
// across requests, so filling them allocates nothing in steady state.
struct AccessRecord {
  enum class Stage : uint8_t {
    kNone,     // no request in progress, or its line is written
    kStarted,  // bytes of a request arrived; its head has not parsed
    kParsed,   // the head parsed: method, url and request id are known
  };
  Stage stage = Stage::kNone;
  uint64_t start_unix_ms = 0;
  uint64_t start_us = 0;       // monotonic
  uint64_t request_bytes = 0;  // consumed by the parser so far
  uint64_t response_mark = 0;  // the client channel's app_bytes_total() at the start
  int backend_status = 0;
  bool pool_reused = false;
  bool request_id_generated = false;  // so the backend must be sent it
  std::string_view api_id;            // ApiCounters::api_id, which lives as long as the process
  std::string method;
  std::string url;
  std::string request_id;
  std::string backend_url;
  std::string thumbprint;
  std::string last_error;
};

// Request ids for requests that came without one: 16 lower-case hex digits
// from a per-worker SplitMix64 generator seeded from the kernel at start, so
// ids from different workers and restarts do not collide in practice.
class RequestIdGenerator {
 public:
  static constexpr size_t kLength = 16;

  RequestIdGenerator();
  explicit RequestIdGenerator(uint64_t seed) : state_(seed) {}

  // Replaces `out` with the next id.
  void next(std::string& out) noexcept;

 private:
  uint64_t state_;
};

}  // namespace ringgate::core
