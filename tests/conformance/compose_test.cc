// Composition: Yield, WhenAll, WhenAny / Select, TaskGroup.
//
// Children that must be "blocked" before something happens signal it through
// counters that the test waits on with Yield loops, never with sleeps; the
// long sleeps below are only ever ended by cancellation.
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::seconds;

// Long enough that only cancellation ends it within a test's time.
constexpr auto kForever = seconds(60);

// Counts its own destruction: placed in a child's frame, it shows that the
// frame has gone.
class DropCounter {
 public:
  explicit DropCounter(std::atomic<int>* drops) : drops_(drops) {}
  DropCounter(const DropCounter&) = delete;
  DropCounter& operator=(const DropCounter&) = delete;
  ~DropCounter() { drops_->fetch_add(1, std::memory_order_acq_rel); }

 private:
  std::atomic<int>* drops_;
};

// g++ 12.2 miscompiles a co_await in an `if` condition when a branch ends
// in co_return or throw (`if (!co_await f) co_return x;`: the coroutine's
// resume jumps to __builtin_unreachable). So awaited values are named first
// throughout this file.

// Yields until `*counter` reaches `target`; false if it did not within
// `max_yields` (so that a broken Yield fails instead of hanging).
// Sleeps "forever" with a DropCounter in its frame; reports how it ended.
Task<absl::Status> SleepForever(std::atomic<int>* started,
                                std::atomic<int>* drops) {
  DropCounter drop(drops);
  started->fetch_add(1, std::memory_order_acq_rel);
  co_return co_await Sleep(kForever);
}

// Blocks in a read on a stream that never gets data, into a buffer in its
// frame; reports how the read ended.
Task<absl::Status> ReadForever(TcpStream* stream, std::atomic<int>* started,
                               std::atomic<int>* drops) {
  DropCounter drop(drops);
  char frame_buffer[256];
  started->fetch_add(1, std::memory_order_acq_rel);
  absl::StatusOr<size_t> n =
      co_await stream->Read(absl::MakeSpan(frame_buffer));
  if (n.ok()) co_return absl::InternalError("read: got data nobody sent");
  co_return n.status();
}

// ---------------------------------------------------------------- Yield

TEST_F(ConformanceTest, YieldLetsAnotherTaskRun) {
  bool ran = rt().BlockOn([]() -> Task<bool> {
    auto flag = std::make_shared<std::atomic<int>>(0);
    JoinHandle<void> other =
        Spawn([](std::shared_ptr<std::atomic<int>> f) -> Task<void> {
          f->store(1, std::memory_order_release);
          co_return;
        }(flag));
    bool seen = co_await YieldUntil(flag.get(), 1);
    EXPECT_TRUE((co_await other).ok());
    co_return seen;
  }());
  EXPECT_TRUE(ran);
}

Task<void> LogAroundYield(std::vector<std::string>* log, std::string name) {
  log->push_back(name + "1");
  EXPECT_TRUE((co_await Yield()).ok());
  log->push_back(name + "2");
}

TEST_F(ConformanceTest, YieldInsideWhenAllLetsTheSiblingRun) {
  // One task: the order is the same on every runtime.
  std::vector<std::string> log =
      rt().BlockOn([]() -> Task<std::vector<std::string>> {
        std::vector<std::string> log;
        co_await WhenAll(LogAroundYield(&log, "a"), LogAroundYield(&log, "b"));
        co_return log;
      }());
  EXPECT_EQ(log, (std::vector<std::string>{"a1", "b1", "a2", "b2"}));
}

Task<absl::Status> YieldUntilCancelled(std::atomic<int>* yields) {
  for (;;) {
    absl::Status s = co_await Yield();
    if (!s.ok()) co_return s;
    yields->fetch_add(1, std::memory_order_acq_rel);
  }
}

TEST_F(ConformanceTest, YieldReportsCancellation) {
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    std::atomic<int> yields{0};
    JoinHandle<absl::Status> h = Spawn(YieldUntilCancelled(&yields));
    EXPECT_TRUE(co_await YieldUntil(&yields, 3));
    h.Abort();
    co_return co_await h;
  }());
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
}

// -------------------------------------------------------------- WhenAll

// Finishes after `yields` yields, and records when it finished.
template <class T>
Task<T> After(int yields, T value, std::vector<int>* finished, int id) {
  for (int i = 0; i < yields; ++i) {
    absl::Status yielded = co_await Yield();
    EXPECT_TRUE(yielded.ok()) << yielded;
  }
  finished->push_back(id);
  co_return value;
}

