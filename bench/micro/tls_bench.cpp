// Backend TLS handshakes per second, full and resumed: a client transport
// (the gateway's side, with a client certificate) and a server transport in
// one process, bytes carried in memory. The rate counts both ends' CPU, so a
// real gateway, which pays only the client side, does better than this.
#include <benchmark/benchmark.h>

#include "tls/context.hpp"
#include "tls/tls_transport.hpp"
#include "tls_test_support.hpp"

namespace {

using namespace ringgate::tls;
using namespace ringgate::tls::testing;

void BM_BackendHandshake(benchmark::State& state) {
  const bool resume = state.range(0) != 0;
  const Pki& p = pki();
  auto contexts = single(server_context(p.backend, p.backend_chain()));
  std::string error;
  auto client_ctx = make_client_context(trusting_root(&p.client), error);
  if (!client_ctx) {
    state.SkipWithError(error.c_str());
    return;
  }
  SessionCache cache;
  int64_t resumed = 0;
  for (auto _ : state) {
    auto client = make_client(client_ctx, "backend.test", false, resume ? &cache : nullptr);
    auto server = make_server(contexts);
    Pump pump(*client, *server);
    pump.handshake();
    if (!pump.both_established()) {
      state.SkipWithError("handshake failed");
      return;
    }
    resumed += client->session_reused() ? 1 : 0;
  }
  state.counters["handshakes/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["resumed"] =
      static_cast<double>(resumed) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_BackendHandshake)->ArgName("resume")->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
