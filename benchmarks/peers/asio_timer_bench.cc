// Boost.Asio's steady_timer against polyio's timer rows
// (benchmarks/timer_bench.cc). Asio keeps the timers of an io_context in a
// binary heap; when a new timer becomes the earliest, the epoll reactor
// re-arms its timerfd (one timerfd_settime call).
//   BM_SleepInsertCancel         expires_at + async_wait + cancel of one
//                                steady_timer at a random deadline (1 h plus
//                                up to 10 s away), from a handler on the
//                                io_context's thread; the cancelled wait's
//                                handler (operation_aborted) runs too, since
//                                Asio always delivers it. polyio's row of
//                                the same name is a Sleep polled once and
//                                dropped.
//   BM_SleepInsertCancel/100000  the same with 100,000 other timers waiting
//                                (polyio's nearest row:
//                                BM_WheelInsertCancel/100000)
//   BM_TimerInsertFire1M         1,000,000 timers with random deadlines over
//                                10 s, then io_context::run until all fired;
//                                CPU time per timer. Real clock, so one
//                                iteration takes >= 10 s of wall time and
//                                includes the reactor's ~10,000 wake-ups;
//                                polyio's BM_WheelInsertFire1M advances a
//                                simulated clock, with no wake-ups.
#include <chrono>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/peers/random_delays.h"
#include "boost/asio.hpp"

namespace polyio::bench {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = asio::steady_timer::clock_type;

constexpr int kBatch = 1000;

struct InsertCancelRun {
  benchmark::State* state;
  asio::io_context* ctx;
  asio::steady_timer* timer;
  std::vector<asio::steady_timer>* others;
  std::vector<std::chrono::nanoseconds> delays;
  Clock::time_point base;
  size_t next = 0;
  int64_t aborted = 0;
};

// One batch of insert+cancel, then itself again behind the aborted waits'
// handlers; at the end, cancels the other timers so that run() returns.
void InsertCancelBatch(InsertCancelRun* run) {
  if (!run->state->KeepRunningBatch(kBatch)) {
    for (asio::steady_timer& t : *run->others) t.cancel();
    return;
  }
  for (int i = 0; i < kBatch; ++i) {
    run->timer->expires_at(run->base + run->delays[run->next++ & 4095]);
    run->timer->async_wait([run](error_code ec) {
      if (ec == asio::error::operation_aborted) ++run->aborted;
    });
    run->timer->cancel();
  }
  asio::post(*run->ctx, [run] { InsertCancelBatch(run); });
}

void BM_SleepInsertCancel(benchmark::State& state, int others) {
  asio::io_context ctx(BOOST_ASIO_CONCURRENCY_HINT_1);
  asio::steady_timer timer(ctx);
  std::vector<asio::steady_timer> background;
  background.reserve(others);  // timers with a pending wait stay in place
  InsertCancelRun run{&state,
                      &ctx,
                      &timer,
                      &background,
                      RandomDelays(4096, kSpan, 2),
                      Clock::now() + std::chrono::hours(1)};
  for (int i = 0; i < others; ++i) {
    background.emplace_back(ctx, run.base + run.delays[i & 4095]);
    background.back().async_wait([](error_code) {});
  }
  asio::post(ctx, [&run] { InsertCancelBatch(&run); });
  ctx.run();
  if (run.aborted != state.iterations()) {
    state.SkipWithError("a cancelled wait was not delivered");
  }
}

void BM_SleepInsertCancel(benchmark::State& state) {
  BM_SleepInsertCancel(state, 0);
}
BENCHMARK(BM_SleepInsertCancel);
BENCHMARK_CAPTURE(BM_SleepInsertCancel, 100000, 100000);

void BM_TimerInsertFire1M(benchmark::State& state) {
  std::vector<std::chrono::nanoseconds> delays =
      RandomDelays(kMillion, kSpan, 3);
  asio::io_context ctx(BOOST_ASIO_CONCURRENCY_HINT_1);
  std::vector<asio::steady_timer> timers;
  timers.reserve(kMillion);
  for (size_t i = 0; i < kMillion; ++i) timers.emplace_back(ctx);
  int64_t fired = 0;
  for (auto _ : state) {
    fired = 0;
    const Clock::time_point start = Clock::now();
    for (size_t i = 0; i < kMillion; ++i) {
      timers[i].expires_at(start + delays[i]);
      timers[i].async_wait([&fired](error_code ec) {
        if (!ec) ++fired;
      });
    }
    ctx.run();
    ctx.restart();
    if (fired != static_cast<int64_t>(kMillion)) {
      state.SkipWithError("not every timer fired");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kMillion);
  state.SetLabel("real clock, CPU time");
}
// One iteration takes the 10 s span of wall time and more than the default
// --benchmark_min_time of CPU time, so Google Benchmark runs just one.
BENCHMARK(BM_TimerInsertFire1M)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace polyio::bench