Task<void> AfterVoid(int yields, std::vector<int>* finished, int id) {
  for (int i = 0; i < yields; ++i) EXPECT_TRUE((co_await Yield()).ok());
  finished->push_back(id);
}

TEST_F(ConformanceTest, WhenAllGivesResultsInArgumentOrder) {
  rt().BlockOn([]() -> Task<void> {
    std::vector<int> finished;
    std::tuple<int, Unit, std::string, absl::Status> r = co_await WhenAll(
        After(6, 10, &finished, 0), AfterVoid(4, &finished, 1),
        After(2, std::string("two"), &finished, 2), Sleep(seconds(0)));
    EXPECT_EQ(std::get<0>(r), 10);
    EXPECT_EQ(std::get<2>(r), "two");
    EXPECT_TRUE(std::get<3>(r).ok());
    // They finished in the opposite order.
    EXPECT_EQ(finished, (std::vector<int>{2, 1, 0}));
  }());
}

Task<absl::StatusOr<int>> EvenOrFail(int i, std::atomic<int>* ended) {
  for (int k = 0; k < i % 5; ++k) EXPECT_TRUE((co_await Yield()).ok());
  ended->fetch_add(1, std::memory_order_acq_rel);
  if (i % 2 == 1) co_return absl::InvalidArgumentError(absl::StrCat("odd ", i));
  co_return i * 10;
}

TEST_F(ConformanceTest, WhenAllReportsEveryChildsErrorInOrderAndCancelsNone) {
  rt().BlockOn([]() -> Task<void> {
    std::atomic<int> ended{0};
    std::vector<Task<absl::StatusOr<int>>> tasks;
    for (int i = 0; i < 20; ++i) tasks.push_back(EvenOrFail(i, &ended));
    std::vector<absl::StatusOr<int>> r = co_await WhenAll(std::move(tasks));
    EXPECT_EQ(ended.load(), 20);
    EXPECT_EQ(r.size(), 20u);
    for (int i = 0; i < 20 && i < static_cast<int>(r.size()); ++i) {
      if (i % 2 == 1) {
        EXPECT_EQ(r[i].status(),
                  absl::InvalidArgumentError(absl::StrCat("odd ", i)));
      } else {
        EXPECT_EQ(r[i].value_or(-1), i * 10) << r[i].status();
      }
    }
  }());
}

Task<absl::Status> ThrowsWhen(const std::atomic<int>* started, int target) {
  bool all_started = co_await YieldUntil(started, target);
  if (all_started) throw std::runtime_error("child failed");
  co_return absl::InternalError("siblings never started");
}

TEST_F(ConformanceTest, WhenAllRethrowsAfterCancellingAndAwaitingSiblings) {
  rt().BlockOn([]() -> Task<void> {
    std::atomic<int> started{0}, drops{0};
    std::string what;
    try {
      co_await WhenAll(SleepForever(&started, &drops), ThrowsWhen(&started, 2),
                       SleepForever(&started, &drops));
    } catch (const std::runtime_error& e) {
      what = e.what();
      // Both sleepers were cancelled and their frames are gone already.
      EXPECT_EQ(drops.load(), 2);
    }
    EXPECT_EQ(what, "child failed");
  }());
}

Task<int64_t> Twice(int64_t i) {
  EXPECT_TRUE((co_await Yield()).ok());
  co_return 2 * i;
}

TEST_F(ConformanceTest, WhenAllOverTenThousandTasks) {
  int64_t wrong = rt().BlockOn([]() -> Task<int64_t> {
    constexpr int kTasks = 10000;
    std::vector<Task<int64_t>> tasks;
    tasks.reserve(kTasks);
    for (int i = 0; i < kTasks; ++i) tasks.push_back(Twice(i));
    std::vector<int64_t> r = co_await WhenAll(std::move(tasks));
    EXPECT_EQ(r.size(), size_t{kTasks});
    int64_t wrong = 0;
    for (size_t i = 0; i < r.size(); ++i) {
      if (r[i] != 2 * static_cast<int64_t>(i)) ++wrong;
    }
    co_return wrong;
  }());
  EXPECT_EQ(wrong, 0);
}

// A future that waits for a Gate to open, counting its polls. Single task.
struct Gate {
  bool open = false;
  std::vector<Waker> waiters;
  void Open() {
    open = true;
    for (Waker& w : waiters) std::move(w).Wake();
    waiters.clear();
  }
};

