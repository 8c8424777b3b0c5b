// The schedulers: many tasks complete exactly once, work spreads over the
// workers, SpawnLocal stays put, and an operation started on one driver can
// be awaited, cancelled and dropped from another thread.
#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

Task<void> MarkDone(std::atomic<uint8_t>* flag) {
  flag->fetch_add(1, std::memory_order_relaxed);
  co_return;
}

// Spawns tasks [first, first + count) in batches, awaiting each batch.
Task<void> Producer(std::vector<std::atomic<uint8_t>>* flags, size_t first,
                    size_t count) {
  constexpr size_t kBatch = 1000;
  std::vector<JoinHandle<void>> batch;
  batch.reserve(kBatch);
  for (size_t i = 0; i < count; i += kBatch) {
    for (size_t k = i; k < std::min(count, i + kBatch); ++k) {
      batch.push_back(Spawn(MarkDone(&(*flags)[first + k])));
    }
    for (auto& h : batch) EXPECT_TRUE((co_await h).ok());
    batch.clear();
  }
}

TEST_F(ConformanceTest, AMillionTasksFromEightProducersEachCompleteOnce) {
  constexpr size_t kTasks = 1'000'000;
  constexpr size_t kProducers = 8;
  std::vector<std::atomic<uint8_t>> flags(kTasks);
  rt().BlockOn([](std::vector<std::atomic<uint8_t>>* flags) -> Task<void> {
    std::vector<JoinHandle<void>> producers;
    const size_t share = kTasks / kProducers;
    for (size_t p = 0; p < kProducers; ++p) {
      producers.push_back(Spawn(Producer(flags, p * share, share)));
    }
    for (auto& p : producers) EXPECT_TRUE((co_await p).ok());
  }(&flags));
  size_t wrong = 0;
  for (size_t i = 0; i < kTasks; ++i) {
    if (flags[i].load() != 1) ++wrong;
  }
  EXPECT_EQ(wrong, 0u) << "tasks that did not run exactly once";
}

// Burns ~`us` of CPU and records the thread it ran on.
Task<void> Work(int us, Mutex* mu, std::set<std::thread::id>* threads) {
  auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < end) {
  }
  MutexLock lock(mu);
  threads->insert(std::this_thread::get_id());
  co_return;
}

TEST_F(ConformanceTest, SpawnedWorkSpreadsOverEveryWorker) {
  Mutex mu;
  std::set<std::thread::id> threads;
  rt().BlockOn([](Mutex* mu, std::set<std::thread::id>* threads) -> Task<void> {
    // All spawned from one task onto one worker's queue: the others must
    // be woken and steal.
    std::vector<JoinHandle<void>> tasks;
    for (int i = 0; i < 400; ++i)
      tasks.push_back(Spawn(Work(200, mu, threads)));
    for (auto& t : tasks) EXPECT_TRUE((co_await t).ok());
  }(&mu, &threads));
  MutexLock lock(&mu);
  EXPECT_EQ(threads.size(), static_cast<size_t>(rt().worker_threads()));
}

// A task spawned from inside a running task must be runnable by an idle
// worker at once: the spawner here never yields, so if the new task sat
// where only the spawner's worker looks (its LIFO slot), it would not run.
TEST_F(ConformanceTest, ATaskSpawnedByABusyTaskRunsOnAnIdleWorker) {
  if (rt().worker_threads() < 2) {
    GTEST_SKIP() << "needs two workers (the multi-thread runtime): on one "
                    "thread a task that never yields runs alone by design";
  }
  bool ran = rt().BlockOn([]() -> Task<bool> {
    auto flag = std::make_shared<std::atomic<bool>>(false);
    JoinHandle<void> other =
        Spawn([](std::shared_ptr<std::atomic<bool>> f) -> Task<void> {
          f->store(true, std::memory_order_release);
          co_return;
        }(flag));
    // Busy, without a suspension point, for up to 10 s.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!flag->load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < deadline) {
    }
    bool seen = flag->load(std::memory_order_acquire);
    EXPECT_TRUE((co_await other).ok());
    co_return seen;
  }());
  EXPECT_TRUE(ran) << "the spawned task waited for its busy spawner";
}

Task<std::set<std::thread::id>> PinnedSleeper() {
  std::set<std::thread::id> seen;
  for (int i = 0; i < 20; ++i) {
    seen.insert(std::this_thread::get_id());
    EXPECT_TRUE((co_await Sleep(std::chrono::microseconds(200))).ok());
  }
  co_return seen;
}

