// Runtime overheads of tasks, on a Runtime with this build's backend: what
// one spawn, one co_await, one yield and one Sleep(0) cost, so that a change
// to the task machinery (frames, wakers, run queue) shows up as a number.
#include "benchmark/benchmark.h"
#include "polyio.h"

namespace polyio::bench {
namespace {

// Yields once: wakes its own task and returns Pending, so the task goes to
// the back of the run queue (polyio has no Yield() of its own yet).
class YieldFuture {
 public:
  polyio::Poll<bool> Poll(Context& cx) {
    if (yielded_) return true;
    yielded_ = true;
    cx.waker().WakeByRef();
    return kPending;
  }

 private:
  bool yielded_ = false;
};

template <class Body>
void RunOnRuntime(benchmark::State& state, Body body) {
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
  if (!rt.ok()) {
    state.SkipWithError(rt.status().ToString().c_str());
    return;
  }
  (*rt)->BlockOn(body(state));
}

Task<int> Trivial() { co_return 1; }

// Spawn a task that returns at once and await its JoinHandle.
void BM_SpawnJoin(benchmark::State& state) {
  RunOnRuntime(state, [](benchmark::State& s) -> Task<void> {
    for (auto _ : s) {
      absl::StatusOr<int> v = co_await Spawn(Trivial());
      benchmark::DoNotOptimize(v);
    }
  });
}
BENCHMARK(BM_SpawnJoin);

// co_await a task that completes without suspending.
void BM_AwaitReadyTask(benchmark::State& state) {
  RunOnRuntime(state, [](benchmark::State& s) -> Task<void> {
    int sum = 0;
    for (auto _ : s) sum += co_await Trivial();
    benchmark::DoNotOptimize(sum);
  });
}
BENCHMARK(BM_AwaitReadyTask);

// Two tasks yielding to each other: one iteration is two task switches
// through the run queue.
void BM_YieldPingPong(benchmark::State& state) {
  RunOnRuntime(state, [](benchmark::State& s) -> Task<void> {
    bool stop = false;
    JoinHandle<void> partner = Spawn([](bool* stop) -> Task<void> {
      while (!*stop) co_await YieldFuture();
    }(&stop));
    for (auto _ : s) co_await YieldFuture();
    stop = true;
    (co_await partner).IgnoreError();
  });
}
BENCHMARK(BM_YieldPingPong);

// Sleep(0): a deadline already passed completes without touching the wheel.
void BM_SleepZero(benchmark::State& state) {
  RunOnRuntime(state, [](benchmark::State& s) -> Task<void> {
    for (auto _ : s) (co_await Sleep(Duration::zero())).IgnoreError();
  });
}
BENCHMARK(BM_SleepZero);

}  // namespace
}  // namespace polyio::bench
