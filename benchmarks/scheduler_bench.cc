// The multi-thread runtime's costs, on 1 and 2 workers (issue 5): a spawn
// and its join, a batch of spawns spread over the workers, and a task woken
// by a task running on another worker.
#include <atomic>
#include <vector>

#include "benchmark/benchmark.h"
#include "polyio.h"

namespace polyio::bench {
namespace {

std::unique_ptr<Runtime> MultiThreadRuntime(benchmark::State& state) {
  RuntimeOptions options;
  options.flavor = RuntimeFlavor::kMultiThread;
  options.worker_threads = static_cast<int>(state.range(0));
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create(options);
  if (!rt.ok()) {
    state.SkipWithError(rt.status().ToString().c_str());
    return nullptr;
  }
  return std::move(*rt);
}

Task<int> Trivial() { co_return 1; }

// One spawn and its join, back to back: the child goes to the spawner's
// LIFO slot, so this is the cost of the machinery, not of stealing.
void BM_MtSpawnJoin(benchmark::State& state) {
  std::unique_ptr<Runtime> rt = MultiThreadRuntime(state);
  if (!rt) return;
  rt->BlockOn([](benchmark::State& s) -> Task<void> {
    for (auto _ : s) {
      absl::StatusOr<int> v = co_await Spawn(Trivial());
      benchmark::DoNotOptimize(v);
    }
  }(state));
}
BENCHMARK(BM_MtSpawnJoin)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();

// 1,000 spawns, then 1,000 joins: other workers steal; items/s = tasks/s.
void BM_MtSpawnBatch(benchmark::State& state) {
  std::unique_ptr<Runtime> rt = MultiThreadRuntime(state);
  if (!rt) return;
  constexpr int kBatch = 1000;
  rt->BlockOn([](benchmark::State& s) -> Task<void> {
    std::vector<JoinHandle<int>> handles;
    handles.reserve(kBatch);
    for (auto _ : s) {
      for (int i = 0; i < kBatch; ++i) handles.push_back(Spawn(Trivial()));
      for (auto& h : handles) benchmark::DoNotOptimize(co_await h);
      handles.clear();
    }
  }(state));
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_MtSpawnBatch)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace polyio::bench