class GateFuture {
 public:
  GateFuture(Gate* gate, int* polls) : gate_(gate), polls_(polls) {}
  polyio::Poll<int> Poll(Context& cx) {
    ++*polls_;
    if (gate_->open) return 1;
    gate_->waiters.push_back(cx.waker());
    return kPending;
  }

 private:
  Gate* gate_;
  int* polls_;
};

Task<int> OpenAfterYields(Gate* gate, int yields) {
  for (int i = 0; i < yields; ++i) EXPECT_TRUE((co_await Yield()).ok());
  gate->Open();
  co_return 0;
}

TEST_F(ConformanceTest, WhenAllRepollsOnlyTheChildrenThatWereWoken) {
  int polls = rt().BlockOn([]() -> Task<int> {
    Gate gate;
    int polls = 0;
    std::vector<GateFuture> waiters(100, GateFuture(&gate, &polls));
    auto [opened, passed] = co_await WhenAll(OpenAfterYields(&gate, 200),
                                             WhenAll(std::move(waiters)));
    EXPECT_EQ(opened, 0);
    EXPECT_EQ(passed.size(), 100u);
    co_return polls;
  }());
  // Each waiter: one poll to park, one after the gate opens — not one per
  // yield of its busy sibling.
  EXPECT_EQ(polls, 200);
}

// -------------------------------------------------------------- WhenAny

TEST_F(ConformanceTest, WhenAnyCancelsAndAwaitsALoserBlockedInRead) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    std::atomic<int> started{0}, drops{0};
    absl::Status loser = absl::UnknownError("loser never finished");
    auto read_and_record = [](TcpStream* s, std::atomic<int>* started,
                              std::atomic<int>* drops,
                              absl::Status* out) -> Task<int> {
      *out = co_await ReadForever(s, started, drops);
      co_return -1;
    };
    std::variant<int, bool> r = co_await WhenAny(
        read_and_record(&a, &started, &drops, &loser), YieldUntil(&started, 1));
    // The loser's frame — with the buffer its read was using — is gone.
    EXPECT_EQ(drops.load(), 1);
    EXPECT_TRUE(absl::IsCancelled(loser)) << loser;
    EXPECT_EQ(r.index(), 1u);
    EXPECT_TRUE(r.index() == 1 && std::get<1>(r));
    // Nothing is left parked on the stream: it still carries data.
    EXPECT_TRUE((co_await b.WriteAll(absl::MakeConstSpan("hi", 2))).ok());
    char buf[8];
    absl::StatusOr<size_t> n = co_await a.Read(absl::MakeSpan(buf));
    EXPECT_EQ(n.value_or(0), 2u) << n.status();
  }());
}

Task<absl::StatusOr<int>> Quick(int value) {
  EXPECT_TRUE((co_await Yield()).ok());
  co_return value;
}

Task<absl::StatusOr<int>> SleepThenValue(std::atomic<int>* started,
                                         std::atomic<int>* drops,
                                         std::atomic<int>* cancelled) {
  absl::Status s = co_await SleepForever(started, drops);
  if (absl::IsCancelled(s)) cancelled->fetch_add(1);
  if (!s.ok()) co_return s;
  co_return 0;
}

TEST_F(ConformanceTest, WhenAnyOverAVectorNamesTheWinnerAndCancelsTheRest) {
  rt().BlockOn([]() -> Task<void> {
    std::atomic<int> started{0}, drops{0}, cancelled{0};
    std::vector<Task<absl::StatusOr<int>>> tasks;
    for (int i = 0; i < 5; ++i) {
      tasks.push_back(i == 3 ? Quick(33)
                             : SleepThenValue(&started, &drops, &cancelled));
    }
    WhenAnyResult<absl::StatusOr<int>> r = co_await Select(std::move(tasks));
    EXPECT_EQ(r.index, 3u);
    EXPECT_EQ(r.value.value_or(-1), 33) << r.value.status();
    EXPECT_EQ(started.load(), 4);
    EXPECT_EQ(cancelled.load(), 4);
    EXPECT_EQ(drops.load(), 4);
  }());
}

Task<int> ThrowsWhenCancelled(std::atomic<int>* started) {
  std::atomic<int> drops{0};
  absl::Status s = co_await SleepForever(started, &drops);
  if (absl::IsCancelled(s)) throw std::runtime_error("loser threw");
  co_return 0;
}

TEST_F(ConformanceTest, WhenAnyRethrowsALosersException) {
  rt().BlockOn([]() -> Task<void> {
    std::atomic<int> started{0};
    std::string what;
    try {
      co_await WhenAny(ThrowsWhenCancelled(&started), YieldUntil(&started, 1));
    } catch (const std::runtime_error& e) {
      what = e.what();
    }
    EXPECT_EQ(what, "loser threw");
  }());
}

