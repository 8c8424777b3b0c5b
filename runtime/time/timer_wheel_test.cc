// The timer wheel against a plain model: every entry fires exactly once, at
// the first Advance whose time is at or past its deadline, in deadline order;
// removed entries never fire. Deadlines span all six levels.
#include "runtime/time/timer_wheel.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace polyio {
namespace {

using std::chrono::milliseconds;

struct TestTimer {
  TestTimer() : entry(&Fire) {}
  static void Fire(TimerEntry* e) {
    auto* t = reinterpret_cast<TestTimer*>(e);  // entry is the first member
    t->fired_at = *t->clock;
    t->fired_count++;
    t->order->push_back(t);
  }
  TimerEntry entry;
  Instant deadline;
  Instant fired_at;
  int fired_count = 0;
  bool removed = false;
  const Instant* clock = nullptr;
  std::vector<TestTimer*>* order = nullptr;
};

TEST(TimerWheelTest, FiresEveryEntryOnceInOrderNeverEarlyAcrossAllLevels) {
  std::mt19937_64 rng(7);
  Instant start = Now();
  Instant clock = start;
  TimerWheel wheel(start);
  std::vector<TestTimer*> order;
  std::vector<TestTimer> timers(20000);
  // Spans from sub-tick to ~2^33 ms, i.e. every level.
  std::uniform_int_distribution<int> shift(0, 33);
  for (TestTimer& t : timers) {
    int64_t span_us = int64_t{1} << shift(rng);
    int64_t offset_us = std::uniform_int_distribution<int64_t>(0, span_us)(rng);
    t.deadline = start + std::chrono::microseconds(offset_us);
    t.clock = &clock;
    t.order = &order;
    wheel.Insert(&t.entry, t.deadline);
  }
  for (size_t i = 0; i < timers.size(); i += 7) {
    wheel.Remove(&timers[i].entry);
    timers[i].removed = true;
  }
  // Advance in irregular steps, including large jumps.
  while (!wheel.empty()) {
    std::optional<Instant> next = wheel.NextWake();
    ASSERT_TRUE(next.has_value());
    Instant target = std::max(clock, *next);
    if (rng() % 3 == 0) target += std::chrono::microseconds(rng() % 5000000);
    clock = target;
    wheel.Advance(clock);
  }
  for (const TestTimer& t : timers) {
    if (t.removed) {
      EXPECT_EQ(t.fired_count, 0);
      continue;
    }
    ASSERT_EQ(t.fired_count, 1);
    EXPECT_GE(t.fired_at, t.deadline);
  }
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i - 1]->fired_at == order[i]->fired_at) {
      EXPECT_LE(order[i - 1]->deadline, order[i]->deadline);
    }
  }
}

TEST(TimerWheelTest, LatenessIsBoundedByOneTick) {
  Instant start = Now();
  TimerWheel wheel(start);
  std::vector<TestTimer> timers(1000);
  std::vector<TestTimer*> order;
  Instant clock = start;
  for (size_t i = 0; i < timers.size(); ++i) {
    timers[i].deadline = start + std::chrono::microseconds(i * 997);
    timers[i].clock = &clock;
    timers[i].order = &order;
    wheel.Insert(&timers[i].entry, timers[i].deadline);
  }
  // Advance exactly to each wake time the wheel asks for.
  while (!wheel.empty()) {
    clock = std::max(clock, *wheel.NextWake());
    wheel.Advance(clock);
  }
  for (const TestTimer& t : timers) {
    EXPECT_GE(t.fired_at, t.deadline);
    EXPECT_LE(t.fired_at - t.deadline, milliseconds(1));
  }
}

TEST(TimerWheelTest, RemoveFromInsideAFiringCallback) {
  Instant start = Now();
  TimerWheel wheel(start);
  static TimerWheel* w;
  static TimerEntry* victim;
  w = &wheel;
  int victim_fired = 0;
  static int* victim_count;
  victim_count = &victim_fired;
  TimerEntry killer([](TimerEntry*) { w->Remove(victim); });
  TimerEntry other([](TimerEntry*) { ++*victim_count; });
  victim = &other;
  wheel.Insert(&killer, start + std::chrono::microseconds(100));
  wheel.Insert(&other, start + std::chrono::microseconds(200));  // same tick
  wheel.Advance(start + milliseconds(5));
  EXPECT_EQ(victim_fired, 0);
  EXPECT_TRUE(wheel.empty());
}

}  // namespace
}  // namespace polyio
