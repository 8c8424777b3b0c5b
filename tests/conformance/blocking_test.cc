// SpawnBlocking and Resolve, awaited from tasks: the pool thread's wake
// reaches the driver whatever the backend waits in.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/blocking/blocking_pool.h"
#include "runtime/blocking/spawn_blocking.h"
#include "runtime/net/resolve.h"
#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

TEST_F(ConformanceTest, SpawnBlockingReturnsTheValueFlattenedAsJoinHandle) {
  rt().BlockOn([]() -> Task<void> {
    absl::StatusOr<int> i = co_await SpawnBlocking([] { return 42; });
    EXPECT_EQ(i.value_or(-1), 42) << i.status();

    std::atomic<bool> ran{false};
    absl::Status v = co_await SpawnBlocking([&ran] { ran = true; });
    EXPECT_TRUE(v.ok()) << v;
    EXPECT_TRUE(ran.load());

    absl::Status s = co_await SpawnBlocking(
        [] { return absl::DataLossError("from the job"); });
    EXPECT_EQ(s, absl::DataLossError("from the job"));

    absl::StatusOr<std::string> so = co_await SpawnBlocking(
        []() -> absl::StatusOr<std::string> { return std::string("text"); });
    EXPECT_EQ(so.value_or(""), "text") << so.status();
  }());
}

TEST_F(ConformanceTest, SpawnBlockingCarriesTheJobsExceptionToTheAwaiter) {
  std::string caught = rt().BlockOn([]() -> Task<std::string> {
    try {
      absl::StatusOr<int> v = co_await SpawnBlocking(
          []() -> int { throw std::runtime_error("thrown on a pool thread"); });
      co_return "no exception, got " + v.status().ToString();
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
  }());
  EXPECT_EQ(caught, "thrown on a pool thread");
}

// 1,000 jobs through a pool of 4 threads: each runs exactly once, and never
// more than 4 at a time.
TEST_F(ConformanceTest, ThousandBlockingJobsOnFourThreadsEachRunOnce) {
  constexpr int kJobs = 1000;
  constexpr size_t kThreads = 4;
  BlockingPoolOptions options;
  options.max_threads = kThreads;
  std::atomic<int> started{0};
  options.on_thread_start = [&started] { ++started; };
  BlockingPool pool(options);
  std::vector<std::atomic<int>> runs(kJobs);
  std::atomic<int> running{0}, peak{0};
  absl::Status all = rt().BlockOn([&]() -> Task<absl::Status> {
    std::vector<BlockingFuture<int>> futures;
    futures.reserve(kJobs);
    for (int i = 0; i < kJobs; ++i) {
      futures.push_back(SpawnBlockingOn(pool, [&, i] {
        int now = ++running;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        ++runs[i];
        --running;
        return i;
      }));
    }
    for (int i = 0; i < kJobs; ++i) {
      absl::StatusOr<int> v = co_await futures[i];
      if (!v.ok()) co_return v.status();
      if (*v != i)
        co_return absl::InternalError("a job returned another's value");
    }
    co_return absl::OkStatus();
  }());
  ASSERT_TRUE(all.ok()) << all;
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(runs[i].load(), 1) << "job " << i;
  EXPECT_LE(peak.load(), static_cast<int>(kThreads));
  EXPECT_LE(started.load(), static_cast<int>(kThreads));
  EXPECT_LE(pool.threads(), kThreads);
}

// With one thread held by a job, a second job queues; dropping its future
// before the thread frees up means it never runs.
TEST_F(ConformanceTest, ABlockingJobDroppedBeforeItStartsNeverRuns) {
  BlockingPoolOptions options;
  options.max_threads = 1;
  BlockingPool pool(options);
  std::latch running(1), release(1);
  std::atomic<bool> dropped_ran{false};
  absl::StatusOr<int> last = rt().BlockOn([&]() -> Task<absl::StatusOr<int>> {
    BlockingFuture<void> holder = SpawnBlockingOn(pool, [&] {
      running.count_down();
      release.wait();
    });
    running.wait();
    {
      BlockingFuture<void> dropped =
          SpawnBlockingOn(pool, [&] { dropped_ran = true; });
    }
    release.count_down();
    absl::Status held = co_await holder;
    EXPECT_TRUE(held.ok()) << held;
    // FIFO on one thread: this one runs after the dropped job's turn.
    co_return co_await SpawnBlockingOn(pool, [] { return 3; });
  }());
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, 3);
  EXPECT_FALSE(dropped_ran.load());
}

