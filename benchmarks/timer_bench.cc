// Timer costs: insert+cancel on the TimerWheel directly and through Sleep
// futures (what a Timeout that does not fire costs), and insert+fire of
// 1,000,000 timers with random deadlines over 10 s — on the wheel, and on a
// binary heap (std::priority_queue), the structure a wheel has to beat to
// be worth its complexity.
#include <queue>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "polyio.h"
#include "runtime/time/timer_wheel.h"

namespace polyio::bench {
namespace {

std::vector<Duration> RandomDelays(size_t n, Duration max, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> d(0, max.count());
  std::vector<Duration> v(n);
  for (Duration& x : v) x = Duration(d(rng));
  return v;
}

int64_t g_fired = 0;
void CountFire(TimerEntry*) { ++g_fired; }

// Insert and remove one timer, with range(0) other timers in the wheel.
void BM_WheelInsertCancel(benchmark::State& state) {
  const Instant start = Now();
  TimerWheel wheel(start);
  std::vector<Duration> delays =
      RandomDelays(4096, std::chrono::seconds(10), 1);
  std::vector<TimerEntry> background(state.range(0), TimerEntry(&CountFire));
  for (size_t i = 0; i < background.size(); ++i) {
    wheel.Insert(&background[i], start + delays[i % delays.size()]);
  }
  TimerEntry entry(&CountFire);
  size_t i = 0;
  for (auto _ : state) {
    wheel.Insert(&entry, start + delays[i++ & 4095]);
    wheel.Remove(&entry);
  }
  for (TimerEntry& e : background) wheel.Remove(&e);
}
BENCHMARK(BM_WheelInsertCancel)->Arg(0)->Arg(100000);

// Polls a Sleep once (inserting its timer) and drops it (removing it).
class SleepPolledOnce {
 public:
  explicit SleepPolledOnce(Instant deadline) : deadline_(deadline) {}
  polyio::Poll<bool> Poll(Context& cx) {
    SleepFuture sleep(deadline_);
    benchmark::DoNotOptimize(sleep.Poll(cx).ready());
    return true;
  }

 private:
  Instant deadline_;
};

void BM_SleepInsertCancel(benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
  if (!rt.ok()) {
    state.SkipWithError(rt.status().ToString().c_str());
    return;
  }
  (*rt)->BlockOn([](benchmark::State& s) -> Task<void> {
    std::vector<Duration> delays =
        RandomDelays(4096, std::chrono::seconds(10), 2);
    const Instant base = Now() + std::chrono::hours(1);
    size_t i = 0;
    for (auto _ : s) co_await SleepPolledOnce(base + delays[i++ & 4095]);
  }(state));
}
BENCHMARK(BM_SleepInsertCancel);

constexpr size_t kMillion = 1000000;
constexpr auto kSpan = std::chrono::seconds(10);
constexpr auto kStep = std::chrono::milliseconds(1);

// Insert 1M timers, then advance a simulated clock 1 ms at a time until all
// fired. Time per timer (items).
void BM_WheelInsertFire1M(benchmark::State& state) {
  std::vector<Duration> delays = RandomDelays(kMillion, kSpan, 3);
  std::vector<TimerEntry> entries(kMillion, TimerEntry(&CountFire));
  for (auto _ : state) {
    const Instant start = Now();
    TimerWheel wheel(start);
    g_fired = 0;
    for (size_t i = 0; i < kMillion; ++i) {
      wheel.Insert(&entries[i], start + delays[i]);
    }
    for (Instant t = start; t <= start + kSpan + 2 * kStep; t += kStep) {
      wheel.Advance(t);
    }
    if (g_fired != static_cast<int64_t>(kMillion)) {
      state.SkipWithError("not every timer fired");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kMillion);
}
BENCHMARK(BM_WheelInsertFire1M)->Unit(benchmark::kMillisecond);

// The same on a binary heap of (deadline, entry).
void BM_HeapInsertFire1M(benchmark::State& state) {
  std::vector<Duration> delays = RandomDelays(kMillion, kSpan, 3);
  std::vector<TimerEntry> entries(kMillion, TimerEntry(&CountFire));
  using Item = std::pair<Instant, TimerEntry*>;
  for (auto _ : state) {
    const Instant start = Now();
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
    g_fired = 0;
    for (size_t i = 0; i < kMillion; ++i) {
      heap.emplace(start + delays[i], &entries[i]);
    }
    for (Instant t = start; t <= start + kSpan + 2 * kStep; t += kStep) {
      while (!heap.empty() && heap.top().first <= t) {
        TimerEntry* e = heap.top().second;
        heap.pop();
        e->fire(e);
      }
    }
    if (g_fired != static_cast<int64_t>(kMillion)) {
      state.SkipWithError("not every timer fired");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kMillion);
}
BENCHMARK(BM_HeapInsertFire1M)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace polyio::bench
