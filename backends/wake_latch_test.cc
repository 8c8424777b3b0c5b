// WakeLatch on its own: wakes coalesce until the waiter clears the latch,
// and no wake is lost when wakes race with the waiter draining the signal.
#include "backends/wake_latch.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace polyio {
namespace {

// Stands in for an eventfd: Wake writes a count, the waiter drains it.
struct FakeWakeFd {
  std::atomic<int> pending{0};
  int signals = 0;  // waker side only
  void Write() {
    ++signals;
    pending.fetch_add(1, std::memory_order_relaxed);
  }
  void Drain() { pending.exchange(0, std::memory_order_relaxed); }
};

// The first Wake signals; later ones signal nothing until Clear.
TEST(WakeLatch, WakesCoalesceUntilCleared) {
  WakeLatch latch;
  FakeWakeFd fd;
  latch.Wake([&] { fd.Write(); });
  latch.Wake([&] { fd.Write(); });
  latch.Wake([&] { fd.Write(); });
  EXPECT_EQ(fd.signals, 1);
  latch.Clear([&] { fd.Drain(); });
  latch.Wake([&] { fd.Write(); });
  EXPECT_EQ(fd.signals, 2);
  EXPECT_EQ(fd.pending.load(), 1);
}

// A Wake during the drain is skipped (the waiter returns anyway), and the
// latch is open again once Clear returns.
TEST(WakeLatch, WakeDuringTheDrainSkipsButTheNextOneSignals) {
  WakeLatch latch;
  FakeWakeFd fd;
  latch.Wake([&] { fd.Write(); });
  latch.Clear([&] {
    fd.Drain();
    latch.Wake([&] { fd.Write(); });
  });
  EXPECT_EQ(fd.signals, 1);
  latch.Wake([&] { fd.Write(); });
  EXPECT_EQ(fd.signals, 2);
  EXPECT_EQ(fd.pending.load(), 1);
}

// Wakes from another thread racing a waiter that drains whenever it sees a
// signal: afterwards the latch is not stuck closed with nothing to drain.
TEST(WakeLatch, NoWakeIsLostWhenWakesRaceTheDrain) {
  WakeLatch latch;
  FakeWakeFd fd;
  std::atomic<bool> done{false};
  std::thread waker([&] {
    for (int i = 0; i < 200'000; ++i) latch.Wake([&] { fd.Write(); });
    done.store(true, std::memory_order_release);
  });
  while (!done.load(std::memory_order_acquire)) {
    if (fd.pending.load(std::memory_order_relaxed) > 0) {
      latch.Clear([&] { fd.Drain(); });
    }
  }
  waker.join();
  if (fd.pending.load() > 0) latch.Clear([&] { fd.Drain(); });
  latch.Wake([&] { fd.Write(); });
  EXPECT_EQ(fd.pending.load(), 1) << "a Wake() was swallowed";
}

}  // namespace
}  // namespace polyio
