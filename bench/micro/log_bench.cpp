// Micro benchmarks for what the access log costs a worker per request:
// formatting one line (JSON escaping, the timestamp) and copying it into the
// worker's ring. The writer thread's write() calls are not here; the e2e
// bench (`bench/e2e/run --access-log`) measures the whole process.
#include <benchmark/benchmark.h>

#include <string>

#include "core/access_log.hpp"
#include "core/line_ring.hpp"
#include "core/log_format.hpp"
#include "core/log_writer.hpp"
#include "core/metrics.hpp"
#include "core/worker_log.hpp"

namespace {

using namespace ringgate::core;

AccessEntry typical_entry() {
  AccessEntry e;
  e.time_unix_ms = 1795980521007;
  e.request_id = "9f1c2b7a44e0d3c1";
  e.client_ip = "127.0.0.1";
  e.method = "GET";
  e.url = "/orders/12345?expand=items&currency=EUR";
  e.api_id = "orders";
  e.backend_url = "https://127.0.0.1:9443/api/12345?expand=items&currency=EUR";
  e.response_code = 200;
  e.backend_response_code = 200;
  e.request_size = 186;
  e.response_size = 1310;
  e.total_time_us = 1234;
  e.backend_time_us = 1000;
  e.client_certificate_thumbprint = "0123456789ABCDEF0123456789ABCDEF01234567";
  e.pool_reused = true;
  e.transport = "plain";
  return e;
}

void BM_AccessLineFormat(benchmark::State& state) {
  const AccessEntry entry = typical_entry();
  std::string line;
  for (auto _ : state) {
    line.clear();
    append_access_line(line, entry);
    benchmark::DoNotOptimize(line.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_AccessLineFormat);

// What a worker does per request with the access log on: format, copy into
// its ring. The ring is emptied every 1000 lines, as the writer would.
void BM_AccessLineFormatAndQueue(benchmark::State& state) {
  LogWriter writer(1, LogWriter::Options{});
  WorkerCounters counters;
  WorkerLog log(writer.buffers(0), nullptr, counters);
  const AccessEntry entry = typical_entry();
  uint64_t n = 0;
  for (auto _ : state) {
    log.access(entry);
    if (++n % 1000 == 0) writer.buffers(0).access.drain([](const char*, size_t) {});
  }
  state.counters["dropped"] = static_cast<double>(counters.access_log_dropped.load());
}
BENCHMARK(BM_AccessLineFormatAndQueue);

void BM_JsonEscapeUrl(benchmark::State& state) {
  const std::string url = "/orders/12345?expand=items&currency=EUR&note=%22quoted%22";
  std::string out;
  for (auto _ : state) {
    out.clear();
    append_json_string(out, url);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_JsonEscapeUrl);

// A data-path error line that the rate limit holds back (a dead backend
// under load): formatting plus the limiter's lookup.
void BM_SuppressedErrorLine(benchmark::State& state) {
  LogWriter writer(1, LogWriter::Options{});
  WorkerCounters counters;
  WorkerLog log(writer.buffers(0), nullptr, counters);
  for (auto _ : state) {
    log.warn("api %s: connect to %s failed: %s -> %d", "orders", "http://127.0.0.1:9100",
             "Connection refused", 502);
  }
}
BENCHMARK(BM_SuppressedErrorLine);

}  // namespace
