// libuv against polyio's cross-thread row (benchmarks/wake_bench.cc):
//   BM_WakeFromOtherThread  latency: the loop's thread is blocked in
//                           uv_run(UV_RUN_ONCE) (epoll_wait), a thread on
//                           the other core calls uv_async_send (libuv's one
//                           thread-safe call: an eventfd write), the async
//                           callback runs and uv_run returns.
// libuv has no call that queues a callback on the loop (polyio's
// EventLoop::Post, asio::post): uv_async_send coalesces and carries no
// callback, idle/check/prepare handles run on every turn, and a zero
// timeout uv_timer is a timer. So there is no BM_EventLoopPost row for it.
#include <uv.h>

#include <atomic>
#include <thread>

#include "benchmark/benchmark.h"
#include "benchmarks/affinity.h"

namespace polyio::bench {
namespace {

struct Signal {
  uv_async_t async;
  bool fired = false;  // the loop's thread only
};

void BM_WakeFromOtherThread(benchmark::State& state) {
  uv_loop_t loop;
  if (int err = uv_loop_init(&loop); err != 0) {
    state.SkipWithError(uv_strerror(err));
    return;
  }
  Signal box;
  box.async.data = &box;
  uv_async_init(&loop, &box.async, [](uv_async_t* a) {
    static_cast<Signal*>(a->data)->fired = true;
  });
  std::atomic<bool> armed{false};
  std::atomic<bool> quit{false};
  std::thread helper([&] {
    PinCurrentThread(Role::kClient);
    while (!quit.load(std::memory_order_acquire)) {
      if (!armed.exchange(false, std::memory_order_acq_rel)) continue;
      uv_async_send(&box.async);
    }
  });
  for (auto _ : state) {
    box.fired = false;
    armed.store(true, std::memory_order_release);
    while (!box.fired) uv_run(&loop, UV_RUN_ONCE);
  }
  quit.store(true, std::memory_order_release);
  helper.join();
  uv_close(reinterpret_cast<uv_handle_t*>(&box.async), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
BENCHMARK(BM_WakeFromOtherThread)->UseRealTime();

}  // namespace
}  // namespace polyio::bench