TEST_F(ConformanceTest, SpawnLocalTasksStayOnTheirThread) {
  std::vector<std::set<std::thread::id>> seen =
      rt().BlockOn([]() -> Task<std::vector<std::set<std::thread::id>>> {
        std::vector<JoinHandle<std::set<std::thread::id>>> tasks;
        for (int i = 0; i < 8; ++i)
          tasks.push_back(SpawnLocal(PinnedSleeper()));
        std::vector<std::set<std::thread::id>> out;
        for (auto& t : tasks) {
          absl::StatusOr<std::set<std::thread::id>> s = co_await t;
          EXPECT_TRUE(s.ok());
          if (s.ok()) out.push_back(*s);
        }
        co_return out;
      }());
  ASSERT_EQ(seen.size(), 8u);
  for (const auto& s : seen) EXPECT_EQ(s.size(), 1u);
}

// A second current-thread runtime on its own thread, to start operations
// on a driver that another thread owns.
class OtherThreadRuntime {
 public:
  OtherThreadRuntime() {
    auto rt = Runtime::Create();
    EXPECT_TRUE(rt.ok());
    rt_ = std::move(*rt);
  }
  ~OtherThreadRuntime() { Stop(); }
  // Runs `task` there until it finishes; returns at once.
  void Start(Task<void> task) {
    thread_ = std::thread(
        [this, t = std::move(task)]() mutable { rt_->BlockOn(std::move(t)); });
  }
  void Stop() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::unique_ptr<Runtime> rt_;
  std::thread thread_;
};

// Binds `stream` to the calling thread's driver (its first operation: a
// read that finds nothing), then keeps that driver turning until `done`.
Task<void> BindAndServe(TcpStream* stream, std::atomic<bool>* bound,
                        const std::atomic<bool>* done) {
  char b;
  absl::StatusOr<size_t> n =
      co_await Timeout(milliseconds(1), stream->Read(absl::MakeSpan(&b, 1)));
  EXPECT_TRUE(absl::IsDeadlineExceeded(n.status())) << n.status();
  bound->store(true);
  while (!done->load()) {
    EXPECT_TRUE((co_await Sleep(milliseconds(1))).ok());
  }
}

TEST_F(ConformanceTest, OperationsOnADriverOwnedByAnotherThread) {
  auto [a, b] = StreamPair();
  std::atomic<bool> bound{false}, done{false};
  OtherThreadRuntime other;
  other.Start(BindAndServe(&a, &bound, &done));
  while (!bound.load()) std::this_thread::yield();

  // `a` lives on the other thread's driver: this runtime's reads go there
  // through its mailbox, complete there, and wake the task here.
  std::string got =
      rt().BlockOn([](TcpStream* a, TcpStream* b) -> Task<std::string> {
        std::string data = Pattern(100000, 7);
        JoinHandle<absl::Status> writer =
            Spawn([](TcpStream* b, std::string* d) -> Task<absl::Status> {
              co_return co_await b->WriteAll(absl::MakeConstSpan(*d));
            }(b, &data));
        std::string got;
        std::vector<char> buf(8192);
        while (got.size() < data.size()) {
          absl::StatusOr<size_t> n = co_await a->Read(absl::MakeSpan(buf));
          if (!n.ok() || *n == 0) break;
          got.append(buf.data(), *n);
        }
        EXPECT_TRUE((co_await writer).ok());
        EXPECT_EQ(got, data);
        // A read that will never complete, cancelled from here: the cancel goes
        // to the other driver, and the read ends with CancelledError.
        std::atomic<int> started{0};
        JoinHandle<absl::StatusOr<size_t>> stuck = Spawn(
            [](TcpStream* a,
               std::atomic<int>* started) -> Task<absl::StatusOr<size_t>> {
              char c;
              co_return co_await CountWhenStarted(
                  a->Read(absl::MakeSpan(&c, 1)), started);
            }(a, &started));
        EXPECT_TRUE(co_await YieldUntil(&started, 1));
        stuck.Abort();
        absl::StatusOr<size_t> r = co_await stuck;
        EXPECT_TRUE(absl::IsCancelled(r.status())) << r.status();
        // A read dropped in flight (by Timeout's cancel, then its frame going):
        // the other driver finishes it before the buffer goes.
        char c;
        absl::StatusOr<size_t> t =
            co_await Timeout(milliseconds(2), a->Read(absl::MakeSpan(&c, 1)));
        EXPECT_TRUE(absl::IsDeadlineExceeded(t.status())) << t.status();
        co_return got.empty() ? std::string() : std::string("ok");
      }(&a, &b));
  EXPECT_EQ(got, "ok");
  done.store(true);
  other.Stop();
  // Before the other runtime goes: a stream must not outlive its driver.
  EXPECT_TRUE(a.Close().ok());
}

}  // namespace
}  // namespace polyio::testing