TEST_F(ConformanceTest, WhenAnyOverAnEmptyVectorIsAnError) {
  WhenAnyResult<absl::Status> r =
      rt().BlockOn([]() -> Task<WhenAnyResult<absl::Status>> {
        co_return co_await WhenAny(std::vector<Task<absl::Status>>());
      }());
  EXPECT_EQ(r.index, WhenAnyResult<absl::Status>::kNoWinner);
  EXPECT_TRUE(absl::IsInvalidArgument(r.value)) << r.value;
}

// ------------------------------------------------ cancelling the awaiter

Task<int> AwaitAllOfThem(TcpStream* s, std::atomic<int>* started,
                         std::atomic<int>* drops) {
  auto [slept, read, yielded] = co_await WhenAll(SleepForever(started, drops),
                                                 ReadForever(s, started, drops),
                                                 YieldUntilCancelled(started));
  co_return absl::IsCancelled(slept) + absl::IsCancelled(read) +
      absl::IsCancelled(yielded);
}

TEST_F(ConformanceTest, CancellingTheAwaitingTaskReachesWhenAllsChildren) {
  rt().BlockOn([]() -> Task<void> {
    auto [a, b] = StreamPair();
    std::atomic<int> started{0}, drops{0};
    JoinHandle<int> h = Spawn(AwaitAllOfThem(&a, &started, &drops));
    // The third child counts its yields in `started` too.
    EXPECT_TRUE(co_await YieldUntil(&started, 4));
    h.Abort();
    absl::StatusOr<int> cancelled = co_await h;
    EXPECT_EQ(cancelled.value_or(-1), 3) << cancelled.status();
    EXPECT_EQ(drops.load(), 2);
  }());
}

// ------------------------------------------------------------ TaskGroup

Task<absl::Status> FailWhen(const std::atomic<int>* started, int target) {
  bool all_started = co_await YieldUntil(started, target);
  if (!all_started) co_return absl::InternalError("siblings never started");
  co_return absl::DataLossError("child failed");
}

Task<void> RecordEnd(Task<absl::Status> inner, std::atomic<int>* cancelled) {
  absl::Status s = co_await inner;
  if (absl::IsCancelled(s)) cancelled->fetch_add(1);
}

TEST_F(ConformanceTest, TaskGroupChildFailureCancelsSiblingsAndIsReported) {
  rt().BlockOn([]() -> Task<void> {
    auto [a1, b1] = StreamPair();
    auto [a2, b2] = StreamPair();
    std::atomic<int> started{0}, drops{0}, cancelled{0};
    TaskGroup group;
    group.Spawn(RecordEnd(SleepForever(&started, &drops), &cancelled));
    group.Spawn(RecordEnd(ReadForever(&a1, &started, &drops), &cancelled));
    group.Spawn(FailWhen(&started, 4));
    group.Spawn(RecordEnd(SleepForever(&started, &drops), &cancelled));
    group.Spawn(RecordEnd(ReadForever(&a2, &started, &drops), &cancelled));
    absl::Status s = co_await group.Wait();
    EXPECT_EQ(s, absl::DataLossError("child failed"));
    EXPECT_EQ(cancelled.load(), 4);
    EXPECT_EQ(drops.load(), 4);  // every sibling's frame is gone
  }());
}

Task<int> ThrowWhen(const std::atomic<int>* started, int target) {
  bool sibling_started = co_await YieldUntil(started, target);
  if (sibling_started) throw std::runtime_error("child threw");
  co_return 0;
}

TEST_F(ConformanceTest, TaskGroupRethrowsAChildsExceptionFromWait) {
  rt().BlockOn([]() -> Task<void> {
    std::atomic<int> started{0}, drops{0}, cancelled{0};
    TaskGroup group;
    group.Spawn(RecordEnd(SleepForever(&started, &drops), &cancelled));
    group.Spawn(ThrowWhen(&started, 1));
    std::string what;
    try {
      (co_await group.Wait()).IgnoreError();
    } catch (const std::runtime_error& e) {
      what = e.what();
    }
    EXPECT_EQ(what, "child threw");
    EXPECT_EQ(cancelled.load(), 1);
    EXPECT_EQ(drops.load(), 1);
  }());
}

