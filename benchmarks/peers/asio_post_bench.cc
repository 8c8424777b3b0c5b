// Boost.Asio's nearest equivalents of polyio's cross-thread and post rows
// (benchmarks/wake_bench.cc), under the same benchmark names:
//   BM_EventLoopPost        asio::post of a callback to the io_context from
//                           a handler on its own thread (Asio's fast path: a
//                           thread-private queue, no lock, with concurrency
//                           hint 1), batches of 1000 posts, then running them
//   BM_WakeFromOtherThread  latency: the io_context's thread is blocked in
//                           run_one() (epoll_wait), a thread on the other
//                           core posts a handler (which interrupts the
//                           reactor through its eventfd), run_one returns
#include <atomic>
#include <thread>

#include "benchmark/benchmark.h"
#include "benchmarks/affinity.h"
#include "boost/asio.hpp"

namespace polyio::bench {
namespace {

namespace asio = boost::asio;

constexpr int kBatch = 1000;

struct PostRun {
  asio::io_context* ctx;
  benchmark::State* state;
  int64_t ran = 0;
};

// One batch: kBatch posts, then itself again behind them.
void PostBatch(PostRun* run) {
  if (!run->state->KeepRunningBatch(kBatch)) return;
  for (int i = 0; i < kBatch; ++i) asio::post(*run->ctx, [run] { ++run->ran; });
  asio::post(*run->ctx, [run] { PostBatch(run); });
}

void BM_EventLoopPost(benchmark::State& state) {
  asio::io_context ctx(BOOST_ASIO_CONCURRENCY_HINT_1);
  PostRun run{&ctx, &state};
  asio::post(ctx, [&run] { PostBatch(&run); });
  ctx.run();
  if (run.ran != state.iterations()) {
    state.SkipWithError("a posted callback was lost");
  }
}
BENCHMARK(BM_EventLoopPost);

void BM_WakeFromOtherThread(benchmark::State& state) {
  asio::io_context ctx(BOOST_ASIO_CONCURRENCY_HINT_1);
  // Keeps run_one() waiting in the reactor while nothing is queued.
  auto work = asio::make_work_guard(ctx);
  std::atomic<bool> armed{false};
  std::atomic<bool> quit{false};
  std::thread helper([&] {
    PinCurrentThread(Role::kClient);
    while (!quit.load(std::memory_order_acquire)) {
      if (!armed.exchange(false, std::memory_order_acq_rel)) continue;
      asio::post(ctx, [] {});
    }
  });
  for (auto _ : state) {
    armed.store(true, std::memory_order_release);
    ctx.run_one();
  }
  quit.store(true, std::memory_order_release);
  helper.join();
}
BENCHMARK(BM_WakeFromOtherThread)->UseRealTime();

}  // namespace
}  // namespace polyio::bench
