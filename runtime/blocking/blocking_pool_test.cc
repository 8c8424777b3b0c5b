// The blocking pool's own promises: FIFO order, bounded threads, threads
// leaving when idle, shutdown dropping queued jobs and bounding its wait,
// and which pool SpawnBlocking finds. Cases that await jobs from tasks on
// every backend live in tests/conformance/blocking_test.cc.
#include "runtime/blocking/blocking_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "runtime/blocking/spawn_blocking.h"
#include "runtime/runtime.h"
#include "runtime/task/task.h"

namespace polyio {
namespace {

// A count that a test can wait on, bounded so that a broken pool fails the
// test instead of hanging it. Not a timing assertion: the limit is generous.
class Counter {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mu_);
    ++n_;
    cv_.notify_all();
  }
  int Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return n_;
  }
  bool WaitFor(int want) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60),
                        [&] { return n_ >= want; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

std::unique_ptr<Runtime> NewRuntime() {
  absl::StatusOr<std::unique_ptr<Runtime>> rt = Runtime::Create();
  EXPECT_TRUE(rt.ok()) << rt.status();
  return std::move(*rt);
}

TEST(BlockingPoolTest, OneThreadRunsJobsInSubmissionOrder) {
  BlockingPoolOptions options;
  options.max_threads = 1;
  BlockingPool pool(options);
  std::vector<int> order;  // written by the pool's one thread only
  std::vector<BlockingFuture<void>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(
        SpawnBlockingOn(pool, [&order, i] { order.push_back(i); }));
  }
  auto rt = NewRuntime();
  rt->BlockOn([](std::vector<BlockingFuture<void>>* fs) -> Task<void> {
    for (auto& f : *fs) EXPECT_TRUE((co_await f).ok());
  }(&futures));
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  EXPECT_EQ(pool.threads(), 1u);
}

TEST(BlockingPoolTest, ThreadsLeaveAfterTheIdleTimeoutAndComeBackOnDemand) {
  Counter started, stopped;
  BlockingPoolOptions options;
  options.idle_timeout = std::chrono::milliseconds(20);
  options.on_thread_start = [&] { started.Add(); };
  options.on_thread_stop = [&] { stopped.Add(); };
  BlockingPool pool(options);
  auto rt = NewRuntime();
  auto one_job = [&pool]() -> Task<int> {
    absl::StatusOr<int> v = co_await SpawnBlockingOn(pool, [] { return 7; });
    co_return v.ok() ? *v : -1;
  };
  EXPECT_EQ(rt->BlockOn(one_job()), 7);
  ASSERT_TRUE(stopped.WaitFor(1)) << "the idle thread never exited";
  EXPECT_EQ(started.Get(), 1);
  EXPECT_EQ(pool.threads(), 0u);
  EXPECT_EQ(rt->BlockOn(one_job()), 7);
  EXPECT_EQ(started.Get(), 2);
  ASSERT_TRUE(stopped.WaitFor(2));
}

TEST(BlockingPoolTest, ShutdownDropsQueuedJobsAndWaitsForTheRunningOne) {
  BlockingPoolOptions options;
  options.max_threads = 1;
  auto pool = std::make_unique<BlockingPool>(options);
  std::latch running(1), release(1);
  std::atomic<int> ran{0};
  BlockingFuture<int> first = SpawnBlockingOn(*pool, [&] {
    running.count_down();
    release.wait();
    ++ran;
    return 1;
  });
  std::vector<BlockingFuture<void>> queued;
  for (int i = 0; i < 5; ++i) {
    queued.push_back(SpawnBlockingOn(*pool, [&ran] { ++ran; }));
  }
  running.wait();
  std::thread destroyer([&pool] { pool.reset(); });
  auto rt = NewRuntime();
  // The queued jobs are refused before the destructor waits for the first.
  for (auto& f : queued) {
    absl::Status s =
        rt->BlockOn([](BlockingFuture<void>* f) -> Task<absl::Status> {
          co_return co_await *f;
        }(&f));
    EXPECT_TRUE(absl::IsCancelled(s)) << s;
  }
  release.count_down();
  destroyer.join();
  absl::StatusOr<int> v =
      rt->BlockOn([](BlockingFuture<int>* f) -> Task<absl::StatusOr<int>> {
        co_return co_await *f;
      }(&first));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 1);
  EXPECT_EQ(ran.load(), 1);
}

TEST(BlockingPoolTest, ShutdownWaitIsBoundedAndTheJobStillFinishes) {
  Counter stopped;
  BlockingPoolOptions options;
  options.shutdown_timeout = std::chrono::milliseconds(10);
  options.on_thread_stop = [&] { stopped.Add(); };
  auto pool = std::make_unique<BlockingPool>(options);
  std::latch running(1), release(1);
  BlockingFuture<std::string> stuck = SpawnBlockingOn(*pool, [&] {
    running.count_down();
    release.wait();
    return std::string("finished");
  });
  running.wait();
  pool.reset();  // returns although the job is still blocked
  release.count_down();
  auto rt = NewRuntime();
  absl::StatusOr<std::string> v = rt->BlockOn(
      [](BlockingFuture<std::string>* f) -> Task<absl::StatusOr<std::string>> {
        co_return co_await *f;
      }(&stuck));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "finished");
  ASSERT_TRUE(stopped.WaitFor(1)) << "the left-behind thread never exited";
}

TEST(BlockingPoolTest, CurrentIsTheEnteredPoolThenThePoolOfTheJob) {
  BlockingPool outer, inner;
  EXPECT_EQ(&BlockingPool::Current(), &BlockingPool::Global());
  {
    BlockingPool::Enter enter_outer(&outer);
    EXPECT_EQ(&BlockingPool::Current(), &outer);
    {
      BlockingPool::Enter enter_inner(&inner);
      EXPECT_EQ(&BlockingPool::Current(), &inner);
    }
    EXPECT_EQ(&BlockingPool::Current(), &outer);
  }
  EXPECT_EQ(&BlockingPool::Current(), &BlockingPool::Global());
  auto rt = NewRuntime();
  absl::StatusOr<BlockingPool*> seen = rt->BlockOn(
      [](BlockingPool* pool) -> Task<absl::StatusOr<BlockingPool*>> {
        co_return co_await SpawnBlockingOn(
            *pool, [] { return &BlockingPool::Current(); });
      }(&inner));
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(*seen, &inner);
}

TEST(BlockingPoolTest, AFutureMovedAfterItsFirstPollStillGetsItsResult) {
  BlockingPool pool;
  std::latch release(1);
  auto rt = NewRuntime();
  absl::StatusOr<int> v = rt->BlockOn(
      [](BlockingPool* pool, std::latch* release) -> Task<absl::StatusOr<int>> {
        BlockingFuture<int> f = SpawnBlockingOn(*pool, [release] {
          release->wait();
          return 5;
        });
        // One poll while the job is blocked, then move the future.
        struct PollOnce {
          BlockingFuture<int>* f;
          polyio::Poll<int> Poll(Context& cx) {
            EXPECT_TRUE(f->Poll(cx).pending());
            return 0;
          }
        };
        co_await PollOnce{&f};
        BlockingFuture<int> moved = std::move(f);
        release->count_down();
        co_return co_await moved;
      }(&pool, &release));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 5);
}

}  // namespace
}  // namespace polyio
