// Timers: never early (also by rounding), in deadline order, cancellable.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

struct Wakeup {
  Instant deadline;
  Instant woke;
};

struct WakeupLog {
  Mutex mu;
  std::vector<Wakeup> entries ABSL_GUARDED_BY(mu);
};

// The deadlines start a second after the spawning starts, so that every task
// arms its timer before the first one is due, however slow the machine.
Task<void> SleepAndRecord(Instant deadline, WakeupLog* log) {
  absl::Status s = co_await SleepUntil(deadline);
  if (s.ok()) {
    Instant woke = Now();
    MutexLock lock(&log->mu);
    log->entries.push_back({deadline, woke});
  }
}

// Deadline order holds per driver (one timer wheel). On the multi-thread
// runtime each worker has its own wheel and the tasks are spread over them,
// so only "never early" is checked there.
Task<size_t> ManySleeps(int n, uint32_t seed, bool check_order) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> offset_us(0, 200000);
  const Instant base = Now() + milliseconds(1000);
  WakeupLog log;
  std::vector<JoinHandle<void>> tasks;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(
        Spawn(SleepAndRecord(base + microseconds(offset_us(rng)), &log)));
  }
  for (auto& t : tasks) EXPECT_TRUE((co_await t).ok());
  // Every task is joined: a copy taken under the lock is the whole log.
  std::vector<Wakeup> entries;
  {
    MutexLock lock(&log.mu);
    entries = log.entries;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_GE(entries[i].woke, entries[i].deadline)
        << "woke early, entry " << i;
    if (check_order && i > 0) {
      EXPECT_LE(entries[i - 1].deadline, entries[i].deadline)
          << "out of deadline order at " << i;
    }
  }
  co_return entries.size();
}

TEST_F(ConformanceTest, TenThousandSleepsCompleteInDeadlineOrderNeverEarly) {
  EXPECT_EQ(rt().BlockOn(ManySleeps(10000, 20261125, !MultiThread())), 10000u);
}

TEST_F(ConformanceTest, SleepsAreNeverEarlyAlsoByRounding) {
  for (Duration d : {Duration(microseconds(1)), Duration(microseconds(999)),
                     Duration(milliseconds(1)), Duration(microseconds(1500))}) {
    for (int i = 0; i < 20; ++i) {
      Duration slept = rt().BlockOn([](Duration d) -> Task<Duration> {
        Instant start = Now();
        absl::Status s = co_await Sleep(d);
        EXPECT_TRUE(s.ok()) << s;
        co_return Now() - start;
      }(d));
      EXPECT_GE(slept, d);
    }
  }
}

TEST_F(ConformanceTest, CancelledTimerNeverFiresAndCancelAfterFireIsHarmless) {
  std::atomic<int> fired{0};  // the callbacks run on the loop's thread
  EventLoop& loop = rt().loop();
  // On the multi-thread runtime the loop runs on a worker while this thread
  // arms and cancels: the deadline leaves room for a slow (TSan) machine
  // between the two calls.
  TimerHandle cancelled = loop.CallAfter(milliseconds(100), [&] { ++fired; });
  TimerHandle kept = loop.CallAfter(milliseconds(1), [&] { fired += 10; });
  cancelled.Cancel();
  EXPECT_FALSE(cancelled.pending());
  // Run past both deadlines.
  rt().BlockOn([]() -> Task<void> {
    EXPECT_TRUE((co_await Sleep(milliseconds(120))).ok());
  }());
  EXPECT_EQ(fired, 10);
  kept.Cancel();       // after it fired
  cancelled.Cancel();  // twice
  EXPECT_EQ(fired, 10);
}

TEST_F(ConformanceTest, DroppedSleepNeverWakes) {
  // A sleep destroyed before its deadline (its task moved on) must not fire
  // into freed memory: ASan would catch it.
  rt().BlockOn([]() -> Task<void> {
    for (int i = 0; i < 100; ++i) {
      // The timeout's 50 ms timer is armed, then dropped when the 1 ms
      // sleep wins.
      absl::Status s =
          co_await Timeout(milliseconds(50), Sleep(milliseconds(1)));
      EXPECT_TRUE(s.ok()) << s;
    }
    EXPECT_TRUE((co_await Sleep(milliseconds(60))).ok());
  }());
}

}  // namespace
}  // namespace polyio::testing
