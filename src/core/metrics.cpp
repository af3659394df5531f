#include "core/metrics.hpp"

#include <cstdio>

namespace ringgate::core {
namespace {

uint64_t get(const Counter& c) { return c.load(std::memory_order_relaxed); }

std::string escape_label(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    if (ch == '\\' || ch == '"') out.push_back('\\');
    if (ch == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(ch);
  }
  return out;
}

void line(std::string& out, const char* name, const std::string& labels, uint64_t value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void help(std::string& out, const char* name, const char* type, const char* text) {
  out += std::string("# HELP ") + name + " " + text + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Metrics::Metrics(uint32_t workers) : worker_count_(workers) {
  for (uint32_t i = 0; i < workers; ++i) workers_.push_back(std::make_unique<WorkerCounters>());
}

template <typename T>
T& Metrics::per_worker(PerWorker<T>& registry, const std::string& name, uint32_t worker) {
  std::lock_guard lock(mu_);
  auto& slots = registry[name];
  if (slots.empty()) {
    for (uint32_t i = 0; i < worker_count_; ++i) slots.push_back(std::make_unique<T>());
  }
  return *slots[worker];
}

ApiCounters& Metrics::api(const std::string& api_id, uint32_t worker) {
  ApiCounters& counters = per_worker(apis_, api_id, worker);
  if (counters.api_id.empty()) counters.api_id = api_id;  // set before any worker reads it
  return counters;
}

PoolCounters& Metrics::pool(const std::string& key, uint32_t worker) {
  PoolCounters& counters = per_worker(pools_, key, worker);
  std::lock_guard lock(mu_);
  ++pool_holders_[key];
  return counters;
}

void Metrics::release_pool(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pool_holders_.find(key);
  if (it == pool_holders_.end()) return;
  if (--it->second > 0) return;
  pool_holders_.erase(it);
  pools_.erase(key);
}

bool Metrics::live_everywhere(uint64_t generation, const std::vector<std::string>& keys) const {
  for (const auto& w : workers_) {
    if (w->snapshot_generation.load(std::memory_order_acquire) < generation) return false;
  }
  std::lock_guard lock(mu_);
  for (const std::string& key : keys) {
    auto slots = pools_.find(key);
    if (slots == pools_.end()) return false;
    for (const auto& counters : slots->second) {
      if (get(counters->idle) == 0) return false;
    }
  }
  return true;
}

void Metrics::set_certificates(std::vector<CertificateExpiry> certificates) {
  std::lock_guard lock(mu_);
  certificates_ = std::move(certificates);
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(8192);
  auto sum = [&](auto member) {
    uint64_t total = 0;
    for (const auto& w : workers_) total += get((*w).*member);
    return total;
  };

  help(out, "ringgate_workers", "gauge", "Worker threads.");
  line(out, "ringgate_workers", "", worker_count_);
  help(out, "ringgate_connections_accepted_total", "counter", "Client connections accepted.");
  line(out, "ringgate_connections_accepted_total", "", sum(&WorkerCounters::connections_accepted));
  help(out, "ringgate_connections_active", "gauge", "Open client connections.");
  line(out, "ringgate_connections_active", "", sum(&WorkerCounters::connections_active));
  help(out, "ringgate_connections_rejected_total", "counter",
       "Client connections refused at maxConnections.");
  line(out, "ringgate_connections_rejected_total", "", sum(&WorkerCounters::connections_rejected));
  help(out, "ringgate_accept_pauses_total", "counter",
       "Times accepting paused for 100 ms because descriptors (or memory) ran out.");
  line(out, "ringgate_accept_pauses_total", "", sum(&WorkerCounters::accept_pauses));
  help(out, "ringgate_loop_turns_total", "counter", "Event loop iterations of the workers.");
  line(out, "ringgate_loop_turns_total", "", sum(&WorkerCounters::loop_turns));
  help(out, "ringgate_loop_cqes_total", "counter", "io_uring completions the workers handled.");
  line(out, "ringgate_loop_cqes_total", "", sum(&WorkerCounters::loop_cqes));
  help(out, "ringgate_ring_enters_total", "counter",
       "Submit or wait calls of the workers' rings (each at most one io_uring_enter).");
  line(out, "ringgate_ring_enters_total", "", sum(&WorkerCounters::ring_enters));
  help(out, "ringgate_backend_connections_active", "gauge", "Open backend connections.");
  line(out, "ringgate_backend_connections_active", "",
       sum(&WorkerCounters::backend_connections_active));
  help(out, "ringgate_backend_pools", "gauge",
       "Backend connection pools held by workers (one per key per worker; a pool whose key "
       "left the config is freed once its last connection closed).");
  line(out, "ringgate_backend_pools", "", sum(&WorkerCounters::pools_active));
  help(out, "ringgate_retries_total", "counter",
       "Requests replayed on a fresh backend connection after a reused one failed.");
  line(out, "ringgate_retries_total", "", sum(&WorkerCounters::retries_total));

  help(out, "ringgate_tls_handshakes_total", "counter",
       "TLS handshakes completed, full or resumed.");
  line(out, "ringgate_tls_handshakes_total", "kind=\"full\"",
       sum(&WorkerCounters::tls_handshakes_full));
  line(out, "ringgate_tls_handshakes_total", "kind=\"resumed\"",
       sum(&WorkerCounters::tls_handshakes_resumed));
  help(out, "ringgate_tls_client_handshake_failures_total", "counter",
       "Client TLS handshakes on a TLS listener that failed.");
  line(out, "ringgate_tls_client_handshake_failures_total", "",
       sum(&WorkerCounters::tls_client_failures));
  help(out, "ringgate_transport_connections_total", "counter",
       "Connections by record-layer mode (plain, userspace TLS, kernel TLS).");
  line(out, "ringgate_transport_connections_total", "mode=\"plain\"",
       sum(&WorkerCounters::transport_plain));
  line(out, "ringgate_transport_connections_total", "mode=\"userspace_tls\"",
       sum(&WorkerCounters::transport_userspace_tls));
  line(out, "ringgate_transport_connections_total", "mode=\"ktls\"",
       sum(&WorkerCounters::transport_kernel_tls));
  help(out, "ringgate_ktls_connections_closed_total", "counter",
       "kTLS connections closed on a record the kernel cannot carry on from: a KeyUpdate "
       "(kernel TLS cannot rekey), a fatal alert or an unexpected record.");
  line(out, "ringgate_ktls_connections_closed_total", "reason=\"key_update\"",
       sum(&WorkerCounters::ktls_closed_key_update));
  line(out, "ringgate_ktls_connections_closed_total", "reason=\"bad_record\"",
       sum(&WorkerCounters::ktls_closed_bad_record));
  help(out, "ringgate_ktls_session_tickets_total", "counter",
       "TLS 1.3 session tickets that arrived on a kTLS socket (read and set aside).");
  line(out, "ringgate_ktls_session_tickets_total", "", sum(&WorkerCounters::ktls_session_tickets));
  help(out, "ringgate_ktls_close_notify_total", "counter",
       "close_notify alerts that arrived on a kTLS socket.");
  line(out, "ringgate_ktls_close_notify_total", "", sum(&WorkerCounters::ktls_close_notify));

  help(out, "ringgate_access_log_lines_total", "counter",
       "Access-log lines handed to the log writer.");
  line(out, "ringgate_access_log_lines_total", "", sum(&WorkerCounters::access_log_lines));
  help(out, "ringgate_access_log_dropped_total", "counter",
       "Access-log lines dropped because the log writer fell behind.");
  line(out, "ringgate_access_log_dropped_total", "", sum(&WorkerCounters::access_log_dropped));
  help(out, "ringgate_error_log_dropped_total", "counter",
       "Error-log lines from workers dropped because the log writer fell behind.");
  line(out, "ringgate_error_log_dropped_total", "", sum(&WorkerCounters::error_log_dropped));
  help(out, "ringgate_error_log_suppressed_total", "counter",
       "Error-log lines from workers held back by the rate limit (one a second per message).");
  line(out, "ringgate_error_log_suppressed_total", "", sum(&WorkerCounters::error_log_suppressed));

  std::lock_guard lock(mu_);
  help(out, "ringgate_requests_total", "counter", "Requests answered, by API and status class.");
  line(out, "ringgate_requests_total", "api=\"\",class=\"all\"",
       sum(&WorkerCounters::requests_total));
  static constexpr const char* kClasses[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (const auto& [api, slots] : apis_) {
    for (size_t cls = 0; cls < 6; ++cls) {
      uint64_t total = 0;
      for (const auto& s : slots) total += get(s->by_class[cls]);
      if (total == 0 && cls != 2) continue;
      line(out, "ringgate_requests_total",
           "api=\"" + escape_label(api) + "\",class=\"" + kClasses[cls] + "\"", total);
    }
  }

  help(out, "ringgate_local_responses_total", "counter",
       "Responses the gateway generated itself (errors, 404), by status.");
  for (size_t status = 100; status < 600; ++status) {
    uint64_t total = 0;
    for (const auto& w : workers_) total += get(w->responses_by_status[status]);
    if (total > 0)
      line(out, "ringgate_local_responses_total", "status=\"" + std::to_string(status) + "\"",
           total);
  }

  help(out, "ringgate_backend_latency_seconds", "histogram",
       "Time from sending the request head to the backend to its response head.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kLatencyBucketsSeconds.size(); ++i) {
    for (const auto& w : workers_) cumulative += get(w->latency_buckets[i]);
    char le[32];
    if (i < kLatencyBucketsSeconds.size()) {
      std::snprintf(le, sizeof le, "%g", kLatencyBucketsSeconds[i]);
    } else {
      std::snprintf(le, sizeof le, "+Inf");
    }
    line(out, "ringgate_backend_latency_seconds_bucket", std::string("le=\"") + le + "\"",
         cumulative);
  }
  char sum_text[64];
  std::snprintf(sum_text, sizeof sum_text, "%.6f",
                static_cast<double>(sum(&WorkerCounters::latency_sum_us)) / 1e6);
  out += std::string("ringgate_backend_latency_seconds_sum ") + sum_text + "\n";
  line(out, "ringgate_backend_latency_seconds_count", "", sum(&WorkerCounters::latency_count));

  struct PoolMetric {
    const char* name;
    const char* type;
    const char* text;
    Counter PoolCounters::*member;
  };
  static const PoolMetric kPoolMetrics[] = {
      {"ringgate_pool_idle_connections", "gauge", "Idle pooled backend connections per key.",
       &PoolCounters::idle},
      {"ringgate_pool_open_connections", "gauge", "Open backend connections per key.",
       &PoolCounters::open},
      {"ringgate_pool_hits_total", "counter", "Requests served on a pooled connection.",
       &PoolCounters::hits},
      {"ringgate_pool_misses_total", "counter", "Requests that found no idle connection.",
       &PoolCounters::misses},
      {"ringgate_pool_connects_total", "counter", "Backend connections opened.",
       &PoolCounters::connects},
      {"ringgate_pool_connect_failures_total", "counter",
       "Backend connection attempts that failed (connect or TLS handshake).",
       &PoolCounters::connect_failures},
      {"ringgate_pool_backoffs_total", "counter",
       "Times refilling a key's pool was put off after failed connection attempts (back-off "
       "from 250 ms, doubling per failure, at most 30 s).",
       &PoolCounters::backoffs},
      {"ringgate_pool_waiting_requests", "gauge",
       "Requests waiting for a connection of a key that has maxPerKey open.",
       &PoolCounters::waiting},
      {"ringgate_pool_wait_list_full_total", "counter",
       "Requests answered 503 at once: maxPerKey connections were busy and maxWaiting requests "
       "already waited.",
       &PoolCounters::wait_list_full},
      {"ringgate_pool_wait_timeouts_total", "counter",
       "Requests answered 503 after waiting waitTimeoutMs for a connection in vain.",
       &PoolCounters::wait_timeouts},
  };
  for (const PoolMetric& m : kPoolMetrics) {
    help(out, m.name, m.type, m.text);
    for (const auto& [key, slots] : pools_) {
      uint64_t total = 0;
      for (const auto& s : slots) total += get((*s).*(m.member));
      line(out, m.name, "key=\"" + escape_label(key) + "\"", total);
    }
  }

  help(out, "ringgate_certificate_expiry_timestamp_seconds", "gauge",
       "When each certificate in the store expires (unix seconds).");
  for (const CertificateExpiry& c : certificates_) {
    out += "ringgate_certificate_expiry_timestamp_seconds{id=\"" + escape_label(c.id) +
           "\",thumbprint=\"" + c.thumbprint + "\"} " + std::to_string(c.not_after) + "\n";
  }

  help(out, "ringgate_config_reloads_total", "counter", "Successful config reloads.");
  line(out, "ringgate_config_reloads_total", "", get(reloads_total));
  help(out, "ringgate_config_reload_failures_total", "counter", "Rejected config reloads.");
  line(out, "ringgate_config_reload_failures_total", "", get(reload_failures_total));
  return out;
}

}  // namespace ringgate::core
