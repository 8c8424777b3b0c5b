// Paused time (runtime/time/pause.h): timers that would take hours run in
// microseconds of real time, in their exact order, never early; time stands
// still while tasks run; AdvanceTime fires what is due; ResumeTime never
// goes back. On every backend and both runtimes.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "polyio.h"
#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// How late a timer may fire under auto-advance: time jumps to the wheel's
// next tick, which is at or after the deadline.
constexpr Duration kTick = milliseconds(2);

TEST_F(ConformanceTest, PausedTimeAnHourLongSleepTakesNoRealTime) {
  ScopedPausedTime paused;
  const Instant real_start = RealNow();
  const Instant start = Now();
  absl::Status s = rt().BlockOn(
      []() -> Task<absl::Status> { co_return co_await Sleep(hours(1)); }());
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GE(Now() - start, hours(1)) << "the sleep ended early";
  EXPECT_LT(Now() - start, hours(1) + kTick);
  EXPECT_LT(RealNow() - real_start, seconds(5)) << "time did not jump";
}

TEST_F(ConformanceTest, PausedTimeStandsStillWhileTasksRun) {
  ScopedPausedTime paused;
  const Instant start = Now();
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    for (int i = 0; i < 1000; ++i) {
      absl::Status y = co_await Yield();
      if (!y.ok()) co_return y;
    }
    co_return absl::OkStatus();
  }());
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(Now(), start) << "time moved while a task kept running";
}

// Sleeps in several tasks wake in deadline order, each at its deadline.
TEST_F(ConformanceTest, PausedTimeWakesSleepersInOrderAndNeverEarly) {
  ScopedPausedTime paused;
  const Instant start = Now();
  absl::StatusOr<std::vector<int>> order =
      rt().BlockOn([](Instant start) -> Task<absl::StatusOr<std::vector<int>>> {
        std::vector<int> order;
        std::mutex mu;  // the sleepers may run on two workers
        std::vector<JoinHandle<absl::Status>> sleepers;
        for (int h : {3, 1, 5, 2, 4}) {
          sleepers.push_back(
              Spawn([](int h, Instant start, std::vector<int>* order,
                       std::mutex* mu) -> Task<absl::Status> {
                absl::Status s = co_await SleepUntil(start + hours(h));
                if (!s.ok()) co_return s;
                const Instant woke = Now();
                EXPECT_GE(woke, start + hours(h)) << "woke early: " << h;
                EXPECT_LT(woke, start + hours(h) + kTick) << "woke late: " << h;
                std::lock_guard<std::mutex> guard(*mu);
                order->push_back(h);
                co_return absl::OkStatus();
              }(h, start, &order, &mu)));
        }
        for (auto& s : sleepers) {
          absl::Status st = co_await s;
          if (!st.ok()) co_return st;
        }
        co_return order;
      }(start));
  ASSERT_TRUE(order.ok()) << order.status();
  EXPECT_EQ(*order, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST_F(ConformanceTest, PausedTimeATimeoutOfADayExpiresAtOnce) {
  ScopedPausedTime paused;
  const Instant real_start = RealNow();
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    sync::Notify never;
    co_return co_await Timeout(hours(24),
                               [](sync::Notify* n) -> Task<absl::Status> {
                                 co_return co_await n->Notified();
                               }(&never));
  }());
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_LT(RealNow() - real_start, seconds(5));
}

// AdvanceTime fires what it makes due, and only that.
TEST_F(ConformanceTest, PausedTimeAdvanceFiresWhatIsDue) {
  ScopedPausedTime paused;
  const Instant start = Now();
  absl::Status s = rt().BlockOn([](Instant start) -> Task<absl::Status> {
    std::atomic<bool> woke{false};
    JoinHandle<absl::Status> sleeper =
        Spawn([](Instant start, std::atomic<bool>* woke) -> Task<absl::Status> {
          absl::Status s = co_await SleepUntil(start + seconds(10));
          woke->store(true);
          co_return s;
        }(start, &woke));
    // This task keeps running (it yields, never waits), so time moves only
    // as it says.
    AdvanceTime(seconds(5));
    for (int i = 0; i < 50; ++i) {
      absl::Status y = co_await Yield();
      if (!y.ok()) co_return y;
    }
    EXPECT_FALSE(woke.load()) << "a 10 s sleep woke after 5 s";
    EXPECT_EQ(Now() - start, seconds(5));
    // Past the deadline by the wheel's tick: a timer fires once time has
    // passed its deadline rounded up to a whole tick (pause.h).
    AdvanceTime(seconds(5) + kTick);
    // (On the multi-thread runtime the sleeper's worker must wake first:
    // wait for it on the OS clock.)
    const Instant give_up = RealNow() + seconds(10);
    while (!woke.load() && RealNow() < give_up) {
      absl::Status y = co_await Yield();
      if (!y.ok()) co_return y;
    }
    EXPECT_TRUE(woke.load()) << "due after AdvanceTime, it did not fire";
    co_return co_await sleeper;
  }(start));
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, PausedTimeIntervalTicksExactlyOnSchedule) {
  ScopedPausedTime paused;
  absl::StatusOr<std::vector<Instant>> ticks =
      rt().BlockOn([]() -> Task<absl::StatusOr<std::vector<Instant>>> {
        Interval every = IntervalEvery(minutes(1));
        std::vector<Instant> ticks;
        for (int i = 0; i < 5; ++i) {
          absl::StatusOr<Instant> t = co_await every.Tick();
          if (!t.ok()) co_return t.status();
          ticks.push_back(*t);
        }
        co_return ticks;
      }());
  ASSERT_TRUE(ticks.ok()) << ticks.status();
  for (size_t i = 1; i < ticks->size(); ++i) {
    EXPECT_EQ((*ticks)[i] - (*ticks)[0], minutes(static_cast<int>(i)));
  }
}

TEST_F(ConformanceTest, PausedTimeResumedNeverGoesBack) {
  Instant before;
  {
    ScopedPausedTime paused;
    AdvanceTime(hours(2));
    before = Now();
  }
  EXPECT_GE(Now(), before) << "resuming moved the clock back";
  EXPECT_GE(Now() - RealNow(), hours(2) - seconds(1))
      << "the advanced time was lost at resume";
  // And timers still work on the running clock.
  absl::Status s = rt().BlockOn([]() -> Task<absl::Status> {
    co_return co_await Sleep(milliseconds(1));
  }());
  EXPECT_TRUE(s.ok()) << s;
}

TEST_F(ConformanceTest, PausedTimeAdvanceWithoutAPauseStopsWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(AdvanceTime(seconds(1)), "AdvanceTime: time is not paused");
}

}  // namespace
}  // namespace polyio::testing
