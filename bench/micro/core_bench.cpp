// Micro benchmarks for the worker's bookkeeping on the data path: user_data
// packing, the timer wheel's arm/cancel per request, and finding a pool by
// key (done per snapshot switch, not per request, but it bounds reload cost).
#include <benchmark/benchmark.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "core/timer_wheel.hpp"
#include "ringgate/pool_key.hpp"
#include "ringgate/user_data.hpp"
#include "upstream/pool.hpp"

namespace {

using namespace ringgate;

void BM_UserDataRoundTrip(benchmark::State& state) {
  uint32_t slot = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const uint64_t packed = encode_user_data(Op::kBackendRecv, slot & kMaxSlot, slot);
    ++slot;
    const UserData ud = decode_user_data(packed);
    sum += ud.slot + ud.generation;
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_UserDataRoundTrip);

// One request's worth of timer traffic: arm the response timeout, cancel it.
void BM_TimerArmCancel(benchmark::State& state) {
  core::TimerWheel wheel(0);
  std::vector<core::TimerNode> nodes(static_cast<size_t>(state.range(0)));
  for (size_t i = 0; i < nodes.size(); ++i) wheel.arm(nodes[i], 0, 1000 + i);
  size_t i = 0;
  for (auto _ : state) {
    core::TimerNode& node = nodes[i++ % nodes.size()];
    wheel.arm(node, 0, 30000);
    wheel.cancel(node);
  }
}
BENCHMARK(BM_TimerArmCancel)->ArgName("armed")->Arg(16)->Arg(1024)->Arg(65536);

PoolKey make_key(int i) {
  PoolKey key;
  key.origin = "https://backend-" + std::to_string(i) + ".internal:9443";
  key.sni = "backend-" + std::to_string(i) + ".internal";
  key.validation_profile = "chain+name";
  key.thumbprint = std::string(40, static_cast<char>('A' + i % 6));
  return key;
}

void BM_PoolLookupByKey(benchmark::State& state) {
  const int keys = static_cast<int>(state.range(0));
  std::unordered_map<PoolKey, upstream::Pool, PoolKeyHash> pools;
  std::vector<PoolKey> lookups;
  for (int i = 0; i < keys; ++i) {
    PoolKey key = make_key(i);
    pools.emplace(key, upstream::Pool(key.to_string()));
    lookups.push_back(key);
  }
  size_t i = 0;
  for (auto _ : state) {
    auto it = pools.find(lookups[i++ % lookups.size()]);
    benchmark::DoNotOptimize(it);
  }
}
BENCHMARK(BM_PoolLookupByKey)->ArgName("keys")->Arg(1)->Arg(100)->Arg(10000);

void BM_PoolTakeAndReturn(benchmark::State& state) {
  upstream::Pool pool("k");
  for (uint32_t i = 0; i < static_cast<uint32_t>(state.range(0)); ++i) pool.put_idle(i);
  for (auto _ : state) {
    const uint32_t c = pool.take_idle();
    pool.put_idle(c);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_PoolTakeAndReturn)->ArgName("idle")->Arg(4)->Arg(1024);

}  // namespace
