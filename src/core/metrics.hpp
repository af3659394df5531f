// Process-wide metrics. Each worker writes only its own counters (single
// writer, relaxed atomics, no lock on the data path); the admin thread reads
// and sums them when /metrics is scraped. Registries for per-API and per-pool
// counters take a mutex, but only when a worker switches config snapshots or
// opens a new pool, never per request.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ringgate::core {

using Counter = std::atomic<uint64_t>;

// Single-writer increment: a plain load and store, no locked instruction.
inline void bump(Counter& c, uint64_t n = 1) noexcept {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

inline constexpr std::array<double, 14> kLatencyBucketsSeconds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30};

struct ApiCounters {
  std::string api_id;                 // for log lines; stable for the process's life
  std::array<Counter, 6> by_class{};  // index = status / 100 (0 = other)
};

struct PoolCounters {
  Counter idle{0};    // gauge
  Counter open{0};    // gauge: all connections of the key, idle or busy
  Counter hits{0};    // request served by an idle pooled connection
  Counter misses{0};  // request needed a new connection
  Counter connects{0};
  Counter connect_failures{0};  // connect or TLS handshake
  Counter backoffs{0};          // refills put off because recent connects failed
  Counter waiting{0};           // gauge: requests waiting for a connection (at maxPerKey)
  Counter wait_list_full{0};    // requests answered 503: maxWaiting already waited
  Counter wait_timeouts{0};     // requests answered 503: waited waitTimeoutMs in vain
};

struct WorkerCounters {
  Counter connections_accepted{0};
  Counter connections_active{0};  // gauge
  Counter connections_rejected{0};
  Counter accept_pauses{0};  // accepting paused for lack of descriptors
  Counter loop_turns{0};     // event loop iterations
  Counter loop_cqes{0};      // completions handled
  Counter ring_enters{0};    // submit/wait calls that may enter the kernel (io_uring_enter)
  Counter requests_total{0};
  Counter retries_total{0};
  Counter backend_connections_active{0};           // gauge
  Counter pools_active{0};                         // gauge: backend pools this worker holds
  Counter snapshot_generation{0};                  // gauge: the config snapshot this worker runs
  std::array<Counter, 600> responses_by_status{};  // local error responses by status
  std::array<Counter, kLatencyBucketsSeconds.size() + 1> latency_buckets{};
  Counter latency_sum_us{0};
  Counter latency_count{0};
  Counter tls_handshakes_full{0};
  Counter tls_handshakes_resumed{0};
  Counter tls_client_failures{0};
  Counter transport_plain{0};
  Counter transport_userspace_tls{0};
  Counter transport_kernel_tls{0};
  Counter ktls_closed_key_update{0};
  Counter ktls_closed_bad_record{0};
  Counter ktls_session_tickets{0};
  Counter ktls_close_notify{0};
  Counter access_log_lines{0};      // queued for the writer
  Counter access_log_dropped{0};    // the worker's buffer was full
  Counter error_log_dropped{0};     // the worker's buffer was full
  Counter error_log_suppressed{0};  // rate-limited (counted in "N more like this")
};

struct CertificateExpiry {
  std::string id;
  std::string thumbprint;
  int64_t not_after = 0;  // unix seconds
};

class Metrics {
 public:
  explicit Metrics(uint32_t workers);

  WorkerCounters& worker(uint32_t index) noexcept { return *workers_[index]; }
  // Stable counters for (api, worker); created on first use.
  ApiCounters& api(const std::string& api_id, uint32_t worker);
  // Per-key pool counters: each worker takes them when it opens a pool for
  // the key and releases them when it frees that pool; once no worker holds
  // them they leave /metrics (a rotated-out key does not linger).
  PoolCounters& pool(const std::string& key, uint32_t worker);
  void release_pool(const std::string& key);

  // Whether every worker runs snapshot `generation` or a later one and holds
  // at least one idle connection for each of `keys`: a published change is
  // then what the next request gets. Control thread.
  bool live_everywhere(uint64_t generation, const std::vector<std::string>& keys) const;

  Counter reloads_total{0};
  Counter reload_failures_total{0};
  std::atomic<int64_t> config_loaded_at{0};

  // Replaces the certificate expiry gauges (after a load or an admin change).
  void set_certificates(std::vector<CertificateExpiry> certificates);

  // Prometheus text exposition of everything above, summed over workers.
  std::string render() const;

 private:
  uint32_t worker_count_;
  std::vector<std::unique_ptr<WorkerCounters>> workers_;
  mutable std::mutex mu_;
  // Counters per (name, worker), made on first use and never freed, so
  // workers may keep pointers to them.
  template <typename T>
  using PerWorker = std::map<std::string, std::vector<std::unique_ptr<T>>>;
  template <typename T>
  T& per_worker(PerWorker<T>& registry, const std::string& name, uint32_t worker);

  PerWorker<ApiCounters> apis_;
  PerWorker<PoolCounters> pools_;
  std::map<std::string, uint32_t> pool_holders_;  // workers holding each key's counters
  std::vector<CertificateExpiry> certificates_;
};

}  // namespace ringgate::core
