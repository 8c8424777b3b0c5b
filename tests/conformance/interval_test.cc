// Interval: ticks on schedule, never early; the three missed-tick
// behaviours; Tick is cancel-safe; Reset; a bad period is stopped.
//
// The missed-tick cases make the task miss ticks on purpose by keeping it
// busy (the task the behaviours exist for), then check the instants the
// ticks report, which each behaviour defines exactly. They run under paused
// time (runtime/time/pause.h): "busy for 5.5 periods" is AdvanceTime while
// the task runs, and no tick is observed late by the machine's load — on
// the real clock a loaded machine made a tick a period late now and then,
// and the behaviour under test then (rightly) changed the schedule.
#include <chrono>
#include <vector>

#include "tests/conformance/fixture.h"

namespace polyio::testing {
namespace {

using std::chrono::milliseconds;

constexpr Duration kPeriod = milliseconds(10);

// The task keeps its thread until `deadline` (time paused: it passes while
// the task runs, and nothing else runs meanwhile).
void BusyUntil(Instant deadline) { AdvanceTime(deadline - Now()); }

TEST_F(ConformanceTest, IntervalTicksAtStartThenEveryPeriodNeverEarly) {
  rt().BlockOn([]() -> Task<void> {
    Interval every = IntervalEvery(kPeriod);
    const Instant start = every.next_tick();
    for (int k = 0; k < 6; ++k) {
      absl::StatusOr<Instant> tick = co_await every.Tick();
      const Instant observed = Now();
      EXPECT_TRUE(tick.ok()) << tick.status();
      if (!tick.ok()) co_return;
      EXPECT_EQ(*tick, start + k * kPeriod) << "tick " << k;
      EXPECT_GE(observed, *tick) << "tick " << k << " early";
    }
  }());
}

TEST_F(ConformanceTest, IntervalAtStartsAtItsStart) {
  rt().BlockOn([]() -> Task<void> {
    const Instant start = Now() + milliseconds(30);
    Interval every = IntervalAt(start, kPeriod);
    absl::StatusOr<Instant> tick = co_await every.Tick();
    EXPECT_GE(Now(), start);
    if (!(tick.ok())) {
      ADD_FAILURE() << "tick.ok()" << tick.status();
      co_return;
    }
    EXPECT_EQ(*tick, start);
  }());
}

// Ticks after the first, from a task that was busy for 5.5 periods.
Task<std::vector<Instant>> TicksAfterBeingBusy(MissedTick behaviour, int ticks,
                                               Instant* start,
                                               Instant* busy_until) {
  Interval every = IntervalEvery(kPeriod);
  every.SetMissedTick(behaviour);
  std::vector<Instant> out;
  absl::StatusOr<Instant> first = co_await every.Tick();
  EXPECT_TRUE(first.ok()) << first.status();
  *start = *first;
  *busy_until = *start + 5 * kPeriod + kPeriod / 2;
  BusyUntil(*busy_until);
  for (int k = 0; k < ticks; ++k) {
    absl::StatusOr<Instant> tick = co_await every.Tick();
    EXPECT_TRUE(tick.ok()) << tick.status();
    if (!tick.ok()) break;
    EXPECT_GE(Now(), *tick) << "tick " << k << " early";
    out.push_back(*tick);
  }
  co_return out;
}

TEST_F(ConformanceTest, IntervalBurstDeliversEveryMissedTickOnSchedule) {
  ScopedPausedTime paused;
  Instant start, busy_until;
  std::vector<Instant> ticks = rt().BlockOn(
      TicksAfterBeingBusy(MissedTick::kBurst, 7, &start, &busy_until));
  ASSERT_EQ(ticks.size(), 7u);
  // The five missed ticks, then the schedule goes on unshifted.
  for (int k = 0; k < 7; ++k) {
    EXPECT_EQ(ticks[k], start + (k + 1) * kPeriod);
  }
}

TEST_F(ConformanceTest, IntervalSkipDropsTheMissedTicks) {
  ScopedPausedTime paused;
  Instant start, busy_until;
  std::vector<Instant> ticks = rt().BlockOn(
      TicksAfterBeingBusy(MissedTick::kSkip, 3, &start, &busy_until));
  ASSERT_EQ(ticks.size(), 3u);
  // The late tick reports its own instant; the next is the first of the
  // original schedule after it was observed (at busy_until or later).
  EXPECT_EQ(ticks[0], start + kPeriod);
  EXPECT_GE(ticks[1], start + 6 * kPeriod);
  EXPECT_EQ((ticks[1] - start) % kPeriod, Duration::zero())
      << "off the original schedule";
  EXPECT_EQ(ticks[2], ticks[1] + kPeriod);
}

TEST_F(ConformanceTest, IntervalDelayRestartsTheScheduleFromTheLateTick) {
  ScopedPausedTime paused;
  Instant start, busy_until;
  std::vector<Instant> ticks = rt().BlockOn(
      TicksAfterBeingBusy(MissedTick::kDelay, 3, &start, &busy_until));
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_EQ(ticks[0], start + kPeriod);
  // A period after the late tick was observed, which was after busy_until.
  EXPECT_GE(ticks[1], busy_until + kPeriod);
  EXPECT_EQ(ticks[2], ticks[1] + kPeriod);
}

TEST_F(ConformanceTest, IntervalLateByLessThanAPeriodKeepsTheSchedule) {
  ScopedPausedTime paused;
  for (MissedTick behaviour :
       {MissedTick::kBurst, MissedTick::kDelay, MissedTick::kSkip}) {
    rt().BlockOn([](MissedTick behaviour) -> Task<void> {
      Interval every = IntervalEvery(milliseconds(40));
      every.SetMissedTick(behaviour);
      absl::StatusOr<Instant> first = co_await every.Tick();
      if (!(first.ok())) {
        ADD_FAILURE() << "first.ok()";
        co_return;
      }
      // Late for the second tick by half a period.
      BusyUntil(*first + milliseconds(60));
      absl::StatusOr<Instant> second = co_await every.Tick();
      absl::StatusOr<Instant> third = co_await every.Tick();
      if (!(second.ok() && third.ok())) {
        ADD_FAILURE() << "second.ok() && third.ok()";
        co_return;
      }
      EXPECT_EQ(*second, *first + milliseconds(40));
      EXPECT_EQ(*third, *first + milliseconds(80))
          << "behaviour " << static_cast<int>(behaviour);
    }(behaviour));
  }
}

TEST_F(ConformanceTest, IntervalTickCancelledTakesNoTick) {
  rt().BlockOn([]() -> Task<void> {
    Interval every = IntervalEvery(milliseconds(200));
    absl::StatusOr<Instant> first = co_await every.Tick();
    if (!(first.ok())) {
      ADD_FAILURE() << "first.ok()";
      co_return;
    }
    absl::StatusOr<Instant> timed_out =
        co_await Timeout(milliseconds(5), every.Tick());
    EXPECT_TRUE(absl::IsDeadlineExceeded(timed_out.status()))
        << timed_out.status();
    // Cancelled while pending, by aborting the task that awaits it: the
    // tick reports CancelledError (the task's cancellation is level-
    // triggered, so the task goes on and ends normally).
    JoinHandle<void> waiter = Spawn([](Interval* every) -> Task<void> {
      absl::StatusOr<Instant> tick = co_await every->Tick();
      EXPECT_TRUE(absl::IsCancelled(tick.status())) << tick.status();
    }(&every));
    EXPECT_TRUE((co_await Sleep(milliseconds(5))).ok());
    waiter.Abort();
    (void)co_await waiter;
    absl::StatusOr<Instant> second = co_await every.Tick();
    if (!(second.ok())) {
      ADD_FAILURE() << "second.ok()" << second.status();
      co_return;
    }
    EXPECT_EQ(*second, *first + milliseconds(200));
  }());
}

TEST_F(ConformanceTest, IntervalResetSchedulesAPeriodFromNow) {
  rt().BlockOn([]() -> Task<void> {
    Interval every = IntervalEvery(milliseconds(20));
    if (!((co_await every.Tick()).ok())) {
      ADD_FAILURE() << "(co_await every.Tick()).ok()";
      co_return;
    }
    EXPECT_TRUE((co_await Sleep(milliseconds(5))).ok());
    const Instant before = Now();
    every.Reset();
    absl::StatusOr<Instant> tick = co_await every.Tick();
    if (!(tick.ok())) {
      ADD_FAILURE() << "tick.ok()";
      co_return;
    }
    EXPECT_GE(*tick, before + milliseconds(20));
    EXPECT_GE(Now(), *tick);
  }());
}

TEST(IntervalDeathTest, ANonPositivePeriodStopsWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(IntervalEvery(Duration::zero()),
               "polyio: Interval: the period must be positive");
  EXPECT_DEATH(IntervalAt(Now(), milliseconds(-1)),
               "polyio: Interval: the period must be positive");
}

}  // namespace
}  // namespace polyio::testing
