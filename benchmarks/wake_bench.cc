// Cross-thread costs, on a Runtime with this build's backend: the latency of
// waking a task from another thread (the runtime thread is blocked in the
// backend's wait, so this includes the backend's Wake() and the return from
// its wait), and EventLoop::Post on the loop's own thread.
#include <atomic>
#include <mutex>
#include <thread>

#include "benchmark/benchmark.h"
#include "benchmarks/affinity.h"
#include "polyio.h"

namespace polyio::bench {
namespace {

// A waker handed from the runtime thread to a helper thread.
struct Mailbox {
  std::mutex mu;
  Waker waker;
  bool fired = false;
  std::atomic<bool> armed{false};
  std::atomic<bool> quit{false};
};

// Pending until the helper thread has woken it.
class RemoteSignal {
 public:
  explicit RemoteSignal(Mailbox* box) : box_(box) {}
  polyio::Poll<bool> Poll(Context& cx) {
    std::lock_guard<std::mutex> lock(box_->mu);
    if (box_->fired) {
      box_->fired = false;
      return true;
    }
    box_->waker = cx.waker();
    box_->armed.store(true, std::memory_order_release);
    return kPending;
  }

 private:
  Mailbox* box_;
};

// One iteration: the task parks, the helper (spinning on the other core)
// sees it and wakes it, the runtime thread comes out of its wait and
// resumes the task.
void BM_WakeFromOtherThread(benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
  if (!rt.ok()) {
    state.SkipWithError(rt.status().ToString().c_str());
    return;
  }
  Mailbox box;
  std::thread helper([&box] {
    PinCurrentThread(Role::kClient);
    while (!box.quit.load(std::memory_order_acquire)) {
      if (!box.armed.exchange(false, std::memory_order_acq_rel)) continue;
      Waker w;
      {
        std::lock_guard<std::mutex> lock(box.mu);
        box.fired = true;
        w = std::move(box.waker);
      }
      std::move(w).Wake();
    }
  });
  (*rt)->BlockOn([](benchmark::State& s, Mailbox* box) -> Task<void> {
    for (auto _ : s) co_await RemoteSignal(box);
  }(state, &box));
  box.quit.store(true, std::memory_order_release);
  helper.join();
}
BENCHMARK(BM_WakeFromOtherThread)->UseRealTime();

// EventLoop::Post from a callback on the loop's own thread (the shape of
// Asio's row in peers/asio_post_bench.cc), and running the callback; batches
// of 1000 posts, then the next batch behind them. Time is per post.
struct PostRun {
  EventLoop* loop;
  benchmark::State* state;
  int64_t ran = 0;
};

void PostBatch(PostRun* run) {
  if (!run->state->KeepRunningBatch(1000)) return;
  for (int i = 0; i < 1000; ++i) run->loop->Post([run] { ++run->ran; });
  run->loop->Post([run] { PostBatch(run); });
}

void BM_EventLoopPost(benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) {
    state.SkipWithError(loop.status().ToString().c_str());
    return;
  }
  PostRun run{loop->get(), &state};
  (*loop)->Post([&run] { PostBatch(&run); });
  (*loop)->Run();
  if (run.ran != state.iterations())
    state.SkipWithError("a posted callback was lost");
}
BENCHMARK(BM_EventLoopPost);

}  // namespace
}  // namespace polyio::bench
