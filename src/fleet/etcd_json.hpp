// The JSON of etcd's v3 gateway: request bodies to send and answers to read.
// Keys and values travel base64-encoded, int64s as JSON strings (numbers are
// accepted too), and fields at their default (false, 0, empty) are left out
// of answers. Parsers never throw: what cannot be read becomes `error`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fleet/etcd_types.hpp"

namespace ringgate::fleet {

// POST /v3/kv/range: keys in [key, range_end) (range_end "": just key).
std::string range_request_json(std::string_view key, std::string_view range_end);

// POST /v3/kv/txn.
std::string txn_request_json(const std::vector<Compare>& compares,
                             const std::vector<Operation>& on_success,
                             const std::vector<Operation>& on_failure);

// POST /v3/watch: one create_request for keys in [key, range_end) from
// start_revision, with progress notifications.
std::string watch_request_json(std::string_view key, std::string_view range_end,
                               int64_t start_revision);

// A 200 answer to a range request.
RangeResult parse_range_response(std::string_view body);

// A 200 answer to a txn request.
TxnResult parse_txn_response(std::string_view body);

// A 200 answer to /v3/maintenance/status: "" when it names a leader, else why not.
std::string parse_status_response(std::string_view body);

// etcd's error answer ({"error": "...", "message": "...", "code": N}): the
// message and the gRPC code (-1 when the body is not such an answer; then the
// message is the start of the body, for a non-etcd peer).
struct GatewayError {
  std::string message;
  int code = -1;
};
GatewayError parse_gateway_error(std::string_view body);

// gRPC's "unavailable": the member cannot serve now (no leader, leader
// changed, timed out); another member may.
constexpr int kGrpcUnavailable = 14;

// One message of a watch stream.
struct WatchMessage {
  std::string error;  // not a watch message, or an error message from the gateway
  int64_t revision = 0;
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;
  std::string cancel_reason;
  std::vector<WatchEvent> events;
};
WatchMessage parse_watch_message(std::string_view object);

// Frames a stream of JSON objects: the length of the first complete object in
// `bytes` after any leading whitespace (`skipped` is set to that whitespace's
// length), 0 when it has not all arrived yet, std::string_view::npos when the
// next value is not an object. Braces inside strings (escapes included) do
// not count.
size_t json_object_length(std::string_view bytes, size_t& skipped);

}  // namespace ringgate::fleet