// A task cancelled (here: timed out) while its job is queued gets
// CancelledError, and the job never runs.
TEST_F(ConformanceTest, ATimedOutTaskCancelsItsQueuedBlockingJob) {
  BlockingPoolOptions options;
  options.max_threads = 1;
  BlockingPool pool(options);
  std::latch release(1);
  std::atomic<bool> queued_ran{false};
  BlockingFuture<void> holder = SpawnBlockingOn(pool, [&] { release.wait(); });
  absl::Status s = rt().BlockOn([&]() -> Task<absl::Status> {
    co_return co_await Timeout(
        std::chrono::milliseconds(5),
        SpawnBlockingOn(pool, [&] { queued_ran = true; }));
  }());
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  release.count_down();
  absl::Status held =
      rt().BlockOn([](BlockingFuture<void>* h) -> Task<absl::Status> {
        co_return co_await *h;
      }(&holder));
  EXPECT_TRUE(held.ok()) << held;
  EXPECT_FALSE(queued_ran.load());
}

// A count to wait on, with a generous bound so a broken pool fails the test
// rather than hanging it.
class ThreadCount {
 public:
  void Add() {
    std::lock_guard<std::mutex> lock(mu_);
    ++n_;
    cv_.notify_all();
  }
  bool WaitFor(int want) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60),
                        [&] { return n_ >= want; });
  }
  int Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return n_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

TEST_F(ConformanceTest, BlockingPoolThreadsExitAfterTheIdleTimeout) {
  ThreadCount started, stopped;
  BlockingPoolOptions options;
  options.max_threads = 8;
  options.idle_timeout = std::chrono::milliseconds(10);
  options.on_thread_start = [&] { started.Add(); };
  options.on_thread_stop = [&] { stopped.Add(); };
  BlockingPool pool(options);
  std::latch all_running(4);
  absl::Status s = rt().BlockOn([&]() -> Task<absl::Status> {
    // Four jobs that wait for each other need four threads at once.
    std::vector<BlockingFuture<void>> jobs;
    for (int i = 0; i < 4; ++i) {
      jobs.push_back(
          SpawnBlockingOn(pool, [&] { all_running.arrive_and_wait(); }));
    }
    for (auto& j : jobs) {
      absl::Status r = co_await j;
      if (!r.ok()) co_return r;
    }
    co_return absl::OkStatus();
  }());
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(started.Get(), 4);
  ASSERT_TRUE(stopped.WaitFor(4)) << "idle threads did not exit";
  EXPECT_EQ(pool.threads(), 0u);
}

TEST_F(ConformanceTest, ResolveLocalhostGivesALoopbackAddress) {
  absl::StatusOr<std::vector<SocketAddress>> addrs =
      rt().BlockOn(Resolve("localhost", 80));
  ASSERT_TRUE(addrs.ok()) << addrs.status();
  ASSERT_FALSE(addrs->empty());
  for (const SocketAddress& a : *addrs) {
    EXPECT_TRUE(a.ToString() == "127.0.0.1:80" || a.ToString() == "[::1]:80")
        << a.ToString();
  }
}

TEST_F(ConformanceTest, ResolveTakesNumericAddressesAsTheyAre) {
  absl::StatusOr<std::vector<SocketAddress>> v4 =
      rt().BlockOn(Resolve("127.0.0.1", 8080));
  ASSERT_TRUE(v4.ok()) << v4.status();
  ASSERT_EQ(v4->size(), 1u);
  EXPECT_EQ((*v4)[0].ToString(), "127.0.0.1:8080");
  absl::StatusOr<std::vector<SocketAddress>> v6 =
      rt().BlockOn(Resolve("[::1]", 443));
  ASSERT_TRUE(v6.ok()) << v6.status();
  ASSERT_EQ(v6->size(), 1u);
  EXPECT_EQ((*v6)[0].ToString(), "[::1]:443");
}

TEST_F(ConformanceTest, ResolveAnEmptyHostIsInvalidArgument) {
  absl::StatusOr<std::vector<SocketAddress>> addrs =
      rt().BlockOn(Resolve("", 80));
  EXPECT_TRUE(absl::IsInvalidArgument(addrs.status())) << addrs.status();
}

}  // namespace
}  // namespace polyio::testing