// Spawns `depth` generations of children through the group it was given.
Task<void> SpawnGenerations(TaskGroup* group, int depth,
                            std::atomic<int>* ran) {
  ran->fetch_add(1, std::memory_order_acq_rel);
  EXPECT_TRUE((co_await Yield()).ok());
  if (depth > 0) {
    group->Spawn(SpawnGenerations(group, depth - 1, ran));
    group->Spawn(SpawnGenerations(group, depth - 1, ran));
  }
}

TEST_F(ConformanceTest, TaskGroupWaitsForChildrenThatSpawnSiblings) {
  rt().BlockOn([]() -> Task<void> {
    std::atomic<int> ran{0};
    TaskGroup group;
    group.Spawn(SpawnGenerations(&group, 9, &ran));
    EXPECT_TRUE((co_await group.Wait()).ok());
    EXPECT_EQ(ran.load(), 1023);  // 2^10 - 1: every generation ran
  }());
}

TEST_F(ConformanceTest, TaskGroupCancelIsNotAnError) {
  rt().BlockOn([]() -> Task<void> {
    std::atomic<int> started{0}, drops{0}, cancelled{0};
    TaskGroup group;
    for (int i = 0; i < 3; ++i) {
      group.Spawn(RecordEnd(SleepForever(&started, &drops), &cancelled));
    }
    EXPECT_TRUE(co_await YieldUntil(&started, 3));
    group.Cancel();
    EXPECT_TRUE((co_await group.Wait()).ok());
    EXPECT_EQ(cancelled.load(), 3);
    EXPECT_EQ(drops.load(), 3);
  }());
}

Task<absl::Status> WaitOnGroup(std::atomic<int>* started,
                               std::atomic<int>* drops,
                               std::atomic<int>* cancelled) {
  TaskGroup group;
  group.Spawn(RecordEnd(SleepForever(started, drops), cancelled));
  group.Spawn(RecordEnd(SleepForever(started, drops), cancelled));
  co_return co_await group.Wait();
}

TEST_F(ConformanceTest, CancellingTheTaskInWaitCancelsTheGroupsChildren) {
  rt().BlockOn([]() -> Task<void> {
    std::atomic<int> started{0}, drops{0}, cancelled{0};
    JoinHandle<absl::Status> h =
        Spawn(WaitOnGroup(&started, &drops, &cancelled));
    EXPECT_TRUE(co_await YieldUntil(&started, 2));
    h.Abort();
    absl::Status s = co_await h;
    EXPECT_TRUE(absl::IsCancelled(s)) << s;
    EXPECT_EQ(cancelled.load(), 2);
    EXPECT_EQ(drops.load(), 2);
  }());
}

// The children own what they use (shared_ptr): the group is dropped without
// Wait, so they may run on after it.
Task<void> OwningSleeper(std::shared_ptr<std::atomic<int>> started,
                         std::shared_ptr<std::atomic<int>> ended) {
  started->fetch_add(1, std::memory_order_acq_rel);
  absl::Status s = co_await Sleep(kForever);
  if (absl::IsCancelled(s)) ended->fetch_add(1, std::memory_order_acq_rel);
}

TEST_F(ConformanceTest, DestroyingATaskGroupAbortsItsChildren) {
  rt().BlockOn([]() -> Task<void> {
    auto started = std::make_shared<std::atomic<int>>(0);
    auto ended = std::make_shared<std::atomic<int>>(0);
    {
      TaskGroup group;
      group.Spawn(OwningSleeper(started, ended));
      group.Spawn(OwningSleeper(started, ended));
      EXPECT_TRUE(co_await YieldUntil(started.get(), 2));
    }
    EXPECT_TRUE(co_await YieldUntil(ended.get(), 2));
  }());
}

TEST_F(ConformanceTest, WithTaskGroupAwaitsChildrenAfterAnEarlyReturn) {
  rt().BlockOn([]() -> Task<void> {
    std::atomic<int> started{0}, drops{0}, cancelled{0};
    absl::Status s =
        co_await WithTaskGroup([&](TaskGroup& group) -> Task<absl::Status> {
          group.Spawn(RecordEnd(SleepForever(&started, &drops), &cancelled));
          bool child_started = co_await YieldUntil(&started, 1);
          if (!child_started) co_return absl::OkStatus();
          co_return absl::AbortedError("body gave up");
        });
    EXPECT_EQ(s, absl::AbortedError("body gave up"));
    // The child borrowed this frame's counters: it has finished.
    EXPECT_EQ(cancelled.load(), 1);
    EXPECT_EQ(drops.load(), 1);
  }());
}

}  // namespace
}  // namespace polyio::testing
