// Boost.Asio's nearest equivalents of polyio's task rows
// (benchmarks/task_bench.cc), under the same benchmark names, on an
// io_context with concurrency hint 1 run by the benchmark thread:
//   BM_SpawnJoin       co_await co_spawn(ex, Trivial(), use_awaitable): a new
//                      coroutine thread of execution, run, and its result
//                      delivered to the awaiting one
//   BM_AwaitReadyTask  co_await Trivial() of an awaitable<int> that returns
//                      without suspending
//   BM_YieldPingPong   two coroutines each doing co_await post(ex,
//                      use_awaitable), Asio's way to yield; one iteration is
//                      two switches through the scheduler's queue
#include <utility>

#include "benchmark/benchmark.h"
#include "boost/asio.hpp"

namespace polyio::bench {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// Runs `body(state)` as a coroutine on a fresh io_context until it is done.
template <class Body>
void RunOnContext(benchmark::State& state, Body body) {
  asio::io_context ctx(BOOST_ASIO_CONCURRENCY_HINT_1);
  asio::co_spawn(ctx, body(state), asio::detached);
  ctx.run();
}

awaitable<int> Trivial() { co_return 1; }

void BM_SpawnJoin(benchmark::State& state) {
  RunOnContext(state, [](benchmark::State& s) -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (auto _ : s) {
      int v = co_await asio::co_spawn(ex, Trivial(), use_awaitable);
      benchmark::DoNotOptimize(v);
    }
  });
}
BENCHMARK(BM_SpawnJoin);

void BM_AwaitReadyTask(benchmark::State& state) {
  RunOnContext(state, [](benchmark::State& s) -> awaitable<void> {
    int sum = 0;
    for (auto _ : s) sum += co_await Trivial();
    benchmark::DoNotOptimize(sum);
  });
}
BENCHMARK(BM_AwaitReadyTask);

awaitable<void> YieldUntil(const bool* stop) {
  auto ex = co_await asio::this_coro::executor;
  while (!*stop) co_await asio::post(ex, use_awaitable);
}

void BM_YieldPingPong(benchmark::State& state) {
  RunOnContext(state, [](benchmark::State& s) -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    bool stop = false;
    // The partner ends at its next turn after `stop`; ctx.run() returns
    // once both have, so `stop` outlives it.
    asio::co_spawn(ex, YieldUntil(&stop), asio::detached);
    for (auto _ : s) co_await asio::post(ex, use_awaitable);
    stop = true;
    co_await asio::post(ex, use_awaitable);
  });
}
BENCHMARK(BM_YieldPingPong);

}  // namespace
}  // namespace polyio::bench
