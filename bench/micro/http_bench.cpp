// Micro benchmarks for the HTTP data path: parse a request head, route it,
// and write the backend head — the per-request work before any I/O. Objects
// are reused across iterations, so the numbers are steady-state costs.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "http/parser.hpp"
#include "http/rewrite.hpp"
#include "http/router.hpp"

namespace {

using ringgate::http::append_backend_request_head;
using ringgate::http::append_backend_target;
using ringgate::http::append_chunk;
using ringgate::http::append_last_chunk;
using ringgate::http::BodySink;
using ringgate::http::MessageKind;
using ringgate::http::MessageParser;
using ringgate::http::ParseResult;
using ringgate::http::ParseStatus;
using ringgate::http::RequestRewrite;
using ringgate::http::Router;

// Concatenates strings (avoids GCC 12's false -Wrestrict on "literal" + std::string).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

class NullSink final : public BodySink {
 public:
  void on_body(const char* /*data*/, size_t len) noexcept override { bytes += len; }
  size_t bytes = 0;
};

// API i's path: a mix of depths, like tenants with versioned APIs.
std::string api_path(int i) {
  return cat("tenant", std::to_string(i % 10), "/api", std::to_string(i), "/v",
             std::to_string(i % 3 + 1));
}

std::vector<std::string> api_paths(int count) {
  std::vector<std::string> paths;
  paths.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) paths.push_back(api_path(i));
  return paths;
}

// A browser-like request with `header_count` header fields (Host included).
std::string request_head(const std::string& target, int header_count) {
  std::string raw = cat("GET ", target, " HTTP/1.1\r\nHost: gateway.example.com\r\n");
  for (int i = 1; i < header_count; ++i) {
    raw +=
        cat("X-Header-", std::to_string(i), ": value-", std::to_string(i), "-abcdefghijklmnop\r\n");
  }
  raw += "\r\n";
  return raw;
}

void BM_ParseRouteRewrite(benchmark::State& state) {
  const int header_count = static_cast<int>(state.range(0));
  const int route_count = static_cast<int>(state.range(1));
  Router router(api_paths(route_count));
  const std::string raw =
      request_head(cat("/", api_path(route_count / 2), "/orders/12345?expand=items"), header_count);
  const std::string base_path = "/backend/api";
  MessageParser parser(MessageKind::kRequest, {});
  NullSink sink;
  std::string target;
  std::string out;
  target.reserve(256);
  out.reserve(raw.size() + 512);

  for (auto _ : state) {
    ParseResult r = parser.feed(raw.data(), raw.size(), sink);
    if (r.status != ParseStatus::kHeadComplete) {
      state.SkipWithError("request did not parse");
      break;
    }
    auto match = router.match(parser.head().target);
    if (!match) {
      state.SkipWithError("request did not route");
      break;
    }
    target.clear();
    append_backend_target(target, base_path, *match);
    out.clear();
    append_backend_request_head(out, parser.head(),
                                RequestRewrite{target, "backend.internal:9443", "192.0.2.7", true});
    benchmark::DoNotOptimize(out.data());
    parser.feed(nullptr, 0, sink);  // completes the body-less message
    parser.next_message();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(raw.size()));
}
BENCHMARK(BM_ParseRouteRewrite)
    ->ArgNames({"headers", "routes"})
    ->ArgsProduct({{4, 16, 64}, {10, 100, 1000, 10000}});

void BM_RouterMatch(benchmark::State& state) {
  const int route_count = static_cast<int>(state.range(0));
  Router router(api_paths(route_count));
  // Rotate over several targets so that one lucky path does not decide it.
  std::vector<std::string> targets;
  for (int i = 0; i < 64; ++i) {
    int api = (i * 7919) % route_count;
    targets.push_back(cat("/", api_path(api), "/items/", std::to_string(i), "?q=1"));
  }
  size_t next = 0;
  for (auto _ : state) {
    auto m = router.match(targets[next]);
    benchmark::DoNotOptimize(m);
    next = (next + 1) & 63;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouterMatch)->ArgName("routes")->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);

void BM_ChunkFraming(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  const std::string data(chunk, 'x');
  std::string out;
  out.reserve(chunk + 32);
  for (auto _ : state) {
    out.clear();
    append_chunk(out, data.data(), data.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(chunk));
}
BENCHMARK(BM_ChunkFraming)->ArgName("chunk")->Arg(64)->Arg(4096)->Arg(65536);

// Decoding a chunked request body of 256 KiB sent in chunks of the given size.
void BM_ChunkedBodyParse(benchmark::State& state) {
  const size_t chunk = static_cast<size_t>(state.range(0));
  constexpr size_t kBodyBytes = 256 * 1024;
  std::string raw = "POST /upload HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string piece(chunk, 'y');
  for (size_t sent = 0; sent < kBodyBytes; sent += chunk)
    append_chunk(raw, piece.data(), piece.size());
  append_last_chunk(raw);
  MessageParser parser(MessageKind::kRequest, {});
  NullSink sink;
  for (auto _ : state) {
    size_t pos = 0;
    ParseResult r{ParseStatus::kNeedMore, 0};
    while (r.status != ParseStatus::kMessageComplete && r.status != ParseStatus::kError) {
      r = parser.feed(raw.data() + pos, raw.size() - pos, sink);
      pos += r.consumed;
    }
    if (r.status == ParseStatus::kError) {
      state.SkipWithError("body did not parse");
      break;
    }
    parser.next_message();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kBodyBytes));
}
BENCHMARK(BM_ChunkedBodyParse)->ArgName("chunk")->Arg(256)->Arg(4096)->Arg(65536);

}  // namespace

BENCHMARK_MAIN();
