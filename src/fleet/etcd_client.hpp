// Blocking requests to etcd's v3 JSON gateway (POST /v3/kv/range, /v3/kv/txn,
// /v3/maintenance/status) through libcurl, for the control thread.
//
// Failover: a request goes to one endpoint at a time. An endpoint that fails
// (connect error, timeout, an HTTP 5xx answer, etcd's "unavailable" — no
// leader, leader changed, request timed out) is skipped and the next one
// tried; the next request starts from the last endpoint that answered. An
// answer that is etcd's verdict on the request itself (a 4xx: bad argument,
// compacted revision) is returned as the error at once. When every endpoint
// fails, `error` names each one's failure, in the order tried. Each attempt is
// bounded by connect_timeout_ms and request_timeout_ms, so a request takes at
// most endpoints × request_timeout_ms.
//
// Values may be secrets: nothing here logs, and error texts never carry a
// value (only endpoints, statuses and etcd's error messages).
//
// Not thread-safe: one thread uses a client. No exception leaves it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fleet/etcd_types.hpp"

namespace ringgate::fleet {

class EtcdClient {
 public:
  // Keeps one libcurl handle (and so its connections) for every request.
  explicit EtcdClient(EtcdOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Linearizable read of every key that starts with `prefix` (an empty prefix:
  // every key), in key order, with the revision the read saw.
  RangeResult range_prefix(std::string_view prefix);

  // Linearizable read of `key` alone: kvs holds it, or is empty when absent.
  RangeResult range(std::string_view key);

  // One transaction: when every compare holds, the on_success operations, else
  // the on_failure ones, atomically. No compares: the success branch runs.
  TxnResult txn(const std::vector<Compare>& compares, const std::vector<Operation>& on_success,
                const std::vector<Operation>& on_failure = {});

  // Whether the cluster answers: a member's status (POST /v3/maintenance/status)
  // that names a leader (a member that knows none counts as a failed endpoint).
  // "" when fine, else why not (every endpoint's failure).
  std::string check();

  // What it was made with (a watch on the same cluster takes the same).
  const EtcdOptions& options() const { return options_; }
  // The endpoint the next request tries first (index into options.endpoints).
  size_t preferred_endpoint() const { return preferred_; }

 private:
  struct Reply;
  // What makes a 200 answer an endpoint failure too ("" when it serves).
  using AnswerCheck = std::string (*)(std::string_view body);
  // POSTs `body` to `path` on each endpoint in turn, from preferred_, until one
  // gives an answer that is not an endpoint failure.
  Reply post(std::string_view path, const std::string& body, AnswerCheck check = nullptr);
  Reply post_once(size_t endpoint, std::string_view path, const std::string& body);

  EtcdOptions options_;
  struct Handle;
  std::unique_ptr<Handle> handle_;
  size_t preferred_ = 0;
};

}  // namespace ringgate::fleet
