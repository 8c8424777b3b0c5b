// libuv's uv_timer against polyio's timer rows (benchmarks/timer_bench.cc).
// libuv keeps a loop's timers in a binary min-heap, with millisecond
// deadlines relative to the loop's cached clock; starting or stopping a
// timer makes no system call (the next epoll_wait's timeout is computed
// from the heap).
//   BM_SleepInsertCancel         uv_timer_start + uv_timer_stop of one timer
//                                at a random deadline (1 h plus up to 10 s)
//   BM_SleepInsertCancel/100000  the same with 100,000 other timers started
//                                (polyio's nearest row:
//                                BM_WheelInsertCancel/100000)
//   BM_TimerInsertFire1M         1,000,000 timers with random deadlines over
//                                10 s, then uv_run until all fired; CPU time
//                                per timer. Real clock (libuv's clock cannot
//                                be simulated), so one iteration takes
//                                >= 10 s of wall time and includes the
//                                loop's ~10,000 wake-ups; polyio's
//                                BM_WheelInsertFire1M advances a simulated
//                                clock, with no wake-ups.
#include <uv.h>

#include <chrono>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/peers/random_delays.h"

namespace polyio::bench {
namespace {

std::vector<uint64_t> RandomMillis(size_t n, uint32_t seed) {
  std::vector<uint64_t> ms;
  ms.reserve(n);
  for (std::chrono::nanoseconds d : RandomDelays(n, kSpan, seed)) {
    ms.push_back(
        std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  }
  return ms;
}

void Ignore(uv_timer_t*) {}

// Closes every handle of `loop`, lets the close callbacks run, and closes it.
void CloseLoop(uv_loop_t* loop) {
  uv_walk(
      loop,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}

void BM_SleepInsertCancel(benchmark::State& state, int others) {
  uv_loop_t loop;
  if (int err = uv_loop_init(&loop); err != 0) {
    state.SkipWithError(uv_strerror(err));
    return;
  }
  constexpr uint64_t kHourMs = 3600 * 1000;
  std::vector<uint64_t> ms = RandomMillis(4096, 2);
  std::vector<uv_timer_t> background(others);  // never resized: handles stay
  for (int i = 0; i < others; ++i) {
    uv_timer_init(&loop, &background[i]);
    uv_timer_start(&background[i], Ignore, kHourMs + ms[i & 4095], 0);
  }
  uv_timer_t timer;
  uv_timer_init(&loop, &timer);
  size_t next = 0;
  for (auto _ : state) {
    uv_timer_start(&timer, Ignore, kHourMs + ms[next++ & 4095], 0);
    uv_timer_stop(&timer);
  }
  CloseLoop(&loop);
}

void BM_SleepInsertCancel(benchmark::State& state) {
  BM_SleepInsertCancel(state, 0);
}
BENCHMARK(BM_SleepInsertCancel);
BENCHMARK_CAPTURE(BM_SleepInsertCancel, 100000, 100000);

int64_t g_fired = 0;
void CountFire(uv_timer_t*) { ++g_fired; }

void BM_TimerInsertFire1M(benchmark::State& state) {
  uv_loop_t loop;
  if (int err = uv_loop_init(&loop); err != 0) {
    state.SkipWithError(uv_strerror(err));
    return;
  }
  std::vector<uint64_t> ms = RandomMillis(kMillion, 3);
  std::vector<uv_timer_t> timers(kMillion);  // never resized: handles stay
  for (uv_timer_t& t : timers) uv_timer_init(&loop, &t);
  for (auto _ : state) {
    g_fired = 0;
    uv_update_time(&loop);  // deadlines relative to now, not the last turn
    for (size_t i = 0; i < kMillion; ++i) {
      uv_timer_start(&timers[i], CountFire, ms[i], 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);  // returns when no timer is left
    if (g_fired != static_cast<int64_t>(kMillion)) {
      state.SkipWithError("not every timer fired");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kMillion);
  state.SetLabel("real clock, CPU time");
  CloseLoop(&loop);
}
// One iteration takes the 10 s span of wall time and more than the default
// --benchmark_min_time of CPU time, so Google Benchmark runs just one.
BENCHMARK(BM_TimerInsertFire1M)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace polyio::bench
