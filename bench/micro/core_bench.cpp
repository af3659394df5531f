// Micro benchmarks for the worker's bookkeeping on the data path: user_data
// packing, the timer wheel's arm/cancel per request, and finding a pool by
// key (done per snapshot switch, not per request, but it bounds reload cost).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/timer_wheel.hpp"
#include "ringgate/pool_key.hpp"
#include "ringgate/user_data.hpp"
#include "upstream/keyed_slots.hpp"
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

// What a snapshot switch does per pool: find the worker's pool by the key's
// canonical text (KeyedSlots, as Worker::find_pool does).
void BM_PoolLookupByKey(benchmark::State& state) {
  const int keys = static_cast<int>(state.range(0));
  upstream::KeyedSlots<upstream::Pool> pools;
  std::vector<std::string> lookups;
  for (int i = 0; i < keys; ++i) {
    std::string text = make_key(i).to_string();
    pools.find_or_add(text, [&](uint32_t) { return std::make_unique<upstream::Pool>(text); });
    lookups.push_back(std::move(text));
  }
  size_t i = 0;
  for (auto _ : state) {
    const uint32_t slot = pools.find_or_add(
        lookups[i++ % lookups.size()], [](uint32_t) { return std::unique_ptr<upstream::Pool>(); });
    benchmark::DoNotOptimize(slot);
  }
}
BENCHMARK(BM_PoolLookupByKey)->ArgName("keys")->Arg(1)->Arg(100)->Arg(10000);

// What an exchange does with a pooled connection: take the most recently
// used idle one (LIFO), give it back afterwards.
void BM_PoolTakeAndReturn(benchmark::State& state) {
  upstream::Pool pool("k");
  for (uint32_t i = 0; i < static_cast<uint32_t>(state.range(0)); ++i) pool.put_idle(i);
  for (auto _ : state) {
    const uint32_t c = pool.idle().back();
    pool.remove_idle(c);
    pool.put_idle(c);
    benchmark::DoNotOptimize(c);
  }
}
BENCHMARK(BM_PoolTakeAndReturn)->ArgName("idle")->Arg(4)->Arg(1024);

}  // namespace
