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

// A latch in front of a fake eventfd.
class WakeLatchTest : public ::testing::Test {
 protected:
  void Wake() {
    latch_.Wake([this] { fd_.Write(); });
  }
  template <class During = void (*)()>
  void Clear(During during = [] {}) {
    latch_.Clear([&] {
      fd_.Drain();
      during();
    });
  }

  WakeLatch latch_;
  FakeWakeFd fd_;
};

// The first Wake signals; later ones signal nothing until Clear.
TEST_F(WakeLatchTest, WakesCoalesceUntilCleared) {
  Wake();
  Wake();
  Wake();
  EXPECT_EQ(fd_.signals, 1);
  Clear();
  Wake();
  EXPECT_EQ(fd_.signals, 2);
}

// A Wake during the drain is skipped (the waiter returns anyway), and the
// latch is open again once Clear returns.
TEST_F(WakeLatchTest, WakeDuringTheDrainSkipsButTheNextOneSignals) {
  Wake();
  Clear([this] { Wake(); });
  EXPECT_EQ(fd_.signals, 1);
  Wake();
  EXPECT_EQ(fd_.pending.load(), 1);
}

// Wakes from another thread racing a waiter that drains whenever it sees a
// signal: afterwards the latch is not stuck closed with nothing to drain.
TEST_F(WakeLatchTest, NoWakeIsLostWhenWakesRaceTheDrain) {
  std::atomic<bool> done{false};
  std::thread waker([&] {
    for (int i = 0; i < 200'000; ++i) Wake();
    done.store(true, std::memory_order_release);
  });
  while (!done.load(std::memory_order_acquire)) {
    if (fd_.pending.load(std::memory_order_relaxed) > 0) Clear();
  }
  waker.join();
  if (fd_.pending.load() > 0) Clear();
  Wake();
  EXPECT_EQ(fd_.pending.load(), 1) << "a Wake() was swallowed";
}

}  // namespace
}  // namespace polyio
