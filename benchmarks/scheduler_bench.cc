// The multi-thread runtime's costs, on 1 and 2 workers (issue 5): a spawn
// and its join, a batch of spawns spread over the workers, the throughput of
// a bounded mpsc channel between a producer and a consumer task, and the
// round trip of a ping-pong between two tasks through two channels — on 2
// workers the two usually run on different workers, so that is the
// cross-worker wake latency.
#include <cstdint>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/affinity.h"
#include "polyio.h"

namespace polyio::bench {
namespace {

std::unique_ptr<Runtime> MultiThreadRuntime(benchmark::State& state) {
  RuntimeOptions options;
  options.flavor = RuntimeFlavor::kMultiThread;
  options.worker_threads = static_cast<int>(state.range(0));
  // runtime_bench pins its thread to one core; the workers must not inherit
  // that, or 2 workers would share it.
  AllCoresScope all_cores;
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

// 1 if it runs on a thread other than `spawner`'s.
Task<int> RunsElsewhere(std::thread::id spawner) {
  co_return std::this_thread::get_id() != spawner ? 1 : 0;
}

// 1,000 spawns, then 1,000 joins: idle workers are woken and steal;
// items/s = tasks/s. The counter on_other_workers is the share of spawned
// tasks that ran on a worker other than the spawner's: ~0 on 1 worker, and
// well above 0 on 2 when spawned work spreads (issue 10, defect 8: it was 0
// while spawns went to the spawner's unstealable LIFO slot).
void BM_MtSpawnBatch(benchmark::State& state) {
  std::unique_ptr<Runtime> rt = MultiThreadRuntime(state);
  if (!rt) return;
  constexpr int kBatch = 1000;
  int64_t elsewhere = rt->BlockOn([](benchmark::State& s) -> Task<int64_t> {
    std::vector<JoinHandle<int>> handles;
    handles.reserve(kBatch);
    int64_t moved = 0;
    for (auto _ : s) {
      const std::thread::id me = std::this_thread::get_id();
      for (int i = 0; i < kBatch; ++i) {
        handles.push_back(Spawn(RunsElsewhere(me)));
      }
      for (auto& h : handles) moved += (co_await h).value_or(0);
      handles.clear();
    }
    co_return moved;
  }(state));
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["on_other_workers"] =
      benchmark::Counter(static_cast<double>(elsewhere) /
                         static_cast<double>(state.iterations() * kBatch));
}
BENCHMARK(BM_MtSpawnBatch)->ArgName("workers")->Arg(1)->Arg(2)->UseRealTime();

// One iteration: 1,000 values through a channel of capacity 128.
void BM_MtChannelThroughput(benchmark::State& state) {
  std::unique_ptr<Runtime> rt = MultiThreadRuntime(state);
  if (!rt) return;
  constexpr int kPerIteration = 1000;
  rt->BlockOn([](benchmark::State& s) -> Task<void> {
    auto [tx, rx] = sync::mpsc::Channel<uint64_t>(128);
    JoinHandle<uint64_t> consumer =
        Spawn([](sync::mpsc::Receiver<uint64_t> rx) -> Task<uint64_t> {
          uint64_t sum = 0;
          for (;;) {
            absl::StatusOr<uint64_t> v = co_await rx.Recv();
            if (!v.ok()) co_return sum;
            sum += *v;
          }
        }(std::move(rx)));
    uint64_t sent = 0;
    for (auto _ : s) {
      for (int i = 0; i < kPerIteration; ++i) {
        if (!(co_await tx.Send(sent++)).ok()) s.SkipWithError("send failed");
      }
    }
    { auto done = std::move(tx); }  // the consumer sees the end
    absl::StatusOr<uint64_t> sum = co_await consumer;
    if (!sum.ok() || *sum != sent * (sent - 1) / 2) {
      s.SkipWithError("values lost");
    }
  }(state));
  state.SetItemsProcessed(state.iterations() * kPerIteration);
}
BENCHMARK(BM_MtChannelThroughput)
    ->ArgName("workers")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();

// One iteration: a message to the partner task and its reply.
void BM_MtChannelPingPong(benchmark::State& state) {
  std::unique_ptr<Runtime> rt = MultiThreadRuntime(state);
  if (!rt) return;
  rt->BlockOn([](benchmark::State& s) -> Task<void> {
    auto [ping_tx, ping_rx] = sync::mpsc::UnboundedChannel<int>();
    auto [pong_tx, pong_rx] = sync::mpsc::UnboundedChannel<int>();
    JoinHandle<void> partner =
        Spawn([](sync::mpsc::Receiver<int> in,
                 sync::mpsc::UnboundedSender<int> out) -> Task<void> {
          for (;;) {
            absl::StatusOr<int> v = co_await in.Recv();
            if (!v.ok() || !out.Send(*v).ok()) co_return;
          }
        }(std::move(ping_rx), std::move(pong_tx)));
    for (auto _ : s) {
      if (!ping_tx.Send(1).ok()) s.SkipWithError("send failed");
      absl::StatusOr<int> v = co_await pong_rx.Recv();
      benchmark::DoNotOptimize(v);
    }
    { auto done = std::move(ping_tx); }
    (co_await partner).IgnoreError();
  }(state));
}
BENCHMARK(BM_MtChannelPingPong)
    ->ArgName("workers")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();

}  // namespace
}  // namespace polyio::bench
